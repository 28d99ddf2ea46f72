"""Response caching for a route, and ETag / ``304 Not Modified`` answers.

::

    @app.get("/articles")
    @cache_response(ttl=60, vary=("Accept-Language",))
    async def articles(lang: Annotated[str, Header("accept-language")] = "en") -> list[Article]: ...

The decorator only marks the handler; the ``Cache`` extension wraps the marked routes at startup
(every other route is served unwrapped). A cached route answers ``GET`` and ``HEAD`` from the cache,
keyed on the scheme, host, path, query string (its parameters sorted) and the request headers named
in ``vary``. Other methods pass straight through.

What is never stored, because serving it to someone else would be wrong:

* a response that sets a cookie (it would hand one visitor's session to the next);
* a status outside ``statuses`` (default 200 only: errors, redirects and 304s are per request);
* ``Cache-Control: private``, ``no-store`` or ``no-cache``;
* a response whose ``Vary`` names a header the decorator did not declare, ``Vary: *``, and in particular
  ``Vary: Cookie``, which is how a response says it read the session: declare ``vary=("Cookie",)``
  to cache per session instead;
* a streamed response (a generator handler, a file), or one above ``max_size`` bytes;
* a response whose handler read the session or resolved the user (``scope["plait.user"]``), whatever
  the order the extensions were installed in;
* the answer to a request carrying credentials (``Authorization``, ``X-API-Key``) unless the
  decorator varies on that header: such a response is about one caller, and the request neither
  reads nor fills the cache.

A cache hit is answered before the route's dependencies run (as Django's ``cache_page``): a route
that checks who is asking must either vary on what identifies the caller or not be cached.

Every response of a cached route says ``Vary`` with the declared headers (added to the handler's own
``Vary``), so that browsers and shared caches in front of the app keep the variants apart too.

Every complete 200 response of a wrapped route gets a strong ``ETag`` (a hash of its body) unless
the handler set one, and a request whose ``If-None-Match`` matches it gets a bodiless 304. Use
:func:`etag` for that alone, without storing anything.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import msgspec

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.exceptions import ConfigurationError

if TYPE_CHECKING:
    from plait.cache.client import CacheClient

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__plait_cache__"
CREDENTIAL_HEADERS = ("authorization", "x-api-key")
# Per-client headers that must not be replayed to another client from a stored response.
_NOT_STORED = frozenset({b"set-cookie", b"ratelimit-limit", b"ratelimit-remaining", b"ratelimit-reset", b"retry-after"})
# The headers a 304 repeats from the full response (RFC 9110 section 15.4.5).
_KEPT_BY_304 = frozenset({b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary"})
_REFUSING_DIRECTIVES = frozenset({"private", "no-store", "no-cache"})


class ResponsePolicy(msgspec.Struct, frozen=True):
    """How one route's responses are cached (made by :func:`cache_response` or :func:`etag`)."""

    ttl: float | None
    vary: tuple[str, ...] = ()
    statuses: frozenset[int] = frozenset({200})
    max_size: int = 1 << 20
    store: bool = True


