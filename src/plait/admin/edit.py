"""The pages of one object: add and change (with inlines), delete with its confirmation, and history."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from plait.admin.forms import assign, autocompleted, build_form, changes, form_values, initial_values, snapshot
from plait.admin.history import describe, log
from plait.admin.models import ADD, CHANGE, DELETE, LogEntry
from plait.admin.options import EMPTY, InlineAdmin, ModelAdmin, fits, kind_of, label_of, table_name
from plait.admin.site import Denied
from plait.exceptions import HTTPException
from plait.forms.binding import convert_form
from plait.forms.bound import BoundForm, bind
from plait.forms.fields import form_spec
from plait.forms.models import check_relations, load_choices
from plait.requests import Request
from plait.responses import RedirectResponse, Response

if TYPE_CHECKING:
    from plait.admin.site import Admin

__all__ = ["change_page", "confirm_delete", "delete_page", "history_page", "in_savepoint", "parse_pk"]

UNIQUE_ERROR = "This would break a rule of the database (a value that must be unique is taken?)."


def parse_pk(entry: Any, value: Any) -> Any:
    """A primary key from the URL or a form, as the column's Python type; 404 when it cannot be one."""
    text = str(value)
    if "\x00" in text:  # no key holds one (and PostgreSQL would refuse the comparison)
        raise HTTPException(404, "A key never contains a NUL character.")
    kind = kind_of(entry.pk_column)
    try:
        if kind == "int":
            number = int(text)
            if not fits(entry.pk_column, number):
                raise ValueError(text)
            return number
        if kind == "uuid":
            return uuid.UUID(text)
    except ValueError:
        raise HTTPException(404, f"{text[:40]!r} is not the key of any row.") from None
    return text


class Refused(Exception):
    """Raised inside a savepoint to undo it: a ``save_model`` hook reported a form error."""


async def in_savepoint(db: AsyncSession, work: Callable[[], Awaitable[None]]) -> bool:
    """Make the changes of ``work`` and flush them inside a savepoint; False when the database refuses them.

    The changes are made inside the savepoint on purpose: opening one flushes what is pending, so a
    change made before it would be flushed outside, where a refusal would break the whole transaction.
    """
    try:
        async with db.begin_nested():
            await work()
            await db.flush()
    except (sa_exc.IntegrityError, Refused) as exc:
        # Rolling the savepoint back expired every loaded object; the page drawn next reads them
        # (the user's name, the object's label) outside an await, so they are loaded again here.
        for obj in list(db.identity_map.values()):
            await db.refresh(obj)
        if isinstance(exc, Refused):
            raise
        return False
    return True


async def _load(entry: ModelAdmin, db: AsyncSession, pk: str) -> Any:
    stmt = sa.select(entry.model).where(entry.pk_column == parse_pk(entry, pk))
    for name in entry.many_to_many:
        stmt = stmt.options(selectinload(getattr(entry.model, name)))
    for name, prop in entry.fk_relation.items():
        if name in entry.readonly_fields:
            stmt = stmt.options(selectinload(getattr(entry.model, prop.key)))
    obj = (await db.scalars(stmt)).first()
    if obj is None:
        raise HTTPException(404, f"No {entry.verbose.lower()} has the key {pk[:40]!r}; it may have been deleted.")
    return obj


