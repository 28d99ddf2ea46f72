"""The GraphQL tests run on SQLite (a file per test) and on PostgreSQL (this process's own database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plait import Plait
from plait.testing import TestClient
from tests.test_graphql.app import create_tables, drop_tables, make_app


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'graphql.sqlite3'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url.replace("postgresql://", "postgresql+asyncpg://")


@pytest.fixture
def app(database_url: str) -> Plait[Any]:
    return make_app(database_url)


@pytest.fixture
def client(app: Plait[Any]) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        call(test_client, create_tables, app)
        try:
            yield test_client
        finally:
            call(test_client, drop_tables, app)


def call(client: TestClient, fn: Any, *args: Any) -> Any:
    """Run ``fn(*args)`` on the event loop the app runs on (it owns the engine)."""
    portal = client._portal
    assert portal is not None, "call() needs a client inside `with TestClient(app)`"
    return portal.call(fn, *args)