class CachedResponse(msgspec.Struct, array_like=True):
    """A stored response: status, headers, body and when it was stored (for the ``Age`` header)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stored_at: float


def cache_response(
    ttl: float | None = 60.0,
    *,
    vary: Sequence[str] = (),
    statuses: Iterable[int] = (200,),
    max_size: int = 1 << 20,
) -> Callable[[F], F]:
    """Cache a route's responses for ``ttl`` seconds (see the module notes); needs ``app.install(Cache())``.

    >>> @cache_response(ttl=30, vary=("Accept-Language",))
    ... def home() -> str:
    ...     return "hello"
    >>> home.__plait_cache__.vary
    ('accept-language',)
    """
    if isinstance(vary, str):
        raise ConfigurationError(f"cache_response(vary={vary!r}) takes a list of header names: vary=({vary!r},).")
    if ttl is not None and ttl <= 0:
        raise ConfigurationError(
            f"cache_response(ttl={ttl!r}): give a positive number of seconds (or None: no expiry)."
        )
    policy = ResponsePolicy(
        ttl, tuple(sorted({name.strip().lower() for name in vary})), frozenset(statuses), max_size=max_size
    )
    return lambda fn: _mark(fn, policy)


def etag(fn: F) -> F:
    """Give a route's 200 responses a strong ``ETag`` and answer a matching ``If-None-Match`` with 304.

    Nothing is stored: the handler still runs, the client just skips the download.
    """
    return _mark(fn, ResponsePolicy(None, store=False))


def _mark(fn: F, policy: ResponsePolicy) -> F:
    setattr(fn, ATTRIBUTE, policy)
    return fn


def policy_of(handler: Any) -> ResponsePolicy | None:
    """The policy a handler was marked with, if any."""
    policy = getattr(handler, ATTRIBUTE, None)
    return policy if isinstance(policy, ResponsePolicy) else None


def strong_etag(body: bytes) -> bytes:
    """A strong entity tag for ``body``: a quoted 128-bit BLAKE2b digest.

    >>> strong_etag(b"hello")
    b'"46fb7408d4f285228f4af516ea25851b"'
    """
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def etag_matches(if_none_match: str, tag: bytes) -> bool:
    """Whether an ``If-None-Match`` value matches ``tag``, by weak comparison (RFC 9110 section 13.1.2).

    >>> etag_matches('W/"a", "b"', b'"a"'), etag_matches('"c"', b'"a"'), etag_matches("*", b'"a"')
    (True, False, True)
    """
    if if_none_match.strip() == "*":
        return True
    wanted = tag.decode("latin-1").removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == wanted for candidate in if_none_match.split(","))


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value for key, value in scope["headers"] if key == name]
    return b", ".join(values).decode("latin-1") if values else None


def response_key(scope: Scope, vary: Sequence[str]) -> str:
    """The cache key of a request: scheme, host, path, sorted query parameters and the ``vary`` headers."""
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    parts = [
        scope.get("scheme", "http"),
        _header(scope, b"host") or "",
        scope.get("root_path", "") + scope["path"],
        urlencode(sorted(query, key=lambda item: item[0])),
    ]
    parts.extend(f"{name}={_header(scope, name.encode('latin-1')) or ''}" for name in vary)
    return "response:" + hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def with_vary(headers: list[tuple[bytes, bytes]], vary: Sequence[str]) -> list[tuple[bytes, bytes]]:
    """``headers`` with a ``Vary`` naming every header in ``vary`` (the ones already named are not repeated).

    >>> with_vary([(b"vary", b"Accept-Encoding")], ("accept-encoding", "accept-language"))
    [(b'vary', b'Accept-Encoding'), (b'vary', b'accept-language')]
    """
    named = {
        part.strip().lower()
        for key, value in headers
        if key.lower() == b"vary"
        for part in value.decode("latin-1").split(",")
    }
    if "*" in named:
        return headers
    missing = [name for name in vary if name not in named]
    return [*headers, (b"vary", ", ".join(missing).encode("latin-1"))] if missing else headers


def storable(policy: ResponsePolicy, status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes) -> bool:
    """Whether a complete response may be stored and served to others (see the module notes)."""
    if status not in policy.statuses or len(body) > policy.max_size:
        return False
    for key, value in headers:
        name = key.lower()
        if name == b"set-cookie":
            return False
        if name == b"cache-control":
            directives = {part.split("=", 1)[0].strip().lower() for part in value.decode("latin-1").split(",")}
            if directives & _REFUSING_DIRECTIVES:
                return False
        if name == b"vary":
            varied = {part.strip().lower() for part in value.decode("latin-1").split(",") if part.strip()}
            if not varied <= set(policy.vary):  # "*" and undeclared headers (Cookie above all) are never declared
                return False
    return True


class CachedRoute:
    """One route's endpoint behind the response cache (see the module notes)."""

    __slots__ = ("client", "clock", "endpoint", "policy")

    def __init__(
        self,
        endpoint: ASGIApp,
        policy: ResponsePolicy,
        client: CacheClient | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = endpoint
        self.policy = policy
        self.client = client if policy.store else None
        self.clock = clock

    def _bypass(self, scope: Scope) -> bool:
        # Credentials make the response about one caller: neither serve it from, nor add it to, the cache.
        return any(name not in self.policy.vary and _header(scope, name.encode()) for name in CREDENTIAL_HEADERS)

    def _personal(self, scope: Scope) -> bool:
        """Whether the handler looked at who is asking: it read the session, or resolved the user.

        ``Vary: Cookie`` says so too, but only when the session wrapper sits inside this one (it depends
        on the order extensions were installed); the scope tells either way.
        """
        if "cookie" in self.policy.vary:
            return False
        return bool(getattr(scope.get("session"), "accessed", False)) or scope.get("plait.user") is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await self.endpoint(scope, receive, send)
            return
        if_none_match = _header(scope, b"if-none-match")
        client = None if self._bypass(scope) else self.client
        key = response_key(scope, self.policy.vary) if client is not None else ""
        if client is not None:
            entry = await client.get(key, type=CachedResponse)
            if entry is not None:
                await self._replay(entry, method == "HEAD", if_none_match, send)
                return
        capture = _Capture(send, if_none_match, head=method == "HEAD", vary=self.policy.vary)
        await self.endpoint(scope, receive, capture)
        if client is not None and method == "GET" and capture.start is not None and capture.complete:
            status, headers = capture.start["status"], capture.headers
            if storable(self.policy, status, headers, capture.body) and not self._personal(scope):
                kept = [(k, v) for k, v in headers if k.lower() not in _NOT_STORED]
                entry = CachedResponse(status, kept, capture.body, self.clock())
                await client.set(key, entry, self.policy.ttl)

    async def _replay(self, entry: CachedResponse, head: bool, if_none_match: str | None, send: Send) -> None:
        age = str(max(0, int(self.clock() - entry.stored_at))).encode()
        headers = [*entry.headers, (b"age", age)]
        tag = next((v for k, v in entry.headers if k == b"etag"), None)
        if if_none_match is not None and tag is not None and etag_matches(if_none_match, tag):
            await _not_modified(send, headers)
            return
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else entry.body})


