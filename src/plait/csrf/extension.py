"""``CSRF``: the extension that checks unsafe, cookie-authenticated requests for a token and their origin."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import plait.csrf.tokens as tokens
from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.csrf.origin import origin_problem
from plait.datastructures import Headers
from plait.exceptions import ConfigurationError, HTTPException
from plait.extensions import Extension
from plait.http.cookies import build_set_cookie, parse_cookie
from plait.requests import Request
from plait.responses import JSONResponse
from plait.routing.router import WEBSOCKET, Router
from plait.sessions.extension import SessionRoute, add_vary_cookie
from plait.signing import BadSignature, Signer

if TYPE_CHECKING:
    from plait.app import CompiledRoute, Plait

F = TypeVar("F", bound=Callable[..., Any])

SALT = "plait.csrf"
SESSION_KEY = "_csrf_secret"
"""Where the secret lives in the session when :class:`~plait.sessions.Sessions` is installed."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# What an HTML form (or fetch() in no-cors mode) can send to another site without a CORS preflight:
# any other content type (application/json) makes the browser ask the target first.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
# Authorization schemes a browser attaches by itself once the user logged in: they are ambient
# credentials, exactly like cookies, so carrying one does not exempt a request.
AMBIENT_SCHEMES = frozenset({"basic", "digest", "negotiate", "ntlm"})
_EXEMPT = "__plait_csrf_exempt__"


def csrf_exempt(handler: F) -> F:
    """Skip the CSRF check for one route (a webhook that authenticates by signature, say).

    >>> @csrf_exempt
    ... async def webhook() -> None: ...
    >>> webhook.__plait_csrf_exempt__
    True
    """
    setattr(handler, _EXEMPT, True)
    return handler


