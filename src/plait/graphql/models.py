"""GraphQL types from ``plait.db`` models: the read type with its relations, and create/update inputs.

``model_type(Article, relations=("author", "tags"))`` is a Strawberry type with a field per column
(the same columns, nullability and Python types as :func:`plait.db.schemas`) and a field per named
relation, resolved through per-operation DataLoaders (:mod:`plait.graphql.loaders`), so a page of
articles with their authors and tags costs a fixed number of queries. ``input_types(Article)``
gives ``ArticleInput`` (what creating one takes: the columns a client may set, those with defaults
optional) and ``ArticlePatch`` (every field optional). Input values are validated by the msgspec
schemas the REST API uses, so ``String(120)`` refuses 121 characters in both.

>>> from sqlalchemy import Integer, String
>>> from sqlalchemy.orm import DeclarativeBase, mapped_column
>>> class Base(DeclarativeBase): ...
>>> class Note(Base):
...     __tablename__ = "doctest_graphql_notes"
...     id = mapped_column(Integer, primary_key=True)
...     text = mapped_column(String(200), nullable=False)
>>> NoteType = model_type(Note)
>>> [f.name for f in NoteType.__strawberry_definition__.fields]
['id', 'text']
>>> [f.name for f in input_types(Note).create.__strawberry_definition__.fields]
['text']
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import re
import types
import typing
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
import strawberry
from sqlalchemy.orm import Mapper, RelationshipProperty
from strawberry.scalars import JSON

from plait.db.schemas import schemas
from plait.exceptions import ConfigurationError
from plait.graphql.errors import bad_input
from plait.graphql.loaders import load_relation

_SCALARS = (str, int, float, bool, decimal.Decimal, uuid.UUID, dt.datetime, dt.date, dt.time)
_AT = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """The create and update input types of a model, and the msgspec schemas that validate them."""

    create: type[Any]
    update: type[Any]
    create_schema: type[msgspec.Struct]
    update_schema: type[msgspec.Struct]

    def create_values(self, data: Any) -> dict[str, Any]:
        """The validated column values of a create input (BAD_USER_INPUT naming the field otherwise)."""
        return _validated(data, self.create_schema)

    def update_values(self, data: Any) -> dict[str, Any]:
        """The validated values a patch input sets (fields left out are not in the result)."""
        return _validated(data, self.update_schema)


def model_type(
    model: type[Any],
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    relations: Iterable[str] | Mapping[str, type[Any]] = (),
    name: str | None = None,
    description: str | None = None,
) -> type[Any]:
    """The Strawberry type for reading ``model`` (cached per model and options; see the module doc).

    ``include``/``exclude`` choose the columns (as in :func:`plait.db.schemas`: leave secrets such as
    ``password`` out), ``relations`` the relationships (``"comments.author"`` nests further).
    The type is named after the model unless ``name`` is given (give one to a second variant).
    """
    kept = None if include is None else tuple(sorted(_names(include, "include")))
    if isinstance(relations, Mapping):
        chosen: tuple[Any, ...] = tuple(sorted(relations.items()))
    else:
        chosen = tuple(sorted(_names(relations, "relations")))
    key: Any = model  # a class is hashable; typeshed's type[Any] does not say so
    return _model_type(key, kept, tuple(sorted(_names(exclude, "exclude"))), chosen, name, description)


@functools.cache
def _model_type(
    model: type[Any],
    include: tuple[str, ...] | None,
    exclude: tuple[str, ...],
    relations: tuple[Any, ...],
    name: str | None,
    description: str | None,
) -> type[Any]:
    read = schemas(model, include=include, exclude=exclude).read  # checks the names, as the REST schemas do
    mapper: Mapper[Any] = sa.inspect(model)
    columns = {prop.key: prop.columns[0] for prop in mapper.column_attrs}
    annotations: dict[str, Any] = {key: column_type(columns[key]) for key in read.__struct_fields__}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": model.__module__}
    given = {item[0]: item[1] for item in relations if isinstance(item, tuple)}
    paths = tuple(item[0] if isinstance(item, tuple) else item for item in relations)
    for key, (prop, deeper) in _relations(mapper, paths).items():
        target = given.get(key) or model_type(prop.mapper.class_, relations=deeper)
        namespace[key] = strawberry.field(resolver=_relation_resolver(prop, target))
    type_name = name or model.__name__
    cls = type(type_name, (), namespace)
    doc = description or (model.__doc__ or "").strip() or f"The {model.__name__} model."
    return strawberry.type(cls, name=type_name, description=doc)


def input_types(
    model: type[Any], *, include: Iterable[str] | None = None, exclude: Iterable[str] = (), name: str | None = None
) -> ModelInputs:
    """``<Model>Input`` (create) and ``<Model>Patch`` (update) for ``model`` (see the module doc).

    ``include``/``exclude`` choose the columns a client may set (cached per model and options).
    """
    kept = None if include is None else tuple(sorted(_names(include, "include")))
    key: Any = model
    return _input_types(key, kept, tuple(sorted(_names(exclude, "exclude"))), name)


@functools.cache
def _input_types(
    model: type[Any], include: tuple[str, ...] | None, exclude: tuple[str, ...], name: str | None
) -> ModelInputs:
    derived = schemas(model, include=include, exclude=exclude)
    base = name or model.__name__
    create = _input(f"{base}Input", derived.create, partial=False)
    update = _input(f"{base}Patch", derived.update, partial=True)
    return ModelInputs(create, update, derived.create, derived.update)


def _input(type_name: str, schema: type[msgspec.Struct], *, partial: bool) -> type[Any]:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for field in msgspec.structs.fields(schema):
        graphql = python_to_graphql(field.type)
        optional = partial or field.required is False
        annotations[field.name] = graphql | None if optional and not _is_optional(graphql) else graphql
        if optional:
            # Left out means "the model's default" (or "unchanged" in a patch): the msgspec schema decides.
            namespace[field.name] = strawberry.UNSET
    cls = type(type_name, (), namespace)
    return strawberry.input(cls, name=type_name)


def _validated(data: Any, schema: type[msgspec.Struct]) -> dict[str, Any]:
    given = {key: value for key, value in vars(data).items() if value is not strawberry.UNSET}
    try:
        struct = msgspec.convert(given, schema, from_attributes=False, str_keys=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _AT.search(message)
        field = match.group("path") if match else ""
        text = _AT.sub("", message)
        raise bad_input(
            f"{field}: {text}" if field else text, [{"loc": ["data", *field.split(".")], "msg": text}]
        ) from None
    return {key: getattr(struct, key) for key in given}


# ---- types --------------------------------------------------------------------------------------


def column_type(column: Any) -> Any:
    """The GraphQL-side Python type of a column (``| None`` when it is nullable)."""
    from plait.db.pagination import python_type

    ctype = column.type
    if isinstance(ctype, sa.Enum) and ctype.enum_class is not None:
        base: Any = graphql_enum(ctype.enum_class)
    elif isinstance(ctype, sa.JSON | sa.ARRAY | sa.PickleType):
        base = JSON
    elif isinstance(ctype, sa.Enum):
        base = str
    else:
        python = python_type(ctype)
        base = python if python in _SCALARS else JSON
    nullable = column.nullable if isinstance(column, sa.Column) else True
    return base | None if nullable else base


def python_to_graphql(annotation: Any) -> Any:
    """A msgspec schema annotation as a GraphQL input type (constraints are checked by msgspec)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return python_to_graphql(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a not in (type(None), msgspec.UnsetType)]
        inner = python_to_graphql(args[0]) if len(args) == 1 else JSON
        return inner | None if type(None) in typing.get_args(annotation) else inner
    if origin is Literal:
        return str
    if origin is list:
        return list[python_to_graphql(typing.get_args(annotation)[0])]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return graphql_enum(annotation)
    return annotation if annotation in _SCALARS else JSON


