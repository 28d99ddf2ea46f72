"""Models on ``plait.db.Model`` used by the model, query and sync-session tests, on each backend."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import CheckConstraint, Engine, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plait.db import UUIDPK, DatabaseSettings, IntPK, Model, Timestamps
from plait.db.engine import create_engine, create_sync_engine, database_url, sync_url

# One set of tables per test process: several runs may share the PostgreSQL test database at once.
SUFFIX = os.getpid()


class Writer(Model, IntPK):
    __tablename__ = f"plait_writer_{SUFFIX}"

    name: Mapped[str] = mapped_column(unique=True)
    books: Mapped[list[Volume]] = relationship(back_populates="writer", order_by="Volume.id")


class Volume(Model, IntPK, Timestamps):
    __tablename__ = f"plait_volume_{SUFFIX}"
    __table_args__ = (
        UniqueConstraint("writer_id", "title"),
        CheckConstraint("pages >= 0", name="pages_positive"),
        Index(None, "title"),
    )

    title: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int] = mapped_column(default=0)
    extra: Mapped[dict[str, Any] | None]
    writer_id: Mapped[int] = mapped_column(ForeignKey(f"{Writer.__tablename__}.id"))
    writer: Mapped[Writer] = relationship(back_populates="books")


class Ticket(Model, UUIDPK, Timestamps):
    __tablename__ = f"plait_ticket_{SUFFIX}"

    code: Mapped[str]
    blob: Mapped[bytes | None]


TABLES = [Model.metadata.tables[model.__tablename__] for model in (Writer, Volume, Ticket)]


@contextlib.asynccontextmanager
async def engines(url: str) -> AsyncIterator[tuple[AsyncEngine, Engine]]:
    """Plait's async and sync engines on ``url``, over fresh tables dropped afterwards."""
    settings = DatabaseSettings()
    async_url = database_url(url, Path.cwd())
    engine = create_engine(async_url, settings)
    sync_engine = create_sync_engine(sync_url(async_url), settings)
    async with engine.begin() as connection:
        await connection.run_sync(Model.metadata.drop_all, tables=TABLES)
        await connection.run_sync(Model.metadata.create_all, tables=TABLES)
    try:
        yield engine, sync_engine
    finally:
        sync_engine.dispose()
        async with engine.begin() as connection:
            await connection.run_sync(Model.metadata.drop_all, tables=TABLES)
        await engine.dispose()