async def change_page(site: Admin, request: Request, db: AsyncSession, key: str, pk: str | None) -> Response:
    from plait.admin.views import page_context

    entry = site.entry(key)
    user, may, context = await page_context(site, request, db)
    creating = pk is None
    action = "add" if creating else "change"
    if not may(entry, action) and not (not creating and may(entry, "view") and request.method == "GET"):
        raise Denied(f"You do not have permission to {action} {entry.verbose_plural.lower()}.")
    obj = entry.model() if creating else await _load(entry, db, pk)  # type: ignore[arg-type]
    before = {} if creating else snapshot(entry, obj)
    auto = await autocompleted(entry, db)
    form = await bind(build_form(entry, auto), request, db=db)
    if not form.submitted:
        form.fill(initial_values(entry, obj) if not creating else {})
    inlines = [await _inline_rows(inline, request, db, None if creating else obj) for inline in entry.inline_admins]
    if form.is_valid and all(rows.valid for rows in inlines):
        saved = await _save(site, request, db, entry, user, obj, form, inlines, before, creating, auto)
        if saved is not None:
            return saved
    context |= {
        "entry": entry,
        "obj": None if creating else obj,
        "form": form,
        "inlines": inlines,
        "sections": _sections(entry, form),
        # Nothing to show for a row that does not exist yet (a method may need its saved values).
        "readonly": {
            name: EMPTY if creating else entry.display(obj, name)
            for name in entry.readonly_fields
            if isinstance(name, str)
        },
        "creating": creating,
        "can_change": may(entry, action),
        "can_delete": not creating and may(entry, "delete"),
        "title": f"Add {entry.verbose.lower()}" if creating else label_of(obj),
    }
    failed = (form.submitted and not form.is_valid) or any(r.submitted and not r.valid for r in inlines)
    status = 422 if failed else 200
    return site.render(request, "admin/form.html", context, status_code=status)


def _sections(entry: ModelAdmin, form: BoundForm[Any]) -> list[tuple[str | None, list[tuple[str, Any]]]]:
    """Each fieldset with its fields: ``("field", bound_field)`` or ``("readonly", name)``."""
    found = []
    for title, names in entry.layout:
        items: list[tuple[str, Any]] = []
        for name in names:
            if name in form:
                items.append(("field", form[name]))
            elif name in entry.readonly_fields:
                items.append(("readonly", name))
        found.append((title, items))
    return found


async def _save(
    site: Admin,
    request: Request,
    db: AsyncSession,
    entry: ModelAdmin,
    user: Any,
    obj: Any,
    form: BoundForm[Any],
    inlines: list[InlineRows],
    before: dict[str, str],
    creating: bool,
    auto: frozenset[str],
) -> Response | None:
    from plait.sessions import flash

    values = await form_values(entry, form, db, creating=creating, auto=auto)
    if values is None or not all([await rows.prepare(db) for rows in inlines]):
        return None
    changed: dict[str, list[str]] = {}

    async def work() -> None:
        await assign(entry, obj, values, db)
        await entry.save_model(request, db, obj, form, creating)
        if form.errors:
            raise Refused  # the hook refused a value: nothing of this save is kept
        if creating:
            db.add(obj)
            await db.flush()  # the new key, for the children
        else:
            changed.update(changes(before, snapshot(entry, obj)))
        for rows in inlines:
            changed.update(await rows.save(db, obj))

    try:
        saved = await in_savepoint(db, work)
    except Refused:
        return None
    if not saved:
        form.add_error(None, UNIQUE_ERROR)
        return None
    if creating or changed:
        await log(db, user, entry, obj, ADD if creating else CHANGE, {} if creating else changed)
    verb = "added" if creating else "changed"
    flash(request.scope["session"], f"The {entry.verbose.lower()} “{label_of(obj)}” was {verb}.", "success")
    posted = await request.form()
    base = f"{site.base_url(request)}/{entry.key}"
    pk = getattr(obj, entry.pk_name)
    if "_continue" in posted:
        return RedirectResponse(f"{base}/{pk}/change", status_code=303)
    if "_addanother" in posted:
        return RedirectResponse(f"{base}/add", status_code=303)
    return RedirectResponse(base, status_code=303)


