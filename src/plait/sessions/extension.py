"""``Sessions``: the extension that gives every route a lazily loaded :class:`Session` and saves it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.di.markers import Depends
from plait.errors import ProblemResponse
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.http.cookies import build_set_cookie, parse_cookie
from plait.requests import HTTPConnection, Request
from plait.routing.router import WEBSOCKET, ExceptionHandler, ExceptionKey
from plait.sessions.flash import get_flashed_messages
from plait.sessions.session import Session
from plait.sessions.stores.base import SessionStore
from plait.sessions.stores.cookie import CookieStore
from plait.signing import BadSignature, Signer

if TYPE_CHECKING:
    import contextlib

    import click

    from plait.app import CompiledRoute, Plait

logger = logging.getLogger("plait.sessions")

MAX_COOKIE_SIZE = 4093
"""The longest ``name=value`` a session cookie may have: browsers drop cookies past about 4 KB."""

SALT = "plait.sessions"


class SessionTooLarge(ValueError):
    """The session cookie would be longer than browsers keep (see :data:`MAX_COOKIE_SIZE`)."""


class Sessions(Extension):
    """Sessions for every route: ``request.session``, or a parameter annotated :class:`Session`.

    >>> from plait import Plait
    >>> from plait.settings import Settings
    >>> app = Plait(settings=Settings(secret_key="change-me"), extensions=[Sessions()])
    >>> @app.post("/visit")
    ... async def visit(session: Session) -> int:
    ...     session["visits"] = session.get("visits", 0) + 1
    ...     return session["visits"]

    The cookie is ``HttpOnly``, ``SameSite=Lax`` and, unless ``secure`` says otherwise, ``Secure``
    whenever the request came over HTTPS (behind a TLS-terminating proxy, install
    :class:`~plait.middleware.proxy.ProxyHeadersMiddleware` so the scheme is right). Its value is
    signed with ``PLAIT_SECRET_KEY`` (older keys in ``PLAIT_SECRET_KEY_FALLBACKS`` are still
    accepted) and expires after ``max_age`` seconds.

    The session is saved when the response starts, by a wrapper around each route. Install
    ``Sessions`` after ``Database`` (``Plait(extensions=[Database(), Sessions()])``): it then wraps
    outside the database's commit, so a commit that fails (and turns the response into a 500)
    leaves the session unsaved too. Changes made after a streaming response has started are not saved.
    """

    name = "sessions"

    def __init__(
        self,
        store: SessionStore | None = None,
        *,
        cookie_name: str = "plait_session",
        max_age: int = 14 * 24 * 3600,
        same_site: str = "lax",
        secure: bool | None = None,
        domain: str | None = None,
        path: str = "/",
    ) -> None:
        if not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 1:
            raise ConfigurationError(f"Sessions(max_age={max_age!r}) must be a whole number of seconds, at least 1.")
        if same_site.lower() not in ("lax", "strict", "none"):
            raise ConfigurationError(f"Sessions(same_site={same_site!r}) must be 'lax', 'strict' or 'none'.")
        if same_site.lower() == "none" and secure is not True:
            raise ConfigurationError("Sessions(same_site='none') needs secure=True: browsers refuse it otherwise.")
        # Checked now (a bad name or path is a configuration error, not a failure on the first response).
        build_set_cookie(cookie_name, "", path=path, domain=domain)
        self.store = store if store is not None else CookieStore()
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.same_site = same_site.lower()
        self.secure = secure
        self.domain = domain
        self.path = path
        self.signer: Signer | None = None
        self.debug = False

    # -- startup ------------------------------------------------------------------------------------

    def setup(self, app: Plait[Any]) -> None:
        # A salt of its own: a value signed for another purpose (a CSRF secret, a reset link) is
        # never accepted as a session cookie, even under the same secret key.
        self.signer = Signer.from_settings(app.settings, salt=SALT)
        self.debug = app.debug
        self.store.setup(app)

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[Any] | None:
        return self.store.lifespan(app)

    def providers(self) -> Mapping[Any, Depends]:
        return {Session: Depends(current_session)}

    def wrap_route(self, route: CompiledRoute, endpoint: ASGIApp) -> ASGIApp:
        # Every route gets a session, since what a handler reads (request.session, a dependency, a
        # template) cannot all be seen at startup; loading stays lazy, so this costs one small
        # object per request on routes that never use it.
        return SessionRoute(endpoint, self, websocket=WEBSOCKET in route.placed.route.methods)

    def exception_handlers(self) -> Mapping[ExceptionKey, ExceptionHandler]:
        return dict.fromkeys(self.store.unavailable, store_unavailable)

    def commands(self) -> Sequence[click.Command]:
        from plait.sessions.cli import sessions_group

        return [sessions_group]

    async def template_context(self, request: Request) -> Mapping[str, Any]:
        session: Session | None = request.scope.get("session")
        if session is None:  # a page rendered outside a route (an error handler for a 404)
            return {"session": {}, "get_flashed_messages": _no_messages}
        if not self.store.loads_without_io:
            await session.load()
        return {"session": session, "get_flashed_messages": functools.partial(get_flashed_messages, session)}

    # -- reading ------------------------------------------------------------------------------------

    def _key(self, scope: Scope) -> str | None:
        """The store key named by the request's session cookie, when its signature holds and has not expired."""
        assert self.signer is not None  # set by setup(), before any request
        cookie = _cookie(scope, self.cookie_name)
        if cookie is None:
            return None
        try:
            return self.signer.unsign(cookie, max_age=self.max_age).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            # Tampered, forged, signed with a retired key, or too old: a fresh, empty session. The
            # client-supplied value is never used as a key, so nothing is created under it.
            return None

    async def read(self, scope: Scope) -> tuple[str | None, dict[str, Any]]:
        key = self._key(scope)
        data = await self.store.load(key) if key is not None else None
        return (key, data) if data is not None else (None, {})

    def read_now(self, scope: Scope) -> tuple[str | None, dict[str, Any]] | None:
        """:meth:`read` without I/O, or None when the store needs I/O."""
        if not self.store.loads_without_io:
            return None
        key = self._key(scope)
        data = self.store.load_now(key) if key is not None else None
        return (key, data) if data is not None else (None, {})

    # -- saving -------------------------------------------------------------------------------------

    async def commit(self, session: Session, scope: Scope) -> bytes | None:
        """Save a changed session; the ``Set-Cookie`` value to send, or None for no cookie change."""
        for key in session.retired_keys():
            await self.store.delete(key)
        data = session.data()
        if not data:
            # An emptied session is deleted rather than saved: stores never keep empty sessions.
            if session.key is not None:
                await self.store.delete(session.key)
            if _cookie(scope, self.cookie_name) is None:
                return None
            return self._set_cookie(scope, "", max_age=0)
        key = await self.store.save(None if session.fresh_key else session.key, data, self.max_age)
        assert self.signer is not None
        value = self.signer.sign(key)
        if len(self.cookie_name) + 1 + len(value) > MAX_COOKIE_SIZE:
            raise SessionTooLarge(
                f"The session cookie would be {len(value)} bytes, more than the {MAX_COOKIE_SIZE} browsers keep. "
                "Store less in the session, or keep it on the server: Sessions(DatabaseStore()) or "
                "Sessions(RedisStore(url))."
            )
        return self._set_cookie(scope, value, max_age=self.max_age)

    def _set_cookie(self, scope: Scope, value: str, *, max_age: int) -> bytes:
        secure = self.secure if self.secure is not None else scope.get("scheme") in ("https", "wss")
        return build_set_cookie(
            self.cookie_name,
            value,
            max_age=max_age,
            path=self.path,
            domain=self.domain,
            secure=secure,
            httponly=True,  # script cannot read the session id: an XSS bug cannot steal the session
            samesite=self.same_site,  # type: ignore[arg-type] # checked in __init__
        ).encode("latin-1")


