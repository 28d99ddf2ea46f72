"""The list page's query: search, filters, date drill-down, sorting and pagination from the query string.

Only names the :class:`~plait.admin.ModelAdmin` allowed are ever turned into SQL, and every value
is a bound parameter. A parameter the page does not know, a column that is not sortable, a filter
value that is not one of the offered choices: each is a 400 saying what was wrong, so that a
crafted query string never reaches SQL as an identifier (and never silently shows other rows).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from plait.admin.options import ModelAdmin, filter_kind, fits, kind_of, label_of
from plait.datastructures import QueryParams
from plait.exceptions import HTTPException

__all__ = ["FilterChoice", "ListState", "date_links", "filter_choices", "list_statement", "parse_state"]

SEARCH, ORDER, PAGE = "q", "o", "page"
DATE_RANGES = {"today": "Today", "7d": "Past 7 days", "month": "This month", "year": "This year"}
BOOL_VALUES = {"true": True, "false": False}
MAX_SEARCH = 200
MAX_PAGE = 100_000
FK_FILTER_LIMIT = 100


def bad(detail: str) -> HTTPException:
    return HTTPException(400, detail)


@dataclasses.dataclass
class ListState:
    """What the query string asked the list page for, checked against the admin's options."""

    search: str = ""
    order: tuple[str, bool] | None = None  # (column, descending)
    filters: dict[str, str] = dataclasses.field(default_factory=dict)
    dates: dict[str, int] = dataclasses.field(default_factory=dict)  # year / month / day
    page: int = 1

    def query(self, **changes: Any) -> str:
        """The query string of this state with ``changes`` (a value of None drops a parameter)."""
        params: dict[str, Any] = {}
        if self.search:
            params[SEARCH] = self.search
        if self.order is not None:
            params[ORDER] = ("-" if self.order[1] else "") + self.order[0]
        params.update(self.filters)
        params.update({k: str(v) for k, v in self.dates.items()})
        if self.page != 1:
            params[PAGE] = str(self.page)
        params.update(changes)
        kept = {k: v for k, v in params.items() if v is not None}
        from urllib.parse import urlencode

        return "?" + urlencode(kept) if kept else "?"


def parse_state(admin: ModelAdmin, params: QueryParams) -> ListState:
    """Read the query string; anything not allowed by ``admin`` is a 400."""
    state = ListState()
    hierarchy = admin.date_hierarchy
    date_keys = {f"{hierarchy}__{part}": part for part in ("year", "month", "day")} if hierarchy else {}
    for key, value in params.multi_items():
        if "\x00" in value:
            # PostgreSQL refuses NUL in text (an error, not an empty result): say so before any SQL.
            raise bad(f"The value of {key!r} contains a NUL character.")
        if key == SEARCH:
            if len(value) > MAX_SEARCH:
                raise bad(f"The search text is too long (at most {MAX_SEARCH} characters).")
            state.search = value.strip()
        elif key == ORDER:
            state.order = _order(admin, value)
        elif key == PAGE:
            state.page = _int(value, PAGE, 1, MAX_PAGE)
        elif key in admin.list_filter:
            _check_filter(admin, key, value)
            state.filters[key] = value
        elif key in date_keys:
            part = date_keys[key]
            limits = {"year": (1, 9998), "month": (1, 12), "day": (1, 31)}[part]  # 9998: its end is a date
            state.dates[part] = _int(value, key, *limits)
        else:
            raise bad(f"Unknown parameter {key!r}; this list takes q, o, page and its filters.")
    return state


