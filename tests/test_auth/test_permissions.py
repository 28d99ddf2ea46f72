"""requires(), requires_group(), object rules: user plus group permissions, superusers, 401 vs 403, caching."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait, Router
from plait.auth import CurrentUser, Group, Permission, User
from plait.auth.identity import issue_tokens
from plait.auth.models import group_permissions, user_groups, user_permissions
from plait.auth.permissions import (
    check_object,
    get_permissions,
    has_permissions,
    object_rule,
    requires,
    requires_group,
)
from plait.db import crud_router
from plait.exceptions import ConfigurationError, HTTPException
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import add_user, make_app

pytestmark = pytest.mark.anyio


class Article:
    """Decides itself who may act on it (the ObjectPermission protocol)."""

    def __init__(self, author_id: int) -> None:
        self.author_id = author_id

    def has_object_permission(self, user: Any, action: str) -> bool:
        return action == "view" or self.author_id == user.id


class Comment:
    def __init__(self, author_id: int) -> None:
        self.author_id = author_id


class Reply(Comment):
    """Its rule is inherited from Comment's."""


class Secret:
    """No rule at all: nobody but superusers."""


@object_rule(Comment)
async def comment_rule(user: Any, comment: Comment, action: str) -> bool:
    return bool(comment.author_id == user.id)


@pytest.fixture
def app(auth_database_url: str) -> Plait[Any]:
    app = make_app(auth_database_url)

    @app.put("/articles", dependencies=[requires("articles.change")])
    async def change() -> str:
        return "changed"

    @app.delete("/articles")
    async def delete(user: Annotated[User, requires("articles.change", "articles.delete")]) -> str:
        return f"deleted by {user.username}"

    editors = Router("/editors", dependencies=[requires_group("editors", "admins"), requires_group("admins")])

    @editors.get("/desk")
    async def desk(user: CurrentUser) -> str:
        return user.username

    app.include_router(editors)

    @app.get("/articles/{author:int}/{action}")
    async def article(author: int, action: str, user: CurrentUser) -> str:
        await check_object(user, Article(author), action)
        return "ok"

    @app.get("/comments/{author:int}")
    async def comment(author: int, user: CurrentUser, reply: bool = False) -> str:
        await check_object(user, (Reply if reply else Comment)(author), "edit")
        return "ok"

    @app.get("/secret")
    async def secret(user: CurrentUser) -> str:
        await check_object(user, Secret(), "view")
        return "ok"

    app.include_router(
        crud_router(
            Group,
            prefix="/groups",
            dependencies=[requires("auth.view_group")],
            operation_dependencies={"delete": [requires("auth.delete_group")]},
        )
    )
    return app


async def grant(
    app: Plait[Any], user: Any, *, direct: tuple[str, ...] | list[str] = (), groups: dict[str, list[str]] | None = None
) -> None:
    """Give ``user`` permissions directly and through groups (made as needed)."""
    async with AsyncSession(app.extensions["database"].engine) as db:
        made: dict[str, Permission] = {}

        async def permission(codename: str) -> Permission:
            if codename not in made:
                made[codename] = Permission(codename=codename, name=codename)
                db.add(made[codename])
                await db.flush()
            return made[codename]

        for codename in direct:
            perm = await permission(codename)
            await db.execute(user_permissions.insert().values(user_id=user.id, permission_id=perm.id))
        for name, codenames in (groups or {}).items():
            group = Group(name=name)
            db.add(group)
            await db.flush()
            await db.execute(user_groups.insert().values(user_id=user.id, group_id=group.id))
            for codename in codenames:
                perm = await permission(codename)
                await db.execute(group_permissions.insert().values(group_id=group.id, permission_id=perm.id))
        await db.commit()


def auth_header(app: Plait[Any], user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(app.extensions['auth'], user).access_token}"}


