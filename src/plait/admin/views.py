"""The admin's pages: login, dashboard, the list with its actions, and the routes of the edit pages.

Every handler runs through :func:`_guarded`: a visitor who is not logged in goes to the login page,
one who may not see the page gets a 403 page, and a bad request (an unknown sort column, say) an
error page with the status and the reason, never a 500.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from plait.admin import edit
from plait.admin.history import log
from plait.admin.models import DELETE, LogEntry
from plait.admin.options import ModelAdmin, label_of, table_name
from plait.admin.query import PAGE, ListState, date_links, filter_choices, list_statement, parse_state
from plait.admin.site import STATIC, Denied
from plait.exceptions import HTTPException
from plait.redirects import safe_next
from plait.requests import Request
from plait.responses import JSONResponse, RedirectResponse, Response
from plait.routing.router import Router

if TYPE_CHECKING:
    from plait.admin.site import Admin

__all__ = ["admin_router"]

DELETE_ACTION = "delete_selected"
AUTOCOMPLETE_LIMIT = 20


async def _guarded(site: Admin, request: Request, run: Callable[[], Awaitable[Response]]) -> Response:
    try:
        return await run()
    except Denied as exc:
        return site.denied(request, exc)
    except HTTPException as exc:
        if exc.status_code >= 500:  # pragma: no cover - the admin raises only 4xx itself
            raise
        context = {"message": str(exc.detail), "title": f"Error {exc.status_code}"}
        return site.render(request, "admin/denied.html", context, status_code=exc.status_code)


def admin_router(site: Admin) -> Router:
    """Every admin route, under ``site.prefix``; none of them is part of the OpenAPI document."""
    router = Router(prefix=site.prefix)
    router.mount_static("/static", str(STATIC), name="admin_static")
    options: dict[str, Any] = {"include_in_schema": False}

    async def index(request: Request, db: AsyncSession) -> Response:
        return await _guarded(site, request, lambda: dashboard(site, request, db))

    async def login_page(request: Request, db: AsyncSession) -> Response:
        return await _guarded(site, request, lambda: login(site, request, db))

    async def logout_page(request: Request) -> Response:
        from plait.auth.login import logout

        await logout(request)
        return RedirectResponse(f"{site.base_url(request)}/login", status_code=303)

    async def changelist(request: Request, db: AsyncSession, model: str) -> Response:
        return await _guarded(site, request, lambda: list_page(site, request, db, model))

    async def autocomplete(request: Request, db: AsyncSession, model: str) -> Response:
        return await _guarded(site, request, lambda: suggest(site, request, db, model))

    async def add(request: Request, db: AsyncSession, model: str) -> Response:
        return await _guarded(site, request, lambda: edit.change_page(site, request, db, model, None))

    async def change(request: Request, db: AsyncSession, model: str, pk: str) -> Response:
        return await _guarded(site, request, lambda: edit.change_page(site, request, db, model, pk))

    async def delete(request: Request, db: AsyncSession, model: str, pk: str) -> Response:
        return await _guarded(site, request, lambda: edit.delete_page(site, request, db, model, pk))

    async def history(request: Request, db: AsyncSession, model: str, pk: str) -> Response:
        return await _guarded(site, request, lambda: edit.history_page(site, request, db, model, pk))

    router.add_route("/", index, name="admin_index", **options)
    router.add_route("/login", login_page, ["GET", "POST"], name="admin_login", **options)
    router.add_route("/logout", logout_page, ["POST"], name="admin_logout", **options)
    router.add_route("/{model}", changelist, ["GET", "POST"], name="admin_list", **options)
    router.add_route("/{model}/autocomplete", autocomplete, name="admin_autocomplete", **options)
    router.add_route("/{model}/add", add, ["GET", "POST"], name="admin_add", **options)
    router.add_route("/{model}/{pk}/change", change, ["GET", "POST"], name="admin_change", **options)
    router.add_route("/{model}/{pk}/delete", delete, ["GET", "POST"], name="admin_delete", **options)
    router.add_route("/{model}/{pk}/history", history, name="admin_history", **options)
    return router


async def page_context(site: Admin, request: Request, db: AsyncSession) -> tuple[Any, Any, dict[str, Any]]:
    """The staff user, their permission test and what every page's layout needs (the side navigation)."""
    user = await site.user(request, db)
    may = await site.permissions(request, db, user)
    nav = [entry for entry in site.registry.values() if may(entry, "view")]
    return user, may, {"user": user, "nav": nav}


# -- dashboard and login ----------------------------------------------------------------------------


