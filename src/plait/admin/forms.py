"""The admin's forms, derived from a model's columns with :mod:`plait.forms` doing the binding and drawing.

Each editable column becomes a field of a ``plait.forms.Form`` built once per admin: foreign keys
are :class:`~plait.forms.Relation` selects (or an id with suggestions for ``autocomplete_fields``),
many-to-many relationships multiple selects, enums selects, booleans checkboxes, dates and times
native inputs, and JSON columns a textarea whose text must parse as JSON. Saving sets the values on
the object and reports what changed, for the history.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from plait.admin.options import _Base, kind_of, label_of
from plait.db.schemas import schemas
from plait.forms import Field, Relation, Textarea
from plait.forms.bound import BoundForm
from plait.forms.fields import Form, FormMeta, choice_value

__all__ = ["assign", "autocompleted", "build_form", "changes", "form_values", "initial_values", "snapshot"]

JSON_ERROR = 'Enter valid JSON (for example {"key": "value"} or [1, 2]).'


@functools.cache
def build_form(admin: _Base, auto: frozenset[str] = frozenset()) -> type[Form]:
    """The form class of ``admin`` (cached): one field per editable column or many-to-many relation.

    Foreign keys named in ``auto`` are typed as ids with suggestions instead of drawn as selects.
    """
    read = {f.name: f.type for f in msgspec.structs.fields(schemas(admin.model).read)}
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    for name in admin.form_fields:
        tp, default = _field(admin, name, read.get(name), auto)
        annotations[name] = tp
        if default is not _REQUIRED:
            namespace[name] = default
    for name, extra in getattr(admin, "extra_fields", {}).items():
        annotations[name] = extra | None
        namespace[name] = None
    form: type[Form] = FormMeta(f"{admin.model.__name__}AdminForm", (Form,), namespace)
    return form


_REQUIRED = object()


def _field(admin: _Base, name: str, tp: Any, auto: frozenset[str]) -> tuple[Any, Any]:
    if name in admin.many_to_many:
        target = admin.relations[name].mapper
        key = target.get_property_by_column(target.primary_key[0]).key
        item = next(f.type for f in msgspec.structs.fields(schemas(target.class_).read) if f.name == key)
        relation = Relation(target.class_, label=label_of, limit=admin.relation_limit)
        return Annotated[list[item], relation], msgspec.field(default_factory=list)  # type: ignore[valid-type]
    column = admin.columns[name]
    optional = column.nullable or _db_fills(column)
    prepopulate = getattr(admin, "prepopulated_fields", {}).get(name)
    options = Field(attrs={"data-prepopulate": " ".join(prepopulate)}) if prepopulate else None
    if kind_of(column) == "json":
        field_tp: Any = Annotated[str, Textarea]
        return (field_tp | None, None) if optional else (field_tp, _REQUIRED)
    if name in admin.fk_relation:
        target = admin.fk_relation[name].mapper
        value = target.get_property_by_column(next(iter(column.foreign_keys)).column).key
        # The column's own type (with its integer range): a typed id too big for the column is a form
        # error, never a query the database refuses.
        if name in auto:
            marker: Any = Field(widget="text", attrs={"data-autocomplete": name, "inputmode": "numeric"})
        else:
            marker = Relation(target.class_, value=value, label=label_of, limit=admin.relation_limit)
        base: Any = Annotated[tp, marker]
        return (base | None, None) if optional else (base, _REQUIRED)
    if options is not None:
        tp = Annotated[tp, options]
    elif isinstance(column.type, sa.Text):
        tp = Annotated[tp, Textarea]
    default = _default(column)
    if default is not _REQUIRED:
        return tp, default
    if optional:
        return tp | None if not column.nullable else tp, None
    return tp, _REQUIRED


async def autocompleted(admin: _Base, db: AsyncSession) -> frozenset[str]:
    """The foreign keys typed with suggestions: ``autocomplete_fields``, and those whose target is large.

    A target with more than ``relation_limit`` rows would make a select that lists only some of them,
    so its rows are counted (at most ``relation_limit + 1``, one query per foreign key of the form).
    """
    found = set(admin.autocomplete_fields)
    for name in admin.form_fields:
        if name in admin.fk_relation and name not in found:
            target = admin.fk_relation[name].mapper
            capped = sa.select(sa.literal(1)).select_from(target.local_table).limit(admin.relation_limit + 1)
            total = await db.scalar(sa.select(sa.func.count()).select_from(capped.subquery()))
            if (total or 0) > admin.relation_limit:
                found.add(name)
    return frozenset(found)


def _db_fills(column: sa.Column[Any]) -> bool:
    """True when the database or the model fills the column in if the form leaves it empty."""
    default = column.default
    callable_default = default is not None and not getattr(default, "is_scalar", False)
    return column.server_default is not None or callable_default


def _default(column: sa.Column[Any]) -> Any:
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        value = default.arg  # type: ignore[attr-defined]
        if not isinstance(value, list | dict | set):
            return value
    if kind_of(column) == "bool" and not column.nullable:
        return False  # an unchecked box
    return _REQUIRED


def initial_values(admin: _Base, obj: Any) -> dict[str, Any]:
    """What an edit form shows for ``obj``: JSON as indented text, relations as lists of keys."""
    values: dict[str, Any] = {}
    for name in admin.form_fields:
        if name in admin.many_to_many:
            prop = admin.relations[name]
            key = str(prop.mapper.primary_key[0].key)
            values[name] = [getattr(item, key) for item in getattr(obj, name)]
        elif kind_of(admin.columns[name]) == "json":
            value = getattr(obj, name)
            values[name] = None if value is None else json.dumps(value, indent=2, ensure_ascii=False)
        else:
            values[name] = getattr(obj, name)
    return values


def snapshot(admin: _Base, obj: Any) -> dict[str, str]:
    """Every form field of ``obj`` as text, to compare before and after a change."""
    return {name: _shown(value) for name, value in initial_values(admin, obj).items()}


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(choice_value(item) for item in value)
    return choice_value(value)


async def form_values(
    admin: _Base, form: BoundForm[Any], db: AsyncSession, *, creating: bool, auto: frozenset[str] = frozenset()
) -> dict[str, Any] | None:
    """The values to set from a valid form, or None (with errors added to the form) when one is refused.

    Nothing is changed yet: the caller sets them with :func:`assign` inside a savepoint, so that a
    refused value never leaves half an object behind.
    """
    data = form.data
    values: dict[str, Any] = {}
    for name in admin.form_fields:
        value = getattr(data, name)
        column = admin.columns.get(name)
        if isinstance(value, str) and "\x00" in value:
            form.add_error(name, "Remove the NUL character: the database cannot store it.")
            continue
        if column is not None and kind_of(column) == "json" and value is not None:
            try:
                value = json.loads(value)
            except ValueError:
                form.add_error(name, JSON_ERROR)
                continue
        if column is not None and value is None and not column.nullable:
            if creating and _db_fills(column):
                continue  # the database or the model's default fills it in
            form.add_error(name, "This field is required.")
            continue
        values[name] = value
    await _check_autocomplete(admin, form, values, db, auto)
    return None if form.errors else values


async def assign(admin: _Base, obj: Any, values: Mapping[str, Any], db: AsyncSession) -> None:
    """Set ``values`` (from :func:`form_values`) on ``obj``; many-to-many keys become the rows they name."""
    for name, value in values.items():
        if name in admin.many_to_many:
            target = admin.relations[name].mapper
            key = target.primary_key[0]
            rows = (await db.scalars(sa.select(target.class_).where(key.in_(value)))).all() if value else []
            setattr(obj, name, list(rows))
        else:
            setattr(obj, name, value)


async def _check_autocomplete(
    admin: _Base, form: BoundForm[Any], values: Mapping[str, Any], db: AsyncSession, auto: frozenset[str]
) -> None:
    """An id typed into an autocomplete field must name an existing row (a select would have refused it)."""
    for name in auto:
        value = values.get(name)
        if value is None:
            continue
        target = admin.fk_relation[name].mapper
        column = next(iter(admin.columns[name].foreign_keys)).column
        found = await db.scalar(sa.select(sa.func.count()).select_from(target.local_table).where(column == value))
        if not found:
            form.add_error(name, "Choose an existing row: no row has this id.")


def changes(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, list[str]]:
    """``{field: [old, new]}`` for the fields whose text differs (for the history)."""
    return {name: [before.get(name, ""), value] for name, value in after.items() if before.get(name, "") != value}
