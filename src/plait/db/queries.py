"""Small helpers over SQLAlchemy sessions: ``get_or_404``, ``exists``, ``first``, ``bulk_create``.

Each is a line or two of plain SQLAlchemy, named for what handlers do all day; write ``select()``
yourself whenever these do not fit. They take an ``AsyncSession`` (then you ``await`` them) or a
sync ``Session`` (in a sync handler; then they return the value)::

    @app.get("/articles/{id}")
    async def read(id: int, db: AsyncSession) -> ArticleRead:
        return await get_or_404(db, Article, id)      # 404 "No Article with id 7." when missing

    @app.get("/articles/{id}/sync")
    def read_sync(id: int, db: Session) -> ArticleRead:
        return get_or_404(db, Article, id)
"""

from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, TypeVar, overload

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from plait.exceptions import HTTPException

M = TypeVar("M")
T = TypeVar("T")
Rows = Select[*tuple[Any, ...]]


@overload
def get_or_404(db: AsyncSession, model: type[M], id: Any, *, options: Sequence[ORMOption] = ()) -> Awaitable[M]: ...
@overload
def get_or_404(db: Session, model: type[M], id: Any, *, options: Sequence[ORMOption] = ()) -> M: ...
def get_or_404(db: AsyncSession | Session, model: type[M], id: Any, *, options: Sequence[ORMOption] = ()) -> Any:
    """The row of ``model`` with primary key ``id`` (``session.get``), or a 404 naming the model and id.

    ``options`` are loader options (``selectinload(Article.tags)``); a composite key is a tuple.

    >>> from sqlalchemy import create_engine
    >>> from sqlalchemy.orm import Mapped
    >>> from plait.db import IntPK, Model
    >>> class Gadget(Model, IntPK):
    ...     __tablename__ = "doctest_gadget"
    ...     name: Mapped[str]
    >>> engine = create_engine("sqlite://")
    >>> Gadget.metadata.create_all(engine, tables=[Gadget.__table__])
    >>> db = Session(engine)
    >>> db.add(Gadget(name="kettle"))
    >>> get_or_404(db, Gadget, 1).name
    'kettle'
    >>> get_or_404(db, Gadget, 2)
    Traceback (most recent call last):
    ...
    plait.exceptions.HTTPException: 404 Not Found: No Gadget with id 2.
    >>> db.close()
    """
    if isinstance(db, AsyncSession):
        return _get_or_404_async(db, model, id, options)
    return _found(db.get(model, id, options=options), model, id)


async def _get_or_404_async(db: AsyncSession, model: type[M], id: Any, options: Sequence[ORMOption]) -> M:
    return _found(await db.get(model, id, options=options), model, id)


def _found(row: M | None, model: type[M], id: Any) -> M:
    if row is None:
        raise HTTPException(404, f"No {model.__name__} with id {id}.")
    return row


@overload
def exists(db: AsyncSession, stmt: Rows) -> Awaitable[bool]: ...
@overload
def exists(db: Session, stmt: Rows) -> bool: ...
def exists(db: AsyncSession | Session, stmt: Rows) -> Any:
    """True when ``stmt`` would return at least one row; runs ``SELECT EXISTS (stmt)``, fetching no rows.

    >>> from sqlalchemy import create_engine, literal_column
    >>> with Session(create_engine("sqlite://")) as db:
    ...     exists(db, select(literal_column("1")).where(literal_column("2") > 1))
    True
    """
    query = select(stmt.exists())
    if isinstance(db, AsyncSession):
        return _scalar_bool(db, query)
    return bool(db.scalar(query))


async def _scalar_bool(db: AsyncSession, query: Select[bool]) -> bool:
    return bool(await db.scalar(query))


@overload
def first(db: AsyncSession, stmt: Select[T]) -> Awaitable[T | None]: ...
@overload
def first(db: Session, stmt: Select[T]) -> T | None: ...
def first(db: AsyncSession | Session, stmt: Select[T]) -> Any:
    """The first value of ``stmt`` (its first column: the object for ``select(Model)``), or ``None``.

    It adds ``LIMIT 1``, so give ``stmt`` an ``order_by`` to say which row is first.

    >>> from sqlalchemy import create_engine, literal_column
    >>> with Session(create_engine("sqlite://")) as db:
    ...     first(db, select(literal_column("'kettle'")))
    'kettle'
    """
    limited = stmt.limit(1)
    if isinstance(db, AsyncSession):
        return _first_async(db, limited)
    return db.scalars(limited).first()


async def _first_async(db: AsyncSession, stmt: Select[T]) -> T | None:
    return (await db.scalars(stmt)).first()


@overload
def bulk_create(db: AsyncSession, rows: Iterable[M]) -> Awaitable[list[M]]: ...
@overload
def bulk_create(db: Session, rows: Iterable[M]) -> list[M]: ...
def bulk_create(db: AsyncSession | Session, rows: Iterable[M]) -> Any:
    """Add ``rows`` (model objects) and flush them, so that their ids are set; returns them as a list.

    SQLAlchemy batches the inserts (one ``INSERT ... RETURNING`` per batch where the database has
    it). The request's commit makes them permanent, as for ``db.add``.

    >>> from sqlalchemy import create_engine
    >>> from sqlalchemy.orm import Mapped
    >>> from plait.db import IntPK, Model
    >>> class Sprocket(Model, IntPK):
    ...     __tablename__ = "doctest_sprocket"
    ...     size: Mapped[int]
    >>> engine = create_engine("sqlite://")
    >>> Sprocket.metadata.create_all(engine, tables=[Sprocket.__table__])
    >>> with Session(engine) as db:
    ...     [row.id for row in bulk_create(db, [Sprocket(size=n) for n in (3, 5)])]
    [1, 2]
    """
    added = list(rows)
    db.add_all(added)
    if isinstance(db, AsyncSession):
        return _flushed(db, added)
    db.flush()
    return added


async def _flushed(db: AsyncSession, rows: list[M]) -> list[M]:
    await db.flush()
    return rows
