"""Pages of query results: ``limit``/``offset`` with a total, and keyset pagination with an opaque cursor.

::

    from plait.db.pagination import CursorPage, Page, paginate, paginate_cursor

    @app.get("/articles")
    async def articles(db: AsyncSession, limit: int = 20, offset: int = 0) -> Page[ArticleRead]:
        return await paginate(db, select(Article).order_by(Article.id), limit=limit, offset=offset, schema=ArticleRead)

    @app.get("/feed")
    async def feed(db: AsyncSession, cursor: str | None = None) -> CursorPage[ArticleRead]:
        order = (Article.created_at.desc(),)          # the primary key is added as the tie-breaker
        return await paginate_cursor(db, select(Article), order=order, cursor=cursor, schema=ArticleRead)

``limit`` is capped at ``max_limit`` (100 unless given); the page reports the limit it used. A
cursor is the position after the last row of a page (the values of its order columns), encoded as
base64 JSON and signed with ``key`` when one is given (the app's ``secret_key`` is a good one).
Anything that is not a cursor this ordering made (edited, truncated, from another ordering, values
of the wrong type) is a 400 problem response; its values only ever reach SQL as bound parameters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

import msgspec
from sqlalchemy import ColumnElement, Select, and_, func, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.types import TypeDecorator

from plait.exceptions import ConfigurationError, ErrorDetail, HTTPException, RequestValidationError

T = TypeVar("T")
S = TypeVar("S")
Rows = Select[*tuple[Any, ...]]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1
"""Deeper offsets are refused (422): the database would scan that many rows; use a cursor instead."""
MAX_CURSOR_LENGTH = 2048


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list: its ``items``, how many rows match in all (``total``), and the window used.

    >>> msgspec.json.encode(Page(items=["a", "b"], total=5, limit=2, offset=0))
    b'{"items":["a","b"],"total":5,"limit":2,"offset":0}'
    """

    items: list[T]
    total: int
    limit: int
    offset: int