class InlineRows:
    """The child rows of one inline on a change page: existing children, then ``extra`` blank rows."""

    def __init__(self, inline: InlineAdmin, rows: list[tuple[Any, BoundForm[Any], bool]], submitted: bool) -> None:
        self.inline = inline
        self.rows = rows  # (child or None, its form, marked for deletion)
        self.submitted = submitted
        self.prefix = table_name(inline.mapper)
        self.values: list[dict[str, Any] | None] = []

    @property
    def valid(self) -> bool:
        return all(form.is_valid or delete or not form.submitted for _, form, delete in self.rows)

    @property
    def headings(self) -> list[str]:
        form = build_form(self.inline, frozenset(self.inline.autocomplete_fields))
        return [field.label for field in form_spec(form).fields]

    async def prepare(self, db: AsyncSession) -> bool:
        """Check every submitted row's values (JSON, autocomplete ids) before anything is changed."""
        self.values = []
        for child, form, delete in self.rows:
            wanted = form.submitted and form.is_valid and not delete
            auto = frozenset(self.inline.autocomplete_fields)
            done = await form_values(self.inline, form, db, creating=child is None, auto=auto) if wanted else None
            self.values.append(done)
        return self.valid

    async def save(self, db: AsyncSession, parent: Any) -> dict[str, list[str]]:
        """Delete, change and add the children (inside the parent's savepoint); what changed, for the history."""
        changed: dict[str, list[str]] = {}
        parent_key = getattr(parent, _fk_target(self.inline, parent))
        for (child, _, delete), values in zip(self.rows, self.values, strict=True):
            if child is not None and delete:
                changed[f"{self.inline.label} “{label_of(child)}”"] = ["", "deleted"]
                await db.delete(child)
            elif values is not None:
                target = child if child is not None else self.inline.model()
                before = snapshot(self.inline, target) if child is not None else {}
                await assign(self.inline, target, values, db)
                setattr(target, self.inline.fk_name, parent_key)
                if child is None:
                    db.add(target)
                    changed[f"{self.inline.label} “{label_of(target)}”"] = ["", "added"]
                elif changes(before, snapshot(self.inline, target)):
                    changed[f"{self.inline.label} “{label_of(target)}”"] = ["", "changed"]
        return changed


def _fk_target(inline: InlineAdmin, parent: Any) -> str:
    """The parent attribute the inline's foreign key points at (usually its primary key)."""
    column = next(iter(inline.columns[inline.fk_name].foreign_keys)).column
    return str(sa.inspect(type(parent)).get_property_by_column(column).key)


async def _inline_rows(inline: InlineAdmin, request: Request, db: AsyncSession, parent: Any) -> InlineRows:
    # An inline's rows are many small forms: only its explicit autocomplete_fields are typed as ids.
    form_class = build_form(inline, frozenset(inline.autocomplete_fields))
    spec = form_spec(form_class)
    loaded = await load_choices(spec, db) if spec.relations else {}
    choices = {key: found.choices for key, found in loaded.items()}
    children: list[Any] = []
    if parent is not None:
        column = inline.columns[inline.fk_name]
        stmt = sa.select(inline.model).where(column == getattr(parent, _fk_target(inline, parent)))
        for name in inline.many_to_many:
            stmt = stmt.options(selectinload(getattr(inline.model, name)))
        stmt = stmt.order_by(inline.pk_column).limit(inline.max_children)
        children = list((await db.scalars(stmt)).all())
    prefix = table_name(inline.mapper)
    submitted = request.method == "POST"
    posted = await request.form() if submitted else None
    by_key = {str(getattr(child, inline.pk_name)): child for child in children}
    rows: list[tuple[Any, BoundForm[Any], bool]] = []
    total = len(children) + inline.extra
    if posted is not None:
        total = min(_count(posted.get(f"{prefix}-TOTAL")), inline.max_children + inline.extra)
    for index in range(total):
        row_prefix = f"{prefix}-{index}-"
        if posted is None:
            child = children[index] if index < len(children) else None
            form = BoundForm(form_class, request, choices=choices, prefix=row_prefix)
            if child is not None:
                form.fill(initial_values(inline, child))
            rows.append((child, form, False))
            continue
        given = str(posted.get(f"{row_prefix}id", ""))
        child = by_key.get(given) if given else None
        if given and child is None:
            raise HTTPException(400, f"Row {index + 1} of {inline.label}: no such child of this object.")
        values = {f.key: posted.getlist(row_prefix + f.key) for f in spec.fields}
        blank = child is None and not any(str(v).strip() for vs in values.values() for v in vs)
        if blank:
            rows.append((None, BoundForm(form_class, request, choices=choices, prefix=row_prefix), False))
            continue
        converted = convert_form(spec, values)
        if loaded:
            await check_relations(spec, converted, loaded, db)
        form = BoundForm(form_class, request, converted=converted, choices=choices, prefix=row_prefix)
        rows.append((child, form, child is not None and f"{row_prefix}DELETE" in posted))
    return InlineRows(inline, rows, submitted)