class CSRF(Extension):
    """Cross-site request forgery protection for cookie-authenticated requests.

    An unsafe request (not GET, HEAD, OPTIONS or TRACE) is checked when it carries cookies or has a
    form content type, unless it carries an ``Authorization`` header (other than Basic and the
    like) or the API-key header: such credentials are never sent by the browser on its own, so a
    forged request cannot have them. A checked request must

    * come from this site: ``Origin`` (whenever the browser sends it) and, on HTTPS without
      ``Origin``, ``Referer`` must name this origin or one of ``trusted_origins``;
    * carry a token from :func:`csrf_token` in the ``X-CSRF-Token`` header or the ``csrf_token``
      form field, matching the secret kept in the session (with Sessions installed) or in the
      signed ``plait_csrf`` cookie.

    Anything else gets a 403 problem saying what was missing or wrong. JavaScript clients fetch a
    token from ``GET /csrf`` (``token_url``; the cookie itself is HttpOnly) and send it in the
    header; templates get ``csrf_token`` and ``csrf_input``.

    >>> from plait import Plait
    >>> from plait.settings import Settings
    >>> app = Plait(settings=Settings(secret_key="change-me"), extensions=[CSRF()])
    """

    name = "csrf"

    def __init__(
        self,
        *,
        header_name: str = "X-CSRF-Token",
        field_name: str = "csrf_token",
        cookie_name: str = "plait_csrf",
        cookie_max_age: int = 365 * 24 * 3600,
        secure: bool | None = None,
        trusted_origins: Sequence[str] = (),
        api_key_header: str | None = None,
        token_url: str | None = "/csrf",  # noqa: S107 - a path, not a password
    ) -> None:
        if isinstance(trusted_origins, str):
            raise ConfigurationError(f"CSRF(trusted_origins=...) takes a list of origins: [{trusted_origins!r}].")
        build_set_cookie(cookie_name, "")  # a bad name is a configuration error now, not on a response
        self.header_title = header_name
        self.header_name = header_name.lower()
        self.field_name = field_name
        self.cookie_name = cookie_name
        self.cookie_max_age = cookie_max_age
        self.secure = secure
        self.trusted_origins = tuple(trusted_origins)
        self._api_key_header = api_key_header
        self.token_url = token_url
        self.in_session = False
        self.signer: Signer | None = None
        self._app: Plait[Any] | None = None

    # -- startup ------------------------------------------------------------------------------------

    def setup(self, app: Plait[Any]) -> None:
        self.in_session = any(ext.name == "sessions" for ext in app.extensions)
        if not self.in_session:
            self.signer = Signer.from_settings(app.settings, salt=SALT)
        self._app = app

    @property
    def api_key_header(self) -> str:
        """The API-key header that exempts a request: ``api_key_header=``, else the auth settings', else X-API-Key."""
        if self._api_key_header is None:
            installed = self._app.extensions if self._app is not None else ()
            auth = next((ext for ext in installed if ext.name == "auth"), None)
            configured = getattr(getattr(auth, "settings", None), "api_key_header", None)
            self._api_key_header = configured if isinstance(configured, str) else "X-API-Key"
        return self._api_key_header.lower()

    def wrap_route(self, route: CompiledRoute, endpoint: ASGIApp) -> ASGIApp:
        if WEBSOCKET in route.placed.route.methods:
            return endpoint  # a WebSocket handshake is checked by the route's `origins` option instead
        exempt = bool(getattr(route.placed.route.endpoint, _EXEMPT, False))
        if isinstance(endpoint, SessionRoute):
            # Sessions was installed first and already wrapped this route: go inside it, so that the
            # check can read the secret from the session whatever the install order.
            endpoint.app = CSRFRoute(endpoint.app, self, exempt=exempt)
            return endpoint
        return CSRFRoute(endpoint, self, exempt=exempt)

    def pages(self) -> Sequence[Router]:
        if self.token_url is None:
            return ()
        router = Router()
        router.get(self.token_url, include_in_schema=False, name="csrf_token")(token_endpoint)
        return (router,)

    async def template_context(self, request: Request) -> Mapping[str, Any]:
        state: CSRFState | None = request.scope.get(_STATE)
        if state is None:  # a page rendered outside a route
            return {}
        await state.load()
        token = LazyToken(state)
        return {"csrf_token": token, "csrf_input": CSRFInput(token, self.field_name)}

    # -- the check ----------------------------------------------------------------------------------

    def _token_authenticated(self, headers: Headers) -> bool:
        # A cross-site page cannot set these headers (a custom header needs a CORS preflight, which
        # this app answers only as its CORS settings allow): their presence proves the request was
        # made by a client that holds a token, not by a browser replaying the user's cookies.
        authorization = headers.get("authorization")
        if authorization and authorization.split(" ", 1)[0].lower() not in AMBIENT_SCHEMES:
            return True
        return bool(headers.get(self.api_key_header))

    async def check(self, scope: Scope, receive: Receive, state: CSRFState) -> Receive:
        """Refuse a forged request with a 403; returns the ``receive`` the handler should read the body from."""
        headers = Headers(scope["headers"])
        if self._token_authenticated(headers):
            return receive
        media = headers.get("content-type", "").partition(";")[0].strip().lower()
        if "cookie" not in headers and media not in FORM_TYPES:
            # No cookies: no ambient credentials for a forger to ride on. A JSON body without
            # cookies is an API client, and a browser cannot send JSON cross-site without a preflight.
            return receive
        problem = origin_problem(scope, headers, self.trusted_origins)
        if problem is not None:
            raise _forbidden(*problem)
        token = headers.get(self.header_name)
        if token is None and media in ("application/x-www-form-urlencoded", "multipart/form-data"):
            token, receive = await self._form_token(scope, receive)
        if not token:
            raise _forbidden(
                "csrf_token_missing",
                f"The CSRF token is missing: send the value of csrf_token(request) in the {self.header_title} "
                f"header or the {self.field_name!r} form field (templates: {{{{ csrf_input }}}}; JavaScript: "
                f"GET {self.token_url or 'a page'} first).",
            )
        secret = await state.load()
        if secret is None:
            where = "session" if self.in_session else f"{self.cookie_name!r} cookie"
            raise _forbidden(
                "csrf_secret_missing",
                f"A CSRF token was sent but the {where} holds no CSRF secret to check it against (expired, "
                "or cleared by logout); load the form again to get a fresh token.",
            )
        if not tokens.matches(token, secret):
            raise _forbidden(
                "csrf_token_incorrect",
                "The CSRF token is incorrect: it was not made for this session (a stale page, another "
                "browser, or a token from before login); load the form again to get a fresh token.",
            )
        return receive

    async def _form_token(self, scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
        """The token from the form body, and a ``receive`` that hands the same body to the handler again.

        The body is read into memory (within ``Settings.max_body_size``) to be parsed here and again by
        the handler; clients posting large uploads save that by sending the token in the header.
        """
        request = Request(scope, receive)
        body = await request.body()  # capped by Settings.max_body_size (413), like any body read
        try:
            value = (await request.form()).get(self.field_name)
        finally:
            await request.close()
        return (value if isinstance(value, str) else None), _replay(body, receive)

    # -- the secret's cookie (without Sessions) -----------------------------------------------------

    def cookie_secret(self, scope: Scope) -> str | None:
        assert self.signer is not None  # set by setup() when the secret lives in a cookie
        headers = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"cookie"]
        cookie = parse_cookie("; ".join(headers)).get(self.cookie_name) if headers else None
        if cookie is None:
            return None
        try:
            # Signed so that a value set by someone else (a sibling subdomain can set cookies for
            # this one) is refused: only secrets this app handed out are accepted.
            return self.signer.unsign(cookie, max_age=self.cookie_max_age).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    def secret_cookie(self, scope: Scope, secret: str) -> bytes:
        assert self.signer is not None
        secure = self.secure if self.secure is not None else scope.get("scheme") == "https"
        return build_set_cookie(
            self.cookie_name,
            self.signer.sign(secret),
            max_age=self.cookie_max_age,
            secure=secure,
            httponly=True,  # JavaScript gets masked tokens from token_url, never the secret
            samesite="lax",
        ).encode("latin-1")


