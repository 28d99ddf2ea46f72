"""The auth tables on Model's metadata, their links, and a custom user model that extends User."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, selectinload

from plait.auth import Auth, Group, Permission, User
from plait.auth.models import AbstractUser, UserMixin
from plait.db import Model
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import FAST, PASSWORD, make_app

pytestmark = pytest.mark.anyio


class Member(User):
    """What a project writes for more columns on its users."""

    __tablename__ = "test_auth_member"
    id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(String(500), default="")
    image: Mapped[str | None] = mapped_column(String(300), default=None)


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
