"""Session login and logout: ``await login(request, user, db)`` and ``await logout(request)``.

With :class:`plait.sessions.Sessions` installed, login keeps the user's id in the session under a
new session id (so an id planted before login is worthless: no session fixation), together with a
fragment derived from the password hash: changing the password changes it, which logs out every
other session of that user. It also rotates the CSRF token when :class:`plait.csrf.CSRF` is
installed. Without sessions, login only records ``last_login`` (API clients use tokens).

::

    from plait.auth.login import login, logout

    @app.post("/login")
    async def sign_in(request: Request, db: AsyncSession, form: LoginForm) -> dict[str, str]:
        user = await auth.authenticate(db, form.email, form.password, request=request)
        ...
        await login(request, user, db)
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from plait.db.models import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from plait.requests import Request

__all__ = ["SESSION_HASH_KEY", "SESSION_USER_KEY", "USER_SCOPE_KEY", "login", "logout", "session_hash"]

SESSION_USER_KEY = "_auth_user_id"
"""The session key holding the logged-in user's id."""
SESSION_HASH_KEY = "_auth_user_hash"
"""The session key holding :func:`session_hash` of the user at login."""
USER_SCOPE_KEY = "plait.user"
"""Where the request's resolved user is cached in the ASGI scope (None when anonymous)."""


def session_hash(user: Any) -> str:
    """A short digest of the user's password hash: it changes when the password does.

    The digest is keyed with a constant, not a secret, and that is enough: it is only compared with
    the one stored in the (signed or server-side) session, and reveals nothing usable about the hash.

    >>> from plait.auth.models import User
    >>> len(session_hash(User(password="$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA")))
    32
    """
    password = getattr(user, "password", "") or ""
    return hmac.new(b"plait.auth.session", password.encode(), hashlib.sha256).hexdigest()[:32]


async def login(request: Request, user: Any, db: AsyncSession | None = None) -> None:
    """Log ``user`` in for this request and, with sessions installed, for the browser's later ones.

    Records ``last_login`` (flushed with ``db`` when given; the request's session commits it).
    """
    user.last_login = utcnow()
    if db is not None:
        await db.flush()
    session = request.scope.get("session")
    if session is not None:
        await session.load()
        # A new id for the logged-in session: whoever knew the old id (fixation) learns nothing.
        session.cycle_key()
        session[SESSION_USER_KEY] = user.id
        session[SESSION_HASH_KEY] = session_hash(user)
    request.scope[USER_SCOPE_KEY] = user
    await _rotate_csrf(request)


async def logout(request: Request) -> None:
    """Forget the user: the session record is deleted and a new, empty one starts (when sessions are on)."""
    session = request.scope.get("session")
    if session is not None:
        await session.load()
        session.flush()
    request.scope[USER_SCOPE_KEY] = None
    await _rotate_csrf(request)


async def _rotate_csrf(request: Request) -> None:
    """A new CSRF secret on every change of identity, when the CSRF extension is installed."""
    extensions = getattr(request.app, "extensions", ())
    if not any(getattr(ext, "name", None) == "csrf" for ext in extensions):
        return
    from plait.csrf import rotate_csrf_token

    rotate_csrf_token(request)
