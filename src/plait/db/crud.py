"""CRUD in one line: a router with list, get, create, update and delete for a model.

::

    from plait.db.crud import crud_router

    app.include_router(crud_router(Article, filters=("title", "author_id"), order=("created_at", "title")))

gives, documented in OpenAPI with the model's schemas (``ArticleRead``, ``ArticleCreate``,
``ArticleUpdate``, ``ArticleReadPage``):

======  ====================  ==========================================================================
GET     ``/article``          a page: ``?limit=&offset=`` (or ``?cursor=``), the allowed filters, ``?order=``
GET     ``/article/{id}``     one row, or 404
POST    ``/article``          201 with the new row and a ``Location`` header pointing at it
PATCH   ``/article/{id}``     changes the fields sent (``PUT`` too, replacing every field, with ``put=True``)
DELETE  ``/article/{id}``     204
======  ====================  ==========================================================================

A unique violation is a 409 naming the field (``"fields": ["slug"]``), a missing referenced row a
409, rows still referring to a deleted one a 409. ``dependencies`` guard every route;
``operation_dependencies={"delete": [Depends(admin_only)]}`` guards one operation. Everything is
decided here, once: the routes are ordinary Plait routes with no per-request lookups.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, selectinload

from plait.db.filters import FilterProvider, FilterQuery, Filters
from plait.db.integrity import integrity_problem
from plait.db.pagination import (
    DEFAULT_LIMIT,
    MAX_CURSOR_LENGTH,
    MAX_LIMIT,
    MAX_OFFSET,
    CursorPage,
    Page,
    order_keys,
    paginate,
    paginate_cursor,
)
from plait.db.queries import get_or_404
from plait.db.schemas import ModelSchemas, apply, schemas, values
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError, HTTPException
from plait.params import Body, Path, Query
from plait.requests import Request
from plait.responses import Response
from plait.routing import Router

OPERATIONS = ("list", "get", "create", "update", "delete")
_INT_BITS = ((sa.BigInteger, 64), (sa.SmallInteger, 16), (sa.Integer, 32))


@dataclass(frozen=True, slots=True)
class _Crud:
    """Everything the generated handlers share, decided when the router is made."""

    model: type[Any]
    read: type[msgspec.Struct]
    create: type[msgspec.Struct]
    update: type[msgspec.Struct]
    key: str  # the primary key attribute, also the path parameter's name
    key_type: Any
    key_range: tuple[int, int] | None
    name: str
    relations: tuple[str, ...]  # relationships the read schema shows: loaded with the row

    def load(self) -> list[Any]:
        return [selectinload(getattr(self.model, relation)) for relation in self.relations]

    async def fetch(self, db: AsyncSession, ident: Any) -> Any:
        if self.key_range is not None and not self.key_range[0] <= ident <= self.key_range[1]:
            raise HTTPException(404, f"No {self.model.__name__} with {self.key} {ident}.")  # no row can have it
        return await get_or_404(db, self.model, ident, options=self.load())

    async def write(self, db: AsyncSession, row: Any, *, deleting: bool = False) -> None:
        """Flush now, so a constraint violation is this request's 409 rather than a failed commit."""
        try:
            await db.flush()
        except sa_exc.IntegrityError as exc:
            raise integrity_problem(exc, self.model, deleting=deleting) from exc
        except sa_exc.DataError as exc:
            raise HTTPException(422, f"A value does not fit its {self.model.__name__} column.") from exc
        if not deleting:
            await db.refresh(row)  # server defaults and onupdate values, which the flush expired
            if self.relations:
                await db.refresh(row, attribute_names=self.relations)

    def out(self, row: Any) -> Any:
        return msgspec.convert(row, self.read, from_attributes=True)


