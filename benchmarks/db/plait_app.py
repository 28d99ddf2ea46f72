"""The TechEmpower database tests in Plait, written the way its data layer is taught.

``Model`` tables, ``Database()`` with a pool of 4 per worker, an ``AsyncSession`` per request
(committed by Plait before the response), and Jinja2 used directly for the fortunes page.
``BENCH_DB`` picks PostgreSQL (default) or the SQLite file ``seed.py`` wrote.
"""

from __future__ import annotations

import jinja2
import msgspec
import tfb
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from plait import HTMLResponse, Plait
from plait.db import Database, DatabaseSettings, Model


class World(Model):
    __tablename__ = tfb.WORLD_TABLE

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    randomnumber: Mapped[int]


class Fortune(Model):
    __tablename__ = tfb.FORTUNE_TABLE

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    message: Mapped[str]


class WorldOut(msgspec.Struct):
    id: int
    randomNumber: int  # the published JSON name


settings = DatabaseSettings(database_pool_size=tfb.POOL_SIZE, database_max_overflow=0)
app = Plait(extensions=[Database(tfb.sqlalchemy_url(), settings=settings)])
page = jinja2.Environment(autoescape=True).from_string(tfb.FORTUNES_TEMPLATE)


async def _read(db: AsyncSession, world_id: int) -> World:
    world = await db.get(World, world_id)
    assert world is not None  # every id 1..10,000 exists (seed.py)
    return world


@app.get("/db")
async def single(db: AsyncSession) -> WorldOut:
    world = await _read(db, tfb.random_id())
    return WorldOut(world.id, world.randomnumber)


@app.get("/queries")
async def queries(db: AsyncSession, queries: str | None = None) -> list[WorldOut]:
    worlds = [await _read(db, world_id) for world_id in tfb.random_ids(tfb.query_count(queries))]
    return [WorldOut(world.id, world.randomnumber) for world in worlds]


@app.get("/updates")
async def updates(db: AsyncSession, queries: str | None = None) -> list[WorldOut]:
    worlds = [await _read(db, world_id) for world_id in sorted(tfb.random_ids(tfb.query_count(queries)))]
    for world in worlds:
        world.randomnumber = tfb.new_number(world.randomnumber)
    # Plait commits (one batched UPDATE) before the response starts.
    return [WorldOut(world.id, world.randomnumber) for world in worlds]


@app.get("/fortunes")
async def fortunes(db: AsyncSession) -> HTMLResponse:
    rows = [(fortune.id, fortune.message) for fortune in await db.scalars(select(Fortune))]
    return HTMLResponse(page.render(fortunes=tfb.sorted_fortunes(rows)))