@functools.cache
def graphql_enum(enum_class: type[enum.Enum]) -> Any:
    """The GraphQL enum for a Python enum (the same class, registered with Strawberry once)."""
    if hasattr(enum_class, "_enum_definition") or hasattr(enum_class, "__strawberry_definition__"):
        return enum_class
    return strawberry.enum(enum_class)


def _is_optional(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _names(given: Iterable[str], option: str) -> list[str]:
    if isinstance(given, str):
        raise ConfigurationError(f"{option}= takes a sequence of names; write {option}=({given!r},), not a string.")
    return list(given)


def _relations(
    mapper: Mapper[Any], paths: tuple[str, ...]
) -> dict[str, tuple[RelationshipProperty[Any], tuple[str, ...]]]:
    deeper: dict[str, list[str]] = {}
    for path in paths:
        head, _, tail = path.partition(".")
        deeper.setdefault(head, [])
        if tail:
            deeper[head].append(tail)
    known = {prop.key: prop for prop in mapper.relationships}
    unknown = [head for head in deeper if head not in known]
    if unknown:
        raise ConfigurationError(
            f"relations= names {', '.join(map(repr, unknown))}, which is not a relationship of "
            f"{mapper.class_.__name__}; its relationships are {', '.join(known) or '(none)'}."
        )
    for key in deeper:
        prop = known[key]
        if len(prop.parent.primary_key) != 1 or len(prop.mapper.primary_key) != 1:
            raise ConfigurationError(
                f"{mapper.class_.__name__}.{key}: GraphQL relations need single-column primary keys on both sides."
            )
    return {key: (known[key], tuple(sorted(tails))) for key, tails in deeper.items()}


def _relation_resolver(prop: RelationshipProperty[Any], target: type[Any]) -> Any:
    if prop.uselist:
        returns: Any = list[target]  # type: ignore[valid-type]
    else:
        required = prop.direction.name == "MANYTOONE" and not any(c.nullable for c in prop.local_columns)
        returns = target if required else target | None

    async def resolve(root: Any, info: strawberry.Info) -> Any:
        return await load_relation(info.context, prop, root)

    resolve.__annotations__ = {"root": Any, "info": strawberry.Info, "return": returns}
    resolve.__name__ = prop.key
    return resolve


__all__ = ["ModelInputs", "column_type", "graphql_enum", "input_types", "model_type", "python_to_graphql"]
