"""``ModelAdmin``: how one model shows in the admin, declared with the options Django users know.

Every option is optional: ``admin.register(Article)`` gives a complete admin (every column listed,
sortable, searchable on its text columns, editable in a form derived from the columns). Options are
checked when the model is registered, so a misspelt column is a ``ConfigurationError`` at startup
that names the columns there are, never a 500 later (and never a name that reaches SQL unchecked).

>>> from sqlalchemy import Integer, String
>>> from sqlalchemy.orm import DeclarativeBase, mapped_column
>>> class Base(DeclarativeBase): ...
>>> class Tag(Base):  # as usual with Mapped[...] annotations; spelled without them for this doctest
...     __tablename__ = "doctest_admin_tag"
...     id = mapped_column(Integer, primary_key=True)
...     name = mapped_column(String(40), nullable=False)
>>> tags = ModelAdmin(Tag)
>>> tags.key, tags.list_columns, tags.search_columns
('doctest_admin_tag', ['id', 'name'], ['name'])
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import ColumnProperty, Mapper, RelationshipDirection, RelationshipProperty

from plait.exceptions import ConfigurationError

__all__ = ["Action", "InlineAdmin", "ModelAdmin", "action", "fits", "label_of"]

ActionFunction = Callable[..., Awaitable[Any]]
EMPTY = "—"
_LABEL_ATTRIBUTES = ("name", "title", "username", "email")


@dataclasses.dataclass(frozen=True)
class Action:
    """A bulk action on the objects picked in the list: ``await function(request, db, objects)``.

    It may return a message (flashed) or None. ``permission`` is the admin permission it needs.
    """

    name: str
    function: ActionFunction
    description: str
    permission: str = "change"


def action(description: str | None = None, *, permission: str = "change") -> Callable[[ActionFunction], Action]:
    """Declare a bulk action for ``ModelAdmin.actions``.

    >>> @action("Publish the picked articles")
    ... async def publish(request, db, articles):
    ...     for article in articles:
    ...         article.published = True
    ...     return f"{len(articles)} published."
    >>> publish.name, publish.description
    ('publish', 'Publish the picked articles')
    """
    if permission not in ("view", "add", "change", "delete"):
        raise ConfigurationError(f"action(permission={permission!r}): use 'view', 'add', 'change' or 'delete'.")

    def make(function: ActionFunction) -> Action:
        text = description or function.__name__.replace("_", " ").capitalize()
        return Action(function.__name__, function, text, permission)

    return make


def label_of(obj: Any) -> str:
    """An object's name on admin pages: its ``__str__``, else its name/title/username/email, else ``Model #pk``."""
    if obj is None:
        return EMPTY
    model = type(obj)
    if any("__str__" in vars(klass) for klass in model.__mro__[:-1]):
        return str(obj)
    for attr in _LABEL_ATTRIBUTES:
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    identity = sa.inspect(obj).identity
    shown = ", ".join(str(part) for part in identity) if identity else "new"
    return f"{model.__name__} #{shown}"


def _mapper(model: type[Any]) -> Mapper[Any]:
    try:
        mapper = sa.inspect(model)
    except sa.exc.NoInspectionAvailable:
        mapper = None
    if not isinstance(mapper, Mapper):
        raise ConfigurationError(f"admin.register() takes a SQLAlchemy model class; got {model!r}.")
    return mapper