async def test_401_without_a_user_403_without_the_permission(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        assert (await client.put("/articles")).status_code == 401
        user = await add_user(app)
        response = await client.put("/articles", headers=auth_header(app, user))
        assert response.status_code == 403
        assert "articles.change" in response.json()["detail"]


async def test_user_and_group_permissions_add_up(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        await grant(app, user, direct=["articles.change"], groups={"writers": ["articles.delete"]})
        headers = auth_header(app, user)
        assert (await client.put("/articles", headers=headers)).status_code == 200
        assert (await client.delete("/articles", headers=headers)).text == "deleted by ada"


async def test_one_permission_missing_is_403(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        await grant(app, user, groups={"writers": ["articles.change"]})
        assert (await client.delete("/articles", headers=auth_header(app, user))).status_code == 403


async def test_superuser_has_every_permission_and_group_pass(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        root = await add_user(app, "root", "root@example.com", is_superuser=True)
        headers = auth_header(app, root)
        assert (await client.delete("/articles", headers=headers)).status_code == 200
        assert (await client.get("/editors/desk", headers=headers)).text == "root"
        assert (await client.get("/secret", headers=headers)).status_code == 200


async def test_inactive_user_has_nothing(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app, is_active=False, is_superuser=True)
        assert (await client.put("/articles", headers=auth_header(app, user))).status_code == 401
        async with AsyncSession(app.extensions["database"].engine) as db:
            assert not await has_permissions(db, user, "articles.change")
            assert not await has_permissions(db, None, "articles.change")


async def test_requires_group_on_a_router(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        assert (await client.get("/editors/desk", headers=auth_header(app, user))).status_code == 403
        await grant(app, user, groups={"admins": []})
        assert (await client.get("/editors/desk", headers=auth_header(app, user))).text == "ada"


async def test_crud_router_dependencies(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        assert (await client.get("/groups")).status_code == 401
        headers = auth_header(app, user)
        assert (await client.get("/groups", headers=headers)).status_code == 403
        await grant(app, user, groups={"staff": ["auth.view_group"]})
        listed = await client.get("/groups", headers=headers)
        assert listed.status_code == 200
        group_id = listed.json()["items"][0]["id"] if "items" in listed.json() else listed.json()[0]["id"]
        assert (await client.delete(f"/groups/{group_id}", headers=headers)).status_code == 403


async def test_object_rules(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        headers = auth_header(app, user)
        assert (await client.get(f"/articles/{user.id}/edit", headers=headers)).status_code == 200
        assert (await client.get(f"/articles/{user.id + 1}/view", headers=headers)).status_code == 200
        refused = await client.get(f"/articles/{user.id + 1}/edit", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["detail"] == "You may not edit this Article."
        assert (await client.get(f"/comments/{user.id}", headers=headers)).status_code == 200
        assert (await client.get(f"/comments/{user.id + 1}", headers=headers)).status_code == 403
        assert (await client.get(f"/comments/{user.id}?reply=true", headers=headers)).status_code == 200
        assert (await client.get("/secret", headers=headers)).status_code == 403  # deny by default


async def test_check_object_without_a_user() -> None:
    with pytest.raises(HTTPException) as caught:
        await check_object(None, Secret(), "view")
    assert caught.value.status_code == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}  # every 401 names a scheme


async def test_permissions_are_one_query_and_cached(app: Plait[Any]) -> None:
    async with AsyncTestClient(app):
        user = await add_user(app)
        await grant(app, user, direct=["a.x"], groups={"g1": ["a.y", "a.x"], "g2": ["a.z"]})
        engine = app.extensions["database"].engine
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            async with AsyncSession(engine) as db:
                cache: dict[str, Any] = {}
                assert await get_permissions(db, user, cache) == {"a.x", "a.y", "a.z"}
                assert await has_permissions(db, user, "a.x", "a.z", cache=cache)
                assert not await has_permissions(db, user, "a.w", cache=cache)
                assert await has_permissions(db, user, "a.y")  # no cache given: a query of its own
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert len([s for s in statements if "auth_permission" in s]) == 2


@pytest.mark.parametrize("make", [lambda: requires(), lambda: requires(""), lambda: requires_group()])
def test_names_are_required(make: Any) -> None:
    with pytest.raises(ConfigurationError, match="one or more non-empty names"):
        make()


async def test_router_and_crud_router_checks_are_documented_per_operation(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    # The checks sit on a Router and on crud_router(dependencies=...), not on the handlers: every
    # operation they guard still lists the security schemes and documents both refusals.
    guarded = [
        ("/editors/desk", "get"),
        ("/groups", "get"),
        *[(p, "delete") for p in paths if p.startswith("/groups/")],
    ]
    assert len(guarded) == 3
    for path, method in guarded:
        operation = paths[path][method]
        assert {"BearerToken": []} in operation["security"], path
        assert {"401", "403"} <= set(operation["responses"]), path
