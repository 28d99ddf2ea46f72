"""Settings, URLs, the pool and SQLite's pragmas."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.db import Database, DatabaseSettings
from plait.db.engine import database_url
from plait.exceptions import ConfigurationError
from plait.testing import AsyncTestClient

pytestmark = pytest.mark.anyio
HERE = Path(__file__).resolve().parent


def built(db: Database) -> Database:
    Plait(extensions=[db]).build()
    return db


def test_the_default_is_a_sqlite_file_next_to_the_module_that_made_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PLAIT_DATABASE_URL", raising=False)
    db = built(Database())
    assert db.url is not None
    assert db.url.drivername == "sqlite+aiosqlite"
    assert db.url.database == str(HERE / "db.sqlite3")


def test_plait_database_url_and_the_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_DATABASE_URL", "postgresql://app:secret@db.internal/shop")
    monkeypatch.setenv("PLAIT_DATABASE_POOL_SIZE", "12")
    db = built(Database())
    assert db.url is not None
    assert db.url.drivername == "postgresql+asyncpg"
    assert db.settings.database_pool_size == 12
    explicit = built(Database("sqlite:///other.db"))  # the argument wins over the variable
    assert explicit.url is not None
    assert explicit.url.database == "other.db"
    assert explicit.settings.database_pool_size == 12


def test_bad_settings_fail_at_startup_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_DATABASE_POOL_SIZE", "0")
    with pytest.raises(ConfigurationError, match=r"PLAIT_DATABASE_POOL_SIZE='0'.*\(Expected `int` >= 1\)"):
        built(Database())


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL; write postgresql://"),
        ("mysql://x/y", "uses 'mysql'; Plait supports postgresql://"),
        ("postgresql+psycopg2://x/y", "names the driver 'psycopg2'; Plait runs postgresql through asyncpg"),
    ],
)
def test_unsupported_urls_name_the_fix(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        database_url(url, HERE)


def test_a_missing_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "asyncpg" else real(name))
    with pytest.raises(ConfigurationError, match=r"needs the asyncpg driver: pip install 'plait\[db\]'"):
        database_url("postgresql://x/y", HERE)


def test_explicit_async_drivers_are_kept() -> None:
    assert database_url("sqlite+aiosqlite:///a.db", HERE).drivername == "sqlite+aiosqlite"
    assert database_url("postgresql+asyncpg://x/y", HERE).drivername == "postgresql+asyncpg"


async def test_sqlite_connections_get_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(settings=DatabaseSettings(database_url=f"sqlite:///{tmp_path / 'p.db'}", database_pool_size=3))
    app = Plait(extensions=[db])

    @app.get("/pragmas")
    async def pragmas(db: AsyncSession) -> dict[str, Any]:
        names = ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        return {name: (await db.execute(text(f"PRAGMA {name}"))).scalar_one() for name in names}

    async with AsyncTestClient(app) as client:
        response = await client.get("/pragmas")
        assert response.json() == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "synchronous": 1}
        assert db.engine.pool.size() == 3  # type: ignore[attr-defined]


async def test_the_pool_follows_the_settings(database_url: str) -> None:
    settings = DatabaseSettings(database_url=database_url, database_pool_size=2, database_pool_timeout=1.5)
    db = Database(settings=settings)
    async with Plait(extensions=[db]).running():
        pool: Any = db.engine.pool
        assert (pool.size(), pool.timeout()) == (2, 1.5)
        async with db.engine.connect() as connection:
            assert (await connection.execute(text("select 1"))).scalar_one() == 1
        engine = db.engine
    assert engine.pool.checkedin() == 0  # type: ignore[attr-defined]  # disposed at shutdown


async def test_in_memory_sqlite_is_one_shared_connection() -> None:
    db = Database("sqlite:///:memory:")
    async with Plait(extensions=[db]).running():
        async with db.engine.begin() as connection:
            await connection.execute(text("create table t (x int)"))
        async with db.engine.connect() as connection:
            assert (await connection.execute(text("select count(*) from t"))).scalar_one() == 0