class _Base:
    """What a ModelAdmin and an inline share: the model's columns, relations and the form's fields."""

    model: type[Any]
    fields: ClassVar[Sequence[str] | None] = None
    exclude: ClassVar[Sequence[str]] = ()
    readonly_fields: ClassVar[Sequence[str]] = ()
    autocomplete_fields: ClassVar[Sequence[str]] = ()
    relation_limit: ClassVar[int] = 200
    """A foreign key whose target has more rows than this is typed as an id with suggestions (autocomplete)."""

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        self.mapper = _mapper(model)
        keys = self.mapper.primary_key
        if len(keys) != 1:
            raise ConfigurationError(
                f"The admin needs a single-column primary key; {model.__name__} has {len(keys)}. Give it an id column."
            )
        self.pk_column = keys[0]
        self.pk_name = self.mapper.get_property_by_column(keys[0]).key
        self.columns: dict[str, sa.Column[Any]] = {
            prop.key: prop.columns[0]
            for prop in self.mapper.column_attrs
            if isinstance(prop, ColumnProperty) and isinstance(prop.columns[0], sa.Column)
        }
        self.relations: dict[str, RelationshipProperty[Any]] = {prop.key: prop for prop in self.mapper.relationships}
        self.fk_relation: dict[str, RelationshipProperty[Any]] = {}
        for prop in self.relations.values():
            if prop.direction is RelationshipDirection.MANYTOONE and len(prop.local_columns) == 1:
                column = next(iter(prop.local_columns))
                key = self.mapper.get_property_by_column(column).key
                self.fk_relation.setdefault(key, prop)
        self.many_to_many = [k for k, p in self.relations.items() if p.secondary is not None and p.uselist]
        self.form_fields = self._form_fields()

    # -- the form's fields ------------------------------------------------------------------------

    def editable(self, name: str) -> bool:
        """Whether a column can be typed into a form (not an autoincrement key, not a computed value)."""
        if name in self.many_to_many:
            return True
        column = self.columns.get(name)
        if column is None:
            return False
        if column.primary_key and column.autoincrement in (True, "auto") and _is_int(column.type):
            return False
        if column.computed is not None or column.onupdate is not None or column.server_onupdate is not None:
            return False
        return kind_of(column) != "other"

    def _form_fields(self) -> list[str]:
        names = list(self.columns) + self.many_to_many
        self._check("exclude", self.exclude, names)
        self._check("readonly_fields", [n for n in self.readonly_fields if not callable(n)], names, methods=True)
        self._check("autocomplete_fields", self.autocomplete_fields, list(self.fk_relation))
        if self.fields is not None:
            self._check("fields", self.fields, names)
            chosen = list(self.fields)
        else:
            chosen = [n for n in names if self.editable(n)]
        return [n for n in chosen if n not in self.exclude and n not in self.readonly_fields and self.editable(n)]

    def _check(self, option: str, given: Sequence[Any], known: Sequence[str], *, methods: bool = False) -> None:
        if isinstance(given, str):
            raise ConfigurationError(f"{type(self).__name__}.{option} takes a sequence; write ({given!r},).")
        unknown = [n for n in given if isinstance(n, str) and n not in known and not (methods and hasattr(self, n))]
        if unknown:
            raise ConfigurationError(
                f"{type(self).__name__}.{option} names {', '.join(map(repr, unknown))}, which {self.model.__name__} "
                f"does not have; its fields are {', '.join(known) or '(none)'}."
            )

    # -- values as pages show them ------------------------------------------------------------------

    def display(self, obj: Any, name: str | Callable[[Any], Any]) -> Any:
        """One cell of the list or one read-only field: escaped by the template, never a link."""
        if callable(name):
            return _text(name(obj))
        method = getattr(self, name, None)
        if name not in self.columns and name not in self.relations and callable(method):
            return _text(method(obj))
        if name in self.fk_relation:
            related = _loaded(obj, self.fk_relation[name].key)
            if related is not _UNLOADED:
                return label_of(related)
        if name in self.relations:
            related = _loaded(obj, name)
            if isinstance(related, list):
                return ", ".join(label_of(item) for item in related) or EMPTY
            return EMPTY if related is _UNLOADED else label_of(related)
        return _text(getattr(obj, name))

    def heading(self, name: str | Callable[[Any], Any]) -> str:
        """A column heading: a callable's ``description`` (as Django), else the name in words."""
        if callable(name):
            return str(getattr(name, "description", name.__name__.replace("_", " ").capitalize()))
        method = getattr(self, name, None)
        if name not in self.columns and method is not None:
            return str(getattr(method, "description", name.replace("_", " ").capitalize()))
        if name in self.fk_relation:
            name = name.removesuffix("_id")
        return name.replace("_", " ").capitalize()


class InlineAdmin(_Base):
    """Children edited on their parent's page (one-to-many): ``inlines = [CommentInline]``.

    ``model`` is the child model; ``fk`` the child's column pointing at the parent (found when there
    is only one); ``extra`` blank rows are offered for new children.
    """

    fk: ClassVar[str | None] = None
    extra: ClassVar[int] = 1
    max_children: ClassVar[int] = 100

    def __init__(self, parent: type[Any]) -> None:
        if not isinstance(getattr(type(self), "model", None), type):
            raise ConfigurationError(f"{type(self).__name__} needs model = TheChildModel.")
        super().__init__(type(self).model)
        targets = [
            name
            for name, column in self.columns.items()
            if any(fk.column.table is _mapper(parent).local_table for fk in column.foreign_keys)
        ]
        if self.fk is not None:
            self._check("fk", [self.fk], targets)
            targets = [self.fk]
        if len(targets) != 1:
            raise ConfigurationError(
                f"{type(self).__name__}: {self.model.__name__} has {len(targets)} foreign keys to "
                f"{parent.__name__} ({', '.join(targets) or 'none'}); set fk = 'column_name'."
            )
        self.fk_name = targets[0]
        self.form_fields = [n for n in self.form_fields if n != self.fk_name]
        self.label = self.model.__name__