def crud_router(
    model: type[Any],
    *,
    prefix: str | None = None,
    tags: Sequence[str] | None = None,
    dependencies: Sequence[Depends] = (),
    operation_dependencies: Mapping[str, Sequence[Depends]] | None = None,
    operations: Iterable[str] = OPERATIONS,
    schemas: ModelSchemas | None = None,
    filters: Iterable[str] | Mapping[str, Iterable[str]] = (),
    order: Iterable[str] = (),
    default_order: Iterable[str] = (),
    page_size: int = DEFAULT_LIMIT,
    max_page_size: int = MAX_LIMIT,
    pagination: Literal["offset", "cursor"] = "offset",
    put: bool = False,
    name: str | None = None,
) -> Router:
    """A :class:`~plait.Router` serving list, get, create, update and delete for ``model``.

    ``prefix`` defaults to ``/<tablename>``, ``tags`` to the model's name, route names to
    ``<name>.list`` ... (``name`` defaults to the table name; ``url_for("article.get", id=1)``).
    ``schemas`` defaults to ``plait.db.schemas.schemas(model)``; pass ``schemas(model, exclude=...)``
    to hide columns. ``filters``, ``order`` and ``default_order`` are the allowlists of
    :func:`~plait.db.filters.Filters`. ``pagination="cursor"`` pages with a signed cursor (the
    app's ``secret_key``) instead of ``offset``. ``operations`` leaves some out.

    >>> from sqlalchemy import Integer, String
    >>> from sqlalchemy.orm import DeclarativeBase, mapped_column
    >>> class Base(DeclarativeBase): ...
    >>> class Pet(Base):
    ...     __tablename__ = "doctest_crud_pets"
    ...     id = mapped_column(Integer, primary_key=True)
    ...     name = mapped_column(String(80), nullable=False)
    >>> router = crud_router(Pet, filters=("name",))
    >>> sorted((sorted(r.methods)[0], r.path) for r in router.routes)
    [('DELETE', '/{id}'), ('GET', '/'), ('GET', '/{id}'), ('PATCH', '/{id}'), ('POST', '/')]
    """
    wanted = _operations(operations, operation_dependencies or {}, model)
    if pagination not in ("offset", "cursor"):
        raise ConfigurationError(
            f"crud_router({model.__name__}): pagination= is 'offset' or 'cursor', not {pagination!r}."
        )
    if not 1 <= page_size <= max_page_size:
        raise ConfigurationError(
            f"crud_router({model.__name__}): page_size={page_size} must be between 1 and max_page_size={max_page_size}."
        )
    crud = _describe(model, schemas, name)
    table = str(getattr(model, "__tablename__", crud.name))
    router = Router(
        prefix if prefix is not None else f"/{table}", tags=list(tags or [model.__name__]), dependencies=dependencies
    )
    cursor = pagination == "cursor"
    order = list(order)
    if cursor:
        order_keys([getattr(model, key) for key in order if hasattr(model, key)])  # NOT NULL, checked now
    extra = ("limit", "cursor") if cursor else ("limit", "offset")
    query = Filters(model, fields=filters, order=order, default_order=default_order, extra=extra)
    guards = {op: list(deps) for op, deps in (operation_dependencies or {}).items()}
    if "list" in wanted:
        handler = (_cursor_list if cursor else _offset_list)(crud, query, page_size, max_page_size)
        bad = {400: "An unknown filter or order field (the detail names the allowed ones), or a bad cursor."}
        _add(router, crud, "list", "/", "GET", handler, responses=bad, summary=f"List {model.__name__} rows",
             dependencies=guards.get("list", []))  # fmt: skip
    for op, path, method, make, options in _item_routes(crud, wanted, put):
        guard = options.pop("guard", op)  # PUT is guarded as an update
        _add(router, crud, op, path, method, make(crud), dependencies=guards.get(guard, []), **options)
    return router