class CursorPage(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a keyset-paginated list; ``next`` is the cursor of the following page (None at the end).

    >>> msgspec.json.encode(CursorPage(items=[1, 2], limit=2, next=None))
    b'{"items":[1,2],"limit":2,"next":null}'
    """

    items: list[T]
    limit: int
    next: str | None = None


# -- limit / offset -------------------------------------------------------------------------------


@overload
async def paginate(
    db: AsyncSession, stmt: Rows, *, limit: int = ..., offset: int = ..., max_limit: int = ..., schema: type[S]
) -> Page[S]: ...
@overload
async def paginate(
    db: AsyncSession, stmt: Select[T], *, limit: int = ..., offset: int = ..., max_limit: int = ..., schema: None = ...
) -> Page[T]: ...
@overload
async def paginate(
    db: AsyncSession, stmt: Rows, *, limit: int = ..., offset: int = ..., max_limit: int = ..., schema: None = ...
) -> Page[Any]: ...
async def paginate(
    db: AsyncSession,
    stmt: Any,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    max_limit: int = MAX_LIMIT,
    schema: Any = None,
) -> Page[Any]:
    """Run ``stmt`` for one window of rows, and count every row it matches.

    A select of one entity gives ORM objects (of one column: its values; of several: dicts);
    ``schema`` converts each item (``ArticleRead``: read from the object's attributes). Order the
    statement (``.order_by(...)``): without an order, pages may overlap. ``limit`` above
    ``max_limit`` is lowered to it; ``limit < 1``, a negative or a huge ``offset`` is a 422
    naming the query parameter. The count query is skipped when the page shows where the list ends.
    """
    limit = _limit(limit, max_limit)
    if offset < 0 or offset > MAX_OFFSET:
        raise _invalid("offset", f"Must be between 0 and {MAX_OFFSET}; for deep lists use cursor pagination.")
    rows = await _fetch(db, stmt.limit(limit).offset(offset))
    if (rows and len(rows) < limit) or (not rows and offset == 0):
        total = offset + len(rows)  # this page is the last one: nothing more to count
    else:
        counted = select(func.count()).select_from(stmt.order_by(None).subquery())
        total = int(await db.scalar(counted) or 0)
    return Page(items=_items(rows, stmt, schema), total=total, limit=limit, offset=offset)


def _limit(limit: int, max_limit: int) -> int:
    if limit < 1:
        raise _invalid("limit", "Must be at least 1.")
    return min(limit, max_limit)


def _invalid(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([ErrorDetail(("query", name), message, "value_error")])


def _entity(stmt: Any) -> type[Any] | None:
    """The mapped class when ``stmt`` selects exactly one entity (``select(Article)``), else None."""
    described = stmt.column_descriptions
    expr = described[0]["expr"] if len(described) == 1 else None
    return expr if isinstance(expr, type) else None


async def _fetch(db: AsyncSession, stmt: Any) -> list[Any]:
    """ORM objects for a select of one entity, else the result's rows."""
    result = await db.execute(stmt)
    if _entity(stmt) is not None:  # joined eager loads repeat an entity, hence unique()
        return list(result.unique().scalars())
    return list(result.all())


def _items(rows: list[Any], stmt: Any, schema: Any) -> list[Any]:
    """The page's items: objects, the values of a one-column select, or dicts; converted to ``schema``."""
    if _entity(stmt) is None:
        single = len(stmt.column_descriptions) == 1
        rows = [row[0] if single else dict(row._mapping) for row in rows]
    if schema is None:
        return rows
    return [msgspec.convert(row, schema, from_attributes=True) for row in rows]


# -- keyset (cursor) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One column of a keyset ordering: the expression, its attribute name, direction and Python type."""

    column: Any
    name: str
    descending: bool
    python_type: Any

    @property
    def clause(self) -> Any:
        return self.column.desc() if self.descending else self.column.asc()


def order_keys(order: Sequence[Any], stmt: Any = None, *, allow_nullable: bool = False) -> tuple[OrderKey, ...]:
    """``(Article.created_at.desc(), Article.title)`` as :class:`OrderKey` s, with the primary key appended.

    When ``stmt`` selects one entity, its primary key columns not already in ``order`` are added
    (ascending), so that rows with equal values still have a fixed place. Order columns must be
    NOT NULL: a keyset comparison with NULL matches nothing, so rows would be skipped (an
    ordering for ``limit``/``offset`` pages may pass ``allow_nullable=True``).
    """
    keys = [_order_key(spec, allow_nullable) for spec in order]
    entity = _entity(stmt) if stmt is not None else None
    if entity is not None:
        mapper = inspect(entity)
        for column in mapper.primary_key:
            attribute = getattr(entity, mapper.get_property_by_column(column).key)
            if all(key.name != attribute.key for key in keys):
                keys.append(_order_key(attribute, allow_nullable))
    if not keys:
        raise ConfigurationError("Cursor pagination needs an order: order=(Model.created_at.desc(), Model.id).")
    return tuple(keys)


def _order_key(spec: Any, allow_nullable: bool) -> OrderKey:
    descending = False
    if isinstance(spec, UnaryExpression) and spec.modifier in (operators.desc_op, operators.asc_op):
        descending = spec.modifier is operators.desc_op
        spec = spec.element
    # The ORM attribute's name (``proxy_key``) when the column is spelled differently in the table.
    annotations = getattr(spec, "_annotations", None) or {}
    name = annotations.get("proxy_key") or getattr(spec, "key", None)
    column = getattr(spec, "expression", spec)
    if not isinstance(name, str) or not isinstance(column, ColumnElement):
        raise ConfigurationError(f"Cannot order a cursor by {spec!r}; use model attributes such as Article.id.desc().")
    if not allow_nullable and getattr(column, "nullable", False):
        raise ConfigurationError(
            f"Cursor pagination cannot order by {name!r}: it is nullable, and rows holding NULL would be skipped. "
            "Order by NOT NULL columns (the primary key is always added)."
        )
    return OrderKey(spec, name, descending, python_type(column.type) or Any)


def python_type(ctype: Any) -> Any:
    """The Python type of a column type (through a ``TypeDecorator`` to its implementation), or None if unknown."""
    if isinstance(ctype, TypeDecorator):
        ctype = ctype.impl_instance
    try:
        found = ctype.python_type
    except NotImplementedError:
        return None
    return None if found is object else found  # object is SQLAlchemy's "unknown"


@overload
async def paginate_cursor(
    db: AsyncSession,
    stmt: Rows,
    *,
    order: Sequence[Any],
    cursor: str | None = ...,
    limit: int = ...,
    max_limit: int = ...,
    key: str | bytes = ...,
    schema: type[S],
) -> CursorPage[S]: ...
@overload
async def paginate_cursor(
    db: AsyncSession,
    stmt: Select[T],
    *,
    order: Sequence[Any],
    cursor: str | None = ...,
    limit: int = ...,
    max_limit: int = ...,
    key: str | bytes = ...,
    schema: None = ...,
) -> CursorPage[T]: ...
@overload
async def paginate_cursor(
    db: AsyncSession,
    stmt: Rows,
    *,
    order: Sequence[Any],
    cursor: str | None = ...,
    limit: int = ...,
    max_limit: int = ...,
    key: str | bytes = ...,
    schema: None = ...,
) -> CursorPage[Any]: ...
async def paginate_cursor(
    db: AsyncSession,
    stmt: Any,
    *,
    order: Sequence[Any],
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    max_limit: int = MAX_LIMIT,
    key: str | bytes = b"",
    schema: Any = None,
) -> CursorPage[Any]:
    """The page of ``stmt`` after ``cursor`` (the first page without one), ordered by ``order``.

    Keyset pagination stays fast however deep the client goes and never repeats or skips a row
    when rows are added meanwhile. ``order`` replaces the statement's own ordering; see
    :func:`order_keys`. ``key`` signs the cursors (pass the app's ``secret_key``); without it
    they are still checked, just not tamper-evident. A bad cursor is a 400.
    """
    keys = order_keys(order, stmt)
    limit = _limit(limit, max_limit)
    stmt = stmt.order_by(None).order_by(*(k.clause for k in keys))
    if cursor:
        stmt = stmt.where(after(keys, decode_cursor(cursor, keys, key)))
    rows = await _fetch(db, stmt.limit(limit + 1))
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        following = encode_cursor(keys, _position(rows[-1], keys, _entity(stmt) is not None), key)
    return CursorPage(items=_items(rows, stmt, schema), limit=limit, next=following)


def _position(row: Any, keys: Sequence[OrderKey], entity: bool) -> list[Any]:
    """The values of the order columns in ``row`` (an ORM object, or a row that selects them)."""
    if entity:
        return [getattr(row, k.name) for k in keys]
    try:
        return [row._mapping[k.name] for k in keys]
    except KeyError as exc:
        raise ConfigurationError(
            f"Cursor pagination orders by {exc.args[0]!r}, which the statement does not select; select it too."
        ) from None


def after(keys: Sequence[OrderKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """The rows that come after ``values`` in the ordering ``keys``: ``a > x OR (a = x AND b > y) ...``.

    Spelled out rather than as a row comparison ``(a, b) > (x, y)``, which only works when every
    column goes the same direction.
    """
    branches = []
    for index, key in enumerate(keys):
        ties = [k.column == v for k, v in zip(keys[:index], values[:index], strict=True)]
        step = key.column < values[index] if key.descending else key.column > values[index]
        branches.append(and_(*ties, step))
    return or_(*branches)


def _fingerprint(keys: Sequence[OrderKey]) -> str:
    # A cursor remembers which ordering made it: reused with another order it would mean another place.
    spelled = ",".join(f"{'-' if k.descending else ''}{k.name}" for k in keys)
    return hashlib.sha256(spelled.encode()).hexdigest()[:10]


def encode_cursor(keys: Sequence[OrderKey], values: Sequence[Any], key: str | bytes = b"") -> str:
    """The opaque cursor for the position ``values`` (one per key), signed when ``key`` is given.

    >>> from sqlalchemy import Column, Integer
    >>> keys = (OrderKey(Column("id", Integer), "id", False, int),)
    >>> cursor = encode_cursor(keys, [7], key="secret")
    >>> decode_cursor(cursor, keys, key="secret")
    (7,)
    """
    payload = _b64(msgspec.json.encode([_fingerprint(keys), list(values)]))
    if not key:
        return payload
    return f"{payload}.{_b64(_sign(payload, key))}"


def decode_cursor(cursor: str, keys: Sequence[OrderKey], key: str | bytes = b"") -> tuple[Any, ...]:
    """The position a cursor holds, checked against ``keys`` (and its signature); a bad one is a 400."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _bad_cursor("it is too long")
    payload, _, signature = cursor.partition(".")
    if key and not (signature and hmac.compare_digest(_unb64(signature), _sign(payload, key))):
        raise _bad_cursor("its signature does not match")
    values_type: Any = tuple.__class_getitem__(tuple(k.python_type for k in keys))
    expected: Any = tuple[str, values_type]
    try:
        fingerprint, values = msgspec.json.decode(_unb64(payload), type=expected)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise _bad_cursor("it does not hold a position of this list") from None
    if fingerprint != _fingerprint(keys):
        raise _bad_cursor("it was made for another ordering")
    return tuple(values)


def _sign(payload: str, key: str | bytes) -> bytes:
    secret = key.encode() if isinstance(key, str) else key
    return hmac.new(secret, b"plait.cursor:" + payload.encode(), hashlib.sha256).digest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _bad_cursor("it is not base64") from None


def _bad_cursor(reason: str) -> HTTPException:
    return HTTPException(
        400,
        f"The cursor is not valid ({reason}). Send the `next` value of the previous page unchanged, "
        "or leave the cursor out to start from the first page.",
    )


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "CursorPage",
    "OrderKey",
    "Page",
    "after",
    "decode_cursor",
    "encode_cursor",
    "order_keys",
    "paginate",
    "paginate_cursor",
]
