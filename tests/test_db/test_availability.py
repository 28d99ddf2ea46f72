"""A database that is down, a pool that is exhausted, a connection that dies: 503, then recovery."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from plait.db.errors import connection_lost
from plait.requests import Request
from plait.testing import AsyncTestClient
from tests.test_db.helpers import build

pytestmark = pytest.mark.anyio


def _unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert "Try again shortly" in response.json()["detail"]


async def test_a_sqlite_file_that_cannot_be_opened_is_a_503(tmp_path: Path) -> None:
    app, _ = build(f"sqlite:///{tmp_path / 'missing-dir' / 'app.db'}")
    app.startup_hooks.clear()  # the table cannot be created either
    async with AsyncTestClient(app) as client:
        response = await client.get("/items")
        _unavailable(response)
        assert "unable to open database file" in response.json()["detail"]
        (tmp_path / "missing-dir").mkdir()
        assert (await client.get("/engine")).text == "sqlite"
        # The directory exists now: the next request connects (the table is still missing: a 500).
        assert (await client.get("/items")).status_code == 500


@pytest.mark.postgres
async def test_a_postgres_server_that_refuses_is_a_503_within_the_timeout(postgres_server: str) -> None:
    app, _ = build(postgres_server.replace(":5432", ":1"), database_connect_timeout=2.0)
    app.startup_hooks.clear()
    async with AsyncTestClient(app) as client:
        started = time.perf_counter()
        _unavailable(await client.get("/items"))
        assert time.perf_counter() - started < 2.5


async def test_an_exhausted_pool_is_a_503_within_the_pool_timeout(database_url: str) -> None:
    app, db = build(database_url, database_pool_size=1, database_max_overflow=0, database_pool_timeout=0.3)
    async with AsyncTestClient(app) as client:
        async with db.engine.connect() as held:  # the only connection, busy elsewhere
            await held.execute(text("select 1"))
            started = time.perf_counter()
            response = await client.get("/items")
            elapsed = time.perf_counter() - started
            _unavailable(response)
            assert "no free connection" in response.json()["detail"]
            assert 0.25 < elapsed < 2
        assert (await client.get("/items")).json() == []  # recovered once the connection is back


@pytest.mark.postgres
async def test_a_killed_connection_is_a_503_and_the_next_request_recovers(postgres_server: str) -> None:
    app, db = build(postgres_server, database_pool_size=1, database_max_overflow=0)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/items")).json() == []  # one pooled connection now
        raw = await db.engine.raw_connection()  # the pool's single connection, the one the app uses
        backend_pid = await raw.driver_connection.fetchval("select pg_backend_pid()")  # type: ignore[union-attr]
        raw.close()
        admin = await asyncpg.connect(postgres_server, timeout=3)
        try:
            await admin.execute("select pg_terminate_backend($1)", backend_pid)
            # The signal is asynchronous: wait until the backend is really gone.
            for _ in range(100):
                if not await admin.fetchval("select count(*) from pg_stat_activity where pid = $1", backend_pid):
                    break
                await anyio.sleep(0.02)
        finally:
            await admin.close()
        _unavailable(await client.get("/items"))
        assert (await client.get("/items")).json() == []  # the pool reconnected by itself


def test_other_driver_errors_stay_500s() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b""})
    error = sa_exc.DBAPIError("select 1", None, Exception("syntax error"), connection_invalidated=False)
    assert connection_lost(request, error).status_code == 500
    lost = sa_exc.DBAPIError("select 1", None, Exception("closed"), connection_invalidated=True)
    assert connection_lost(request, lost).status_code == 503
