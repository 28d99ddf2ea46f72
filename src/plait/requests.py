"""The incoming HTTP request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

import msgspec

from plait._types import Message, Receive, Scope
from plait.datastructures import URL, Address, FormData, Headers, QueryError, QueryParams, State
from plait.exceptions import ClientDisconnect, HTTPException
from plait.formparsers import FormLimits, parse_form
from plait.http.cookies import parse_cookie
from plait.http.headers import media_type_matches
from plait.http.jsondepth import json_depth_exceeds
from plait.settings import Settings

if TYPE_CHECKING:
    from plait.app import Plait

_DEFAULT_SETTINGS = Settings()


async def _empty_receive() -> dict[str, Any]:
    raise RuntimeError("This request has no body channel; it was built without a receive callable.")


class HTTPConnection:
    """What HTTP requests and WebSocket connections share: scope, URL, headers, query, cookies."""

    __slots__ = ("_cookies", "_headers", "_query", "_receive", "scope")

    def __init__(self, scope: Scope, receive: Receive = _empty_receive) -> None:
        self.scope = scope
        self._receive = receive
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None

    @property
    def app(self) -> Plait[Any]:
        return self.scope["app"]  # type: ignore[no-any-return]

    @property
    def settings(self) -> Settings:
        app = self.scope.get("app")
        return app.settings if app is not None else _DEFAULT_SETTINGS

    @property
    def path(self) -> str:
        return self.scope["path"]  # type: ignore[no-any-return]

    @property
    def url(self) -> URL:
        return URL.from_scope(self.scope)

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.scope["headers"])
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        """The query string's parameters (400 past ``Settings.max_query_params`` or for escapes that are not UTF-8)."""
        if self._query is None:
            # PERF: parsed on first use only; routes that read no query never pay for it.
            try:
                self._query = QueryParams(
                    self.scope.get("query_string", b""), max_params=self.settings.max_query_params
                )
            except QueryError as exc:
                raise HTTPException(400, str(exc)) from None
        return self._query

    @property
    def path_params(self) -> dict[str, Any]:
        return self.scope.get("path_params", {})  # type: ignore[no-any-return]

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            # HTTP/2 clients may send one Cookie header per cookie (RFC 9113 section 8.2.3).
            self._cookies = parse_cookie("; ".join(self.headers.getlist("cookie")))
        return self._cookies

    @property
    def client(self) -> Address | None:
        client = self.scope.get("client")
        return Address(*client) if client else None

    @property
    def state(self) -> State:
        """Per-connection values (set by middleware or dependencies)."""
        return self.scope.setdefault("plait.request_state", State())  # type: ignore[no-any-return]

    @property
    def session(self) -> Any:
        """The ``plait.sessions.Session`` of this request (needs ``app.install(Sessions())``)."""
        session = self.scope.get("session")
        if session is None:
            raise RuntimeError(
                "request.session needs the sessions extension: app.install(Sessions()) "
                "(from plait.sessions import Sessions)."
            )
        return session

    def url_for(self, name: str, /, **params: Any) -> str:
        """The absolute URL of the route (or named mount) ``name``, on this request's scheme, host and root path.

        Under a mount or behind ``--root-path``, the prefix is kept:
        ``request.url_for("user", id=7)`` -> ``'https://example.com/api/users/7'``.
        """
        return external_url(self.scope, self.app.url_for(name, **params))


