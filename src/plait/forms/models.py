"""Forms from database models, and the choices of relation fields loaded with the request's session.

``form_for(Article)`` derives a form class from a SQLAlchemy model the way
:func:`plait.db.schemas` derives the create schema (the same columns, types and constraints:
``String(120)`` gives ``maxlength="120"``, a nullable column an optional field). On top of that,
a foreign key becomes a :class:`~plait.forms.Relation` (a ``<select>`` of the rows it may point
to) and a ``Text`` column a ``<textarea>``. SQLAlchemy is imported only when these are used, so
forms without a database need no ``plait[db]``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from plait.exceptions import ConfigurationError
from plait.forms.binding import CHOICE_MESSAGE, Converted
from plait.forms.fields import Field, Form, FormMeta, FormSpec, Relation, Textarea, choice_value
from plait.requests import Request

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def form_for(
    model: type[Any],
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    fields: Mapping[str, Field | Relation] | None = None,
    name: str | None = None,
) -> type[Form]:
    """A form class for creating or editing ``model`` rows (cached per model and options).

    ``include``/``exclude`` choose the columns as in :func:`plait.db.schemas`; ``fields`` adds
    metadata per column (``{"body": Field(help="Markdown"), "author_id": Relation(User, label="name")}``).
    The form's data fits ``Article(**values(form.data))`` and ``apply(article, form.data)``.
    The class is made at run time, so mypy sees a value, not a type: write
    ``form: Submitted[ArticleForm]  # type: ignore[valid-type]`` as for :func:`plait.db.schemas`.
    """
    kept = None if include is None else tuple(include)
    key: Any = model
    return _form_for(key, kept, tuple(exclude), tuple((fields or {}).items()), name)


@functools.cache
def _form_for(
    model: type[Any],
    include: tuple[str, ...] | None,
    exclude: tuple[str, ...],
    extra: tuple[tuple[str, Field | Relation], ...],
    name: str | None,
) -> type[Form]:
    import sqlalchemy as sa

    from plait.db.schemas import schemas

    create = schemas(model, include=include, exclude=exclude).create
    mapper = sa.inspect(model)
    given = dict(extra)
    unknown = sorted(set(given) - set(create.__struct_fields__))
    if unknown:
        raise ConfigurationError(
            f"form_for({model.__name__}, fields=...) names {', '.join(map(repr, unknown))}, which the form does "
            f"not have; its fields are {', '.join(create.__struct_fields__)}."
        )
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": getattr(model, "__module__", None)}
    for info in msgspec.structs.fields(create):
        column = mapper.columns[info.name]
        metadata = _column_metadata(column, mapper)
        if info.name in given:
            metadata = _combine(metadata, given[info.name])
        annotations[info.name] = Annotated[(info.type, *metadata)] if metadata else info.type
        if info.default is not msgspec.NODEFAULT:
            namespace[info.name] = info.default
        elif info.default_factory is not msgspec.NODEFAULT:
            namespace[info.name] = msgspec.field(default_factory=info.default_factory)
    namespace["__doc__"] = f"The form that creates or edits one {model.__name__}."
    # Made as a subclass of Form (keyword-only fields: a required column may follow one with a default).
    form: type[Form] = FormMeta(f"{name or model.__name__}Form", (Form,), namespace)
    return form


def _column_metadata(column: Any, mapper: Any) -> list[Any]:
    import sqlalchemy as sa

    if column.foreign_keys:
        fk = next(iter(column.foreign_keys))
        target = next((m for m in mapper.registry.mappers if m.local_table is fk.column.table), None)
        if target is not None:
            return [Relation(target.class_, value=target.get_property_by_column(fk.column).key)]
    if isinstance(column.type, sa.Text):
        return [Textarea]
    return []


def _combine(metadata: list[Any], given: Field | Relation) -> list[Any]:
    """The caller's option over the column's: a Relation replaces, a Field changes only what it sets."""
    own = next((m for m in metadata if type(m) is type(given)), None)
    if isinstance(own, Field) and isinstance(given, Field):
        plain = Field()
        changed = {f.name: getattr(given, f.name) for f in dataclasses.fields(Field)}
        given = dataclasses.replace(own, **{k: v for k, v in changed.items() if v != getattr(plain, k)})
    return [given, *(m for m in metadata if m is not own)]


@dataclasses.dataclass(slots=True)
class Loaded:
    """The rows one relation field may choose from, as the page shows them."""

    choices: list[tuple[str, str]]
    truncated: bool  # more rows exist than Relation.limit: values outside the list are looked up


async def load_choices(spec: FormSpec, db: AsyncSession) -> dict[str, Loaded]:
    """Run each relation field's bounded query: at most ``limit`` rows, one query per field."""
    from sqlalchemy import select

    loaded: dict[str, Loaded] = {}
    for field in spec.relations:
        relation = field.relation
        assert relation is not None  # spec.relations holds only relation fields
        value_of = _value_attribute(relation)
        stmt = select(relation.model)
        if relation.where is not None:
            stmt = stmt.where(relation.where)
        order = relation.order_by if relation.order_by is not None else getattr(relation.model, value_of)
        # One row more than shown tells whether the list was cut short.
        rows = list((await db.scalars(stmt.order_by(order).limit(relation.limit + 1))).all())
        label = _labeller(relation)
        choices = [(choice_value(getattr(row, value_of)), label(row)) for row in rows[: relation.limit]]
        loaded[field.key] = Loaded(choices, len(rows) > relation.limit)
    return loaded


