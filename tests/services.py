"""The real servers some tests need: PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379).

A server that does not answer skips those tests, except with ``CI`` set, where it fails them:
a CI machine without the server can never look green. Tests running at once (several pytest
processes on one machine) must not see each other's data: :func:`fresh_postgres_database` gives
each process its own database, and Redis tests use keys under a prefix of their own.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
_CI_VALUES = ("1", "true", "yes", "on")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in _CI_VALUES


def require(service: str, problem: str | None) -> None:
    """Skip (fail under CI) when ``service`` did not answer; ``problem`` says why."""
    if problem is None:
        return
    message = f"{service} is not answering ({problem}); start it as .ci/run does"
    if in_ci():
        pytest.fail(f"{message}. CI is set, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(message)


async def probe_redis(url: str = REDIS_URL) -> str | None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await client.aclose()
    return None


async def _admin(sql: str) -> str | None:
    import asyncpg

    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    try:
        await connection.execute(sql)
    finally:
        await connection.close()
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis URL; skips when the server is down, except under CI, where it fails.

    Redis is shared: use keys under :func:`redis_prefix` and never FLUSHDB.
    """
    require("Redis on 127.0.0.1:6379", asyncio.run(probe_redis()))
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test (or test process) uses."""
    return f"plait-test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(scope="session")
def fresh_postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this test process's own, created empty and dropped at the end.

    Tables with fixed names (``auth_user``) can then be created without clashing with another
    pytest process on the same server. Within the process, tests must drop what they create (or
    use the ``isolated_db`` rollback fixture).
    """
    name = f"plait_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    require("PostgreSQL on 127.0.0.1:5432 (user postgres, database test)", asyncio.run(_admin("select 1")))
    asyncio.run(_admin(f'create database "{name}"'))
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    asyncio.run(_admin(f'drop database if exists "{name}" with (force)'))