def _forbidden(code: str, detail: str) -> HTTPException:
    return HTTPException(403, detail, extra={"code": code})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, as the server reports it

    return replay


_STATE = "plait.csrf"


class CSRFState:
    """The CSRF secret of one request: read lazily, created or rotated on demand."""

    __slots__ = ("changed", "csrf", "read", "scope", "secret")

    def __init__(self, csrf: CSRF, scope: Scope) -> None:
        self.csrf = csrf
        self.scope = scope
        self.secret: str | None = None
        self.changed = False
        self.read = False

    def _session(self) -> Any:
        from plait.sessions.extension import session_of

        return session_of(self.scope)

    async def load(self) -> str | None:
        """The stored secret (loading the session first when it lives there), or None."""
        if self.csrf.in_session:
            await self._session().load()
        return self.current()

    def current(self) -> str | None:
        if self.csrf.in_session:
            value = self._session().get(SESSION_KEY)
            return value if isinstance(value, str) else None
        if not self.read and not self.changed:
            self.secret = self.csrf.cookie_secret(self.scope)
        self.read = True
        return self.secret

    def ensure(self) -> str:
        secret = self.current()
        return secret if secret is not None else self.rotate()

    def rotate(self) -> str:
        secret = tokens.new_secret()
        if self.csrf.in_session:
            self._session()[SESSION_KEY] = secret
        else:
            self.secret, self.changed = secret, True
        return secret


def _state(scope: Scope) -> CSRFState:
    state: CSRFState | None = scope.get(_STATE)
    if state is None:
        raise RuntimeError(
            "This request has no CSRF state: install the extension with app.install(CSRF()) "
            "(from plait.csrf import CSRF). CSRF tokens exist in HTTP routes only."
        )
    return state


def csrf_token(request: Request) -> str:
    """A masked CSRF token for this request's secret (a new mask, so a different string, each call).

    Creates the secret when there is none yet. With a server session store (database, Redis), load
    the session first (take ``session: Session`` as a parameter, or ``await request.session.load()``).
    """
    return tokens.mask(_state(request.scope).ensure())


def rotate_csrf_token(request: Request) -> None:
    """Replace the CSRF secret (on login): tokens issued before stop working.

    Does nothing when CSRF is not installed, so login code can always call it.
    """
    state: CSRFState | None = request.scope.get(_STATE)
    if state is not None:
        state.rotate()


async def token_endpoint(request: Request) -> JSONResponse:
    """``GET /csrf``: ``{"csrf_token": "..."}`` for JavaScript clients, never cached.

    Another site cannot read this response (the same-origin policy), so handing the token out
    here gives a forger nothing.
    """
    state = _state(request.scope)
    await state.load()
    return JSONResponse({"csrf_token": tokens.mask(state.ensure())}, headers={"Cache-Control": "no-store"})


class LazyToken:
    """A template's ``csrf_token``: a masked token made when the template first renders it.

    Pages that never show a form then create no secret (and so no session) for it.
    """

    __slots__ = ("_token", "state")

    def __init__(self, state: CSRFState) -> None:
        self.state = state
        self._token: str | None = None

    def __str__(self) -> str:
        if self._token is None:
            self._token = tokens.mask(self.state.ensure())
        return self._token

    def __html__(self) -> str:
        return html.escape(str(self))


class CSRFInput:
    """A template's ``csrf_input``: the hidden form field, escaped (``{{ csrf_input }}`` in a ``<form>``)."""

    __slots__ = ("field_name", "token")

    def __init__(self, token: LazyToken, field_name: str) -> None:
        self.token = token
        self.field_name = field_name

    def __html__(self) -> str:
        name, value = html.escape(self.field_name), html.escape(str(self.token))
        return f'<input type="hidden" name="{name}" value="{value}">'

    def __str__(self) -> str:
        return self.__html__()


class CSRFRoute:
    """Wraps one HTTP route: the request's :class:`CSRFState`, the check, the secret's cookie."""

    __slots__ = ("app", "csrf", "exempt")

    def __init__(self, app: ASGIApp, csrf: CSRF, *, exempt: bool = False) -> None:
        self.app = app
        self.csrf = csrf
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = CSRFState(self.csrf, scope)
        scope[_STATE] = state
        if not self.exempt and scope["method"] not in SAFE_METHODS:
            receive = await self.csrf.check(scope, receive, state)
        if self.csrf.in_session:
            await self.app(scope, receive, send)  # the secret is saved with the session
            return

        async def send_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and (state.read or state.changed):
                headers = list(message.get("headers", ()))
                # A response that used the secret (a page with a token) depends on the cookie:
                # a shared cache must never hand one visitor's token to another.
                add_vary_cookie(headers)
                if state.changed and state.secret is not None:
                    headers.append((b"set-cookie", self.csrf.secret_cookie(scope, state.secret)))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_cookie)