async def check_relations(spec: FormSpec, converted: Converted, loaded: Mapping[str, Loaded], db: AsyncSession) -> None:
    """Refuse relation values that are not among the allowed rows (a row deleted, or a forged value)."""
    from sqlalchemy import func, select

    data = converted.data
    if data is None:
        return  # other fields failed: the relations are checked once the values convert
    for field in spec.relations:
        relation = field.relation
        assert relation is not None
        value = getattr(data, field.name)
        wanted = [] if value is None else (list(value) if field.many else [value])
        listed = {choice for choice, _ in loaded[field.key].choices}
        missing = [item for item in wanted if choice_value(item) not in listed]
        if missing and loaded[field.key].truncated:
            # The page listed only the first rows; the others are allowed when the query would have found them.
            column = getattr(relation.model, _value_attribute(relation))
            stmt = select(func.count()).select_from(relation.model).where(column.in_(missing))
            if relation.where is not None:
                stmt = stmt.where(relation.where)
            missing = missing if (await db.scalar(stmt)) != len(set(missing)) else []
        if missing:
            converted.errors[field.key] = [CHOICE_MESSAGE]
            converted.data = None


def _value_attribute(relation: Relation) -> str:
    if relation.value is not None:
        return relation.value
    import sqlalchemy as sa

    keys = sa.inspect(relation.model).primary_key
    if len(keys) != 1:
        raise ConfigurationError(
            f"Relation({relation.model.__name__}) needs value='column' naming what the form submits: the model's "
            "primary key has several columns."
        )
    return str(sa.inspect(relation.model).get_property_by_column(keys[0]).key)


_LABEL_ATTRIBUTES = ("name", "title", "username", "email")


def _labeller(relation: Relation) -> Callable[[Any], str]:
    label = relation.label
    if callable(label):
        return label
    if isinstance(label, str):
        return lambda row: str(getattr(row, label))
    model = relation.model
    if any("__str__" in vars(klass) for klass in model.__mro__[:-1]):  # the model says how to show itself
        return str
    found = next((attr for attr in _LABEL_ATTRIBUTES if hasattr(model, attr)), None)
    if found is not None:
        return lambda row: str(getattr(row, found))
    value_of = _value_attribute(relation)
    return lambda row: f"{model.__name__} {getattr(row, value_of)}"


def session_binder(form: type[msgspec.Struct], bind: Callable[..., Any]) -> Callable[..., Any]:
    """The ``Submitted[form]`` provider of a form with relation fields: it also takes the request's session."""
    from sqlalchemy.ext.asyncio import AsyncSession

    async def provide(request: Request, db: AsyncSession) -> Any:
        return await bind(form, request, db=db)

    # Real classes, not the strings `from __future__ import annotations` leaves: Plait resolves these at
    # startup, and AsyncSession is not a name of this module's globals.
    provide.__annotations__ = {"request": Request, "db": AsyncSession, "return": Any}
    provide.__qualname__ = f"Submitted[{form.__qualname__}]"
    return provide