class ModelAdmin(_Base):
    """The admin options of one model; subclass it and pass it to ``admin.register``.

    ``list_display`` (columns, relationship names, or methods/callables taking the object),
    ``list_display_links``, ``search_fields``, ``list_filter`` (boolean, enum, date and foreign-key
    columns), ``ordering`` (``"-created_at"``), ``list_per_page``, ``readonly_fields``, ``fields``,
    ``exclude``, ``fieldsets`` (``[("Title", ["a", "b"]), ...]``), ``prepopulated_fields``
    (``{"slug": ("title",)}``), ``date_hierarchy``, ``inlines`` and ``actions``.
    """

    list_display: ClassVar[Sequence[str | Callable[[Any], Any]]] = ()
    list_display_links: ClassVar[Sequence[str]] = ()
    search_fields: ClassVar[Sequence[str]] = ()
    list_filter: ClassVar[Sequence[str]] = ()
    ordering: ClassVar[Sequence[str]] = ()
    list_per_page: ClassVar[int] = 100
    fieldsets: ClassVar[Sequence[tuple[str | None, Sequence[str]]] | None] = None
    prepopulated_fields: ClassVar[Mapping[str, Sequence[str]]] = {}
    date_hierarchy: ClassVar[str | None] = None
    inlines: ClassVar[Sequence[type[InlineAdmin]]] = ()
    actions: ClassVar[Sequence[Action]] = ()
    extra_fields: ClassVar[Mapping[str, Any]] = {}
    """Form fields that are not columns, ``{name: annotation}`` (always optional): read them in :meth:`save_model`."""
    label: ClassVar[str | None] = None
    label_plural: ClassVar[str | None] = None
    permission_prefix: ClassVar[str | None] = None
    """The first part of the permission codenames (``<prefix>.view``); the table name by default."""

    def __init__(self, model: type[Any]) -> None:
        super().__init__(model)
        self.key: str = table_name(self.mapper)
        self.verbose = self.label or _words(model.__name__)
        self.verbose_plural = self.label_plural or f"{self.verbose}s"
        self.perm_prefix = self.permission_prefix or self.key
        columns = list(self.columns)
        shown: list[str | Callable[[Any], Any]] = list(self.list_display)
        if not shown:  # every drawable column, up to eight of them
            ordered = [self.pk_name, *(c for c in columns if c != self.pk_name)]  # the key first, as mixins put it last
            shown.extend([c for c in ordered if kind_of(self.columns[c]) != "other"][:8])
        self._check(
            "list_display", [n for n in shown if isinstance(n, str)], columns + list(self.relations), methods=True
        )
        self.list_columns: list[str | Callable[[Any], Any]] = shown
        self._check("list_display_links", self.list_display_links, [n for n in shown if isinstance(n, str)])
        first = next((n for n in shown if isinstance(n, str)), None)
        self.links = list(self.list_display_links) or ([first] if first is not None else [])
        text = [c for c in columns if isinstance(self.columns[c].type, sa.String) and not _is_enum(self.columns[c])]
        self._check("search_fields", self.search_fields, text)
        self.search_columns = list(self.search_fields) if self.search_fields or self.list_display else text
        self.sortable = {n for n in shown if isinstance(n, str) and (n in self.columns)}
        self._check("ordering", [o.removeprefix("-") for o in self.ordering], columns)
        self.sortable |= {o.removeprefix("-") for o in self.ordering}
        self._check_filters()
        self._check_layout(columns)
        if self.list_per_page < 1 or self.list_per_page > 1000:
            raise ConfigurationError(f"{type(self).__name__}.list_per_page must be between 1 and 1000.")
        self.inline_admins = [inline(model) for inline in self.inlines]
        self.action_map: dict[str, Action] = {}
        for item in self.actions:
            if not isinstance(item, Action):
                raise ConfigurationError(f"{type(self).__name__}.actions: decorate {item!r} with @action(...).")
            self.action_map[item.name] = item

    def _check_filters(self) -> None:
        usable = [c for c in self.columns if filter_kind(self, c) is not None]
        self._check("list_filter", self.list_filter, usable)
        dated = [c for c in self.columns if kind_of(self.columns[c]) in ("date", "datetime")]
        if self.date_hierarchy is not None:
            self._check("date_hierarchy", [self.date_hierarchy], dated)

    def _check_layout(self, columns: list[str]) -> None:
        clash = [name for name in self.extra_fields if name in self.columns or name in self.relations]
        if clash:
            raise ConfigurationError(
                f"{type(self).__name__}.extra_fields names {', '.join(map(repr, clash))}, which are already "
                f"{self.model.__name__}'s; give the extra fields names of their own."
            )
        known = columns + self.many_to_many + list(self.extra_fields)
        if self.fieldsets is not None:
            named = [name for _, names in self.fieldsets for name in names]
            self._check("fieldsets", named, known + list(self.readonly_fields), methods=True)
        for target, sources in self.prepopulated_fields.items():
            self._check("prepopulated_fields", [target, *sources], self.form_fields)

    @property
    def layout(self) -> list[tuple[str | None, list[str]]]:
        """The form's sections: ``fieldsets``, else one untitled section of the editable then read-only fields."""
        if self.fieldsets is not None:
            return [(title, list(names)) for title, names in self.fieldsets]
        readonly = [n for n in self.readonly_fields if isinstance(n, str)]
        return [(None, [*self.form_fields, *self.extra_fields, *readonly])]

    async def save_model(self, request: Any, db: Any, obj: Any, form: Any, creating: bool) -> None:
        """Called with the form's values set on ``obj``, before it is written; override to do more.

        ``form.data`` holds every field, :attr:`extra_fields` too. A message added with
        ``form.add_error(name, message)`` cancels the save and shows the form again. Runs inside the
        save's savepoint: whatever it changes is kept only if the whole save succeeds.
        """


