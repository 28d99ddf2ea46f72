"""The TechEmpower database tests in Litestar with SQLAlchemy, the way Litestar's documentation teaches it.

The SQLAlchemy plugin from advanced-alchemy (``advanced_alchemy.extensions.litestar``, what
``litestar.plugins.sqlalchemy`` now points to) owns the engine and injects ``db_session``; its
``autocommit`` before-send handler commits a 2xx response before it starts. msgspec response structs
(Litestar's own serialiser), Jinja2 used directly for the fortunes page (as in the Plait and FastAPI
apps), the same pool of 4 per worker. ``BENCH_DB`` picks the backend.
"""

from __future__ import annotations

import jinja2
import msgspec
import tfb
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, MediaType, Response, get
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

URL = tfb.POSTGRES_DSN.replace("postgresql://", "postgresql+asyncpg://")
if tfb.backend() == "sqlite":
    URL = f"sqlite+aiosqlite:///{tfb.SQLITE_PATH}"
page = jinja2.Environment(autoescape=True).from_string(tfb.FORTUNES_TEMPLATE)


class Base(DeclarativeBase):
    pass


class World(Base):
    __tablename__ = tfb.WORLD_TABLE

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    randomnumber: Mapped[int]


class Fortune(Base):
    __tablename__ = tfb.FORTUNE_TABLE

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    message: Mapped[str]


class WorldOut(msgspec.Struct):
    id: int
    randomNumber: int  # the published JSON name


async def _read(db_session: AsyncSession, world_id: int) -> World:
    world = await db_session.get(World, world_id)
    assert world is not None  # every id 1..10,000 exists (seed.py)
    return world


@get("/db")
async def single(db_session: AsyncSession) -> WorldOut:
    world = await _read(db_session, tfb.random_id())
    return WorldOut(world.id, world.randomnumber)


@get("/queries")
async def queries(db_session: AsyncSession, queries: str | None = None) -> list[WorldOut]:
    worlds = [await _read(db_session, world_id) for world_id in tfb.random_ids(tfb.query_count(queries))]
    return [WorldOut(world.id, world.randomnumber) for world in worlds]


@get("/updates")
async def updates(db_session: AsyncSession, queries: str | None = None) -> list[WorldOut]:
    worlds = [await _read(db_session, world_id) for world_id in sorted(tfb.random_ids(tfb.query_count(queries)))]
    for world in worlds:
        world.randomnumber = tfb.new_number(world.randomnumber)
    # The plugin's "autocommit" handler commits (one batched UPDATE) before the response starts.
    return [WorldOut(world.id, world.randomnumber) for world in worlds]


@get("/fortunes", media_type=MediaType.HTML)
async def fortunes(db_session: AsyncSession) -> Response[str]:
    rows = [(fortune.id, fortune.message) for fortune in await db_session.scalars(select(Fortune))]
    return Response(page.render(fortunes=tfb.sorted_fortunes(rows)), media_type=MediaType.HTML)


config = SQLAlchemyAsyncConfig(
    connection_string=URL,
    engine_config=EngineConfig(pool_size=tfb.POOL_SIZE, max_overflow=0),
    session_config=AsyncSessionConfig(expire_on_commit=False),
    before_send_handler="autocommit",
    create_all=False,
)
app = Litestar(route_handlers=[single, queries, updates, fortunes], plugins=[SQLAlchemyPlugin(config=config)])
