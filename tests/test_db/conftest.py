"""Database fixtures: a SQLite file per test, and the real PostgreSQL server (127.0.0.1:5432).

With ``CI`` set, a PostgreSQL server that does not answer fails the ``postgres`` tests instead of
skipping them, so a CI machine without the server can never look green.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from plait.db import testing

# What `pytest_plugins = ["plait.db.testing"]` in a project's root conftest.py registers.
isolated_db = testing.isolated_db
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
_CI_VALUES = ("1", "true", "yes", "on")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in _CI_VALUES


async def _probe() -> str | None:
    import asyncpg

    try:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    await connection.close()
    return None


async def _drop_test_table() -> None:
    import asyncpg

    from tests.test_db.helpers import TABLE

    connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
    try:
        await connection.execute(f"drop table if exists {TABLE}")
    finally:
        await connection.close()


def require_postgres(problem: str | None) -> None:
    """Skip (fail under CI) when the server did not answer; ``problem`` says why."""
    if problem is None:
        return
    message = (
        f"PostgreSQL on 127.0.0.1:5432 (user postgres, database test) is not answering ({problem}); "
        "start it as .ci/run does"
    )
    if in_ci():
        pytest.fail(f"{message}. CI is set, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The PostgreSQL URL; skips when the server is down, except under CI, where it fails."""
    require_postgres(asyncio.run(_probe()))
    yield POSTGRES_URL
    asyncio.run(_drop_test_table())  # this process's table, left by the last test that used it


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for each backend: a fresh SQLite file, or the shared PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        yield request.getfixturevalue("postgres_server")