async def _not_modified(send: Send, headers: Sequence[tuple[bytes, bytes]]) -> None:
    kept = [(k, v) for k, v in headers if k.lower() in _KEPT_BY_304]
    await send({"type": "http.response.start", "status": 304, "headers": kept})
    await send({"type": "http.response.body", "body": b""})


class _Capture:
    """Holds a response until its body is complete, to tag, compare, forward and maybe store it.

    A response whose first body message announces more (``more_body``) is streamed: it is forwarded
    as it comes, untouched, and never stored.
    """

    __slots__ = ("body", "complete", "head", "headers", "if_none_match", "send", "start", "streaming", "vary")

    def __init__(self, send: Send, if_none_match: str | None, *, head: bool, vary: Sequence[str] = ()) -> None:
        self.send = send
        self.vary = vary
        self.if_none_match = if_none_match
        self.head = head
        self.start: Message | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.complete = False
        self.streaming = False

    async def __call__(self, message: Message) -> None:
        kind, start = message["type"], self.start
        if kind == "http.response.start" and start is None:
            vary = self.vary
            self.start = {**message, "headers": with_vary(list(message.get("headers", ())), vary)} if vary else message
        elif self.streaming or start is None:
            await self.send(message)
        elif kind == "http.response.body" and not message.get("more_body", False):
            await self._finish(start, message.get("body", b""))
        else:  # a streamed body (or trailers, an extension) ends the buffering: pass it all on as it is
            self.streaming = True
            await self.send(start)
            await self.send(message)

    async def _finish(self, start: Message, body: bytes) -> None:
        self.body, self.complete = body, True
        headers = list(start.get("headers", ()))
        status = start["status"]
        tag = next((v for k, v in headers if k.lower() == b"etag"), None)
        if tag is None and status == 200 and not self.head:
            tag = strong_etag(body)
            headers.append((b"etag", tag))
        self.headers = headers
        if status == 200 and tag is not None and self.if_none_match and etag_matches(self.if_none_match, tag):
            await _not_modified(self.send, headers)
            return
        await self.send({**start, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})
