"""The database settings, read from ``PLAIT_DATABASE_*`` variables."""

from __future__ import annotations

from typing import Annotated

import msgspec

Positive = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]


class DatabaseSettings(msgspec.Struct, kw_only=True, frozen=True):
    """How to reach the database; every field is a ``PLAIT_`` variable (``PLAIT_DATABASE_URL``).

    >>> DatabaseSettings().database_pool_size
    5
    """

    database_url: str = ""
    """``postgresql://user@host/db`` (asyncpg) or ``sqlite:///path.db`` (aiosqlite); empty: a SQLite file
    ``db.sqlite3`` next to the module that created the ``Database``."""
    database_pool_size: Positive = 5
    """Connections kept open per process."""
    database_max_overflow: Annotated[int, msgspec.Meta(ge=0)] = 10
    """Extra connections opened under load, closed when returned."""
    database_pool_timeout: Seconds = 5.0
    """Seconds a request waits for a free connection before it gets a 503."""
    database_connect_timeout: Seconds = 5.0
    """Seconds to wait for the server when opening a connection (503 beyond it)."""
    database_pool_pre_ping: bool = False
    """Test each connection as it leaves the pool (one round trip) instead of failing one request after a restart."""
    database_sqlite_busy_timeout: Annotated[int, msgspec.Meta(ge=0)] = 5000
    """Milliseconds SQLite waits for a lock held by another connection."""
    database_echo: bool = False
    """Log every SQL statement (development only)."""
    database_migrations: str = ""
    """The Alembic migrations folder (``plait db ...``); relative paths start at the directory of the module
    that created the ``Database``; empty: ``migrations`` there."""
