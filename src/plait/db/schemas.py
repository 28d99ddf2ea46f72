"""One model, every schema: msgspec types for reading, creating and updating a SQLAlchemy model.

``schemas(Article)`` reads the model's columns once and builds three ``msgspec.Struct`` types:

- ``.read`` (``ArticleRead``): every column, as the API returns it; relations only when asked for
  (``relations=("author",)``), as nested read schemas;
- ``.create`` (``ArticleCreate``): the columns a client gives. Columns the database or the model
  fills in (an autoincrement key, server defaults, timestamps, callable or SQL defaults) are left
  out; a column with a plain Python default is optional with that default; a nullable one is
  ``T | None = None``;
- ``.update`` (``ArticleUpdate``): the create fields, each optional (``msgspec.UNSET``), for PATCH.

Constraints come from the columns: ``String(80)`` -> ``max_length=80``, ``Enum`` -> the Python
enum (or the allowed strings), integer types -> their range, nullability, and the Python type of
``Boolean``, ``Numeric``, ``DateTime``, ``Date``, ``Time``, ``Uuid``, ``JSON``, ``ARRAY`` and the rest.
The types are ordinary Structs: use them as body and return annotations. A handler annotated
``-> ArticleRead`` (or ``list[ArticleRead]``, or a page of them) may return ORM objects; Plait reads
their attributes. The OpenAPI components carry the same names. Results are cached per model and
options, so every call with the same arguments returns the very same types.

>>> from sqlalchemy import Boolean, Integer, String
>>> from sqlalchemy.orm import DeclarativeBase, mapped_column
>>> class Base(DeclarativeBase): ...
>>> class Note(Base):  # as usual with Mapped[...] annotations; spelled without them for this doctest
...     __tablename__ = "doctest_notes"
...     id = mapped_column(Integer, primary_key=True)
...     text = mapped_column(String(200), nullable=False)
...     pinned = mapped_column(Boolean, nullable=False, default=False)
>>> note = schemas(Note)
>>> note.read.__name__, note.read.__struct_fields__
('NoteRead', ('id', 'text', 'pinned'))
>>> note.create(text="hello")
NoteCreate(text='hello', pinned=False)
>>> values(note.update(pinned=True))
{'pinned': True}
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import (
    ColumnProperty,
    Mapper,
    QueryableAttribute,
    RelationshipDirection,
    RelationshipProperty,
    Session,
)
from sqlalchemy.util.concurrency import in_greenlet

from plait.exceptions import ConfigurationError

_INT_BITS = ((sa.BigInteger, 64), (sa.SmallInteger, 16), (sa.Integer, 32))  # subclasses before Integer
_MISSING = object()
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ModelSchemas:
    """The read, create and update Struct types derived from one model (see :func:`schemas`)."""

    model: type[Any]
    read: type[msgspec.Struct]
    create: type[msgspec.Struct]
    update: type[msgspec.Struct]


def schemas(
    model: type[Any],
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    relations: Iterable[str] = (),
    name: str | None = None,
) -> ModelSchemas:
    """The read, create and update schemas of a SQLAlchemy model (cached per model and options).

    ``include`` keeps only those columns, ``exclude`` drops columns (``("password_hash",)``), in all
    three schemas. ``relations`` adds relationships to the read schema as nested read schemas
    (``"comments.author"`` nests further). Names are ``<Model>Read``, ``<Model>Create`` and
    ``<Model>Update``; other options add a readable suffix (``ArticleReadWithAuthor``,
    ``ArticleReadWithoutBody``, ``ArticleReadOnlyIdTitle``) so that OpenAPI components never clash.
    ``name`` replaces the model's name in them.
    """
    kept = None if include is None else tuple(sorted(set(_names(include, "include"))))
    if kept == ():
        raise ConfigurationError("include=() leaves no column; name the columns to keep, or leave include out.")
    key: Any = model  # a class is hashable; typeshed's type[Any] does not say so
    return _schemas(
        key,
        kept,
        tuple(sorted(set(_names(exclude, "exclude")))),
        tuple(sorted(set(_names(relations, "relations")))),
        name,
    )


def read_schema(model: type[Any], **options: Any) -> type[msgspec.Struct]:
    """``schemas(model, **options).read``: the model as the API returns it."""
    return schemas(model, **options).read


def create_schema(model: type[Any], **options: Any) -> type[msgspec.Struct]:
    """``schemas(model, **options).create``: the body that creates one row."""
    return schemas(model, **options).create


def update_schema(model: type[Any], **options: Any) -> type[msgspec.Struct]:
    """``schemas(model, **options).update``: the PATCH body, every field optional."""
    return schemas(model, **options).update


def values(data: msgspec.Struct) -> dict[str, Any]:
    """The fields a create or update body holds, without those left ``UNSET``: ``Article(**values(data))``."""
    fields = ((key, getattr(data, key)) for key in data.__struct_fields__)
    return {key: value for key, value in fields if value is not msgspec.UNSET}


def apply(instance: T, data: msgspec.Struct) -> T:
    """Set the attributes an update body gave on ``instance`` (a PATCH); the others stay as they are."""
    for key, value in values(data).items():
        setattr(instance, key, value)
    return instance


def _names(given: Iterable[str], option: str) -> list[str]:
    if isinstance(given, str):
        raise ConfigurationError(f"{option}= takes a sequence of names; write {option}=({given!r},), not a string.")
    return list(given)


@functools.cache
def _schemas(
    model: type[Any],
    include: tuple[str, ...] | None,
    exclude: tuple[str, ...],
    relations: tuple[str, ...],
    name: str | None,
) -> ModelSchemas:
    mapper = _mapper(model)
    columns = _chosen_columns(mapper, include, exclude)
    nested = _relations(mapper, relations)
    base = name or model.__name__
    suffix = _suffix("Only", include) + _suffix("Without", exclude) + _suffix("With", relations)
    writable = [(key, column) for key, column in columns if isinstance(column, sa.Column) and not _generated(column)]
    read = [(key, _column_type(column), _MISSING) for key, column in columns]
    read += [(key, tp, _MISSING) for key, tp in nested]
    create = [(key, _column_type(column), _create_default(column)) for key, column in writable]
    update = [(key, _column_type(column) | msgspec.UnsetType, msgspec.UNSET) for key, column in writable]
    # Create and update bodies refuse unknown fields: a client that sends "id" learns it cannot choose it.
    return ModelSchemas(
        model,
        _struct(f"{base}Read{suffix}", read, model, f"{base} as the API returns it.", forbid=False),
        _struct(f"{base}Create{suffix}", create, model, f"What a client sends to create one {base}.", forbid=True),
        _struct(f"{base}Update{suffix}", update, model, f"What a PATCH may change on one {base}.", forbid=True),
    )


def _mapper(model: type[Any]) -> Mapper[Any]:
    try:
        mapper = sa.inspect(model)
    except sa_exc.NoInspectionAvailable:
        mapper = None
    if not isinstance(mapper, Mapper):
        raise ConfigurationError(
            f"schemas() takes a SQLAlchemy model class (a subclass of your DeclarativeBase); got {model!r}."
        )
    return mapper


def _chosen_columns(
    mapper: Mapper[Any], include: tuple[str, ...] | None, exclude: tuple[str, ...]
) -> list[tuple[str, Any]]:
    columns = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs if isinstance(prop, ColumnProperty)]
    columns.sort(key=lambda pair: not isinstance(pair[1], sa.Column))  # table columns first, then expressions
    known = [key for key, _ in columns]
    for option, names in (("include", include or ()), ("exclude", exclude)):
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigurationError(
                f"{option}= names {', '.join(map(repr, unknown))}, which {mapper.class_.__name__} has no column "
                f"for; its columns are {', '.join(known)}."
            )
    return [(key, column) for key, column in columns if (include is None or key in include) and key not in exclude]


def _relations(mapper: Mapper[Any], paths: tuple[str, ...]) -> list[tuple[str, Any]]:
    """``("author", "comments.author")`` -> the relationship fields of the read schema, in model order."""
    if not paths:
        return []
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
    fields = []
    for key, prop in known.items():
        if key in deeper:
            target = schemas(prop.mapper.class_, relations=deeper[key]).read
            fields.append((key, _relation_type(prop, target)))
    return fields


def _relation_type(prop: RelationshipProperty[Any], target: Any) -> Any:
    if prop.uselist:
        return list[target]
    required = prop.direction is RelationshipDirection.MANYTOONE and not any(
        column.nullable for column in prop.local_columns
    )
    return target if required else target | None


def _suffix(word: str, names: Sequence[str] | None) -> str:
    if not names:
        return ""
    return word + "".join(part.capitalize() for name in names for part in name.replace(".", "_").split("_"))


def _generated(column: sa.Column[Any]) -> bool:
    """True for a column the database or the model fills in, which a client therefore does not send."""
    # Computed and Identity columns carry their server_default too.
    if column.server_default is not None or column.server_onupdate is not None or column.onupdate is not None:
        return True
    default = column.default
    if default is not None and not getattr(default, "is_scalar", False):
        return True  # a callable (uuid4, a clock), a SQL expression or a sequence
    return _autoincrement(column)


def _autoincrement(column: sa.Column[Any]) -> bool:
    if not column.primary_key or column.autoincrement not in (True, "auto"):
        return False
    table = column.table
    single = len(table.primary_key.columns) == 1 if isinstance(table, sa.Table) else False
    if column.autoincrement == "auto":
        return single and _is_integer(column.type) and not column.foreign_keys
    return True


def _is_integer(ctype: Any) -> bool:
    return isinstance(ctype, sa.Integer) and not isinstance(ctype, sa.Boolean)


def _create_default(column: sa.Column[Any]) -> Any:
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        value = default.arg  # type: ignore[attr-defined]
        if isinstance(value, list | dict | set) and value:
            return msgspec.field(default_factory=functools.partial(copy.deepcopy, value))
        return value
    return None if column.nullable else _MISSING


def _column_type(column: Any) -> Any:
    """The annotation for one column: its Python type, its constraints, ``| None`` when nullable."""
    tp = _base_type(column.type)
    meta = _description(column)
    if meta is not None:
        tp = Annotated[tp, meta]
    # A SQL expression (column_property) says nothing of NULL: take that it may be.
    nullable = column.nullable if isinstance(column, sa.Column) else True
    return tp | None if nullable else tp


def _base_type(ctype: Any) -> Any:
    if isinstance(ctype, sa.PickleType):
        return Any  # any picklable object
    if isinstance(ctype, sa.TypeDecorator):
        # Described by the Python type it declares, else by the type it wraps (UTCDateTime -> datetime).
        declared = _python_type(ctype)
        return declared if declared is not Any else _base_type(ctype.impl_instance)
    if isinstance(ctype, sa.Enum):
        enum_class = ctype.enum_class
        return enum_class if enum_class is not None else Literal[tuple(ctype.enums)]
    if isinstance(ctype, sa.Boolean):
        return bool
    if _is_integer(ctype):
        bits = next(b for kind, b in _INT_BITS if isinstance(ctype, kind))
        # Out-of-range numbers are a 422 here, not a database error (a 500) at the INSERT.
        return Annotated[int, msgspec.Meta(ge=-(2 ** (bits - 1)), le=2 ** (bits - 1) - 1)]
    if isinstance(ctype, sa.String):
        return Annotated[str, msgspec.Meta(max_length=ctype.length)] if ctype.length else str
    if isinstance(ctype, sa.JSON):
        return Any  # any JSON value: an object, a list, a string...
    if isinstance(ctype, sa.ARRAY):
        return list[_base_type(ctype.item_type)]  # type: ignore[misc]
    return _python_type(ctype)


def _python_type(ctype: Any) -> Any:
    try:
        python = ctype.python_type
    except NotImplementedError:  # SQLAlchemy 2.0 for a type that does not say; 2.1 gives object
        return Any
    return Any if python is object else python


def _description(column: Any) -> msgspec.Meta | None:
    text = getattr(column, "comment", None) or getattr(column, "doc", None)
    return msgspec.Meta(description=text) if text else None


def _struct(
    name: str, fields: list[tuple[str, Any, Any]], model: type[Any], doc: str, *, forbid: bool
) -> type[msgspec.Struct]:
    spec = [(key, tp) if default is _MISSING else (key, tp, default) for key, tp, default in fields]
    struct = msgspec.defstruct(
        name, spec, kw_only=True, forbid_unknown_fields=forbid, module=getattr(model, "__module__", None)
    )
    struct.__doc__ = doc  # the OpenAPI component's description
    return struct


# ---- ORM objects whose attributes were not loaded -----------------------------------------------


class NotLoadedError(Exception):
    """An ORM attribute that was not loaded was read where an async session cannot load it."""


class GuardedSession(Session):
    """The sync half of Plait's ``AsyncSession``: a lazy load outside ``await`` raises :class:`NotLoadedError`.

    Reading a relationship (or an expired column) that was not loaded makes SQLAlchemy start a query;
    outside an ``await`` (while a result is serialised, say) an async driver cannot run it, and the
    error would be ``MissingGreenlet``, which names neither the attribute nor the fix (and leaves a
    never-awaited coroutine behind). This session refuses before any query starts.
    """

    # PERF: a check in execute(), which every load SQLAlchemy starts by itself goes through (lazy
    # relationship, expired column, get), instead of a "do_orm_execute" listener: with a listener,
    # SQLAlchemy builds an ORMExecuteState and dispatches the event for every ORM statement, about
    # 4 µs of a 75 µs primary-key get (benchmarks/db/README.md). Inside an await it is one call.
    def execute(self, *args: Any, **kwargs: Any) -> Any:
        if not in_greenlet():
            raise NotLoadedError(_explain_refused())
        return super().execute(*args, **kwargs)


def _explain_refused() -> str:
    attribute = _attribute_read()
    relation = attribute is None or isinstance(attribute.property, RelationshipProperty)
    return explain_not_loaded(attribute, relation=relation)


def explain_not_loaded(attribute: QueryableAttribute[Any] | None, *, relation: bool = True) -> str:
    """What went wrong when an attribute was read that needed a query outside ``await``, and the fix."""
    if attribute is None:
        return (
            "A database query was needed outside an `await` (an attribute or relationship that was not "
            "loaded, read while the result was serialised?); an async session cannot run it there. Load "
            "relationships with the query, select(Model).options(selectinload(Model.relation)), or "
            "`await db.refresh(obj)` before returning it."
        )
    owner = attribute.class_.__name__
    where = f"{owner}.{attribute.key}"
    if relation:
        fix = f"load it with the query: select({owner}).options(selectinload({where}))"
    else:
        fix = f"load it first: `await db.refresh(obj, [{attribute.key!r}])`, or undefer it in the query"
    return (
        f"{where} was not loaded, and an async session cannot load it outside an `await` (here, while "
        f"the result was read); {fix}, or leave it out of the schema."
    )


def _attribute_read() -> QueryableAttribute[Any] | None:
    """The model attribute whose read started the query: the nearest attribute access up the stack."""
    frame = inspect.currentframe()
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, QueryableAttribute):
            return candidate
        frame = frame.f_back
    return None


__all__ = [
    "GuardedSession",
    "ModelSchemas",
    "NotLoadedError",
    "apply",
    "create_schema",
    "explain_not_loaded",
    "read_schema",
    "schemas",
    "update_schema",
    "values",
]