async def current_session(connection: HTTPConnection) -> Session:
    """The provider behind a parameter annotated ``Session``: the request's session, loaded."""
    return await session_of(connection.scope).load()


RETRY_AFTER = {"retry-after": "1"}


def store_unavailable(request: Request, exc: Exception) -> ProblemResponse:
    """The session store's server cannot be reached (loading the session): a 503, to retry shortly."""
    logger.error("The session store is unavailable: %s", exc)
    return ProblemResponse(503, detail="The session store is unavailable. Try again shortly.", headers=RETRY_AFTER)


def session_of(scope: Scope) -> Session:
    """The session in ``scope``, with an error naming the fix when there is none."""
    session: Session | None = scope.get("session")
    if session is None:
        raise RuntimeError(
            "This request has no session: install the extension with app.install(Sessions()) "
            "(from plait.sessions import Sessions). Sessions exist in routes and WebSockets only."
        )
    return session


def _cookie(scope: Scope, name: str) -> str | None:
    headers = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"cookie"]
    if not headers:
        return None
    return parse_cookie("; ".join(headers)).get(name)


def _no_messages(*args: Any, **kwargs: Any) -> list[Any]:
    return []


class SessionRoute:
    """Wraps one route: an unloaded :class:`Session` in ``scope["session"]``, saved when the response starts."""

    __slots__ = ("app", "owner", "websocket")

    def __init__(self, app: ASGIApp, owner: Sessions, *, websocket: bool = False) -> None:
        self.app = app
        self.owner = owner
        self.websocket = websocket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = Session(self.owner, scope, readonly=self.websocket)
        scope["session"] = session
        if self.websocket:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Saver(self.owner, scope, receive, send, session))


