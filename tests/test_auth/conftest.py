"""Apps with Database + Auth on SQLite (a file per test) and PostgreSQL (this process's own database).

The auth tables are created when the app starts and dropped when it stops, so PostgreSQL tests that
share the process's database start from empty tables. argon2 runs with tiny costs here: the tests
check behaviour, not the hashing cost.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.auth import Auth, AuthSettings, MemoryMailSender, auth_router
from plait.db import Database, Model
from plait.extensions import Extension
from plait.settings import Settings

SECRET = "auth-tests-secret-key-0123456789abcdef"
FAST = AuthSettings(argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1)
"""Cheap argon2 parameters: tests check behaviour, not the hashing cost."""
PASSWORD = "correct horse battery staple"


def auth_tables(*extra: str) -> list[Table]:
    """The auth tables (and ``extra`` ones, e.g. a custom user model's), from Model's metadata."""
    return [Model.metadata.tables[name] for name in sorted(Auth.migrations_tables | set(extra))]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def auth_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file of the test's own, or this process's PostgreSQL database (tables dropped after each app)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'auth.db'}"
    else:
        yield request.getfixturevalue("fresh_postgres_database")


@pytest.fixture
def mailbox() -> MemoryMailSender:
    """The mail the app sends (``Auth(mail=mailbox)``)."""
    return MemoryMailSender()


def make_app(
    url: str,
    *,
    auth: Auth | None = None,
    extensions: Sequence[Extension] = (),
    tables: Sequence[str] = (),
    settings: Settings | None = None,
    router: bool = True,
    manage_tables: bool = True,
) -> Plait[Any]:
    """An app with Database, ``extensions``, then ``auth`` (a fast one by default) and the auth router.

    The auth tables (and ``tables``) are created at startup and dropped at shutdown, unless
    ``manage_tables=False`` (then :func:`create_tables` made them once, for several app runs).
    """
    database = Database(url)
    app: Plait[Any] = Plait(
        settings=settings or Settings(secret_key=SECRET),
        extensions=[database, *extensions, auth or Auth(settings=FAST, mail=MemoryMailSender())],
    )
    if router:
        app.include_router(auth_router())
    if not manage_tables:
        return app
    chosen = auth_tables(*tables)

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
def app(auth_database_url: str, mailbox: MemoryMailSender) -> Plait[Any]:
    """Database + Auth (email login, fast hashing, ``mailbox``) + ``auth_router()`` at ``/auth``."""
    return make_app(auth_database_url, auth=Auth(settings=FAST, mail=mailbox))


async def add_user(
    app: Plait[Any],
    username: str = "ada",
    email: str = "ada@example.com",
    password: str | None = PASSWORD,
    **fields: Any,
) -> Any:
    """Insert a user (committed) into the running app's database; the password rules are not checked."""
    auth: Auth = app.extensions["auth"]
    async with AsyncSession(app.extensions["database"].engine, expire_on_commit=False) as db:
        user = await auth.create_user(db, username=username, email=email, password=password, validate=False, **fields)
        await db.commit()
    return user


def create_tables(url: str) -> None:
    """Create the auth tables in the (SQLite) database at ``url`` with a sync engine."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        Model.metadata.create_all(engine, tables=auth_tables())
    finally:
        engine.dispose()
