"""Fixtures of the scaling proof: servers of `plait serve --workers 3` on the shared PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_scaling.processes import Served, plait_serve
from tests.test_scaling.support import backends, create_session_table, delete_keys, execute
from tests.test_scaling.watchdog import *  # noqa: F403 - a hang fails one test, never the whole run


@pytest.fixture(scope="module")
def module_prefix(redis_url: str) -> Iterator[str]:
    """A Redis key prefix for the servers of one test module (the same shape as ``redis_prefix``)."""
    prefix = f"plait-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    delete_keys(redis_url, prefix)


@pytest.fixture(scope="module")
def served_on_redis(
    redis_url: str, module_prefix: str, fresh_postgres_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """Three workers with sessions on Redis, cache, rate limits and broadcast on Redis, the database on PostgreSQL."""
    env = backends(redis_url, module_prefix, fresh_postgres_database, "redis")
    log = Path(tmp_path_factory.mktemp("served")) / "server.log"
    with plait_serve(env, log) as served:
        yield served


@pytest.fixture(scope="module")
def served_on_database(
    redis_url: str, module_prefix: str, fresh_postgres_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The same app with its sessions in PostgreSQL (``DatabaseStore``)."""
    asyncio.run(create_session_table(fresh_postgres_database))
    env = backends(redis_url, module_prefix + "db:", fresh_postgres_database, "database")
    log = Path(tmp_path_factory.mktemp("served")) / "server.log"
    try:
        with plait_serve(env, log) as served:
            yield served
    finally:
        asyncio.run(execute(fresh_postgres_database, "drop table if exists plait_session"))


@pytest.fixture(params=["redis", "database"])
def served_any_store(request: pytest.FixtureRequest) -> Served:
    """Each of the two servers in turn: sessions on Redis, then in PostgreSQL."""
    served: Served = request.getfixturevalue(f"served_on_{request.param}")
    return served