async def dashboard(site: Admin, request: Request, db: AsyncSession) -> Response:
    _, may, context = await page_context(site, request, db)
    visible: list[ModelAdmin] = context["nav"]
    counts = []
    for entry in visible:
        total = await db.scalar(sa.select(sa.func.count()).select_from(entry.model))
        counts.append((entry, total, may(entry, "add")))
    recent: list[LogEntry] = []
    if visible:
        keys = [entry.key for entry in visible]
        stmt = sa.select(LogEntry).where(LogEntry.model.in_(keys))
        stmt = stmt.order_by(LogEntry.action_time.desc(), LogEntry.id.desc()).limit(site.recent_actions)
        recent = list((await db.scalars(stmt)).all())
    context |= {"counts": counts, "recent": recent, "title": "Dashboard", "registry": site.registry}
    return site.render(request, "admin/dashboard.html", context)


async def login(site: Admin, request: Request, db: AsyncSession) -> Response:
    from plait.auth.identity import get_auth, optional_user
    from plait.auth.login import login as log_in

    auth = get_auth(request.app)
    base = site.base_url(request)
    wanted = request.query_params.get("next")
    error = None
    if request.method == "POST":
        posted = await request.form()
        value, password = str(posted.get("username", "")).strip(), str(posted.get("password", ""))
        wanted = str(posted.get("next", "")) or None
        user, error = await _authenticate(auth, request, db, value, password)
        if user is not None:
            await log_in(request, user, db)
            return RedirectResponse(safe_next(request, wanted, base), status_code=303)
    else:
        current = await optional_user(request, db)
        if current is not None and current.is_staff:
            return RedirectResponse(safe_next(request, wanted, base), status_code=303)
    context = {"title": "Log in", "error": error, "next": wanted or "", "login_field": auth.login_field}
    return site.render(request, "admin/login.html", context, status_code=422 if error else 200)


async def _authenticate(auth: Any, request: Request, db: AsyncSession, value: str, password: str) -> tuple[Any, str]:
    """The staff user for these credentials, or an error message; failed attempts count towards the throttle."""
    from plait.auth.throttle import account_key, ip_key

    keys = [(account_key(value), auth.settings.throttle_account_limit)]
    if request.client is not None:
        keys.append((ip_key(request.client.host), auth.settings.throttle_ip_limit))
    window = auth.settings.throttle_window
    for key, limit in keys:
        failures, _ = await auth.throttle.failures(key, window)
        if failures >= limit:
            raise HTTPException(429, "Too many failed logins; wait a few minutes before trying again.")
    user = None
    if value and password and len(password) <= 4096 and "\x00" not in value:
        user = await auth.authenticate(db, value, password)
    # A non-staff account is refused with the same words: the page does not tell which accounts exist.
    if user is None or not user.is_staff:
        for key, _ in keys:
            await auth.throttle.fail(key, window)
        return None, f"Enter the {auth.login_field} and password of a staff account. Both may be case-sensitive."
    await auth.throttle.clear(keys[0][0])
    return user, ""


# -- the list ---------------------------------------------------------------------------------------------


async def list_page(site: Admin, request: Request, db: AsyncSession, key: str) -> Response:
    entry = site.entry(key)
    user, may, context = await page_context(site, request, db)
    if not may(entry, "view"):
        raise Denied(f"You do not have permission to view {entry.verbose_plural.lower()}.")
    if request.method == "POST":
        return await run_action(site, request, db, entry, user, may)
    state = parse_state(entry, request.query_params)
    rows_stmt, count_stmt = list_statement(entry, state)
    total = int(await db.scalar(count_stmt) or 0)
    pages = max(1, math.ceil(total / entry.list_per_page))
    state.page = min(state.page, pages)
    offset = (state.page - 1) * entry.list_per_page
    rows = (await db.scalars(rows_stmt.limit(entry.list_per_page).offset(offset))).unique().all()
    actions = _actions(entry, may)
    context |= {
        "entry": entry,
        "title": entry.verbose_plural,
        "state": state,
        "rows": [_row(site, request, entry, obj) for obj in rows],
        "headings": _headings(entry, state),
        "total": total,
        "pages": _page_links(state, pages),
        "page_count": pages,
        "filters": await filter_choices(entry, state, db),
        "dates": await date_links(entry, state, db),
        "actions": actions,
        "can_add": may(entry, "add"),
    }
    return site.render(request, "admin/list.html", context)


def _headings(entry: ModelAdmin, state: ListState) -> list[dict[str, Any]]:
    found = []
    for name in entry.list_columns:
        heading: dict[str, Any] = {"text": entry.heading(name), "sort": None, "order": None}
        if isinstance(name, str) and name in entry.sortable:
            current = state.order[1] if state.order is not None and state.order[0] == name else None
            heading["order"] = None if current is None else ("descending" if current else "ascending")
            toggled = f"-{name}" if current is False else name
            heading["sort"] = state.query(o=toggled, **{PAGE: None})
        found.append(heading)
    return found


def _row(site: Admin, request: Request, entry: ModelAdmin, obj: Any) -> dict[str, Any]:
    pk = getattr(obj, entry.pk_name)
    link = f"{site.base_url(request)}/{entry.key}/{pk}/change"
    cells = [
        {"text": entry.display(obj, name), "link": link if name in entry.links else None} for name in entry.list_columns
    ]
    return {"pk": pk, "cells": cells, "label": label_of(obj)}


