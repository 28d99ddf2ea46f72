"""What a form's fields are: options written in ``Annotated`` metadata, and the spec Plait reads from them.

A form is a ``msgspec.Struct``; each field's annotation says how it is parsed, validated and drawn.
:class:`Field` changes the drawing (widget, label, help text, attributes, fixed choices);
:class:`Relation` makes a field a choice among the rows of a database model. :func:`form_spec`
reads a form class once (cached) into :class:`FieldSpec` objects, the single description that
binding and rendering share.

>>> from typing import Annotated
>>> import msgspec
>>> class Signup(msgspec.Struct, kw_only=True):
...     email: Annotated[str, Email]
...     age: Annotated[int, msgspec.Meta(ge=18)]
...     newsletter: bool = False
>>> [(f.key, f.widget, f.required) for f in form_spec(Signup).fields]
[('email', 'email', True), ('age', 'number', True), ('newsletter', 'checkbox', False)]
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, get_args, get_origin

import msgspec

from plait.codec.types import strip_optional, unwrap_annotated
from plait.datastructures import UploadFile
from plait.exceptions import ConfigurationError

WIDGETS = frozenset(
    {
        "text", "textarea", "email", "password", "url", "tel", "search", "color", "hidden", "number", "checkbox",
        "date", "datetime-local", "time", "select", "radios", "checkboxes", "file",
    }
)  # fmt: skip
"""The widget names :class:`Field` accepts (a callable draws the control itself)."""

TEXTAREA_OVER = 255
"""A ``str`` whose ``max_length`` is larger than this is drawn as a ``<textarea>``."""

_LINE_INPUTS = frozenset({"text", "email", "url", "tel", "search", "number", "date", "datetime-local", "time"})


class FormMeta(msgspec.StructMeta):
    """The metaclass of :class:`Form`: a Struct metaclass whose classes have keyword-only fields."""

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **options: Any) -> Any:
        # Keyword-only fields, so a required field may follow one with a default, as forms list them.
        options.setdefault("kw_only", True)
        return super().__new__(mcls, name, bases, namespace, **options)


@typing.dataclass_transform(kw_only_default=True, field_specifiers=(msgspec.field,))
class Form(msgspec.Struct, metaclass=FormMeta):
    """Base class of form classes: a ``msgspec.Struct`` whose fields are keyword-only.

    Any Struct works as a form; this base only lets fields with defaults come first.

    >>> class Comment(Form):
    ...     public: bool = True
    ...     text: str
    >>> Comment(text="Nice")
    Comment(public=True, text='Nice')
    """


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Field:
    """How one form field is drawn: ``Annotated[str, Field(widget="textarea", label="Story")]``.

    ``widget`` is one of :data:`WIDGETS` or a callable ``(bound_field) -> html`` drawing the control;
    ``attrs`` are added to the control (``{"placeholder": "Title", "autocomplete": "off"}``);
    ``choices`` fixes the allowed values with their labels (``[("draft", "Draft"), ...]``);
    ``strip=False`` keeps surrounding spaces (they are stripped from one-line inputs by default).
    """

    widget: str | Callable[[Any], Any] | None = None
    label: str | None = None
    help: str | None = None
    attrs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    choices: Sequence[tuple[Any, str]] | None = None
    strip: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.widget, str) and self.widget not in WIDGETS:
            raise ConfigurationError(
                f"Field(widget={self.widget!r}) is not a widget Plait draws; use one of {', '.join(sorted(WIDGETS))}, "
                "or pass a callable that returns the control's HTML."
            )


Email = Field(widget="email")
"""``Annotated[str, Email]``: an ``<input type="email">``, checked to look like an address."""
URL = Field(widget="url")
"""``Annotated[str, URL]``: an ``<input type="url">``, checked to be an http(s) address."""
Password = Field(widget="password", strip=False)
"""``Annotated[str, Password]``: an ``<input type="password">`` whose value is never sent back to the page."""
Textarea = Field(widget="textarea")
"""``Annotated[str, Textarea]``: a ``<textarea>``."""
Hidden = Field(widget="hidden")
"""``Annotated[int, Hidden]``: an ``<input type="hidden">``."""


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Relation:
    """A choice among the rows of a model: ``author_id: Annotated[int, Relation(User, label="name")]``.

    When the form is bound, Plait selects at most ``limit`` rows (ordered by ``order_by``, else the
    primary key; filtered by ``where``, a SQL expression) with the request's ``AsyncSession``, and
    draws them as a ``<select>`` (a multiple one for ``list[int]``). ``value`` names the attribute
    submitted (the primary key by default); ``label`` is an attribute name or a callable (default:
    ``str(row)`` when the model defines ``__str__``, else its ``name``, ``title``, ``username`` or
    ``email``). A submitted value must be one of the allowed rows.

    Options compare by identity (``where`` holds a SQL expression, whose ``==`` builds SQL).
    """

    model: type[Any]
    _: dataclasses.KW_ONLY
    label: str | Callable[[Any], str] | None = None
    value: str | None = None
    order_by: Any = None
    where: Any = None
    limit: int = 200

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ConfigurationError(f"Relation(limit={self.limit}) must be at least 1 (the most rows listed).")


@dataclasses.dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field as Plait binds and draws it (see :func:`form_spec`)."""

    name: str  # the Struct attribute
    key: str  # the HTML name (the field's encoded name)
    tp: Any  # the full annotation, without ``| None``, for msgspec.convert
    base: Any  # the value type, without Annotated, None or list
    widget: str | Callable[[Any], Any]
    required: bool  # no default and not nullable
    nullable: bool
    has_default: bool
    many: bool
    constraints: Mapping[str, Any]
    choices: tuple[tuple[str, str], ...]  # fixed choices (value as submitted, label)
    relation: Relation | None
    options: Field

    @property
    def is_file(self) -> bool:
        return self.base is UploadFile

    @property
    def strips(self) -> bool:
        return self.options.strip and self.widget in _LINE_INPUTS

    @property
    def chosen(self) -> bool:
        """True when the value must be one of a list of choices (fixed, enum, Literal or rows)."""
        return bool(self.choices) or self.relation is not None

    @property
    def label(self) -> str:
        if self.options.label is not None:
            return self.options.label
        words = self.name.removesuffix("_id") if self.relation is not None else self.name
        return words.replace("_", " ").strip().capitalize()


