"""An app with Database, Sessions, CSRF, Auth and the Admin, on SQLite (a file per test) and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.admin import Admin, InlineAdmin, ModelAdmin, action
from plait.auth import Auth, AuthSettings, Permission, User
from plait.auth.models import user_permissions
from plait.csrf import CSRF
from plait.db import Database, Model
from plait.sessions import Sessions
from plait.settings import Settings
from plait.testing import AsyncTestClient
from tests.test_admin.models import TABLES, Article, Author, Comment, Tag

SECRET = "admin-tests-secret-key-0123456789abcdef"
FAST = AuthSettings(argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1)
PASSWORD = "correct horse battery staple"
ALL_TABLES = sorted({*Auth.migrations_tables, *Admin.migrations_tables, *TABLES})


class CommentInline(InlineAdmin):
    model = Comment
    extra = 2


@action("Publish the picked articles")
async def publish(request: Any, db: AsyncSession, articles: list[Article]) -> str:
    for article in articles:
        article.published = True
    return f"Published {len(articles)}."


class ArticleAdmin(ModelAdmin):
    list_display = ("title", "author_id", "status", "published", "published_at")
    search_fields = ("title", "body")
    list_filter = ("published", "status", "author_id", "published_at")
    prepopulated_fields = {"slug": ("title",)}
    date_hierarchy = "published_at"
    readonly_fields = ("word_count",)
    inlines = (CommentInline,)
    actions = (publish,)
    list_per_page = 5

    def word_count(self, article: Article) -> int:
        return len(article.body.split())


def make_admin() -> Admin:
    admin = Admin()
    admin.register(Article, ArticleAdmin)
    admin.register(Author)

    @admin.register(Tag)
    class TagAdmin(ModelAdmin):
        search_fields = ("name",)

    return admin


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'admin.db'}"
    else:
        yield request.getfixturevalue("fresh_postgres_database")


def make_app(url: str, admin: Admin | None = None, extensions: Sequence[Any] = ()) -> Plait[Any]:
    database = Database(url)
    app: Plait[Any] = Plait(
        settings=Settings(secret_key=SECRET),
        extensions=[
            database,
            Sessions(),
            CSRF(),
            *extensions,
            Auth(settings=FAST, login_field="username"),
            admin or make_admin(),
        ],
    )
    chosen = [Model.metadata.tables[name] for name in ALL_TABLES]

    @app.on_startup
    async def create_tables() -> None:
        async with database.engine.begin() as connection:
            await connection.run_sync(Model.metadata.drop_all, tables=chosen)
            await connection.run_sync(Model.metadata.create_all, tables=chosen)

    @app.on_shutdown
    async def drop_tables() -> None:
        async with database.engine.begin() as connection:
            await connection.run_sync(Model.metadata.drop_all, tables=chosen)

    return app


@pytest.fixture
def app(database_url: str) -> Plait[Any]:
    return make_app(database_url)


async def add_user(
    app: Plait[Any], username: str, *, staff: bool = True, superuser: bool = False, permissions: Sequence[str] = ()
) -> User:
    """A committed user with ``permissions`` (codenames) given directly."""
    auth: Auth = app.extensions["auth"]
    async with AsyncSession(app.extensions["database"].engine, expire_on_commit=False) as db:
        user: User = await auth.create_user(
            db,
            username=username,
            email=f"{username}@example.com",
            password=PASSWORD,
            validate=False,
            is_staff=staff,
            is_superuser=superuser,
        )
        for codename in permissions:
            permission = Permission(codename=codename, name=codename)
            db.add(permission)
            await db.flush()
            await db.execute(user_permissions.insert().values(user_id=user.id, permission_id=permission.id))
        await db.commit()
    return user


async def add_rows(app: Plait[Any], *rows: Any) -> None:
    async with AsyncSession(app.extensions["database"].engine, expire_on_commit=False) as db:
        db.add_all(rows)
        await db.commit()


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def log_in(client: AsyncTestClient, username: str) -> None:
    page = await client.get("/admin/login")
    response = await client.post(
        "/admin/login",
        data={"csrf_token": token(page.text), "username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
