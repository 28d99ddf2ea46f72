"""Writing and reading the change history (``plait_admin_log``).

:func:`log` adds the row to the request's session, so it is committed in the same transaction as
the change it describes: a change that fails leaves no history, and history never misses a change
made through the admin.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from plait.admin.models import ADD, CHANGE, DELETE, LogEntry
from plait.admin.options import _Base, label_of

__all__ = ["describe", "log"]

MAX_VALUE = 200


async def log(db: AsyncSession, user: Any, entry: Any, obj: Any, action: str, changes: dict[str, list[str]]) -> None:
    """Record that ``user`` did ``action`` (add, change, delete) to ``obj``, with ``{field: [old, new]}``."""
    admin: _Base = entry
    trimmed = {name: [_trim(old), _trim(new)] for name, (old, new) in changes.items()}
    db.add(
        LogEntry(
            user_id=getattr(user, "id", None),
            username=str(getattr(user, "username", "")),
            model=entry.key,
            object_id=str(getattr(obj, admin.pk_name)),
            object_repr=label_of(obj)[:200],
            action=action,
            changes=trimmed,
        )
    )


def _trim(value: str) -> str:
    return value if len(value) <= MAX_VALUE else value[: MAX_VALUE - 1] + "…"


def describe(entry: LogEntry) -> str:
    """One line about a history row: "Added.", "Deleted." or "Changed title, body."

    >>> describe(LogEntry(action="change", changes={"title": ["a", "b"]}))
    'Changed title.'
    """
    if entry.action == ADD:
        return "Added."
    if entry.action == DELETE:
        return "Deleted."
    if entry.action == CHANGE and entry.changes:
        return "Changed " + ", ".join(name.replace("_", " ") for name in entry.changes) + "."
    return "No fields changed."