def kind_of(column: sa.Column[Any]) -> str:
    """What a column holds, as the admin draws it: bool, enum, date, datetime, time, int, json, text or other."""
    ctype = column.type
    if isinstance(ctype, sa.TypeDecorator):
        ctype = ctype.impl_instance
    if _is_enum(column):
        return "enum"
    for kind, types in _KINDS:
        if isinstance(ctype, types):
            return kind
    return "other"


_KINDS: tuple[tuple[str, Any], ...] = (
    ("bool", sa.Boolean),
    ("datetime", sa.DateTime),
    ("date", sa.Date),
    ("time", sa.Time),
    ("int", sa.Integer),
    ("number", (sa.Numeric, sa.Float)),
    ("json", sa.JSON),
    ("text", sa.String),
    ("uuid", sa.Uuid),
)


def filter_kind(admin: _Base, name: str) -> str | None:
    """The kind of sidebar filter a column gets (bool, enum, date, fk), or None when it cannot have one."""
    if name in admin.fk_relation:
        return "fk"
    kind = kind_of(admin.columns[name])
    if kind in ("bool", "enum"):
        return kind
    return "date" if kind in ("date", "datetime") else None


def fits(column: sa.Column[Any], number: int) -> bool:
    """Whether ``number`` fits the column's integer type (PostgreSQL refuses a bigger one with an error).

    >>> fits(sa.Column(sa.Integer), 2**31), fits(sa.Column(sa.BigInteger), 2**31)
    (False, True)
    """
    sizes: tuple[tuple[type[Any], int], ...] = ((sa.BigInteger, 64), (sa.SmallInteger, 16), (sa.Integer, 32))
    bits: int = next((size for kind, size in sizes if isinstance(column.type, kind)), 64)
    limit: int = 2 ** (bits - 1)
    return -limit <= number < limit


def table_name(mapper: Mapper[Any]) -> str:
    """The name of the table a mapper writes to (its own table under joined inheritance)."""
    return str(getattr(mapper.local_table, "name", ""))


def _is_enum(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.Enum)


def _is_int(ctype: Any) -> bool:
    return isinstance(ctype, sa.Integer) and not isinstance(ctype, sa.Boolean)


def _words(name: str) -> str:
    out = "".join(f" {ch.lower()}" if ch.isupper() and i else ch.lower() for i, ch in enumerate(name))
    return out.capitalize()


_UNLOADED = object()


def _loaded(obj: Any, key: str) -> Any:
    """A relationship's value when it was loaded with the page; never a lazy load (no N+1)."""
    state = sa.inspect(obj)
    if key in state.unloaded:
        return _UNLOADED
    return getattr(obj, key)


def _text(value: Any) -> Any:
    """A value as text for a cell. Markup from the model's own methods stays HTML; data never does."""
    if value is None:
        return EMPTY
    if hasattr(value, "__html__"):
        return value  # a ModelAdmin method may return Markup on purpose
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, enum.Enum):
        return value.name.replace("_", " ").capitalize()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= 80 else text[:79] + "…"
    return str(value)