def _item_routes(crud: _Crud, wanted: set[str], put: bool) -> list[tuple[str, str, str, Any, dict[str, Any]]]:
    """(operation, path, method, handler factory, route options) of the routes other than the list."""
    name, item = crud.model.__name__, f"/{{{crud.key}}}"
    found = {404: f"No {name} has this {crud.key}."}
    conflict = {409: f"A unique field holds a value another {name} has, or a reference is broken."}
    location = {"description": "Created", "headers": {"Location": {"schema": {"type": "string"}}}}
    routes: list[tuple[str, str, str, Any, dict[str, Any]]] = [
        ("get", item, "GET", _get, {"responses": found, "summary": f"Get one {name}"}),
        ("create", "/", "POST", functools.partial(_create, location=f"{crud.name}.get" if "get" in wanted else None),
         {"responses": {201: location, **conflict}, "status_code": 201, "summary": f"Create one {name}"}),
        ("update", item, "PATCH", _update,
         {"responses": {**found, **conflict}, "summary": f"Change fields of one {name}"}),
        ("replace", item, "PUT", _replace,
         {"responses": {**found, **conflict}, "summary": f"Replace one {name}", "guard": "update"}),
        ("delete", item, "DELETE", _delete,
         {"responses": {**found, **conflict}, "status_code": 204, "summary": f"Delete one {name}"}),
    ]  # fmt: skip
    chosen = wanted | ({"replace"} if put and "update" in wanted else set())
    return [route for route in routes if route[0] in chosen]


def _operations(given: Iterable[str], guards: Mapping[str, Sequence[Depends]], model: type[Any]) -> set[str]:
    if isinstance(given, str):
        raise ConfigurationError(f"operations= takes a sequence, e.g. operations=({given!r},).")
    wanted = set(given)
    for what, names in (("operations", wanted), ("operation_dependencies", set(guards))):
        unknown = sorted(names - set(OPERATIONS))
        if unknown:
            raise ConfigurationError(
                f"crud_router({model.__name__}): {what} names {unknown[0]!r}; "
                f"the operations are {', '.join(OPERATIONS)}."
            )
    return wanted


def _describe(model: type[Any], given: ModelSchemas | None, name: str | None) -> _Crud:
    mapper = sa.inspect(model, raiseerr=False)
    if not isinstance(mapper, Mapper):
        raise ConfigurationError(f"crud_router() takes a SQLAlchemy model class; got {model!r}.")
    if len(mapper.primary_key) != 1:
        raise ConfigurationError(
            f"crud_router({model.__name__}): the model needs a single-column primary key (it has "
            f"{len(mapper.primary_key)}); write the routes for a composite key yourself."
        )
    column = mapper.primary_key[0]
    key = mapper.get_property_by_column(column).key
    if given is None:
        given = schemas(model)  # cached: the same types for every router of this model
    relations = tuple(f for f in given.read.__struct_fields__ if f in mapper.relationships)
    return _Crud(
        model, given.read, given.create, given.update, key, column.type.python_type, _int_range(column),
        name or str(getattr(model, "__tablename__", model.__name__.lower())), relations,
    )  # fmt: skip


def _int_range(column: Any) -> tuple[int, int] | None:
    ctype = column.type
    if not isinstance(ctype, sa.Integer) or isinstance(ctype, sa.Boolean):
        return None
    bits = next(b for kind, b in _INT_BITS if isinstance(ctype, kind))
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _add(
    router: Router, crud: _Crud, op: str, path: str, method: str, handler: Callable[..., Any], **options: Any
) -> None:
    handler.__name__ = handler.__qualname__ = f"{op}_{crud.name}"
    router.add_route(path, handler, (method,), name=f"{crud.name}.{op}", operation_id=f"{op}{crud.model.__name__}",
                     **options)  # fmt: skip


@functools.cache
def page_type(read: type[Any], cursor: bool = False) -> type[Any]:
    """``Page[ArticleRead]`` as a class of its own, ``ArticleReadPage``: a readable OpenAPI component name."""
    base = CursorPage[read] if cursor else Page[read]  # type: ignore[valid-type]
    cls = types.new_class(f"{read.__name__}{'CursorPage' if cursor else 'Page'}", (base,), {})
    cls.__module__ = read.__module__
    cls.__doc__ = f"A page of {read.__name__}."
    return cls


def _typed(fn: Callable[..., Any], annotations: dict[str, Any]) -> Callable[..., Any]:
    # Set here rather than written in the def: the types are made per model, at run time.
    fn.__annotations__ = annotations
    return fn