@dataclasses.dataclass(frozen=True, slots=True)
class FormSpec:
    """Every field of one form class, in declaration order."""

    form: type[msgspec.Struct]
    fields: tuple[FieldSpec, ...]

    @property
    def multipart(self) -> bool:
        return any(f.is_file for f in self.fields)

    @property
    def relations(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.relation is not None)


@functools.cache
def form_spec(form: type[msgspec.Struct]) -> FormSpec:
    """Read a form class (a ``msgspec.Struct``) once; the result is cached per class."""
    if not (isinstance(form, type) and issubclass(form, msgspec.Struct)):
        raise ConfigurationError(
            f"{form!r} is not a form class; declare one as a msgspec.Struct (class ArticleForm(Form): ...) "
            "or derive one from a model with form_for(Article)."
        )
    try:
        infos = msgspec.structs.fields(form)
    except NameError as exc:
        raise ConfigurationError(
            f"{form.__qualname__}: an annotation names something Plait cannot find ({exc}); define or import "
            "that type at module level."
        ) from None
    return FormSpec(form, tuple(_field(form, info) for info in infos))


def _field(form: type[Any], info: msgspec.structs.FieldInfo) -> FieldSpec:
    where = f"{form.__qualname__}.{info.name}"
    outer, nullable, metadata = _peel(info.type)
    many = get_origin(outer) in (list, set, frozenset, tuple)
    base, inner_meta = outer, ()
    if many:
        args = get_args(outer)
        if get_origin(outer) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise ConfigurationError(f"{where}: a form field cannot be a fixed-length tuple; use list[...].")
        base, _, inner_meta = _peel(args[0] if args else str)
    options = next((m for m in (*metadata, *inner_meta) if isinstance(m, Field)), Field())
    relation = next((m for m in (*metadata, *inner_meta) if isinstance(m, Relation)), None)
    metas = [m for m in (metadata if many else (*metadata, *inner_meta)) if isinstance(m, msgspec.Meta)]
    constraints = _constraints(metas)
    choices = _choices(base, options, where)
    has_default = info.default is not msgspec.NODEFAULT or info.default_factory is not msgspec.NODEFAULT
    widget = options.widget or _default_widget(base, many, constraints, bool(choices) or relation is not None, where)
    return FieldSpec(
        name=info.name,
        key=info.encode_name,
        tp=_without_none(info.type),
        base=base,
        widget=widget,
        required=not (has_default or nullable),
        nullable=nullable,
        has_default=has_default,
        many=many,
        constraints=constraints,
        choices=choices,
        relation=relation,
        options=options,
    )


