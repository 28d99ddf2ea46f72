"""Flash messages: notes kept in the session for the next page ("Saved.", "Wrong password.").

>>> session: dict[str, object] = {}
>>> flash(session, "Saved.")
>>> flash(session, "Disk almost full", "warning")
>>> get_flashed_messages(session, with_categories=True)
[('info', 'Saved.'), ('warning', 'Disk almost full')]
>>> get_flashed_messages(session)
[]
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any, Literal, overload

__all__ = ["FLASH_KEY", "flash", "get_flashed_messages"]

FLASH_KEY = "_flashes"
"""The session key holding the pending messages, as ``[category, message]`` pairs."""


def flash(session: MutableMapping[str, Any], message: str, category: str = "info") -> None:
    """Keep ``message`` in the session until :func:`get_flashed_messages` shows it."""
    pending = list(session.get(FLASH_KEY, ()))
    pending.append([category, message])
    session[FLASH_KEY] = pending


@overload
def get_flashed_messages(
    session: MutableMapping[str, Any], with_categories: Literal[False] = False, category_filter: Iterable[str] = ()
) -> list[str]: ...
@overload
def get_flashed_messages(
    session: MutableMapping[str, Any], with_categories: Literal[True], category_filter: Iterable[str] = ()
) -> list[tuple[str, str]]: ...
def get_flashed_messages(
    session: MutableMapping[str, Any], with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """The pending messages, oldest first, removed from the session (only those of ``category_filter``, if given).

    A session without messages is only read, never changed (no cookie is sent for it).
    """
    pending = session.get(FLASH_KEY)
    if not pending:
        return []
    wanted = set(category_filter)
    shown = [(category, message) for category, message in pending if not wanted or category in wanted]
    kept = [[category, message] for category, message in pending if wanted and category not in wanted]
    if kept:
        session[FLASH_KEY] = kept
    else:
        del session[FLASH_KEY]
    if with_categories:
        return shown
    return [message for _, message in shown]
