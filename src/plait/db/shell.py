"""What ``plait shell`` gets from the database: a session, the engine, ``select`` and every model by class name."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

if TYPE_CHECKING:
    from plait.db.extension import Database


def models(metadata: MetaData) -> dict[str, type[Any]]:
    """The mapped classes whose tables are in ``metadata``, by class name.

    >>> from sqlalchemy import Integer
    >>> from sqlalchemy.orm import mapped_column
    >>> class Base(DeclarativeBase):
    ...     pass
    >>> class Note(Base):
    ...     __tablename__ = "notes"
    ...     id = mapped_column(Integer, primary_key=True)
    >>> models(Base.metadata)
    {'Note': <class 'plait.db.shell.Note'>}
    """
    return {cls.__name__: cls for cls in _mapped(DeclarativeBase) if getattr(cls, "metadata", None) is metadata}


def _mapped(base: type[Any]) -> Iterator[type[Any]]:
    # SQLAlchemy keeps no public index from a MetaData to its classes; the declarative subclasses are one.
    for cls in base.__subclasses__():
        if "__table__" in vars(cls):
            yield cls
        yield from _mapped(cls)


@contextlib.asynccontextmanager
async def shell_names(database: Database) -> AsyncIterator[dict[str, Any]]:
    """The models, then ``db`` (an ``AsyncSession`` closed when the shell ends: ``await db.commit()`` to save),
    ``engine``, ``database``, ``select`` and ``func`` (these win over a model of the same name)."""
    async with AsyncSession(database.engine, expire_on_commit=False) as session:
        yield {
            **models(database.metadata),
            "db": session,
            "engine": database.engine,
            "database": database,
            "select": sqlalchemy.select,
            "func": sqlalchemy.func,
        }
