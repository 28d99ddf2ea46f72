"""Filtering and ordering a list from its query string, on an allowlist of model fields.

::

    from plait.db.filters import FilterQuery, Filters

    ArticleFilters = Filters(Article, fields=("title", "author_id", "created_at"), order=("created_at", "title"))

    @app.get("/articles")
    async def articles(db: AsyncSession, where: Annotated[FilterQuery, Depends(ArticleFilters)]) -> list[ArticleRead]:
        return list(await db.scalars(where.apply(select(Article))))

``GET /articles?title=Hello&author_id=3&created_at__gte=2024-01-01T00:00:00Z&order=-created_at,title``
then filters with bound parameters (``WHERE title = :p1 AND ...``) and orders by the allowed
columns (the primary key last, so the order is total). Each field takes the operators that suit
its type (``__gt``, ``__gte``, ``__lt``, ``__lte`` for numbers and dates, ``__contains`` for text
(ignoring case), ``__in`` (repeat the key) for numbers, text, UUIDs and enums, ``__isnull`` for
nullable columns), or exactly the ones given: ``fields={"title": ("eq", "contains")}``.

Anything else in the query string (``password=x``, ``id;DROP=1``, ``a__b=2``, ``order=password``)
is a 400 problem response naming what is allowed; names from the request never become SQL
identifiers. A value that does not convert to the column's type is a 422 naming the parameter.
Query parameters the handler reads itself are declared with ``extra=`` (default: ``limit``,
``offset`` and ``cursor``). The parameters appear in the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import inspect
import operator
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.orm import ColumnProperty, Mapper

from plait.db.pagination import OrderKey, order_keys, python_type
from plait.exceptions import ConfigurationError, ErrorDetail, HTTPException, RequestValidationError
from plait.params import Query
from plait.requests import Request

Operator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "isnull"]
OPERATORS: dict[str, str] = {
    "eq": "equals the value",
    "ne": "differs from the value",
    "gt": "is greater than the value",
    "gte": "is at least the value",
    "lt": "is less than the value",
    "lte": "is at most the value",
    "in": "is one of the values (repeat the parameter)",
    "contains": "contains the value, ignoring case",
    "isnull": "is null (true) or is not (false)",
}
_ORDERED = ("eq", "ne", "gt", "gte", "lt", "lte", "in")
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_NUMBERS = (int, float, decimal.Decimal)
_TIMES = (dt.datetime, dt.date, dt.time, dt.timedelta)
_INT_BITS = ((sa.BigInteger, 64), (sa.SmallInteger, 16), (sa.Integer, 32))  # subclasses before Integer
DEFAULT_EXTRA = ("limit", "offset", "cursor")


class FilterQuery:
    """The filters and ordering one request asked for, checked against the allowlist.

    Made per request by the provider :func:`Filters` returns; its ``conditions`` are SQL expressions
    with bound values, ``ordering`` the order keys (primary key last).

    >>> import sqlalchemy as sa
    >>> table = sa.table("t", sa.column("a"))
    >>> " ".join(str(FilterQuery([table.c.a == 1], ()).apply(sa.select(table))).split())
    'SELECT t.a FROM t WHERE t.a = :a_1'
    """

    def __init__(self, conditions: Sequence[ColumnElement[bool]], ordering: Sequence[OrderKey]) -> None:
        self.conditions = tuple(conditions)
        self.ordering = tuple(ordering)

    @property
    def order_by(self) -> tuple[Any, ...]:
        """The ORDER BY clauses, for ``paginate_cursor(order=...)`` or ``stmt.order_by(*...)``."""
        return tuple(key.clause for key in self.ordering)

    def where(self, stmt: Any) -> Any:
        """``stmt`` with the filters added (its ordering left alone)."""
        return stmt.where(*self.conditions) if self.conditions else stmt

    def apply(self, stmt: Any) -> Any:
        """``stmt`` filtered and ordered as the request asked."""
        return self.where(stmt).order_by(*self.order_by)


@dataclass(frozen=True, slots=True)
class Filter:
    """One allowed query parameter: ``created_at__gte`` is the field ``created_at`` with ``gte``."""

    key: str
    field: str
    op: str
    attribute: Any
    annotation: Any
    coerce: Callable[[Any], Any]

    def condition(self, value: Any) -> ColumnElement[bool]:
        column, op = self.attribute, self.op
        if op == "isnull":
            return column.is_(None) if value else column.is_not(None)  # type: ignore[no-any-return]
        if op == "in":
            return column.in_([self.coerce(v) for v in value])  # type: ignore[no-any-return]
        if op == "contains":
            return column.icontains(self.coerce(value), autoescape=True)  # type: ignore[no-any-return]
        return _COMPARE[op](column, self.coerce(value))  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """What a :func:`Filters` class allows, decided once when it is declared."""

    model: type[Any]
    filters: tuple[Filter, ...]
    order: Mapping[str, Any]
    default_order: tuple[tuple[str, bool], ...]
    order_param: str
    allowed: frozenset[str]
    primary_key: tuple[Any, ...]

    def check_keys(self, request: Request) -> None:
        """Refuse any query parameter that is not allowed (400 naming what is)."""
        for key in request.query_params:
            if key not in self.allowed:
                raise HTTPException(400, f"Unknown query parameter {_shown(key)}. {self.explain()}", extra=self.help())

    def ordering(self, text: str | None) -> tuple[OrderKey, ...]:
        """The order keys for ``?order=-created_at,title`` (the default order without one)."""
        wanted = self.default_order
        if text and text.strip():
            wanted = tuple(self._term(term.strip()) for term in text.split(",") if term.strip())
        attributes = [self.order[name].desc() if desc else self.order[name] for name, desc in dict(wanted).items()]
        seen = {name for name, _ in wanted}
        attributes += [column for column in self.primary_key if column.key not in seen]  # a total order
        return order_keys(attributes, allow_nullable=True)

    def _term(self, term: str) -> tuple[str, bool]:
        name = term.removeprefix("-")
        if name not in self.order:
            raise HTTPException(400, f"Cannot order by {_shown(name)}. {self.explain()}", extra=self.help())
        return name, term.startswith("-")

    def explain(self) -> str:
        keys = ", ".join(f.key for f in self.filters) or "nothing"
        text = f"Filters: {keys}."
        if self.order:
            fields = ", ".join(self.order)
            example = next(iter(self.order))
            text += f" {self.order_param}= takes {fields} (comma-separated; -{example} for descending)."
        return text

    def help(self) -> dict[str, Any]:
        return {"filters": [f.key for f in self.filters], "order": list(self.order)}


class FilterProvider(Protocol):
    """What :func:`Filters` returns: the provider to pass to ``Depends``, and its :class:`FilterSpec`."""

    spec: FilterSpec
    __name__: str

    def __call__(self, request: Request, **values: Any) -> Awaitable[FilterQuery]: ...


def _shown(key: str) -> str:
    return repr(key if len(key) <= 40 else key[:40] + "...")


def Filters(
    model: type[Any],
    *,
    fields: Iterable[str] | Mapping[str, Iterable[str]] = (),
    order: Iterable[str] = (),
    default_order: Iterable[str] = (),
    extra: Iterable[str] = DEFAULT_EXTRA,
    order_param: str = "order",
    name: str | None = None,
) -> FilterProvider:
    """A provider that reads the allowed filters and ordering from the query string into a :class:`FilterQuery`.

    Use it as a dependency: ``where: Annotated[FilterQuery, Depends(ArticleFilters)]``. ``fields``
    are the filterable attributes (a mapping gives each one its operators), ``order`` the sortable
    ones, ``default_order`` the order without ``?order=`` (``("-created_at",)``; the primary key
    otherwise), ``extra`` other query parameters the handler reads. Mistakes (an unknown column, an
    operator the type cannot take) are a ConfigurationError here, at import time.

    >>> from sqlalchemy import Integer, String
    >>> from sqlalchemy.orm import DeclarativeBase, mapped_column
    >>> class Base(DeclarativeBase): ...
    >>> class Book(Base):
    ...     __tablename__ = "doctest_filter_books"
    ...     id = mapped_column(Integer, primary_key=True)
    ...     title = mapped_column(String(80), nullable=False)
    >>> BookFilters = Filters(Book, fields=("title",), order=("title",))
    >>> [f.key for f in BookFilters.spec.filters]
    ['title', 'title__contains', 'title__in']
    """
    mapper = _mapper(model)
    columns = {prop.key: prop for prop in mapper.column_attrs if isinstance(prop, ColumnProperty)}
    where = f"Filters({model.__name__})"
    chosen = _operators(fields, columns, where)
    filters = tuple(_filter(model, field, op, columns[field]) for field, ops in chosen.items() for op in ops)
    sortable = {key: getattr(model, key) for key in _names(order, "order", columns, where)}
    defaults = tuple(
        (term.removeprefix("-"), term.startswith("-")) for term in _strings(default_order, "default_order")
    )
    for key, _ in defaults:
        if key not in sortable:
            raise ConfigurationError(f"{where}: default_order names {key!r}, which is not in order={tuple(sortable)}.")
    keys = {f.key for f in filters}
    if order_param in keys:
        raise ConfigurationError(f"{where}: {order_param!r} is a filter too; pass order_param='sort' (or another).")
    primary = tuple(getattr(model, mapper.get_property_by_column(c).key) for c in mapper.primary_key)
    spec = FilterSpec(
        model, filters, sortable, defaults, order_param,
        frozenset({*keys, *_strings(extra, "extra"), *([order_param] if sortable else [])}), primary,
    )  # fmt: skip
    return _provider(spec, name or f"{model.__name__}Filters")


def _provider(spec: FilterSpec, name: str) -> FilterProvider:
    """The provider: one keyword per allowed parameter, so Plait reads, converts and documents them.

    PERF: a coroutine function, which Plait awaits inline (a class or sync function would run in
    the thread pool).
    """
    names = {f"f{index}": item for index, item in enumerate(spec.filters)}

    async def provide(request: Request, **values: Any) -> FilterQuery:
        spec.check_keys(request)
        conditions = [
            names[arg].condition(value) for arg, value in values.items() if arg in names and value is not None
        ]
        return FilterQuery(conditions, spec.ordering(values.get("order_")))

    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("request", kw, annotation=Request)]
    for arg, item in names.items():
        described = Query(None, alias=item.key, description=_description(item))
        params.append(inspect.Parameter(arg, kw, default=None, annotation=Annotated[item.annotation, described]))
    if spec.order:
        text = f"Order by {', '.join(spec.order)}; comma-separated, '-' first for descending."
        marker = Query(None, alias=spec.order_param, description=text)
        params.append(inspect.Parameter("order_", kw, default=None, annotation=Annotated[str | None, marker]))
    provide.__signature__ = inspect.Signature(params, return_annotation=FilterQuery)  # type: ignore[attr-defined]
    provide.__annotations__ = {p.name: p.annotation for p in params} | {"return": FilterQuery}
    provide.__name__ = provide.__qualname__ = name
    provide.__module__ = getattr(spec.model, "__module__", __name__)
    provide.spec = spec  # type: ignore[attr-defined]
    return cast(FilterProvider, provide)


def _description(item: Filter) -> str:
    return f"Rows whose {item.field} {OPERATORS[item.op]}."


def _mapper(model: type[Any]) -> Mapper[Any]:
    mapper = sa.inspect(model, raiseerr=False)
    if not isinstance(mapper, Mapper):
        raise ConfigurationError(f"Filters() takes a SQLAlchemy model class; got {model!r}.")
    return mapper


def _strings(given: Iterable[str], option: str) -> list[str]:
    if isinstance(given, str):
        raise ConfigurationError(f"{option}= takes a sequence of names; write {option}=({given!r},), not a string.")
    return list(given)


def _names(given: Iterable[str], option: str, columns: Mapping[str, Any], where: str) -> list[str]:
    names = _strings(given, option)
    for key in names:
        if key not in columns:
            raise ConfigurationError(
                f"{where}: {option}= names {key!r}, which is not a column; its columns are {', '.join(columns)}."
            )
    return names


def _operators(
    fields: Iterable[str] | Mapping[str, Iterable[str]], columns: Mapping[str, Any], where: str
) -> dict[str, tuple[str, ...]]:
    if isinstance(fields, Mapping):
        chosen = {key: tuple(_strings(ops, f"fields[{key!r}]")) for key, ops in fields.items()}
        _names(chosen, "fields", columns, where)
    else:
        chosen = dict.fromkeys(_names(fields, "fields", columns, where), ())
    result: dict[str, tuple[str, ...]] = {}
    for key, ops in chosen.items():
        column = columns[key].columns[0]
        allowed = _allowed_operators(column)
        if not allowed:
            raise ConfigurationError(f"{where}: cannot filter on {key!r}: its type {column.type} has no query form.")
        refused = [op for op in ops if op not in allowed]
        if refused:
            raise ConfigurationError(
                f"{where}: {key!r} cannot take the operator {refused[0]!r}; it takes {', '.join(allowed)}."
            )
        result[key] = ops or _default_operators(allowed, column)
    return result


def _allowed_operators(column: Any) -> tuple[str, ...]:
    python = _python_type(column.type)
    nullable = ("isnull",) if column.nullable else ()
    if python is bool:
        return ("eq", "ne", *nullable)
    if python is str:
        return ("eq", "ne", "contains", "in", *nullable)
    if isinstance(python, type) and issubclass(python, _NUMBERS + _TIMES):
        return (*_ORDERED, *nullable)
    if python is uuid.UUID or (isinstance(python, type) and issubclass(python, enum.Enum)):
        return ("eq", "ne", "in", *nullable)
    return ()


def _default_operators(allowed: tuple[str, ...], column: Any) -> tuple[str, ...]:
    python = _python_type(column.type)
    common: tuple[str, ...]
    if python in (bool, uuid.UUID) or (isinstance(python, type) and issubclass(python, enum.Enum | str)):
        common = ("eq", "contains", "in") if python is str else ("eq", "in")
    elif isinstance(python, type) and issubclass(python, _TIMES):
        common = ("eq", "gt", "gte", "lt", "lte")
    else:
        common = ("eq", "gt", "gte", "lt", "lte", "in")
    return tuple(op for op in (*common, "isnull") if op in allowed)


def _python_type(ctype: Any) -> Any:
    if isinstance(ctype, sa.Enum) and ctype.enum_class is None:
        return str
    return python_type(ctype)


def _filter(model: type[Any], field: str, op: str, prop: ColumnProperty[Any]) -> Filter:
    column = prop.columns[0]
    value_type = _value_type(column)
    annotation: Any
    if op == "isnull":
        annotation = bool | None
    elif op == "contains":
        annotation = str | None
    elif op == "in":
        annotation = list[value_type] | None  # type: ignore[valid-type]
    else:
        annotation = value_type | None
    key = field if op == "eq" else f"{field}__{op}"
    return Filter(key, field, op, getattr(model, field), annotation, _coercion(column, key))


def _value_type(column: Any) -> Any:
    """The type a query value converts into; integers get their column's range (a 422 rather than a 500)."""
    ctype = column.type.impl_instance if isinstance(column.type, sa.TypeDecorator) else column.type
    if isinstance(ctype, sa.Integer) and not isinstance(ctype, sa.Boolean):
        bits = next(b for kind, b in _INT_BITS if isinstance(ctype, kind))
        return Annotated[int, msgspec.Meta(ge=-(2 ** (bits - 1)), le=2 ** (bits - 1) - 1)]
    if isinstance(ctype, sa.Enum) and ctype.enum_class is None:
        return Literal[tuple(ctype.enums)]
    return _python_type(column.type)


def _coercion(column: Any, key: str) -> Callable[[Any], Any]:
    """What a converted value needs before it is bound: text without NUL, datetimes in the column's zone style."""
    if isinstance(column.type, sa.DateTime):  # a TypeDecorator (UTCDateTime) converts values itself
        aware = bool(column.type.timezone)
        return lambda value: _zoned(value, aware)
    if _python_type(column.type) is str:
        return lambda value: _text(value, key)
    return _same


def _same(value: Any) -> Any:
    return value


def _zoned(value: dt.datetime, aware: bool) -> dt.datetime:
    # PostgreSQL refuses to compare a naive column with an aware value (and the other way round).
    if aware:
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)


def _text(value: str, key: str) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: refused here rather than as a 500
        raise RequestValidationError(
            [ErrorDetail(("query", key), "Text must not contain NUL characters", "value_error")]
        )
    return value


__all__ = ["OPERATORS", "Filter", "FilterProvider", "FilterQuery", "FilterSpec", "Filters"]
