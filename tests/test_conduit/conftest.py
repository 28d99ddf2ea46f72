"""The Conduit example (examples/conduit) on SQLite and on PostgreSQL, migrated with its real migrations.

The app is imported from ``examples/`` the way ``plait run examples/conduit/app.py:app`` imports it
(package ``conduit``). Each test module gets one app per database, migrated once; every test starts
from empty tables. Password hashing is made cheap here (the rules still apply).
"""

from __future__ import annotations

import importlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from plait.auth import AuthSettings
from plait.settings import Settings
from plait.testing import TestClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECRET = "conduit tests: a secret key nobody else uses"
FAST_HASHING = AuthSettings(argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1)
# Children first, so that deleting never trips a foreign key.
TABLES = (
    "plait_admin_log",
    "favorite",
    "comment",
    "article_tag",
    "follow",
    "article",
    "tag",
    "member",
    "auth_apikey",
    "auth_user_groups",
    "auth_user_permissions",
    "auth_user",
    "auth_throttle",
)


def conduit_module(name: str) -> Any:
    """``conduit.<name>`` from examples/ (typed Any: the example is not part of the checked packages)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.append(str(EXAMPLES))  # after everything else: examples/ never shadows an installed package
    return importlib.import_module(f"conduit.{name}")


def migrate(app: Any) -> None:
    """``plait db migrate`` for ``app``: the auth battery's revisions and Conduit's own."""
    from alembic import command

    from plait.db import migrations

    app.build()
    config = migrations.config_for(app.extensions["database"], io.StringIO())
    migrations.run_connected(config, lambda cfg: command.upgrade(cfg, "heads"))


def sync_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def empty_tables(url: str) -> None:
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            for table in TABLES:
                connection.execute(text(f"delete from {table}"))  # noqa: S608 - fixed table names
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('conduit') / 'conduit.sqlite3'}"
        return
    url: str = request.getfixturevalue("fresh_postgres_database")
    yield url
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:  # the next module migrates from scratch in the same database
            connection.execute(text("drop schema public cascade"))
            connection.execute(text("create schema public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def conduit_app(database_url: str) -> Any:
    app = conduit_module("app").create_app(database_url, settings=Settings(secret_key=SECRET), auth=FAST_HASHING)
    migrate(app)
    return app


@pytest.fixture(scope="module")
def module_client(conduit_app: Any) -> Iterator[TestClient]:
    with TestClient(conduit_app) as client:
        yield client


@pytest.fixture
def client(module_client: TestClient, database_url: str) -> TestClient:
    empty_tables(database_url)
    module_client.cookies.clear()
    return module_client