def _peel(tp: Any) -> tuple[Any, bool, tuple[Any, ...]]:
    """``Annotated[T | None, a] | None`` -> ``(T, nullable, metadata)``, whichever way it nests."""
    metadata: list[Any] = []
    nullable = False
    while True:
        tp, found = unwrap_annotated(tp)
        metadata.extend(found)
        tp, optional = strip_optional(tp)
        nullable = nullable or optional
        if not found and not optional:
            return tp, nullable, tuple(metadata)


def _without_none(tp: Any) -> Any:
    inner, metadata = unwrap_annotated(tp)
    stripped, _ = strip_optional(inner)
    if metadata:
        return Annotated[(_without_none(stripped), *metadata)]
    return stripped


def _constraints(metas: list[msgspec.Meta]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for meta in metas:
        for name in ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern"):
            value = getattr(meta, name)
            if value is not None:
                found[name] = value
    return found


def _choices(base: Any, options: Field, where: str) -> tuple[tuple[str, str], ...]:
    if options.choices is not None:
        return tuple((choice_value(value), label) for value, label in options.choices)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return tuple((choice_value(m.value), m.name.replace("_", " ").capitalize()) for m in base)
    if get_origin(base) is Literal:
        return tuple((choice_value(v), str(v)) for v in get_args(base))
    return ()


def choice_value(value: Any) -> str:
    """How a value is written in the page (an option's value, an input's value)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="minutes" if not value.second else "seconds")
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="minutes" if not value.second else "seconds")
    return "" if value is None else str(value)


_SCALAR_WIDGETS: dict[Any, str] = {
    str: "text",
    int: "number",
    float: "number",
    decimal.Decimal: "number",
    bool: "checkbox",
    datetime.date: "date",
    datetime.datetime: "datetime-local",
    datetime.time: "time",
    uuid.UUID: "text",
    UploadFile: "file",
}


def _default_widget(base: Any, many: bool, constraints: Mapping[str, Any], chosen: bool, where: str) -> str:
    if chosen:
        return "select"
    widget = _SCALAR_WIDGETS.get(base)
    if widget is None:
        raise ConfigurationError(
            f"{where}: Plait cannot draw a form field of type {base!r}; HTML forms send flat values, so use str, "
            "int, float, Decimal, bool, date, datetime, time, UUID, an Enum, a Literal, UploadFile or a list of "
            "those, or give it Field(widget=...)."
        )
    if widget == "checkbox" and many:
        raise ConfigurationError(f"{where}: a list of bools has no HTML control; use a list of choices instead.")
    if widget == "text" and (many or constraints.get("max_length", 0) > TEXTAREA_OVER):
        return "textarea"  # a free list is written one item per line
    if widget != "file" and many:
        return "textarea"
    return widget
