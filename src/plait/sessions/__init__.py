"""Sessions: per-visitor data kept between requests, in a signed cookie, the database or Redis.

::

    from plait import Plait
    from plait.sessions import Session, Sessions, flash

    app = Plait(extensions=[Sessions()])          # signed-cookie store; needs PLAIT_SECRET_KEY

    @app.post("/cart/{item}")
    async def add(item: str, session: Session) -> list[str]:
        session["cart"] = [*session.get("cart", []), item]
        flash(session, f"{item} added")
        return session["cart"]

Stores: :class:`CookieStore` (default, no server state), ``DatabaseStore`` (a ``plait_session``
table, ``from plait.sessions.stores.database import DatabaseStore``) and ``RedisStore``
(``from plait.sessions.stores.redis import RedisStore``). The last two are also importable from
here; they are loaded on first use, so the cookie store needs neither SQLAlchemy nor redis-py.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from plait.sessions.extension import SessionRoute, Sessions, SessionTooLarge, current_session
from plait.sessions.flash import flash, get_flashed_messages
from plait.sessions.session import Session
from plait.sessions.stores import CookieStore, SessionStore

if TYPE_CHECKING:
    from plait.sessions.stores.database import DatabaseStore
    from plait.sessions.stores.redis import RedisStore

__all__ = [
    "CookieStore",
    "DatabaseStore",
    "RedisStore",
    "Session",
    "SessionRoute",
    "SessionStore",
    "SessionTooLarge",
    "Sessions",
    "current_session",
    "flash",
    "get_flashed_messages",
]

_LAZY = {"DatabaseStore": "plait.sessions.stores.database", "RedisStore": "plait.sessions.stores.redis"}


def __getattr__(name: str) -> Any:
    # The server stores import SQLAlchemy or redis-py: only an app that uses one pays for it.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'plait.sessions' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
