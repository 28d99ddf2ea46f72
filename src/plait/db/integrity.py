"""Turning a database constraint violation into a problem response that names the field.

SQLite and PostgreSQL report violations differently: SQLite in its message
(``UNIQUE constraint failed: article.slug``), PostgreSQL with a SQLSTATE code, the constraint's
name and a detail line (``Key (slug)=(hello) already exists.``), reached through the driver's
exception. :func:`integrity_problem` reads both and maps table columns back to the model's
attribute names:

- a unique violation is a **409** naming the fields (``"fields": ["slug"]``);
- a foreign key violation is a **409** too (a missing referenced row, or rows still referring to a
  row being deleted);
- a NOT NULL or CHECK violation is a **422**: the values sent are not acceptable.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Mapper

from plait.exceptions import HTTPException

_UNIQUE, _FOREIGN, _NOT_NULL, _CHECK = "23505", "23503", "23502", "23514"
_SQLITE = (
    ("UNIQUE constraint failed", _UNIQUE),
    ("FOREIGN KEY constraint failed", _FOREIGN),
    ("NOT NULL constraint failed", _NOT_NULL),
    ("CHECK constraint failed", _CHECK),
)
_KEY_DETAIL = re.compile(r"Key \((?P<columns>[^)]*)\)=")


def integrity_problem(exc: sa_exc.IntegrityError, model: type[Any], *, deleting: bool = False) -> HTTPException:
    """The 409 (or 422) for ``exc``, raised while writing ``model`` (``deleting``: a DELETE).

    >>> class Fake(Exception): ...
    >>> from sqlalchemy import Integer, String
    >>> from sqlalchemy.orm import DeclarativeBase, mapped_column
    >>> class Base(DeclarativeBase): ...
    >>> class Tag(Base):
    ...     __tablename__ = "doctest_tags"
    ...     id = mapped_column(Integer, primary_key=True)
    ...     label = mapped_column(String(40), unique=True)
    >>> error = sa_exc.IntegrityError("INSERT ...", {}, Fake("UNIQUE constraint failed: doctest_tags.label"))
    >>> problem = integrity_problem(error, Tag)
    >>> problem.status_code, problem.detail, problem.extra
    (409, 'Another Tag already has this label; choose a different label.', {'fields': ['label']})
    """
    code, columns, constraint = _diagnose(exc.orig)
    mapper = sa.inspect(model)
    fields = _fields(mapper, columns) or _constraint_fields(mapper, constraint)
    extra = {"fields": fields} if fields else {}
    name = model.__name__
    if code == _UNIQUE:
        if not fields:
            return HTTPException(409, f"Another {name} already has these values (a unique constraint refused them).")
        spelled = " and ".join(fields)
        return HTTPException(
            409, f"Another {name} already has this {spelled}; choose a different {spelled}.", extra=extra
        )
    if code == _FOREIGN:
        if deleting:
            return HTTPException(409, f"This {name} is still referenced by other rows; remove or change them first.")
        if not fields:
            return HTTPException(409, "A row this one refers to does not exist.")
        return HTTPException(409, f"{' and '.join(fields)} refers to a row that does not exist.", extra=extra)
    if code == _NOT_NULL:
        which = " and ".join(fields) if fields else "a required field"
        return HTTPException(422, f"{which} must have a value.", extra=extra)
    if code == _CHECK:
        return HTTPException(422, f"The values break a rule of {name} ({constraint or 'a check constraint'}).")
    return HTTPException(409, f"The change conflicts with the data already stored for {name}.")


def _diagnose(orig: Any) -> tuple[str | None, list[str], str | None]:
    """(SQLSTATE, column names, constraint name) from a driver exception."""
    text = str(orig)
    for prefix, code in _SQLITE:
        if text.startswith(prefix):
            named = text.partition(":")[2].strip()
            if code in (_UNIQUE, _NOT_NULL):
                return code, [part.strip().rpartition(".")[2] for part in named.split(",") if part.strip()], None
            return code, [], named or None
    source = _postgres_source(orig)
    state: str | None = (
        getattr(source, "sqlstate", None) or getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    )
    diag = getattr(source, "diag", None)  # psycopg keeps the fields on .diag, asyncpg on the exception
    detail = getattr(diag or source, "message_detail" if diag else "detail", None) or ""
    constraint = getattr(diag or source, "constraint_name", None)
    columns = []
    match = _KEY_DETAIL.search(detail)
    if match:
        columns = [part.strip().strip('"') for part in match.group("columns").split(",")]
    column = getattr(diag or source, "column_name", None)
    if column and not columns:
        columns = [column]
    return state, columns, constraint


def _postgres_source(orig: Any) -> Any:
    """The driver's own exception: SQLAlchemy's asyncpg adapter wraps it (as ``__cause__``)."""
    cause = getattr(orig, "__cause__", None)
    return cause if cause is not None and hasattr(cause, "sqlstate") else orig


def _fields(mapper: Mapper[Any], columns: list[str]) -> list[str]:
    """Table column names as the model's attribute names (``title_col`` -> ``title``)."""
    by_column = {prop.columns[0].name: prop.key for prop in mapper.column_attrs}
    return [by_column.get(column, column) for column in columns]


def _constraint_fields(mapper: Mapper[Any], constraint: str | None) -> list[str]:
    """The fields of a named constraint or unique index of the model's table (PostgreSQL names it)."""
    if not constraint:
        return []
    table = mapper.local_table
    found = [c for c in getattr(table, "constraints", ()) if c.name == constraint]
    found += [i for i in getattr(table, "indexes", ()) if i.name == constraint]
    if not found:
        return []
    return _fields(mapper, [column.name for column in found[0].columns])


__all__ = ["integrity_problem"]
