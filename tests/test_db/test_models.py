"""``plait.db.Model`` and its mixins on SQLite and PostgreSQL: names, types, ids, timestamps, relations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, String, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, selectinload

from plait.db import Model, UTCDateTime
from tests.test_db.models import Ticket, Volume, Writer, engines

pytestmark = pytest.mark.anyio


@pytest.fixture
async def both(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Engine]]:
    async with engines(database_url) as pair:
        yield pair


def test_the_naming_convention_names_every_constraint() -> None:
    table = Model.metadata.tables[Volume.__tablename__]
    names = {type(c).__name__: c.name for c in table.constraints if type(c).__name__ != "CheckConstraint"}
    assert names["PrimaryKeyConstraint"] == f"pk_{table.name}"
    assert names["ForeignKeyConstraint"] == f"fk_{table.name}_writer_id_{Writer.__tablename__}"
    assert names["UniqueConstraint"] == f"uq_{table.name}_writer_id_title"
    check = next(c for c in table.constraints if type(c).__name__ == "CheckConstraint")
    assert check.name == f"ck_{table.name}_pages_positive"
    assert {index.name for index in table.indexes} == {f"ix_{table.name}_title"}


async def test_the_database_gets_the_conventional_names(both: tuple[AsyncEngine, Engine]) -> None:
    _, engine = both
    found = inspect(engine)
    table = Volume.__tablename__
    assert found.get_foreign_keys(table)[0]["name"] == f"fk_{table}_writer_id_{Writer.__tablename__}"
    assert [u["name"] for u in found.get_unique_constraints(table)] == [f"uq_{table}_writer_id_title"]
    indexes = [i["name"] for i in found.get_indexes(table) if "duplicates_constraint" not in i]
    assert indexes == [f"ix_{table}_title"]
    assert [c["name"] for c in found.get_check_constraints(table)] == [f"ck_{table}_pages_positive"]
    assert [u["name"] for u in found.get_unique_constraints(Writer.__tablename__)] == [
        f"uq_{Writer.__tablename__}_name"
    ]


def test_annotations_map_to_portable_column_types() -> None:
    columns = Volume.__table__.c
    assert isinstance(columns.title.type, String)
    assert columns.title.type.length == 200
    assert isinstance(Writer.__table__.c.name.type, String)
    assert Writer.__table__.c.name.type.length is None
    assert isinstance(columns.created_at.type, UTCDateTime)
    assert columns.extra.nullable
    assert not columns.title.nullable
    assert type(Ticket.__table__.c.id.type).__name__ == "Uuid"
    assert type(Ticket.__table__.c.blob.type).__name__ == "LargeBinary"


async def test_uuid_ids_json_and_bytes_round_trip(both: tuple[AsyncEngine, Engine]) -> None:
    engine, _ = both
    async with AsyncSession(engine, expire_on_commit=False) as db:
        ticket = Ticket(code="A1", blob=b"\x00\xff")
        db.add(ticket)
        await db.commit()
        assert isinstance(ticket.id, uuid.UUID)
        assert ticket.id.version == 4
        chosen = uuid.UUID("12345678-1234-5678-1234-567812345678")
        db.add(Ticket(id=chosen, code="B2"))
        writer = Writer(name="Ann")
        db.add(Volume(title="Notes", writer=writer, extra={"tags": ["a", "b"], "n": 1}))
        await db.commit()
    async with AsyncSession(engine) as db:
        loaded = await db.get(Ticket, ticket.id)
        assert loaded is not None
        assert (loaded.code, loaded.blob) == ("A1", b"\x00\xff")
        assert (await db.get(Ticket, chosen)) is not None
        volume = (await db.scalars(select(Volume))).one()
        assert volume.extra == {"tags": ["a", "b"], "n": 1}


async def test_timestamps_are_aware_utc_and_updated_on_update(both: tuple[AsyncEngine, Engine]) -> None:
    engine, _ = both
    before = datetime.now(UTC)
    async with AsyncSession(engine, expire_on_commit=False) as db:
        volume = Volume(title="Draft", writer=Writer(name="Bo"))
        db.add(volume)
        await db.commit()
        created = volume.created_at
        assert created.tzinfo is UTC
        assert created >= before
        # Both are on the object without a query (an async session could not lazy-load them).
        assert volume.updated_at - created < timedelta(seconds=1)
        volume.title = "Final"
        await db.commit()
        assert volume.updated_at > created
        assert volume.created_at == created
    async with AsyncSession(engine) as db:
        stored = (await db.scalars(select(Volume))).one()
        assert stored.created_at == created
        assert stored.created_at.tzinfo is UTC
        assert stored.updated_at > created


async def test_aware_datetimes_are_stored_as_the_same_instant(both: tuple[AsyncEngine, Engine]) -> None:
    engine, _ = both
    paris = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2024, 5, 1, 12, 30)  # taken as UTC
    async with AsyncSession(engine) as db:
        db.add_all([Volume(title="Tz", writer=Writer(name="Cy"), created_at=paris)])
        await db.commit()
        await db.execute(update(Volume).values(updated_at=naive))
        await db.commit()
    async with AsyncSession(engine) as db:
        stored = (await db.scalars(select(Volume))).one()
        assert stored.created_at == paris
        assert stored.created_at.tzinfo is UTC
        assert stored.created_at.hour == 12
        assert stored.updated_at == naive.replace(tzinfo=UTC)


async def test_rows_inserted_by_plain_sql_get_server_timestamps(both: tuple[AsyncEngine, Engine]) -> None:
    engine, _ = both
    raw = text(f"insert into {Ticket.__tablename__} (id, code) values (:id, 'raw')")  # noqa: S608 - our own table
    ticket_id = uuid.uuid4().hex if engine.dialect.name == "sqlite" else str(uuid.uuid4())
    async with engine.begin() as connection:
        await connection.execute(raw, {"id": ticket_id})
    async with AsyncSession(engine) as db:
        ticket = (await db.scalars(select(Ticket))).one()
        assert ticket.code == "raw"
        assert ticket.created_at.tzinfo is UTC
        assert abs(ticket.created_at - datetime.now(UTC)) < timedelta(minutes=5)


async def test_relationships_load_as_in_plain_sqlalchemy(both: tuple[AsyncEngine, Engine]) -> None:
    engine, sync_engine = both
    async with AsyncSession(engine) as db:
        db.add(Writer(name="Di", books=[Volume(title="One"), Volume(title="Two")]))
        await db.commit()
    async with AsyncSession(engine) as db:
        writer = (await db.scalars(select(Writer).options(selectinload(Writer.books)))).one()
        assert [b.title for b in writer.books] == ["One", "Two"]
    with Session(sync_engine) as sync_db:  # a sync session lazy-loads as usual
        book = sync_db.scalars(select(Volume).where(Volume.title == "Two")).one()
        assert book.writer.name == "Di"


async def test_the_repr_shows_the_primary_key(both: tuple[AsyncEngine, Engine]) -> None:
    engine, _ = both
    writer = Writer(name="Ed")
    assert repr(writer) == "<Writer transient>"
    async with AsyncSession(engine) as db:
        db.add(writer)
        await db.flush()
        assert repr(writer) == f"<Writer {writer.id!r}>"


def test_model_is_a_plain_declarative_base() -> None:
    assert Writer.metadata is Model.metadata
    assert Model.registry.mappers >= {inspect(Writer), inspect(Volume)}


def test_utc_datetime_passes_none_through() -> None:
    column = UTCDateTime()
    assert column.process_bind_param(None, None) is None
    assert column.process_result_value(None, None) is None