def _int(value: str, name: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise bad(f"{name} must be a whole number between {low} and {high}.")
    return int(value)


def _order(admin: ModelAdmin, value: str) -> tuple[str, bool]:
    name = value.removeprefix("-")
    if name not in admin.sortable:
        allowed = ", ".join(sorted(admin.sortable)) or "none"
        raise bad(f"The list cannot be sorted by {name!r}; sortable columns: {allowed}.")
    return name, value.startswith("-")


def _check_filter(admin: ModelAdmin, name: str, value: str) -> None:
    kind = filter_kind(admin, name)
    column = admin.columns[name]
    ok = True
    if kind == "bool":
        ok = value in BOOL_VALUES
    elif kind == "enum":
        ok = value in _enum_values(column)
    elif kind == "date":
        ok = value in DATE_RANGES
    elif kind == "fk":
        number = value.removeprefix("-")
        ok = number.isdigit() and fits(column, int(value)) if _is_int_key(column) else len(value) <= 255
    if not ok:
        raise bad(f"{value!r} is not a value the {name!r} filter offers.")


def _is_int_key(column: sa.Column[Any]) -> bool:
    return kind_of(column) == "int"


def _enum_values(column: sa.Column[Any]) -> dict[str, Any]:
    ctype: Any = column.type
    if ctype.enum_class is not None:
        return {str(member.value): member for member in ctype.enum_class}
    return {str(value): value for value in ctype.enums}


def _date_range(kind: str, today: date) -> tuple[date, date]:
    if kind == "today":
        return today, today + timedelta(days=1)
    if kind == "7d":
        return today - timedelta(days=6), today + timedelta(days=1)
    if kind == "month":
        start = today.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1)
    start = today.replace(month=1, day=1)
    return start, start.replace(year=start.year + 1)


def _bounds(column: sa.Column[Any], start: date, end: date) -> list[Any]:
    """``start <= column < end`` as bound values of the column's own type."""
    if kind_of(column) == "datetime":
        low: Any = datetime(start.year, start.month, start.day, tzinfo=UTC)
        high: Any = datetime(end.year, end.month, end.day, tzinfo=UTC)
    else:
        low, high = start, end
    return [column >= low, column < high]


def _where(admin: ModelAdmin, state: ListState) -> list[Any]:
    clauses: list[Any] = []
    if state.search and admin.search_columns:
        for word in state.search.split()[:10]:
            pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            columns = [admin.columns[name] for name in admin.search_columns]
            clauses.append(sa.or_(*(column.ilike(pattern, escape="\\") for column in columns)))
    today = datetime.now(UTC).date()
    for name, value in state.filters.items():
        column = admin.columns[name]
        kind = filter_kind(admin, name)
        if kind == "bool":
            clauses.append(column == BOOL_VALUES[value])
        elif kind == "enum":
            clauses.append(column == _enum_values(column)[value])
        elif kind == "date":
            clauses.extend(_bounds(column, *_date_range(value, today)))
        else:
            clauses.append(column == (int(value) if _is_int_key(column) else value))
    if admin.date_hierarchy is not None and state.dates:
        span = _hierarchy_span(state.dates)
        if span is not None:
            clauses.extend(_bounds(admin.columns[admin.date_hierarchy], *span))
    return clauses


def _hierarchy_span(dates: Mapping[str, int]) -> tuple[date, date] | None:
    year = dates.get("year")
    if year is None:
        return None
    month, day = dates.get("month"), dates.get("day")
    try:
        if month is None:
            return date(year, 1, 1), date(year + 1, 1, 1)
        start = date(year, month, 1)
        if day is None:
            return start, (start + timedelta(days=32)).replace(day=1)
        start = date(year, month, day)
        return start, start + timedelta(days=1)
    except ValueError:
        raise bad("That date does not exist.") from None


def list_statement(admin: ModelAdmin, state: ListState) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The page's rows query (without limit) and its count query, sharing the same WHERE."""
    where = _where(admin, state)
    rows = sa.select(admin.model).where(*where)
    count = sa.select(sa.func.count()).select_from(admin.model).where(*where)
    # Many-to-one relations shown in the list come with the rows (one JOIN): no query per row.
    shown = {name for name in admin.list_columns if isinstance(name, str)}
    for name in shown:
        prop = admin.fk_relation.get(name) or admin.relations.get(name)
        if prop is not None and not prop.uselist:
            rows = rows.options(joinedload(getattr(admin.model, prop.key)))
    return rows.order_by(*_ordering(admin, state)), count


