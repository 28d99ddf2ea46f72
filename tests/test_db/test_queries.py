"""``get_or_404``, ``exists``, ``first``, ``bulk_create`` with async and sync sessions, on each backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, selectinload

from plait import Plait
from plait.db import Database, Model, bulk_create, exists, first, get_or_404
from plait.exceptions import HTTPException
from plait.testing import AsyncTestClient
from tests.test_db.models import TABLES, Ticket, Volume, Writer, engines

pytestmark = pytest.mark.anyio


@pytest.fixture
async def both(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Engine]]:
    async with engines(database_url) as pair:
        async with AsyncSession(pair[0]) as db:
            db.add(Writer(name="Ann", books=[Volume(title="B", pages=20), Volume(title="A", pages=10)]))
            await db.commit()
        yield pair


async def test_get_or_404_returns_the_row_or_a_404_naming_model_and_id(both: tuple[AsyncEngine, Engine]) -> None:
    engine, sync_engine = both
    async with AsyncSession(engine) as db:
        writer = await get_or_404(db, Writer, 1, options=[selectinload(Writer.books)])
        assert (writer.name, len(writer.books)) == ("Ann", 2)
        with pytest.raises(HTTPException) as caught:
            await get_or_404(db, Writer, 99)
        assert (caught.value.status_code, caught.value.detail) == (404, "No Writer with id 99.")
        missing = uuid.UUID(int=7)
        with pytest.raises(HTTPException, match=f"No Ticket with id {missing}"):
            await get_or_404(db, Ticket, missing)
    with Session(sync_engine) as sync_db:
        assert get_or_404(sync_db, Writer, 1).name == "Ann"
        with pytest.raises(HTTPException, match="No Volume with id 5"):
            get_or_404(sync_db, Volume, 5)


async def test_exists_asks_the_database_without_fetching_rows(both: tuple[AsyncEngine, Engine]) -> None:
    engine, sync_engine = both
    async with AsyncSession(engine) as db:
        assert await exists(db, select(Volume).where(Volume.pages > 15)) is True
        assert await exists(db, select(Volume.id).where(Volume.pages > 50)) is False
    with Session(sync_engine) as sync_db:
        assert exists(sync_db, select(Writer).where(Writer.name == "Ann")) is True
        assert exists(sync_db, select(Writer).where(Writer.name == "Nobody")) is False


async def test_first_takes_the_first_row_in_the_statements_order(both: tuple[AsyncEngine, Engine]) -> None:
    engine, sync_engine = both
    async with AsyncSession(engine) as db:
        volume = await first(db, select(Volume).order_by(Volume.title))
        assert volume is not None
        assert volume.title == "A"
        assert await first(db, select(Volume.pages).order_by(Volume.pages.desc())) == 20
        assert await first(db, select(Volume).where(Volume.pages > 99)) is None
    with Session(sync_engine) as sync_db:
        assert first(sync_db, select(Volume.title).order_by(Volume.title.desc())) == "B"
        assert first(sync_db, select(Writer).where(Writer.name == "Nobody")) is None


async def test_bulk_create_flushes_and_returns_rows_with_ids(both: tuple[AsyncEngine, Engine]) -> None:
    engine, sync_engine = both
    async with AsyncSession(engine) as db:
        rows = await bulk_create(db, [Ticket(code=f"T{n}") for n in range(3)])
        assert [row.code for row in rows] == ["T0", "T1", "T2"]
        assert all(isinstance(row.id, uuid.UUID) for row in rows)
        await db.rollback()  # only flushed: a rollback undoes them
        assert await exists(db, select(Ticket)) is False
        writers = await bulk_create(db, (Writer(name=name) for name in ("Bo", "Cy")))
        assert all(isinstance(w.id, int) for w in writers)
        await db.commit()
    with Session(sync_engine) as sync_db:
        made = bulk_create(sync_db, [Writer(name="Di")])
        assert made[0].id is not None
        sync_db.commit()
        assert sync_db.scalars(select(Writer.name).order_by(Writer.id)).all() == ["Ann", "Bo", "Cy", "Di"]


async def test_get_or_404_in_handlers_answers_a_problem_response(database_url: str) -> None:
    app = Plait(extensions=[Database(database_url)])

    @app.on_startup
    async def tables() -> None:
        async with app.extensions["database"].engine.begin() as connection:
            await connection.run_sync(Model.metadata.drop_all, tables=TABLES)
            await connection.run_sync(Model.metadata.create_all, tables=TABLES)

    @app.get("/writers/{id}")
    async def read(id: int, db: AsyncSession) -> dict[str, Any]:
        writer = await get_or_404(db, Writer, id)
        return {"name": writer.name}

    @app.get("/sync/writers/{id}")
    def read_sync(id: int, db: Session) -> dict[str, Any]:
        return {"name": get_or_404(db, Writer, id).name}

    @app.post("/writers", status_code=201)
    async def create(name: str, db: AsyncSession) -> int:
        if await exists(db, select(Writer).where(Writer.name == name)):
            raise HTTPException(409, f"A writer named {name!r} exists already.")
        return (await bulk_create(db, [Writer(name=name)]))[0].id

    async with AsyncTestClient(app) as client:
        created = await client.post("/writers", params={"name": "Ann"})
        assert created.status_code == 201
        assert (await client.post("/writers", params={"name": "Ann"})).status_code == 409
        assert (await client.get(f"/writers/{created.json()}")).json() == {"name": "Ann"}
        assert (await client.get(f"/sync/writers/{created.json()}")).json() == {"name": "Ann"}
        missing = await client.get("/writers/404")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["detail"] == "No Writer with id 404."
        assert (await client.get("/sync/writers/405")).json()["detail"] == "No Writer with id 405."
        async with app.extensions["database"].engine.begin() as connection:
            await connection.run_sync(Model.metadata.drop_all, tables=TABLES)
