"""The TechEmpower database tests in FastAPI with SQLAlchemy's async ORM, as its documentation teaches.

A session per request from a yield dependency, pydantic response models, Jinja2 used directly for
the fortunes page (as in the Plait app), the same pool of 4 per worker. ``BENCH_DB`` picks the backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import jinja2
import tfb
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

URL = tfb.POSTGRES_DSN.replace("postgresql://", "postgresql+asyncpg://")
if tfb.backend() == "sqlite":
    URL = f"sqlite+aiosqlite:///{tfb.SQLITE_PATH}"
engine = create_async_engine(URL, pool_size=tfb.POOL_SIZE, max_overflow=0)
make_session = async_sessionmaker(engine, expire_on_commit=False)
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


class WorldOut(BaseModel):
    id: int
    randomNumber: int  # the published JSON name


async def get_session() -> AsyncIterator[AsyncSession]:
    async with make_session() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]
app = FastAPI()


async def _read(session: AsyncSession, world_id: int) -> World:
    world = await session.get(World, world_id)
    assert world is not None  # every id 1..10,000 exists (seed.py)
    return world


@app.get("/db", response_model=WorldOut)
async def single(session: Session) -> WorldOut:
    world = await _read(session, tfb.random_id())
    return WorldOut(id=world.id, randomNumber=world.randomnumber)


@app.get("/queries", response_model=list[WorldOut])
async def queries(session: Session, queries: str | None = None) -> list[WorldOut]:
    worlds = [await _read(session, world_id) for world_id in tfb.random_ids(tfb.query_count(queries))]
    return [WorldOut(id=world.id, randomNumber=world.randomnumber) for world in worlds]


@app.get("/updates", response_model=list[WorldOut])
async def updates(session: Session, queries: str | None = None) -> list[WorldOut]:
    worlds = [await _read(session, world_id) for world_id in sorted(tfb.random_ids(tfb.query_count(queries)))]
    for world in worlds:
        world.randomnumber = tfb.new_number(world.randomnumber)
    await session.commit()
    return [WorldOut(id=world.id, randomNumber=world.randomnumber) for world in worlds]


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes(session: Session) -> HTMLResponse:
    rows = [(fortune.id, fortune.message) for fortune in await session.scalars(select(Fortune))]
    return HTMLResponse(page.render(fortunes=tfb.sorted_fortunes(rows)))