def _count(value: Any) -> int:
    text = str(value or "0")
    return int(text) if text.isdigit() else 0


# -- delete ------------------------------------------------------------------------------------------------


async def related_counts(entry: ModelAdmin, db: AsyncSession, objects: Sequence[Any]) -> list[tuple[str, int]]:
    """How many rows of each table point at ``objects`` by a foreign key (shown before deleting them).

    Read from the tables, not the model's relationships: a child that declares no relationship back
    (``Article.author`` without ``Author.articles``) still blocks or follows a delete.
    """
    found = []
    keys = [getattr(obj, entry.pk_name) for obj in objects]
    names = {m.local_table: m.class_.__name__ for m in entry.mapper.registry.mappers}
    for other in entry.mapper.registry.metadata.sorted_tables:
        for column in other.columns:
            if not any(fk.column is entry.pk_column for fk in column.foreign_keys):
                continue
            total = await db.scalar(sa.select(sa.func.count()).select_from(other).where(column.in_(keys)))
            if total:
                found.append((names.get(other, str(other.name)), int(total)))
    return found


async def confirm_delete(
    site: Admin, request: Request, db: AsyncSession, entry: ModelAdmin, objects: list[Any], query: Any
) -> Response:
    from plait.admin.views import page_context

    _, _, context = await page_context(site, request, db)
    context |= {
        "entry": entry,
        "objects": [(getattr(obj, entry.pk_name), label_of(obj)) for obj in objects],
        "related": await related_counts(entry, db, objects),
        "bulk": True,
        "query": str(query or ""),
        "title": f"Delete {len(objects)} {entry.verbose_plural.lower()}?",
    }
    return site.render(request, "admin/delete.html", context)


async def delete_page(site: Admin, request: Request, db: AsyncSession, key: str, pk: str) -> Response:
    from plait.admin.views import page_context
    from plait.sessions import flash

    entry = site.entry(key)
    user, may, context = await page_context(site, request, db)
    if not may(entry, "delete"):
        raise Denied(f"You do not have permission to delete {entry.verbose_plural.lower()}.")
    obj = await _load(entry, db, pk)
    if request.method == "POST":
        label = label_of(obj)
        session = request.scope["session"]

        async def work() -> None:
            await db.delete(obj)

        if await in_savepoint(db, work):
            await log(db, user, entry, obj, DELETE, {})
            flash(session, f"The {entry.verbose.lower()} “{label}” was deleted.", "success")
            return RedirectResponse(f"{site.base_url(request)}/{entry.key}", status_code=303)
        flash(session, f"“{label}” was not deleted: other rows still point at it.", "error")
        return RedirectResponse(f"{site.base_url(request)}/{entry.key}/{pk}/change", status_code=303)
    context |= {
        "entry": entry,
        "obj": obj,
        "objects": [(getattr(obj, entry.pk_name), label_of(obj))],
        "related": await related_counts(entry, db, [obj]),
        "bulk": False,
        "title": f"Delete {label_of(obj)}?",
    }
    return site.render(request, "admin/delete.html", context)


async def history_page(site: Admin, request: Request, db: AsyncSession, key: str, pk: str) -> Response:
    from plait.admin.views import page_context

    entry = site.entry(key)
    _, may, context = await page_context(site, request, db)
    if not may(entry, "view"):
        raise Denied(f"You do not have permission to view {entry.verbose_plural.lower()}.")
    key_value = str(parse_pk(entry, pk))
    stmt = sa.select(LogEntry).where(LogEntry.model == entry.key, LogEntry.object_id == key_value)
    entries = (await db.scalars(stmt.order_by(LogEntry.action_time.desc(), LogEntry.id.desc()).limit(200))).all()
    obj = (await db.scalars(sa.select(entry.model).where(entry.pk_column == parse_pk(entry, pk)))).first()
    context |= {
        "entry": entry,
        "obj": obj,
        "pk": key_value,
        "entries": [(item, describe(item)) for item in entries],
        "label": label_of(obj) if obj is not None else key_value,
        "title": f"History of {label_of(obj) if obj is not None else key_value}",
    }
    return site.render(request, "admin/history.html", context)