def _page_links(state: ListState, pages: int) -> list[tuple[str, str | None]]:
    """Page numbers around the current one, the first and the last, with gaps as "…"."""
    wanted = sorted({1, pages, *range(max(1, state.page - 2), min(pages, state.page + 2) + 1)})
    links: list[tuple[str, str | None]] = []
    previous = 0
    for number in wanted:
        if number - previous > 1:
            links.append(("…", None))
        links.append((str(number), None if number == state.page else state.query(**{PAGE: str(number)})))
        previous = number
    return links


def _actions(entry: ModelAdmin, may: Callable[[ModelAdmin, str], bool]) -> list[tuple[str, str]]:
    found = [(DELETE_ACTION, f"Delete selected {entry.verbose_plural.lower()}")] if may(entry, "delete") else []
    found += [(item.name, item.description) for item in entry.actions if may(entry, item.permission)]
    return found


async def run_action(
    site: Admin, request: Request, db: AsyncSession, entry: ModelAdmin, user: Any, may: Callable[..., bool]
) -> Response:
    from plait.sessions import flash

    posted = await request.form()
    name = str(posted.get("action", ""))
    back = f"{site.base_url(request)}/{entry.key}{_kept_query(entry, str(posted.get('query', '')))}"
    if name not in dict(_actions(entry, may)):
        raise HTTPException(400, f"{name!r} is not an action you may run on {entry.verbose_plural.lower()}.")
    ids = [edit.parse_pk(entry, value) for value in posted.getlist("selected")][: entry.list_per_page * 10]
    session = request.scope["session"]
    if not ids:
        flash(session, "Pick at least one item first, then the action.", "warning")
        return RedirectResponse(back, status_code=303)
    objects = list((await db.scalars(sa.select(entry.model).where(entry.pk_column.in_(ids)))).all())
    if name == DELETE_ACTION:
        if posted.get("confirm") != "yes":
            return await edit.confirm_delete(site, request, db, entry, objects, posted.get("query", ""))

        async def work() -> None:
            for obj in objects:
                await db.delete(obj)

        if not await edit.in_savepoint(db, work):
            flash(session, "Nothing was deleted: other rows still point at these.", "error")
            return RedirectResponse(back, status_code=303)
        for obj in objects:
            await log(db, user, entry, obj, DELETE, {})
        flash(session, f"Deleted {len(objects)} {entry.verbose_plural.lower()}.", "success")
        return RedirectResponse(back, status_code=303)
    chosen = entry.action_map[name]
    message = await chosen.function(request, db, objects)
    for obj in objects:
        await log(db, user, entry, obj, "change", {"action": ["", chosen.description]})
    flash(session, str(message) if message else f"{chosen.description}: done for {len(objects)}.", "success")
    return RedirectResponse(back, status_code=303)


def _kept_query(entry: ModelAdmin, query: str) -> str:
    """The list's query string to go back to, rebuilt from its checked state (anything odd is dropped)."""
    from plait.datastructures import QueryParams

    try:
        return parse_state(entry, QueryParams(query.removeprefix("?").encode())).query()
    except HTTPException:
        return ""


async def suggest(site: Admin, request: Request, db: AsyncSession, key: str) -> Response:
    """Up to 20 rows of a foreign key's target matching ``q``, for an autocomplete field: ``[{id, label}]``."""
    entry = site.entry(key)
    _, may, _ = await page_context(site, request, db)
    # Whoever may fill in the form would see the same rows in a select: that is the permission asked.
    if not (may(entry, "add") or may(entry, "change")):
        raise Denied(f"You do not have permission to edit {entry.verbose_plural.lower()}.")
    field = request.query_params.get("field", "")
    if "\x00" in request.query_params.get("q", ""):
        raise HTTPException(400, "The search text contains a NUL character.")
    if field not in entry.fk_relation or field not in entry.form_fields:
        raise HTTPException(400, f"{field!r} is not a foreign key of the {entry.verbose.lower()} form.")
    target = entry.fk_relation[field].mapper
    text = [c for c in target.columns if isinstance(c.type, sa.String) and not isinstance(c.type, sa.Enum)]
    registered = site.registry.get(table_name(target))
    if registered is not None and registered.search_columns:
        text = [registered.columns[name] for name in registered.search_columns]
    stmt = sa.select(target.class_)
    query = request.query_params.get("q", "").strip()[:100]
    if query and text:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(*(column.ilike(pattern, escape="\\") for column in text)))
    key_column = next(iter(entry.columns[field].foreign_keys)).column
    rows = (await db.scalars(stmt.order_by(key_column).limit(AUTOCOMPLETE_LIMIT))).all()
    attribute = target.get_property_by_column(key_column).key
    return JSONResponse([{"id": getattr(row, attribute), "label": label_of(row)} for row in rows])
