"""Building the async engine from the settings: driver choice, pool, SQLite pragmas, connect failures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from plait.db.errors import DatabaseUnavailable
from plait.db.settings import DatabaseSettings
from plait.exceptions import ConfigurationError

DEFAULT_FILE = "db.sqlite3"
# The async driver each backend uses when the URL names none (``postgresql://`` is what users paste).
_DRIVERS = {"sqlite": ("aiosqlite", "aiosqlite"), "postgresql": ("asyncpg", "asyncpg")}


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
    options: dict[str, Any] = {"echo": settings.database_echo, "pool_pre_ping": settings.database_pool_pre_ping}
    is_sqlite = url.get_backend_name() == "sqlite"
    if is_sqlite:
        # sqlite3's own timeout is its busy handler, in seconds; the pragma below sets the same in ms.
        options["connect_args"] = {"timeout": settings.database_sqlite_busy_timeout / 1000}
    else:
        options["connect_args"] = {"timeout": settings.database_connect_timeout}
    if not (is_sqlite and _in_memory(url)):  # in-memory SQLite is one connection; a pool makes no sense
        options.update(
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout,
        )
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "do_connect", _connect)
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _pragmas(settings.database_sqlite_busy_timeout))
    return engine


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
