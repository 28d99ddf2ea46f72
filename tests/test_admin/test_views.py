"""The admin through HTTP: login and permissions, the list (search, filters, sorting), forms, actions, history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait, Request
from plait.admin import Admin, LogEntry
from plait.testing import AsyncTestClient
from tests.test_admin.conftest import ArticleAdmin, add_rows, add_user, log_in, make_app, token
from tests.test_admin.models import Article, Author, Comment, Status, Tag

pytestmark = pytest.mark.anyio


async def scalar(app: Plait[Any], stmt: Any) -> Any:
    async with AsyncSession(app.extensions["database"].engine) as db:
        return await db.scalar(stmt)


async def articles(app: Plait[Any]) -> list[Article]:
    async with AsyncSession(app.extensions["database"].engine) as db:
        return list((await db.scalars(select(Article).order_by(Article.id))).all())


async def seed(app: Plait[Any]) -> None:
    # No explicit keys: PostgreSQL's sequences would not know about them (the ids are 1, 2, ... anyway).
    await add_rows(app, Author(name="Ada"), Author(name="Grace"), Tag(name="python"))
    await add_rows(
        app,
        Article(title="Weaving", slug="weaving", body="one two three", author_id=1, published=True,
                status=Status.PUBLISHED, published_at=datetime(2025, 3, 4, 10, tzinfo=UTC)),
        Article(title="Looms", slug="looms", body="", author_id=2,
                published_at=datetime(2026, 1, 2, 9, tzinfo=UTC)),
        Article(title="Threads", slug="threads", body="", author_id=1),
    )  # fmt: skip
    await add_rows(app, Comment(article_id=1, text="First!"))


async def test_anonymous_visitors_go_to_the_login_page(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        response = await client.get("/admin/adm_article?q=x", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login?next=/admin/adm_article%3Fq%3Dx"
        page = await client.get("/admin/login")
        assert page.status_code == 200
        assert 'name="password"' in page.text


async def test_login_refuses_wrong_passwords_and_non_staff_alike(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "visitor", staff=False)
        page = await client.get("/admin/login")
        for name, password in [("visitor", "correct horse battery staple"), ("nobody", "x")]:
            data = {"csrf_token": token(page.text), "username": name, "password": password}
            response = await client.post("/admin/login", data=data, follow_redirects=False)
            assert response.status_code == 422
            assert "password of a staff account" in response.text


async def test_login_follows_next_only_on_this_site(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        page = await client.get("/admin/login")
        data = {"csrf_token": token(page.text), "username": "root", "password": "correct horse battery staple"}
        response = await client.post("/admin/login", data={**data, "next": "//evil.example"}, follow_redirects=False)
        assert response.headers["location"] == "/admin"
        # Already logged in: the login page sends the user on.
        again = await client.get("/admin/login?next=/admin/adm_tag", follow_redirects=False)
        assert again.headers["location"] == "/admin/adm_tag"


async def test_a_non_staff_session_is_refused(app: Plait[Any]) -> None:
    from plait.auth.login import login

    @app.post("/enter")
    async def enter(request: Request, db: AsyncSession) -> None:
        from plait.auth import User

        user = await db.get(User, 1)
        await login(request, user, db)

    async with AsyncTestClient(app) as client:
        await add_user(app, "visitor", staff=False)
        await client.get("/admin/login")
        csrf = (await client.get("/csrf")).json()["csrf_token"]
        assert (await client.post("/enter", headers={"X-CSRF-Token": csrf})).status_code in (200, 204)
        page = await client.get("/admin")
        assert page.status_code == 403
        assert "not a staff account" in page.text


async def test_staff_without_permission_get_403(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "clerk", permissions=["adm_tag.view"])
        await seed(app)
        await log_in(client, "clerk")
        dashboard = await client.get("/admin")
        assert "Tags" in dashboard.text
        assert "adm_article" not in dashboard.text
        for path in [
            "/admin/adm_article",
            "/admin/adm_article/add",
            "/admin/adm_article/1/change",
            "/admin/adm_article/1/delete",
            "/admin/adm_article/1/history",
            "/admin/adm_tag/add",
        ]:
            assert (await client.get(path)).status_code == 403, path
        assert (await client.get("/admin/adm_tag")).status_code == 200
        # View permission only: the change page is shown read-only, and a POST is refused.
        await add_rows(app, Tag(id=2, name="web"))
        page = await client.get("/admin/adm_tag/2/change")
        assert page.status_code == 200
        assert "disabled" in page.text
        assert 'name="_save"' not in page.text
        post = await client.post("/admin/adm_tag/2/change", data={"csrf_token": token(page.text), "name": "x"})
        assert post.status_code == 403
        data = {"csrf_token": token(page.text), "action": "delete_selected", "selected": "2"}
        assert (await client.post("/admin/adm_tag", data=data)).status_code == 400


async def test_permissions_come_from_the_auth_table(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "editor", permissions=["adm_article.change"])
        await seed(app)
        await log_in(client, "editor")
        assert (await client.get("/admin/adm_article")).status_code == 200  # change implies view
        assert (await client.get("/admin/adm_article/1/change")).status_code == 200
        assert (await client.get("/admin/adm_article/add")).status_code == 403
        assert (await client.get("/admin/adm_article/1/delete")).status_code == 403
        listing = await client.get("/admin/adm_article")
        assert "delete_selected" not in listing.text
        assert "publish" in listing.text


async def test_every_post_needs_the_csrf_token(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await seed(app)
        await log_in(client, "root")
        response = await client.post("/admin/adm_tag/add", data={"name": "x"})
        assert response.status_code == 403
        assert await scalar(app, select(func.count()).select_from(Tag)) == 1


async def test_create_with_a_validation_error_then_fixed(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await seed(app)
        await log_in(client, "root")
        page = await client.get("/admin/adm_article/add")
        assert page.status_code == 200
        assert 'data-prepopulate="title"' in page.text
        assert '<select name="tags"' in page.text
        assert 'name="status"' in page.text
        assert 'type="datetime-local"' in page.text
        data = {"csrf_token": token(page.text), "title": "", "slug": "new", "author_id": "1", "extra": "{not json",
                "status": "draft", "tags": "1"}  # fmt: skip
        bad = await client.post("/admin/adm_article/add", data=data)
        assert bad.status_code == 422
        assert "This field is required." in bad.text
        data |= {"title": "New one"}
        bad_json = await client.post("/admin/adm_article/add", data=data)
        assert bad_json.status_code == 422
        assert "Enter valid JSON" in bad_json.text
        data |= {"extra": '{"pinned": true}', "published_at": "2026-05-01T12:30", "comment-TOTAL": "2",
                 "adm_comment-TOTAL": "2", "adm_comment-0-text": "Hello"}  # fmt: skip
        done = await client.post("/admin/adm_article/add", data=data, follow_redirects=False)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/admin/adm_article"
        async with AsyncSession(app.extensions["database"].engine) as db:
            from sqlalchemy.orm import selectinload

            stmt = select(Article).where(Article.slug == "new").options(selectinload(Article.tags))
            made = (await db.scalars(stmt)).one()
            assert made.extra == {"pinned": True}
            assert [t.name for t in made.tags] == ["python"]
            assert made.published_at == datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
            assert (await db.scalars(select(Comment.text).where(Comment.article_id == made.id))).all() == ["Hello"]
            entry = (await db.scalars(select(LogEntry).where(LogEntry.object_id == str(made.id)))).one()
            assert (entry.action, entry.username, entry.model) == ("add", "root", "adm_article")
        listing = await client.get("/admin/adm_article")
        assert "New one" in listing.text
        assert "was added" in listing.text


async def test_a_taken_unique_value_is_a_form_error(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await seed(app)
        await log_in(client, "root")
        page = await client.get("/admin/adm_tag/add")
        response = await client.post("/admin/adm_tag/add", data={"csrf_token": token(page.text), "name": "python"})
        assert response.status_code == 422
        assert "must be unique" in response.text
        # The refused change left no history behind: the log row is written with the change or not at all.
        assert await scalar(app, select(func.count()).select_from(LogEntry)) == 0


async def test_edit_records_what_changed(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await seed(app)
        await log_in(client, "root")
        page = await client.get("/admin/adm_article/1/change")
        assert 'value="Weaving"' in page.text
        assert "First!" in page.text
        assert ">3<" in page.text
        data = {"csrf_token": token(page.text), "title": "Weaving, again", "slug": "weaving", "author_id": "2",
                "status": "published", "published": "on", "published_at": "2025-03-04T10:00", "body": "one two three",
                "adm_comment-TOTAL": "3", "adm_comment-0-id": "1", "adm_comment-0-text": "First!",
                "adm_comment-0-DELETE": "on", "adm_comment-1-text": "", "adm_comment-2-text": "Second",
                "_continue": ""}  # fmt: skip
        response = await client.post("/admin/adm_article/1/change", data=data, follow_redirects=False)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/admin/adm_article/1/change"
        async with AsyncSession(app.extensions["database"].engine) as db:
            assert (await db.scalars(select(Comment.text).where(Comment.article_id == 1))).all() == ["Second"]
            entry = (await db.scalars(select(LogEntry))).one()
            assert entry.changes["title"] == ["Weaving", "Weaving, again"]
            assert entry.changes["author_id"] == ["1", "2"]
            assert entry.changes["Comment “Comment #1”"] == ["", "deleted"]
        history = await client.get("/admin/adm_article/1/history")
        assert "Changed title" in history.text
        assert "Weaving, again" in history.text
        dashboard = await client.get("/admin")
        assert "Weaving, again" in dashboard.text


async def test_search_filter_sort_and_paginate(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await seed(app)
        await log_in(client, "root")

        async def titles(query: str) -> list[str]:
            import re

            page = await client.get(f"/admin/adm_article{query}")
            assert page.status_code == 200, page.text
            return re.findall(r'<th scope="row">\s*<a href="/admin/adm_article/\d+/change">([^<]*)</a>', page.text)

        assert await titles("") == ["Threads", "Looms", "Weaving"]  # newest first by default
        assert await titles("?o=title") == ["Looms", "Threads", "Weaving"]
        assert await titles("?o=-title") == ["Weaving", "Threads", "Looms"]
        assert await titles("?q=loo") == ["Looms"]
        assert await titles("?q=100%25") == []
        assert await titles("?published=true") == ["Weaving"]
        assert await titles("?status=draft&o=title") == ["Looms", "Threads"]
        assert await titles("?author_id=1&o=title") == ["Threads", "Weaving"]
        assert await titles("?published_at=year") in ([], ["Looms"])
        assert await titles("?published_at__year=2025") == ["Weaving"]
        assert await titles("?published_at__year=2026&published_at__month=1&published_at__day=2") == ["Looms"]
        years = await client.get("/admin/adm_article")
        assert "published_at__year=2025" in years.text
        assert "published_at__year=2026" in years.text
        months = await client.get("/admin/adm_article?published_at__year=2026")
        assert "January" in months.text
        await add_rows(app, *[Article(title=f"Bulk {n}", slug=f"bulk-{n}", author_id=1) for n in range(10)])
        assert len(await titles("")) == 5
        assert len(await titles("?page=3")) == 3
        assert len(await titles("?page=99")) == 3  # past the end: the last page


@pytest.mark.parametrize(
    "query",
    ["?o=password", "?o=title;drop table x", "?o=body", "?page=zero", "?published=maybe", "?status=gone",
     "?author_id=1 or 1=1", "?published_at=forever", "?evil=1", "?published_at__month=13", "?q=" + "x" * 300,
     "?published_at__year=9999&published_at__month=12",
     "?published_at__year=2025&published_at__month=2&published_at__day=31"],
)  # fmt: skip
async def test_crafted_query_strings_are_400(app: Plait[Any], query: str) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await log_in(client, "root")
        response = await client.get(f"/admin/adm_article{query}")
        assert response.status_code == 400, query
        assert "Error 400" in response.text


async def test_unknown_models_and_rows_are_404(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await log_in(client, "root")
        for path in ["/admin/nothing", "/admin/adm_article/77/change", "/admin/adm_article/abc/change"]:
            assert (await client.get(path)).status_code == 404, path


async def test_bulk_delete_asks_first_and_lists_what_goes(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await seed(app)
        await log_in(client, "root")
        listing = await client.get("/admin/adm_article?o=title")
        data = {"csrf_token": token(listing.text), "action": "delete_selected", "selected": ["1", "3"],
                "query": "?o=title"}  # fmt: skip
        confirm = await client.post("/admin/adm_article", data=data)
        assert confirm.status_code == 200
        assert "Weaving" in confirm.text
        assert "Threads" in confirm.text
        assert "Looms" not in confirm.text
        assert "1 \u00d7 Comment" in confirm.text
        assert len(await articles(app)) == 3
        done = await client.post("/admin/adm_article", data={**data, "confirm": "yes"}, follow_redirects=False)
        assert done.headers["location"] == "/admin/adm_article?o=title"
        assert [a.title for a in await articles(app)] == ["Looms"]
        assert await scalar(app, select(func.count()).select_from(LogEntry).where(LogEntry.action == "delete")) == 2
        nothing = await client.post("/admin/adm_article", data={"csrf_token": data["csrf_token"], "action": "publish"})
        assert "Pick at least one item" in nothing.text


async def test_user_defined_actions_run_on_the_picked_rows(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await seed(app)
        await log_in(client, "root")
        listing = await client.get("/admin/adm_article")
        data = {"csrf_token": token(listing.text), "action": "publish", "selected": ["2", "3"]}
        response = await client.post("/admin/adm_article", data=data)
        assert "Published 2." in response.text
        assert [a.published for a in await articles(app)] == [True, True, True]


async def test_delete_one_object(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await seed(app)
        await log_in(client, "root")
        page = await client.get("/admin/adm_author/2/delete")
        assert "Grace" in page.text
        assert "1 \u00d7 Article" in page.text
        # Grace's article still points at her (no cascade): the database refuses, and the page says so.
        refused = await client.post("/admin/adm_author/2/delete", data={"csrf_token": token(page.text)})
        assert "was not deleted" in refused.text
        await add_rows(app, Author(id=3, name="Hedy"))
        gone = await client.post("/admin/adm_author/3/delete", data={"csrf_token": token(page.text)})
        assert "was deleted" in gone.text
        assert await scalar(app, select(func.count()).select_from(Author)) == 2


async def test_database_text_is_escaped_and_urls_are_never_links(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await add_rows(app, Author(id=1, name="<script>alert(1)</script>", website="javascript:alert(1)"))
        await log_in(client, "root")
        for path in ["/admin/adm_author", "/admin/adm_author/1/change", "/admin/adm_author/1/delete"]:
            page = await client.get(path)
            assert "<script>alert(1)</script>" not in page.text
            assert 'href="javascript:' not in page.text
        listing = await client.get("/admin/adm_author")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing.text
        assert "javascript:alert(1)" in listing.text


async def test_autocomplete_suggests_rows_of_the_target(database_url: str) -> None:
    class Big(ArticleAdmin):
        autocomplete_fields = ("author_id",)

    admin = Admin()
    admin.register(Article, Big)
    admin.register(Author)
    app = make_app(database_url, admin)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await seed(app)
        await log_in(client, "root")
        found = await client.get("/admin/adm_article/autocomplete?field=author_id&q=gra")
        assert found.json() == [{"id": 2, "label": "Grace"}]
        assert (await client.get("/admin/adm_article/autocomplete?field=title")).status_code == 400
        page = await client.get("/admin/adm_article/add")
        assert 'data-autocomplete="author_id"' in page.text
        data = {"csrf_token": token(page.text), "title": "T", "slug": "t", "author_id": str(2**40), "status": "draft"}
        too_big = await client.post("/admin/adm_article/add", data=data)
        assert too_big.status_code == 422
        data["author_id"] = "99"
        refused = await client.post("/admin/adm_article/add", data=data)
        assert refused.status_code == 422
        assert "no row has this id" in refused.text


async def test_list_queries_do_not_grow_with_the_page(database_url: str) -> None:
    class Wide(ArticleAdmin):
        list_per_page = 100

    admin = Admin()
    admin.register(Article, Wide)
    app = make_app(database_url, admin)
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await log_in(client, "root")
        statements: list[str] = []
        engine = app.extensions["database"].engine.sync_engine
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

        async def count(rows: int) -> int:
            start = len(statements)
            await client.get("/admin/adm_article")
            return len(statements) - start

        await add_rows(app, *[Author(id=n, name=f"A{n}") for n in range(1, 61)])
        await add_rows(app, *[Article(title=f"T{n}", slug=f"s{n}", author_id=n) for n in range(1, 3)])
        few = await count(2)
        await add_rows(app, *[Article(title=f"T{n}", slug=f"s{n}", author_id=n) for n in range(3, 61)])
        many = await count(60)
        assert few == many
        assert many <= 12


async def test_the_admin_needs_its_companions(database_url: str) -> None:
    from plait.db import Database
    from plait.exceptions import ConfigurationError

    app: Plait[Any] = Plait(extensions=[Database(database_url), Admin()])
    with pytest.raises(ConfigurationError, match="sessions, csrf, auth"):
        app.build()


async def test_a_nul_in_the_search_is_400(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await log_in(client, "root")
        assert (await client.get("/admin/adm_article?q=a%00b")).status_code == 400
        assert (await client.get("/admin/adm_author/autocomplete?field=x&q=%00")).status_code == 400
        page = await client.get("/admin/adm_tag/add")
        posted = await client.post("/admin/adm_tag/add", data={"csrf_token": token(page.text), "name": "a\x00b"})
        assert posted.status_code == 422
        assert "NUL character" in posted.text
        assert (await client.get("/admin/adm_tag/1%00/change")).status_code == 404
        await client.post("/admin/logout", data={"csrf_token": token(page.text)})
        login = await client.get("/admin/login")
        data = {"csrf_token": token(login.text), "username": "ro\x00ot", "password": "x"}
        assert (await client.post("/admin/login", data=data)).status_code == 422


async def test_numbers_out_of_the_columns_range(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app, "root", superuser=True)
        await log_in(client, "root")
        huge = str(2**40)
        assert (await client.get(f"/admin/adm_article?author_id={huge}")).status_code == 400
        assert (await client.get(f"/admin/adm_article/{huge}/change")).status_code == 404
        page = await client.get("/admin/adm_article")
        data = {"csrf_token": token(page.text), "action": "publish", "selected": huge}
        assert (await client.post("/admin/adm_article", data=data)).status_code == 404