class Request(HTTPConnection):
    """One HTTP request, built lazily from the ASGI scope.

    Handlers ask for it by annotation::

        @app.get("/ua")
        def user_agent(request: Request) -> str:
            return request.headers.get("user-agent", "")
    """

    __slots__ = ("_body", "_form", "_stream_used")

    def __init__(self, scope: Scope, receive: Receive = _empty_receive) -> None:
        # PERF: every slot set here rather than through super().__init__ (one call per request fewer).
        self.scope = scope
        self._receive = receive
        self._headers = None
        self._query = None
        self._cookies = None
        self._body: bytes | None = None
        self._form: FormData | None = None
        self._stream_used = False

    @property
    def method(self) -> str:
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", ""))

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives, chunk by chunk, capped at ``Settings.max_body_size`` (413)."""
        if self._body is not None:
            yield self._body
            return
        if self._stream_used:
            raise RuntimeError(
                "The request body was already consumed (by stream() or a multipart form); "
                "call body() first if you need the raw bytes as well."
            )
        self._stream_used = True
        limit = self.settings.max_body_size
        self._check_declared_length(limit)
        received = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect("The client disconnected while sending its body.")
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise _too_large(limit)
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    def _check_declared_length(self, limit: int) -> None:
        declared = self.headers.get("content-length")
        if declared is None:
            return
        if not (declared.isascii() and declared.isdigit()):
            raise HTTPException(400, "The Content-Length header must be a whole number of bytes.")
        if int(declared) > limit:
            raise _too_large(limit)

    async def body(self) -> bytes:
        """The whole body (read once, then cached)."""
        if self._body is None:
            if not self._stream_used:
                # PERF: most bodies arrive in one message; take it without an async generator.
                limit = self.settings.max_body_size
                self._check_declared_length(limit)
                self._stream_used = True
                message = await self._receive()
                chunk: bytes = message.get("body", b"")
                if message["type"] == "http.request" and not message.get("more_body", False):
                    if len(chunk) > limit:
                        raise _too_large(limit)
                    self._body = chunk
                    return chunk
                self._body = b"".join([chunk, *[part async for part in self._rest(message, len(chunk), limit)]])
            else:
                self._body = b"".join([chunk async for chunk in self.stream()])
        return self._body

    async def _rest(self, first: Message, received: int, limit: int) -> AsyncIterator[bytes]:
        """The chunks after ``first`` (already read by ``body()``), with the same limit and disconnect rules."""
        if first["type"] == "http.disconnect":
            raise ClientDisconnect("The client disconnected while sending its body.")
        if received > limit:
            raise _too_large(limit)
        message = first
        while message.get("more_body", False):
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect("The client disconnected while sending its body.")
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise _too_large(limit)
            yield chunk

    async def json(self, *, strict_content_type: bool = True) -> Any:
        """The body decoded as JSON into Python builtins (400 when malformed or too deep).

        Like typed bodies, it must come with ``Content-Type: application/json`` (or a ``+json``
        type), else 415: an HTML form or ``fetch`` without that header cannot post JSON across sites
        without a CORS preflight. Pass ``strict_content_type=False`` to read JSON sent under any type.
        """
        if strict_content_type:
            content_type = self.headers.get("content-type")
            if not media_type_matches(content_type, "application/json"):
                raise HTTPException(
                    415,
                    f"Expected a JSON body (Content-Type: application/json), got {content_type or 'no Content-Type'}; "
                    "send the JSON with that Content-Type (or the handler may call "
                    "request.json(strict_content_type=False)).",
                )
        data = await self.body()
        limit = self.settings.max_json_depth
        if json_depth_exceeds(data, limit):
            raise HTTPException(400, f"JSON body is nested more than {limit} levels deep (Settings.max_json_depth).")
        try:
            return msgspec.json.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            raise HTTPException(400, "The request body is not valid JSON.") from None

    async def form(self) -> FormData:
        """Form fields and files from an urlencoded or multipart body (read once, then cached).

        Uploaded files are closed by Plait after the response is sent.
        """
        if self._form is None:
            settings = self.settings
            limits = FormLimits(
                max_fields=settings.max_form_fields,
                max_files=settings.max_form_files,
                max_part_size=settings.max_part_size,
                spool_size=settings.upload_spool_size,
            )
            content_type = self.content_type
            if not content_type and not await self.body():
                self._form = FormData()  # an empty submission: required fields then give a 422, not a 415
            elif content_type.lower().startswith("application/x-www-form-urlencoded"):
                await self.body()  # small by nature; kept so body() still works afterwards (signatures)
                self._form = await parse_form(content_type, self.stream(), limits)
            else:
                self._form = await parse_form(content_type, self.stream(), limits)
        return self._form

    async def close(self) -> None:
        """Release what the request holds (uploaded files)."""
        if self._form is not None:
            await self._form.close()

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


def external_url(scope: Scope, path: str) -> str:
    """``path`` (relative to the app) as an absolute URL for the request in ``scope``.

    >>> external_url({"scheme": "https", "server": ("example.com", 443), "path": "/api/x", "root_path": "/api",
    ...               "headers": []}, "/users/7")
    'https://example.com/api/users/7'
    """
    base = URL.from_scope(scope)
    return f"{base.scheme}://{base.netloc}{scope.get('root_path', '')}{path}"


class RequestLimits:
    """The checks every HTTP request passes before routing, with the limits read from settings once.

    >>> limits = RequestLimits(Settings(max_header_size=100))
    >>> limits.check({"path": "/", "query_string": b"", "headers": [(b"x-big", b"a" * 200)]})
    Traceback (most recent call last):
      ...
    plait.exceptions.HTTPException: 431 Request Header Fields Too Large: ...
    """

    __slots__ = ("max_header_size", "max_query_string_size")

    def __init__(self, settings: Settings) -> None:
        self.max_header_size = settings.max_header_size
        self.max_query_string_size = settings.max_query_string_size

    def check(self, scope: Scope) -> None:
        """Raise the 4xx for a request whose head breaks a limit or whose path is not UTF-8."""
        if len(scope.get("query_string", b"")) > self.max_query_string_size:
            raise HTTPException(
                414,
                f"The query string is longer than {self.max_query_string_size} bytes; put bulk data in the "
                "request body, or raise Settings.max_query_string_size.",
            )
        # PERF: one loop of len() calls, about 30 ns a header and the biggest part of this check. It
        # cannot be left to the servers: granian's buffer limit is approximate (a read may overshoot
        # it) and uvicorn's httptools parser has none. Servers hand over the headers already split,
        # and a plain loop beats sum(map(len, chain(...))) and b"".join() on CPython 3.11.
        size = 0
        for name, value in scope["headers"]:
            size += len(name) + len(value)
        if size > self.max_header_size:
            raise HTTPException(
                431,
                f"The request headers total {size} bytes, more than {self.max_header_size}; send fewer or "
                "smaller headers (large cookies are the usual cause), or raise Settings.max_header_size.",
            )
        # PERF: servers decode the path with U+FFFD for escapes that are not UTF-8; only a path
        # holding one needs the raw bytes looked at.
        if "\ufffd" in scope["path"]:
            _check_path_utf8(scope)


def _check_path_utf8(scope: Scope) -> None:
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        return  # nothing to compare with: the server gave no raw path
    try:
        unquote_to_bytes(raw.partition(b"?")[0]).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(
            400,
            "The request path has percent-escapes that are not valid UTF-8; encode the path as UTF-8 "
            "before percent-encoding it (%C3%A9 for é).",
        ) from None


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        413,
        f"The request body is larger than {limit} bytes; send less, or raise Settings.max_body_size.",
    )