class _Saver:
    """The ``send`` a session route hands on: adds ``Vary: Cookie`` and the ``Set-Cookie`` to the response start."""

    __slots__ = ("dropping", "owner", "receive", "scope", "send", "session")

    def __init__(self, owner: Sessions, scope: Scope, receive: Receive, send: Send, session: Session) -> None:
        self.owner = owner
        self.scope = scope
        self.receive = receive
        self.send = send
        self.session = session
        self.dropping = False

    async def __call__(self, message: Message) -> None:
        if self.dropping:  # the response was replaced by an error one
            return
        if message["type"] == "http.response.start" and self.session.accessed:
            headers = list(message.get("headers", ()))
            # The response depends on the session cookie: shared caches must not serve it to others.
            add_vary_cookie(headers)
            # Nothing is saved on a server error: the handler may have stopped half-way through a change.
            if message["status"] < 500 and self.session.modified:
                try:
                    cookie = await self.owner.commit(self.session, self.scope)
                except Exception as exc:
                    await self._failed(exc)
                    return
                if cookie is not None:
                    headers.append((b"set-cookie", cookie))
            message = {**message, "headers": headers}
        await self.send(message)

    async def _failed(self, exc: Exception) -> None:
        self.dropping = True
        if isinstance(exc, self.owner.store.unavailable):
            await store_unavailable(Request(self.scope, self.receive), exc)(self.scope, self.receive, self.send)
            return
        logger.error("Saving the session failed: %s", exc, exc_info=exc)
        if isinstance(exc, TypeError):  # msgspec's word for a value it cannot encode
            exc = TypeError(
                f"Session values must be JSON-encodable (str, int, float, bool, None, lists and dicts of them): {exc}"
            )
        detail = f"The session could not be saved: {exc}" if self.owner.debug else "The session could not be saved."
        await ProblemResponse(500, detail=detail)(self.scope, self.receive, self.send)


def add_vary_cookie(headers: list[tuple[bytes, bytes]]) -> None:
    """Add ``Cookie`` to the ``Vary`` header in ``headers`` (raw ASGI pairs), unless it is there already."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            parts = {part.strip().lower() for part in value.split(b",")}
            if b"cookie" not in parts and b"*" not in parts:
                headers[index] = (name, value + b", Cookie")
            return
    headers.append((b"vary", b"Cookie"))
