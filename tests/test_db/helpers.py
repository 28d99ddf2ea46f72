"""A small app over one table, used by the database tests on each backend."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait import BackgroundTasks, HTTPException, JSONResponse, Plait, WebSocket
from plait.db import Database, DatabaseSettings


class Base(DeclarativeBase):
    pass


# One table per test process: several runs may share the PostgreSQL test database at once.
TABLE = f"plait_test_items_{os.getpid()}"


class Item(Base):
    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


async def add_item(name: str, db: AsyncSession) -> None:
    """A background task: its session commits when the task returns."""
    db.add(Item(name=name))


def build(url: str, **settings: Any) -> tuple[Plait[Any], Database]:
    """An app with the routes the tests drive; the table is created fresh at startup."""
    db = Database(settings=DatabaseSettings(database_url=url, **settings))
    app = Plait(extensions=[db])

    @app.on_startup
    async def fresh_table() -> None:
        async with db.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.run_sync(Base.metadata.create_all)

    @app.get("/items")
    async def names(db: AsyncSession) -> list[str]:
        return list((await db.scalars(select(Item.name).order_by(Item.name))).all())

    @app.post("/items", status_code=201)
    async def create(name: str, db: AsyncSession) -> dict[str, str]:
        db.add(Item(name=name))  # flushed by the commit, after the handler returned
        return {"name": name}

    @app.post("/items/raise")
    async def create_then_raise(name: str, db: AsyncSession) -> None:
        db.add(Item(name=name))
        await db.flush()
        raise HTTPException(400, "changed my mind")

    @app.post("/items/refuse")
    async def create_then_refuse(name: str, db: AsyncSession) -> JSONResponse:
        db.add(Item(name=name))
        await db.flush()
        return JSONResponse({"refused": name}, status_code=409)

    @app.post("/items/later", status_code=202)
    def later(name: str, tasks: BackgroundTasks) -> str:
        tasks.add_task(add_item, name)
        return "queued"

    @app.get("/plain")
    def plain() -> str:
        return "no database here"

    @app.websocket("/ws")
    async def socket(ws: WebSocket, db: AsyncSession) -> None:
        await ws.accept()
        name = await ws.receive_text()
        db.add(Item(name=name))
        await ws.send_text("added")

    @app.get("/engine")
    async def engine_name(engine: AsyncEngine) -> str:
        return engine.dialect.name

    return app, db