def _offset_list(crud: _Crud, query: FilterProvider, size: int, most: int) -> Callable[..., Any]:
    page_cls = page_type(crud.read)

    async def handler(db: Any, where: Any, limit: Any = size, offset: Any = 0) -> Any:
        stmt = where.apply(sa.select(crud.model).options(*crud.load()))
        page = await paginate(db, stmt, limit=limit, offset=offset, max_limit=most, schema=crud.read)
        return page_cls(items=page.items, total=page.total, limit=page.limit, offset=page.offset)

    return _typed(handler, {
        "db": AsyncSession,
        "where": Annotated[FilterQuery, Depends(query)],
        "limit": Annotated[int, Query(ge=1, description=f"Rows per page (at most {most}).")],
        "offset": Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")],
        "return": page_cls,
    })  # fmt: skip


def _cursor_list(crud: _Crud, query: FilterProvider, size: int, most: int) -> Callable[..., Any]:
    page_cls = page_type(crud.read, cursor=True)

    async def handler(db: Any, request: Any, where: Any, limit: Any = size, cursor: Any = None) -> Any:
        stmt = where.where(sa.select(crud.model).options(*crud.load()))
        key = request.settings.secret_key
        page = await paginate_cursor(
            db, stmt, order=where.order_by, cursor=cursor, limit=limit, max_limit=most, key=key, schema=crud.read
        )
        return page_cls(items=page.items, limit=page.limit, next=page.next)

    return _typed(handler, {
        "db": AsyncSession,
        "request": Request,
        "where": Annotated[FilterQuery, Depends(query)],
        "limit": Annotated[int, Query(ge=1, description=f"Rows per page (at most {most}).")],
        "cursor": Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description="`next` of the page before.")],
        "return": page_cls,
    })  # fmt: skip


def _key(crud: _Crud) -> Any:
    return Annotated[crud.key_type, Path(alias=crud.key)]


def _get(crud: _Crud) -> Callable[..., Any]:
    async def handler(db: Any, ident: Any) -> Any:
        return crud.out(await crud.fetch(db, ident))

    return _typed(handler, {"db": AsyncSession, "ident": _key(crud), "return": crud.read})


def _create(crud: _Crud, *, location: str | None) -> Callable[..., Any]:
    async def handler(db: Any, data: Any, request: Any, response: Any) -> Any:
        row = crud.model(**values(data))
        db.add(row)
        await crud.write(db, row)
        if location is not None:
            response.headers["location"] = request.url_for(location, **{crud.key: getattr(row, crud.key)})
        return crud.out(row)

    annotations = {"db": AsyncSession, "data": Annotated[crud.create, Body()], "request": Request}
    return _typed(handler, {**annotations, "response": Response, "return": crud.read})


def _update(crud: _Crud) -> Callable[..., Any]:
    async def handler(db: Any, ident: Any, data: Any) -> Any:
        row = await crud.fetch(db, ident)
        apply(row, data)  # only the fields the PATCH sent
        await crud.write(db, row)
        return crud.out(row)

    return _typed(handler, {"db": AsyncSession, "ident": _key(crud), "data": Annotated[crud.update, Body()],
                            "return": crud.read})  # fmt: skip


def _replace(crud: _Crud) -> Callable[..., Any]:
    async def handler(db: Any, ident: Any, data: Any) -> Any:
        row = await crud.fetch(db, ident)
        for field in data.__struct_fields__:
            setattr(row, field, getattr(data, field))
        await crud.write(db, row)
        return crud.out(row)

    return _typed(handler, {"db": AsyncSession, "ident": _key(crud), "data": Annotated[crud.create, Body()],
                            "return": crud.read})  # fmt: skip


def _delete(crud: _Crud) -> Callable[..., Any]:
    async def handler(db: Any, ident: Any) -> None:
        row = await crud.fetch(db, ident)
        await db.delete(row)
        await crud.write(db, row, deleting=True)

    return _typed(handler, {"db": AsyncSession, "ident": _key(crud), "return": None})


__all__ = ["OPERATIONS", "crud_router", "page_type"]
