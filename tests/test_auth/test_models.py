"""The auth tables on Model's metadata, their links, and custom user models that extend or replace User."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import ForeignKey, String, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, selectinload

from plait.auth import Auth, CurrentUser, Group, Permission, User, requires, requires_group
from plait.auth.apikeys import create_api_key
from plait.auth.identity import key_hasher
from plait.auth.models import AbstractUser, UserMixin, user_permissions
from plait.db import Model
from plait.exceptions import ConfigurationError
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import FAST, PASSWORD, make_app

pytestmark = pytest.mark.anyio


class Member(User):
    """What a project writes for more columns on its users."""

    __tablename__ = "test_auth_member"
    id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(String(500), default="")
    image: Mapped[str | None] = mapped_column(String(300), default=None)


class Account(UserMixin, Model):
    """What a project writes to replace User: a table of its own (no auth_user row behind it)."""

    __tablename__ = "test_auth_account"
    nickname: Mapped[str] = mapped_column(String(50), default="")


def test_the_tables_follow_the_naming_convention() -> None:
    assert {"auth_user", "auth_group", "auth_permission", "auth_apikey"} <= set(Model.metadata.tables)
    user = Model.metadata.tables["auth_user"]
    assert {c.name for c in user.constraints} >= {"pk_auth_user", "uq_auth_user_email", "uq_auth_user_username"}
    lengths = [getattr(user.c[name].type, "length", None) for name in ("username", "email", "password")]
    assert lengths == [150, 254, 255]
    assert {i.name for i in Model.metadata.tables["auth_apikey"].indexes} == {
        "ix_auth_apikey_prefix",
        "ix_auth_apikey_user_id",
    }
    assert AbstractUser is UserMixin


async def test_groups_permissions_and_a_custom_user_model(auth_database_url: str) -> None:
    app = make_app(auth_database_url, auth=Auth(Member, settings=FAST), tables=["test_auth_member"])
    async with AsyncTestClient(app) as client:
        auth: Auth = app.extensions["auth"]
        engine = app.extensions["database"].engine
        async with AsyncSession(engine, expire_on_commit=False) as db:
            member = await auth.create_user(db, username="ada", email="ada@example.com", password=PASSWORD, bio="hi")
            editors = Group(name="editors", permissions=[Permission(codename="articles.change", name="Change")])
            await db.refresh(member, attribute_names=["groups"])  # an async session loads collections explicitly
            member.groups.append(editors)
            await db.commit()
        login = await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        async with AsyncSession(engine) as db:
            found: Any = (
                await db.execute(select(Member).options(selectinload(Member.groups).selectinload(Group.permissions)))
            ).scalar_one()
            as_user = await db.get(User, found.id)
    assert isinstance(member, Member)
    assert member.bio == "hi"
    assert login.status_code == 200
    assert login.json()["user"]["username"] == "ada"
    assert found.bio == "hi"
    assert found.is_active
    assert found.date_joined is not None
    assert [p.codename for g in found.groups for p in g.permissions] == ["articles.change"]
    assert as_user is not None
    assert as_user.email == "ada@example.com"


def test_a_user_model_must_extend_user_or_carry_the_mixin() -> None:
    class Loose:
        pass

    with pytest.raises(ConfigurationError, match=r"subclass plait\.auth\.User.*UserMixin"):
        Auth(Loose)
    with pytest.raises(ConfigurationError):
        Auth(UserMixin)  # the mixin alone is not mapped to a table
    with pytest.raises(ConfigurationError):
        Auth("Member")  # type: ignore[arg-type] # a name is not the class
    assert Auth(Account).replaces_user
    assert not Auth(Member).replaces_user
    assert not Auth().replaces_user


async def test_a_replacement_user_model_logs_in_but_never_borrows_auth_user_rights(auth_database_url: str) -> None:
    app = make_app(auth_database_url, auth=Auth(Account, settings=FAST), tables=["test_auth_account"])

    @app.get("/me/nickname")
    async def nickname(user: CurrentUser) -> str:
        return f"{type(user).__name__}:{user.nickname}"  # type: ignore[attr-defined]

    @app.get("/edit", dependencies=[requires("articles.change")])
    async def edit_article() -> str:
        return "edited"

    @app.get("/desk", dependencies=[requires_group("editors")])
    async def editors_desk() -> str:
        return "desk"

    async with AsyncTestClient(app) as client:
        auth: Auth = app.extensions["auth"]
        engine = app.extensions["database"].engine
        async with AsyncSession(engine, expire_on_commit=False) as db:
            # An auth_user row with the same id as the account, holding a permission, a group and a key:
            # none of it may leak to the account, whose id means another table.
            bob = User(username="bob", email="bob@example.com", password="")
            db.add(bob)
            await db.flush()
            permission = Permission(codename="articles.change")
            db.add_all([permission, Group(name="editors")])
            await db.flush()
            await db.execute(insert(user_permissions).values(user_id=bob.id, permission_id=permission.id))
            _, bobs_key = await create_api_key(db, bob, key_hasher(auth))
            account = await auth.create_user(db, username="ada", email="ada@example.com", password=PASSWORD)
            with pytest.raises(ConfigurationError, match=r"API keys belong to plait\.auth\.User"):
                await create_api_key(db, account, key_hasher(auth))
            await db.commit()
        assert account.id == bob.id
        login = await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = await client.get("/me/nickname", headers=headers)
        edit = await client.get("/edit", headers=headers)
        desk = await client.get("/desk", headers=headers)
        with_key = await client.get("/me/nickname", headers={"X-API-Key": bobs_key})
        async with AsyncSession(engine, expire_on_commit=False) as db:
            stored = await db.get(Account, account.id)
            assert stored is not None
            stored.is_superuser = True
            await db.commit()
        as_superuser = await client.get("/edit", headers=headers)
    assert login.status_code == 200
    assert me.text == "Account:"
    assert (edit.status_code, desk.status_code) == (403, 403)
    assert with_key.status_code == 401
    assert as_superuser.text == "edited"