def _ordering(admin: ModelAdmin, state: ListState) -> list[Any]:
    wanted: Sequence[str] = (
        [("-" if state.order[1] else "") + state.order[0]] if state.order is not None else list(admin.ordering)
    )
    clauses = []
    for item in wanted:
        column = admin.columns[item.removeprefix("-")]
        clauses.append(column.desc() if item.startswith("-") else column.asc())
    # The key last: equal values keep one order from page to page.
    clauses.append(admin.pk_column.desc() if not wanted else admin.pk_column.asc())
    return clauses


@dataclasses.dataclass(frozen=True)
class FilterChoice:
    label: str
    query: str
    selected: bool


async def filter_choices(admin: ModelAdmin, state: ListState, db: AsyncSession) -> list[tuple[str, list[FilterChoice]]]:
    """The sidebar: for each filter, "All" and its values, each a link keeping the rest of the state."""
    found: list[tuple[str, list[FilterChoice]]] = []
    for name in admin.list_filter:
        options = await _options(admin, name, db)
        current = state.filters.get(name)
        items = [FilterChoice("All", state.query(**{name: None, PAGE: None}), current is None)]
        items += [
            FilterChoice(label, state.query(**{name: value, PAGE: None}), current == value) for value, label in options
        ]
        found.append((admin.heading(name), items))
    return found


async def _options(admin: ModelAdmin, name: str, db: AsyncSession) -> list[tuple[str, str]]:
    kind = filter_kind(admin, name)
    column = admin.columns[name]
    if kind == "bool":
        return [("true", "Yes"), ("false", "No")]
    if kind == "enum":
        return [(value, _enum_label(member)) for value, member in _enum_values(column).items()]
    if kind == "date":
        return list(DATE_RANGES.items())
    target = admin.fk_relation[name].mapper
    key = next(iter(column.foreign_keys)).column
    rows = (await db.scalars(sa.select(target.class_).order_by(key).limit(FK_FILTER_LIMIT))).all()
    attribute = target.get_property_by_column(key).key
    return [(str(getattr(row, attribute)), label_of(row)) for row in rows]


def _enum_label(member: Any) -> str:
    name = member.name if isinstance(member, enum.Enum) else str(member)
    return name.replace("_", " ").capitalize()


async def date_links(admin: ModelAdmin, state: ListState, db: AsyncSession) -> list[FilterChoice]:
    """The drill-down above the list: years, then the months of a year, then the days of a month."""
    field = admin.date_hierarchy
    if field is None:
        return []
    column = admin.columns[field]
    dates = state.dates
    part = "year" if "year" not in dates else "month" if "month" not in dates else "day"
    if "day" in dates:
        return [FilterChoice("\u2039 All days", state.query(**{f"{field}__day": None, PAGE: None}), False)]
    where = _where(admin, state)
    stmt = sa.select(sa.extract(part, column).label("part")).where(*where, column.is_not(None)).distinct()
    values = sorted({int(v) for v in (await db.scalars(stmt.limit(400))).all() if v is not None})
    links = []
    if part != "year":
        up = "year" if part == "month" else "month"
        links.append(FilterChoice(f"\u2039 All {up}s", state.query(**{f"{field}__{up}": None, PAGE: None}), False))
    for value in values:
        label = _part_label(part, value, dates)
        links.append(FilterChoice(label, state.query(**{f"{field}__{part}": str(value), PAGE: None}), False))
    return links


def _part_label(part: str, value: int, dates: Mapping[str, int]) -> str:
    if part == "year":
        return str(value)
    if part == "month":
        return date(2000, value, 1).strftime("%B")
    return f"{date(2000, dates['month'], 1).strftime('%B')} {value}"
