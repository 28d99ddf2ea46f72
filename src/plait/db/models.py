"""``Model``: the declarative base for the app's tables, and the mixins most tables want.

::

    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import Mapped, mapped_column, relationship

    from plait.db import IntPK, Model, Timestamps

    class Author(Model, IntPK):
        __tablename__ = "author"
        name: Mapped[str]
        books: Mapped[list["Book"]] = relationship(back_populates="author")

    class Book(Model, IntPK, Timestamps):
        __tablename__ = "book"
        title: Mapped[str | None]
        author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
        author: Mapped[Author] = relationship(back_populates="books")

``Model`` is a plain SQLAlchemy 2 ``DeclarativeBase``: everything SQLAlchemy documents works on it.
Plait adds three things: a constraint naming convention (so that migrations name indexes, unique,
check, foreign and primary keys the same way on every machine and can drop them later), a
``type_annotation_map`` (``Mapped[str]`` is a ``VARCHAR`` without a length, ``Mapped[datetime]`` a
timezone-aware timestamp that reads back aware on SQLite too, ``Mapped[dict[str, Any]]`` JSON), and a
``repr`` that shows the primary key.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Dialect, LargeBinary, MetaData, String, Uuid, func, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""How constraints are named; a ``CheckConstraint`` needs a ``name=`` (it fills ``%(constraint_name)s``)."""


class UTCDateTime(TypeDecorator[datetime]):
    """A ``TIMESTAMP WITH TIME ZONE`` that always reads back an aware datetime in UTC.

    PostgreSQL stores the instant; SQLite keeps text without an offset, so values are stored in UTC
    and given their ``tzinfo`` back when read. A naive datetime written to it is taken to be UTC.

    >>> from datetime import datetime, timedelta, timezone
    >>> column = UTCDateTime()
    >>> column.process_bind_param(datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))), None)
    datetime.datetime(2024, 1, 1, 10, 0, tzinfo=datetime.timezone.utc)
    >>> column.process_result_value(datetime(2024, 1, 1, 10), None)
    datetime.datetime(2024, 1, 1, 10, 0, tzinfo=datetime.timezone.utc)
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Model(DeclarativeBase):
    """The base class of the app's tables: subclass it and declare ``Mapped[...]`` columns.

    >>> Model.metadata.naming_convention["uq"]
    'uq_%(table_name)s_%(column_0_N_name)s'
    >>> Model.type_annotation_map[datetime]
    UTCDateTime(timezone=True)
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        str: String(),
        datetime: UTCDateTime(),
        date: Date(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        bytes: LargeBinary(),
    }

    def __repr__(self) -> str:
        identity = inspect(self).identity
        shown = "transient" if identity is None else ", ".join(repr(part) for part in identity)
        return f"<{type(self).__name__} {shown}>"


def utcnow() -> datetime:
    """The current time, aware, in UTC (the Python-side default of :class:`Timestamps`)."""
    return datetime.now(UTC)


class IntPK:
    """An auto-incrementing integer primary key ``id``.

    >>> IntPK.__annotations__["id"]
    'Mapped[int]'
    """

    id: Mapped[int] = mapped_column(primary_key=True)


class UUIDPK:
    """A UUID primary key ``id``, made by Python (``uuid4``) when the row is flushed.

    Stored as PostgreSQL's ``uuid`` and as ``CHAR(32)`` on SQLite; set ``id=`` yourself to choose it.

    >>> UUIDPK.__annotations__["id"]
    'Mapped[uuid.UUID]'
    """

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    """``created_at`` (set on insert) and ``updated_at`` (set on insert and on every ORM update), in UTC.

    The values are made in Python, so they are on the object right after a flush, with no extra
    query (an async session cannot lazy-load them); the server default ``now()`` fills them for rows
    inserted by plain SQL. ``updated_at`` changes on ORM updates of the object, not on bulk
    ``update()`` statements: set it there yourself (``.values(updated_at=func.now())``).

    >>> sorted(Timestamps.__annotations__)
    ['created_at', 'updated_at']
    """

    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now(), onupdate=utcnow)
