"""Building the async engine from the settings: driver choice, pool, SQLite pragmas, connect failures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, StaticPool, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from plait.db.errors import DatabaseUnavailable
from plait.db.settings import DatabaseSettings
from plait.exceptions import ConfigurationError

DEFAULT_FILE = "db.sqlite3"
# The async driver each backend uses when the URL names none (``postgresql://`` is what users paste).
_DRIVERS = {"sqlite": ("aiosqlite", "aiosqlite"), "postgresql": ("asyncpg", "asyncpg")}
# The sync twin of each, for ``db: Session`` in sync handlers (the stdlib's sqlite3, psycopg 3).
_SYNC_DRIVERS = {"sqlite": ("pysqlite", "sqlite3"), "postgresql": ("psycopg", "psycopg")}


def database_url(raw: str, default_dir: Path) -> URL:
    """The URL to connect to, with the async driver filled in; a configuration error names the fix.

    >>> database_url("postgresql://app@db/shop", Path(".")).drivername
    'postgresql+asyncpg'
    >>> database_url("", Path("/srv/app")).render_as_string()
    'sqlite+aiosqlite:////srv/app/db.sqlite3'
    """
    if not raw:
        return make_url(f"sqlite+aiosqlite:///{default_dir / DEFAULT_FILE}")
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigurationError(
            f"PLAIT_DATABASE_URL={raw!r} is not a database URL; write postgresql://user:password@host/name "
            "or sqlite:///path/to/file.db."
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend not in _DRIVERS:
        raise ConfigurationError(
            f"PLAIT_DATABASE_URL uses {backend!r}; Plait supports postgresql:// (asyncpg) and sqlite:// (aiosqlite)."
        )
    wanted, module = _DRIVERS[backend]
    if driver and driver != wanted:
        raise ConfigurationError(
            f"PLAIT_DATABASE_URL names the driver {driver!r}; Plait runs {backend} through {wanted} "
            f"(async): write {backend}+{wanted}://... or just {backend}://..."
        )
    if importlib.util.find_spec(module) is None:
        raise ConfigurationError(f"{backend} needs the {module} driver: pip install 'plait[db]'.")
    return url.set(drivername=f"{backend}+{wanted}")


def create_engine(url: URL, settings: DatabaseSettings) -> AsyncEngine:
    """The app's engine: a bounded pool, a connect timeout, and SQLite tuned for a web app."""
    options = _options(url, settings)
    if url.get_backend_name() != "sqlite":
        options["connect_args"] = {"timeout": settings.database_connect_timeout}
    engine = create_async_engine(url, **options)
    _listen(engine.sync_engine, url, settings)
    return engine


def sync_url(url: URL) -> URL:
    """The URL of the sync engine behind ``db: Session``: the app's URL with the sync driver.

    >>> sync_url(make_url("postgresql+asyncpg://app@db/shop")).render_as_string()
    'postgresql+psycopg://app@db/shop'
    """
    backend = url.get_backend_name()
    driver, module = _SYNC_DRIVERS[backend]
    if importlib.util.find_spec(module) is None:
        raise ConfigurationError(
            f"A handler asks for a sync Session, and {backend} needs the {module} driver for it: "
            "pip install 'plait[db]'."
        )
    return url.set(drivername=f"{backend}+{driver}")


def create_sync_engine(url: URL, settings: DatabaseSettings) -> Engine:
    """The sync engine for sync handlers: the same pool settings, connect timeout and SQLite pragmas.

    >>> engine = create_sync_engine(make_url("sqlite+pysqlite://"), DatabaseSettings())
    >>> engine.pool.__class__.__name__
    'StaticPool'
    """
    options = _options(url, settings)
    if url.get_backend_name() != "sqlite":
        options["connect_args"] = {"connect_timeout": max(1, round(settings.database_connect_timeout))}
    elif _in_memory(url):
        # One connection, shared by the pool's threads (sync handlers run in several threads).
        options["poolclass"] = StaticPool
        options["connect_args"]["check_same_thread"] = False
    engine = sqlalchemy.create_engine(url, **options)
    _listen(engine, url, settings)
    return engine


def _options(url: URL, settings: DatabaseSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"echo": settings.database_echo, "pool_pre_ping": settings.database_pool_pre_ping}
    is_sqlite = url.get_backend_name() == "sqlite"
    if is_sqlite:
        # sqlite3's own timeout is its busy handler, in seconds; the pragma below sets the same in ms.
        options["connect_args"] = {"timeout": settings.database_sqlite_busy_timeout / 1000}
    if not (is_sqlite and _in_memory(url)):  # in-memory SQLite is one connection; a pool makes no sense
        options.update(
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout,
        )
    return options


def _listen(engine: Engine, url: URL, settings: DatabaseSettings) -> None:
    event.listen(engine, "do_connect", _connect)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _pragmas(settings.database_sqlite_busy_timeout))
        # PERF: wrapped around the dialect's savepoint call instead of a "savepoint" listener: any
        # connection-event listener makes SQLAlchemy dispatch the execute events of every statement
        # (about 4 µs of a 75 µs primary-key get; benchmarks/db/README.md).
        savepoint = engine.dialect.do_savepoint

        def do_savepoint(connection: Any, name: str) -> None:
            _begin_before_savepoint(connection, name)
            savepoint(connection, name)

        engine.dialect.do_savepoint = do_savepoint  # type: ignore[method-assign]


def _begin_before_savepoint(connection: Any, name: str | None) -> None:
    """Open SQLite's transaction before a SAVEPOINT (``begin_nested()``).

    SQLite's drivers start the transaction lazily, at the first write. A SAVEPOINT sent before that
    starts a transaction of its own, which its RELEASE commits: the session's rollback could then no
    longer undo what the savepoint block wrote.
    """
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def _in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url.query.get("mode", ""))


def _connect(dialect: Any, record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]) -> Any:
    """Open a connection; a failure (refused, timed out, cannot open the file) becomes a 503."""
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as exc:
        raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc


def _pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(connection: Any, record: Any) -> None:
        # WAL lets readers run while one writer writes; foreign keys are off by default in SQLite.
        cursor = connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable with WAL, and much faster than FULL
        finally:
            cursor.close()

    return on_connect
