"""A query and mutation set for a model in a few lines: ``crud(Article, filters=..., order=...)``.

::

    articles = crud(Article, relations=("author", "tags"), filters=("title", "published"), order=("created_at",),
                    dependencies={"create": [requires("articles.add")], "delete": [requires("articles.delete")]})

    Query = merge_types("Query", (articles.Query, MoreQueries))   # strawberry.tools.merge_types
    schema = strawberry.Schema(query=Query, mutation=articles.Mutation)

gives, for a model ``Article``::

    articles(where: ArticleFilter, order: String, limit: Int = 20, offset: Int = 0): ArticlePage!
    article(id: Int!): Article
    createArticle(data: ArticleInput!): Article!
    updateArticle(id: Int!, data: ArticlePatch!): Article!
    deleteArticle(id: Int!): Boolean!

``where`` takes the same allowlisted filters as the REST list (:func:`plait.db.Filters`): ``{title:
"Hello", title__contains: "ell", created_at__gte: "2024-01-01T00:00:00Z"}``, and ``order`` the same
text (``"-created_at,title"``); anything else is refused. ``limit`` is capped at ``max_limit``.
Input is validated by the model's msgspec schemas (a bad value is a ``BAD_USER_INPUT`` error naming
the field), a constraint violation is a ``CONFLICT``, a missing row ``NOT_FOUND``, and each
operation's ``dependencies`` (permission checks) run before it (``UNAUTHENTICATED``/``FORBIDDEN``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
import strawberry
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.nodes import SelectedField

from plait.db.filters import Filter, Filters, FilterSpec
from plait.db.integrity import integrity_problem
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.graphql.context import _wrap
from plait.graphql.errors import bad_input, coded_error
from plait.graphql.models import ModelInputs, column_type, input_types, model_type, python_to_graphql

OPERATIONS = ("list", "get", "create", "update", "delete")


@dataclass(frozen=True, slots=True)
class ModelCrud:
    """What :func:`crud` made: the ``Query`` and ``Mutation`` types to inherit from, and their parts."""

    model: type[Any]
    read: type[Any]
    inputs: ModelInputs
    page: type[Any]
    filter: type[Any] | None
    Query: type[Any]
    Mutation: type[Any]


def crud(
    model: type[Any],
    *,
    read: type[Any] | None = None,
    relations: Iterable[str] | Mapping[str, type[Any]] = (),
    exclude: Iterable[str] = (),
    input_exclude: Iterable[str] = (),
    filters: Iterable[str] | Mapping[str, Iterable[str]] = (),
    order: Iterable[str] = (),
    default_order: Iterable[str] = (),
    operations: Iterable[str] = OPERATIONS,
    dependencies: Mapping[str, Sequence[Depends]] | None = None,
    default_limit: int = 20,
    max_limit: int = 100,
    name: str | None = None,
    plural: str | None = None,
) -> ModelCrud:
    """Query and mutation fields for ``model`` (see the module doc).

    ``read`` is the read type (default ``model_type(model, exclude=exclude, relations=relations)``),
    ``input_exclude`` columns clients may not set, ``operations`` a subset of ``OPERATIONS``, and
    ``dependencies`` maps an operation to the dependencies run before it.
    """
    wanted = tuple(operations)
    guards = dict(dependencies or {})
    unknown = sorted(set(wanted) - set(OPERATIONS)) + sorted(set(guards) - set(OPERATIONS))
    if unknown:
        raise ConfigurationError(f"crud({model.__name__}): unknown operation(s) {unknown}; they are {OPERATIONS}.")
    base = name or model.__name__
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()
    read = read or model_type(model, exclude=exclude, relations=relations)
    inputs = input_types(model, exclude=tuple(input_exclude), name=name)
    spec = Filters(model, fields=filters, order=order, default_order=default_order).spec
    where = _filter_input(f"{base}Filter", spec) if spec.filters else None
    readable: Any = read  # a class is hashable; typeshed's type[Any] does not say so
    page = _page_type(f"{base}Page", readable)
    mapper = sa.inspect(model)
    if len(mapper.primary_key) != 1:
        raise ConfigurationError(f"crud({model.__name__}) needs a single-column primary key.")
    key_column = mapper.primary_key[0]
    key = _Key(mapper.get_property_by_column(key_column).key, column_type(key_column))
    shared = _Shared(model, read, inputs, spec, where, page, key, default_limit, max_limit)
    query: dict[str, Any] = {}
    mutation: dict[str, Any] = {}
    makers = {"list": (query, plural or f"{snake}s", _list), "get": (query, snake, _get),
              "create": (mutation, f"create_{snake}", _create), "update": (mutation, f"update_{snake}", _update),
              "delete": (mutation, f"delete_{snake}", _delete)}  # fmt: skip
    for operation in wanted:
        target, field_name, maker = makers[operation]
        resolver = _wrap(maker(shared), dependencies=tuple(guards.get(operation, ())))
        resolver.__name__ = field_name
        field = strawberry.mutation if target is mutation else strawberry.field
        target[field_name] = field(resolver=resolver)
    query_type = strawberry.type(type(f"{base}Query", (), query), name=f"{base}Query")
    mutation_type = strawberry.type(type(f"{base}Mutation", (), mutation), name=f"{base}Mutation")
    return ModelCrud(model, read, inputs, page, where, query_type, mutation_type)


@dataclass(frozen=True, slots=True)
class _Key:
    name: str
    type: Any


@dataclass(frozen=True, slots=True)
class _Shared:
    model: type[Any]
    read: type[Any]
    inputs: ModelInputs
    spec: FilterSpec
    where: type[Any] | None
    page: type[Any]
    key: _Key
    default_limit: int
    max_limit: int


@functools.cache
def _page_type(type_name: str, read: type[Any]) -> type[Any]:
    annotations = {"items": list[read], "total": int, "limit": int, "offset": int}  # type: ignore[valid-type]
    cls = type(type_name, (), {"__annotations__": annotations})
    return strawberry.type(cls, name=type_name, description="One page of a list, with the total that match.")


def _filter_input(type_name: str, spec: FilterSpec) -> type[Any]:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for item in spec.filters:
        graphql = python_to_graphql(item.annotation)
        annotations[item.key] = graphql
        namespace[item.key] = strawberry.field(default=strawberry.UNSET, name=item.key)
    cls = type(type_name, (), namespace)
    return strawberry.input(cls, name=type_name, description="The allowed filters, as in the REST API's query string.")


def _conditions(shared: _Shared, where: Any) -> list[Any]:
    if where is None:
        return []
    conditions = []
    by_key: dict[str, Filter] = {item.key: item for item in shared.spec.filters}
    for key, item in by_key.items():
        value = getattr(where, key, strawberry.UNSET)
        if value is strawberry.UNSET or value is None:
            continue
        try:
            value = msgspec.convert(value, item.annotation)  # the column's range, the enum's values
        except msgspec.ValidationError as exc:
            raise bad_input(f"where.{key}: {exc}", [{"loc": ["where", key], "msg": str(exc)}]) from None
        conditions.append(item.condition(value))
    return conditions


def _list(shared: _Shared) -> Any:
    async def resolve(
        info: strawberry.Info, db: AsyncSession, where: Any = None, order: str | None = None,
        limit: int = shared.default_limit, offset: int = 0,
    ) -> Any:  # fmt: skip
        if limit < 1 or offset < 0:
            raise bad_input("limit must be at least 1 and offset at least 0.", [{"loc": ["limit"], "msg": "range"}])
        limit = min(limit, shared.max_limit)
        statement = sa.select(shared.model).where(*_conditions(shared, where))
        ordering = shared.spec.ordering(order)
        async with info.context.db_lock:
            total = None
            if _asks_for(info, "total"):  # PERF: the COUNT runs only when the client wants it
                total = await db.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
            ordered = statement.order_by(*(k.clause for k in ordering)).limit(limit).offset(offset)
            items = list(await db.scalars(ordered))
        return shared.page(items=items, total=total or 0, limit=limit, offset=offset)

    annotations = {"where": shared.where | None if shared.where else None, "return": shared.page}
    resolve.__annotations__ = {**resolve.__annotations__, "info": strawberry.Info, "db": AsyncSession,
                               "order": str | None, "limit": int, "offset": int, **annotations}  # fmt: skip
    if shared.where is None:
        return _without(resolve, "where")
    return resolve


def _asks_for(info: strawberry.Info, name: str) -> bool:
    """Whether the field being resolved selects ``name`` (fragments count as yes: they are not looked into)."""
    for field in info.selected_fields:
        for selection in field.selections:
            if not isinstance(selection, SelectedField) or selection.name == name:
                return True
    return False


def _without(fn: Any, name: str) -> Any:
    """``fn`` with the parameter ``name`` dropped from its signature (a model without filters)."""
    import inspect

    signature = inspect.signature(fn)
    params = [p for p in signature.parameters.values() if p.name != name]
    fn.__signature__ = signature.replace(parameters=params)
    fn.__annotations__.pop(name, None)
    return fn


def _typed(fn: Any, annotations: dict[str, Any]) -> Any:
    fn.__annotations__ = {"info": strawberry.Info, "db": AsyncSession, **annotations}
    return fn


async def _fetch(shared: _Shared, info: strawberry.Info, db: AsyncSession, ident: Any) -> Any:
    async with info.context.db_lock:
        row = await db.get(shared.model, ident)
    if row is None:
        raise coded_error_404(shared, ident)
    return row


def coded_error_404(shared: _Shared, ident: Any) -> Any:
    from plait.exceptions import HTTPException

    return coded_error(HTTPException(404, f"No {shared.model.__name__} with {shared.key.name} {ident!r}."))


async def _write(shared: _Shared, info: strawberry.Info, db: AsyncSession, row: Any, *, deleting: bool = False) -> None:
    async with info.context.db_lock:
        try:
            await db.flush()
        except sa_exc.IntegrityError as exc:
            raise coded_error(integrity_problem(exc, shared.model, deleting=deleting)) from None
        if not deleting:
            await db.refresh(row)  # server defaults and timestamps, read now rather than lazily later


def _get(shared: _Shared) -> Any:
    async def resolve(info: strawberry.Info, db: AsyncSession, id: Any) -> Any:
        async with info.context.db_lock:
            return await db.get(shared.model, id)

    return _typed(resolve, {"id": shared.key.type, "return": shared.read | None})


def _create(shared: _Shared) -> Any:
    async def resolve(info: strawberry.Info, db: AsyncSession, data: Any) -> Any:
        row = shared.model(**shared.inputs.create_values(data))
        db.add(row)
        await _write(shared, info, db, row)
        return row

    return _typed(resolve, {"data": shared.inputs.create, "return": shared.read})


def _update(shared: _Shared) -> Any:
    async def resolve(info: strawberry.Info, db: AsyncSession, id: Any, data: Any) -> Any:
        changes = shared.inputs.update_values(data)
        row = await _fetch(shared, info, db, id)
        for key, value in changes.items():
            setattr(row, key, value)
        await _write(shared, info, db, row)
        return row

    return _typed(resolve, {"id": shared.key.type, "data": shared.inputs.update, "return": shared.read})


def _delete(shared: _Shared) -> Any:
    async def resolve(info: strawberry.Info, db: AsyncSession, id: Any) -> bool:
        row = await _fetch(shared, info, db, id)
        async with info.context.db_lock:
            await db.delete(row)
        await _write(shared, info, db, row, deleting=True)
        return True

    return _typed(resolve, {"id": shared.key.type, "return": bool})


__all__ = ["OPERATIONS", "ModelCrud", "crud"]
