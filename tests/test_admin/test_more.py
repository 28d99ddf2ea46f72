"""The less travelled paths: logout, throttling, inlines, date filters, large relations, permissions setup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.admin import Admin, ModelAdmin
from plait.auth import AuthSettings, Permission
from plait.exceptions import ConfigurationError
from plait.testing import AsyncTestClient
from tests.test_admin.conftest import ArticleAdmin, add_rows, add_user, log_in, make_app, token
from tests.test_admin.models import Article, Author, Comment, Tag

pytestmark = pytest.mark.anyio


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'more.db'}"


async def test_logout_ends_the_session(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await log_in(client, "root")
        page = await client.get("/admin")
        response = await client.post("/admin/logout", data={"csrf_token": token(page.text)}, follow_redirects=False)
        assert response.headers["location"] == "/admin/login"
        assert (await client.get("/admin", follow_redirects=False)).status_code == 303


async def test_failed_logins_are_throttled(sqlite_url: str) -> None:
    from plait.auth import Auth

    app = make_app(sqlite_url)
    auth: Auth = app.extensions["auth"]
    auth._given = AuthSettings(argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1, throttle_account_limit=2)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        page = await client.get("/admin/login")
        data = {"csrf_token": token(page.text), "username": "root", "password": "wrong"}
        statuses = [(await client.post("/admin/login", data=data)).status_code for _ in range(3)]
        assert statuses == [422, 422, 429]


async def test_inline_rows_change_and_refuse_foreign_children(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await add_rows(app, Author(name="Ada"))
        await add_rows(app, Article(title="A", slug="a", author_id=1), Article(title="B", slug="b", author_id=1))
        await add_rows(app, Comment(article_id=1, text="one"), Comment(article_id=2, text="other's"))
        await log_in(client, "root")
        page = await client.get("/admin/adm_article/1/change")
        base = {"csrf_token": token(page.text), "title": "A", "slug": "a", "author_id": "1", "status": "draft"}
        foreign = {**base, "adm_comment-TOTAL": "1", "adm_comment-0-id": "2", "adm_comment-0-text": "mine now"}
        assert (await client.post("/admin/adm_article/1/change", data=foreign)).status_code == 400
        edited = {**base, "adm_comment-TOTAL": "1", "adm_comment-0-id": "1", "adm_comment-0-text": "ONE"}
        edited |= {"_addanother": ""}
        response = await client.post("/admin/adm_article/1/change", data=edited, follow_redirects=False)
        assert response.headers["location"] == "/admin/adm_article/add"
        bad = {**base, "adm_comment-TOTAL": "1", "adm_comment-0-id": "1", "adm_comment-0-text": "x" * 600}
        refused = await client.post("/admin/adm_article/1/change", data=bad)
        assert refused.status_code == 422
        assert "Use at most 500 characters." in refused.text
        history = await client.get("/admin/adm_article/1/history")
        assert "Comment #1" in history.text
        assert "changed" in history.text


async def test_date_filters_and_the_day_drilldown(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    now = datetime.now(UTC)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await add_rows(app, Author(name="Ada"))
        await add_rows(
            app,
            Article(title="Now", slug="now", author_id=1, published_at=now),
            Article(title="Old", slug="old", author_id=1, published_at=now - timedelta(days=400)),
        )
        await log_in(client, "root")
        for value in ("today", "7d", "month", "year"):
            page = await client.get(f"/admin/adm_article?published_at={value}")
            assert ">Now</a>" in page.text
            assert ">Old</a>" not in page.text
        month = f"published_at__year={now.year}&published_at__month={now.month}"
        days = await client.get(f"/admin/adm_article?{month}")
        assert f"{now:%B} {now.day}" in days.text
        assert "All months" in days.text
        one_day = await client.get(f"/admin/adm_article?{month}&published_at__day={now.day}")
        assert "All days" in one_day.text


async def test_pages_far_apart_are_joined_by_a_gap(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await add_rows(app, Author(name="Ada"))
        await add_rows(app, *[Article(title=f"T{n}", slug=f"t{n}", author_id=1) for n in range(60)])
        await log_in(client, "root")
        page = await client.get("/admin/adm_article?page=6")
        assert page.text.count('<span class="gap">…</span>') == 2
        assert '<span class="current" aria-current="page">6</span>' in page.text


async def test_large_relations_become_autocomplete_fields(sqlite_url: str) -> None:
    class Small(ArticleAdmin):
        relation_limit = 2

    admin = Admin()
    admin.register(Article, Small)
    app = make_app(sqlite_url, admin)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await add_rows(app, *[Author(name=f"A{n}") for n in range(3)])
        await log_in(client, "root")
        page = await client.get("/admin/adm_article/add")
        assert 'data-autocomplete="author_id"' in page.text
        found = await client.get("/admin/adm_article/autocomplete?field=author_id&q=a2")
        assert found.json() == [{"id": 3, "label": "A2"}]
        data = {"csrf_token": token(page.text), "title": "T", "slug": "t", "author_id": "3", "status": "draft"}
        done = await client.post("/admin/adm_article/add", data=data, follow_redirects=False)
        assert done.status_code == 303


async def test_suggestions_need_an_edit_permission(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    async with AsyncTestClient(app) as client:
        await add_user(app, "reader", permissions=["adm_article.view"])
        await log_in(client, "reader")
        assert (await client.get("/admin/adm_article/autocomplete?field=author_id")).status_code == 403


async def test_bulk_delete_refused_by_the_database(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await add_rows(app, Author(name="Ada"))
        await add_rows(app, Article(title="A", slug="a", author_id=1))
        await log_in(client, "root")
        page = await client.get("/admin/adm_author")
        data = {"csrf_token": token(page.text), "action": "delete_selected", "selected": "1", "confirm": "yes"}
        response = await client.post("/admin/adm_author", data=data)
        assert "Nothing was deleted" in response.text
        async with AsyncSession(app.extensions["database"].engine) as db:
            assert await db.scalar(select(func.count()).select_from(Author)) == 1


async def test_create_permissions_adds_the_missing_rows(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    admin: Admin = app.extensions["admin"]
    async with AsyncTestClient(app):
        await add_user(app, "clerk", permissions=["adm_tag.view"])
        async with AsyncSession(app.extensions["database"].engine) as db:
            added = await admin.create_permissions(db)
            await db.commit()
            assert "adm_tag.view" not in added
            assert len(added) == 11
            assert await db.scalar(select(func.count()).select_from(Permission)) == 12
            assert await admin.create_permissions(db) == []


async def test_registering_after_startup_is_refused(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    app.build()
    with pytest.raises(ConfigurationError, match="before the app starts"):
        app.extensions["admin"].register(Comment)


async def test_the_apps_templates_override_the_admins(sqlite_url: str, tmp_path: Path) -> None:
    from plait.templates import Templates

    folder = tmp_path / "templates" / "admin"
    folder.mkdir(parents=True)
    (folder / "denied.html").write_text("Custom refusal: {{ message }}")
    admin = Admin()
    admin.register(Tag, ModelAdmin)
    app: Plait[Any] = make_app(sqlite_url, admin, extensions=[Templates(str(tmp_path / "templates"), static=None)])
    async with AsyncTestClient(app) as client:
        await add_user(app, "clerk")
        await log_in(client, "clerk")
        page = await client.get("/admin/adm_tag")
        assert page.status_code == 403
        assert page.text == "Custom refusal: You do not have permission to view tags."


async def test_columns_the_model_fills_in_may_be_left_empty_only_when_adding(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await log_in(client, "root")
        page = await client.get("/admin/adm_tag/add")
        data = {"csrf_token": token(page.text), "name": "web", "created_at": ""}
        added = await client.post("/admin/adm_tag/add", data=data, follow_redirects=False)
        assert added.status_code == 303
        cleared = await client.post("/admin/adm_tag/1/change", data=data)
        assert cleared.status_code == 422
        assert "This field is required." in cleared.text


async def test_users_and_groups_with_passwords_set_through_the_rules(sqlite_url: str) -> None:
    from plait.admin import GroupAdmin, UserAdmin
    from plait.auth import Group, User

    admin = Admin()
    admin.register(User, UserAdmin)
    admin.register(Group, GroupAdmin)
    admin.register(Tag)
    app = make_app(sqlite_url, admin)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True, permissions=["adm_tag.view"])
        await log_in(client, "root")
        page = await client.get("/admin/auth_group/add")
        added = await client.post(
            "/admin/auth_group/add",
            data={"csrf_token": token(page.text), "name": "editors", "permissions": "1"},
            follow_redirects=False,
        )
        assert added.status_code == 303
        page = await client.get("/admin/auth_user/add")
        assert 'type="password"' in page.text
        assert 'name="password"' not in page.text  # the hash is never shown or posted
        data = {"csrf_token": token(page.text), "username": "kim", "email": "Kim@Example.com", "is_staff": "on",
                "is_active": "on", "groups": "1", "new_password": "short"}  # fmt: skip
        weak = await client.post("/admin/auth_user/add", data=data)
        assert weak.status_code == 422
        assert "at least" in weak.text
        data["new_password"] = "a perfectly long passphrase 42"
        done = await client.post("/admin/auth_user/add", data=data, follow_redirects=False)
        assert done.status_code == 303
        async with AsyncSession(app.extensions["database"].engine) as db:
            kim = (await db.scalars(select(User).where(User.username == "kim"))).one()
            assert kim.email == "kim@example.com"
            assert kim.password.startswith("$argon2")
        # Kim (staff, in "editors", which may view tags) can log in and see tags only.
        await client.post("/admin/logout", data={"csrf_token": token(page.text)})
        login = await client.get("/admin/login")
        entered = await client.post(
            "/admin/login",
            data={"csrf_token": token(login.text), "username": "kim", "password": data["new_password"]},
            follow_redirects=False,
        )
        assert entered.status_code == 303
        assert (await client.get("/admin/adm_tag")).status_code == 200
        assert (await client.get("/admin/auth_user")).status_code == 403
        # Changing a user without a new password keeps the old one.
        await client.post("/admin/logout", data={"csrf_token": token(login.text)})
        await log_in(client, "root")
        page = await client.get(f"/admin/auth_user/{kim.id}/change")
        data |= {"csrf_token": token(page.text), "new_password": "", "username": "kimberly"}
        changed = await client.post(f"/admin/auth_user/{kim.id}/change", data=data, follow_redirects=False)
        assert changed.status_code == 303
        async with AsyncSession(app.extensions["database"].engine) as db:
            again = await db.get(User, kim.id)
            assert again is not None
            assert (again.username, again.password) == ("kimberly", kim.password)
