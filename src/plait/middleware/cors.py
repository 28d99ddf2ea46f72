"""Cross-origin resource sharing: which other sites' pages may call this app from a browser.

::

    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://app.example.com"],
        allow_methods=["GET", "POST"],
        allow_headers=["authorization"],
        allow_credentials=True,
    )

Origins are compared exactly (a set lookup), never by a pattern built from configuration:
a pattern such as ``https://.*example.com`` would also let ``https://evil-example.com`` in.
To allow every subdomain of a site, list ``https://*.example.com`` in ``allow_origin_suffixes``;
that matches ``https://a.example.com`` and ``https://a.b.example.com`` (same scheme and port),
but neither ``https://example.com`` itself nor ``https://evilexample.com``.

A preflight request (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here,
with 200 when the origin, method and headers are allowed and 400 with a plain-text reason
otherwise; the app never sees it. Other requests from an allowed origin get
``Access-Control-Allow-Origin`` and friends on their response. CORS does not apply to
WebSockets, so WebSocket connections and the lifespan pass through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from plait._types import ASGIApp, Message, RawHeaders, Receive, Scope, Send
from plait.exceptions import ConfigurationError
from plait.http.headers import TOKEN
from plait.middleware._headers import add_vary, get_header, has_header, with_headers
from plait.responses import PlainTextResponse

__all__ = ["SAFELISTED_HEADERS", "CORSMiddleware"]

SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
"""Request headers always allowed in a preflight (the Fetch standard's CORS-safelisted ones)."""

# Fixed patterns (never built from configuration): scheme "://" host [":" port].
_ORIGIN = re.compile(r"([a-z][a-z0-9+.-]*)://(\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*)(?::([0-9]{1,5}))?")
_WILDCARD = re.compile(r"([a-z][a-z0-9+.-]*)://\*(\.[a-z0-9_-]+(?:\.[a-z0-9_-]+)+)(?::([0-9]{1,5}))?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_PREFLIGHT_VARY = (b"Origin", b"Access-Control-Request-Method", b"Access-Control-Request-Headers")


def _strings(option: str, values: Iterable[str]) -> list[str]:
    if isinstance(values, str | bytes):
        raise ConfigurationError(f"CORSMiddleware({option}=...) takes a list of strings, not one string: [{values!r}].")
    return [str(value).strip() for value in values]


def _check_port(option: str, origin: str, scheme: str, port: str | None) -> None:
    if port is not None and _DEFAULT_PORTS.get(scheme) == port:
        raise ConfigurationError(
            f"CORSMiddleware({option}=...): browsers send {origin!r} without its default port; "
            f"write it without ':{port}'."
        )


def _exact_origins(values: Iterable[str]) -> set[str]:
    origins = set()
    for origin in _strings("allow_origins", values):
        if origin == "*":
            origins.add(origin)
            continue
        if origin.lower() == "null":
            raise ConfigurationError(
                "CORSMiddleware(allow_origins=...) lists 'null': every sandboxed iframe and local file sends "
                "that origin, so allowing it lets any site in. Remove it."
            )
        match = _ORIGIN.fullmatch(origin.lower())
        if match is None:
            raise ConfigurationError(
                f"CORSMiddleware(allow_origins=...): {origin!r} is not an origin; write scheme://host[:port] "
                "with no path or trailing slash, e.g. 'https://app.example.com'."
            )
        _check_port("allow_origins", origin, match.group(1), match.group(3))
        origins.add(origin.lower())
    return origins


def _suffix_origins(values: Iterable[str]) -> set[tuple[str, str, str | None]]:
    suffixes = set()
    for pattern in _strings("allow_origin_suffixes", values):
        match = _WILDCARD.fullmatch(pattern.lower())
        if match is None:
            raise ConfigurationError(
                f"CORSMiddleware(allow_origin_suffixes=...): {pattern!r} is not a subdomain pattern; write "
                "scheme://*.domain[:port] with at least two labels after '*.', e.g. 'https://*.example.com'."
            )
        scheme, suffix, port = match.groups()
        _check_port("allow_origin_suffixes", pattern, scheme, port)
        suffixes.add((scheme, suffix, port))
    return suffixes


def _tokens(option: str, values: Iterable[str]) -> list[str]:
    names = _strings(option, values)
    for name in names:
        if name != "*" and not TOKEN.fullmatch(name):
            raise ConfigurationError(f"CORSMiddleware({option}=...): {name!r} is not a valid HTTP token.")
    return names


def _requested_headers(value: bytes | None) -> list[str] | None:
    """The header names a preflight asks for, lower-cased; None when the list is malformed."""
    if value is None:
        return []
    names = [name.strip().lower() for name in value.decode("latin-1").split(",")]
    names = [name for name in names if name]
    return names if all(TOKEN.fullmatch(name) for name in names) else None


class CORSMiddleware:
    """Answer CORS preflights and label responses for allowed cross-origin callers.

    ``"*"`` in ``allow_origins`` allows every origin, but never together with
    ``allow_credentials``: that would let any site act with the user's cookies. ``"*"`` in
    ``allow_methods`` or ``allow_headers`` allows whatever a preflight asks for (echoed back).
    The CORS-safelisted request headers (:data:`SAFELISTED_HEADERS`) are always allowed.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allow_origins: Iterable[str] = (),
        allow_methods: Iterable[str] = ("GET",),
        allow_headers: Iterable[str] = (),
        allow_credentials: bool = False,
        expose_headers: Iterable[str] = (),
        max_age: int = 600,
        allow_origin_suffixes: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.origins = _exact_origins(allow_origins)
        self.suffixes = _suffix_origins(allow_origin_suffixes)
        self.any_origin = "*" in self.origins
        methods = [m.upper() for m in _tokens("allow_methods", allow_methods)]
        headers = [h.lower() for h in _tokens("allow_headers", allow_headers)]
        exposed = _tokens("expose_headers", expose_headers)
        self.any_method, self.any_header = "*" in methods, "*" in headers
        self.methods = frozenset(methods)
        self.headers = frozenset(headers) | SAFELISTED_HEADERS
        self.credentials = allow_credentials
        self._check_credentials(exposed)
        if not isinstance(max_age, int) or max_age < 0:
            raise ConfigurationError(f"CORSMiddleware(max_age=...) must be a number of seconds ≥ 0, not {max_age!r}.")
        # PERF: every header that does not depend on the request is encoded once, here.
        # With "*" every answer is the same; otherwise it depends on Origin, and caches must know.
        self.vary_origin = not self.any_origin
        self.common: RawHeaders = []
        if allow_credentials:
            self.common.append((b"access-control-allow-credentials", b"true"))
        self.simple = list(self.common)
        if exposed:
            self.simple.append((b"access-control-expose-headers", ", ".join(exposed).encode("latin-1")))
        self.preflight = [*self.common, (b"access-control-max-age", str(max_age).encode("latin-1"))]
        if not self.any_method:
            self.preflight.append((b"access-control-allow-methods", ", ".join(methods).encode("latin-1")))
        if not self.any_header and headers:
            self.preflight.append((b"access-control-allow-headers", ", ".join(headers).encode("latin-1")))

    def _check_credentials(self, exposed: list[str]) -> None:
        if not self.credentials:
            return
        if self.any_origin:
            raise ConfigurationError(
                "CORSMiddleware: allow_origins=['*'] with allow_credentials=True would let every site on the web "
                "send requests with your users' cookies. List the trusted origins instead."
            )
        if "*" in exposed:
            raise ConfigurationError(
                "CORSMiddleware: with allow_credentials=True browsers read expose_headers=['*'] as a header "
                "literally named '*'. List the header names to expose."
            )

    def allowed_origin(self, origin: bytes) -> bytes | None:
        """The ``Access-Control-Allow-Origin`` value for ``origin``, or None if it is not allowed."""
        if self.any_origin:  # never with credentials: refused at construction
            return b"*"
        text = origin.decode("latin-1").lower()
        if text in self.origins:
            return origin
        if self.suffixes:
            match = _ORIGIN.fullmatch(text)
            if match is not None and self._suffix_match(*match.groups()):
                return origin
        return None

    def _suffix_match(self, scheme: str, host: str, port: str | None) -> bool:
        # PERF: one set lookup per parent domain of the host, never a loop over the patterns.
        dot = host.find(".")
        while dot != -1:
            if (scheme, host[dot:], port) in self.suffixes:
                return True
            dot = host.find(".", dot + 1)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        origin = get_header(headers, b"origin")
        if origin is None:
            await self.app(scope, receive, self._labelled(send, []) if self.vary_origin else send)
            return
        if scope["method"] == "OPTIONS":
            method = get_header(headers, b"access-control-request-method")
            if method is not None:
                response = self._preflight_response(origin, method, headers)
                await response(scope, receive, send)
                return
        allowed = self.allowed_origin(origin)
        extra = [(b"access-control-allow-origin", allowed), *self.simple] if allowed is not None else []
        await self.app(scope, receive, self._labelled(send, extra))

    def _labelled(self, send: Send, extra: RawHeaders) -> Send:
        async def labelled_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                # A response that set its own CORS headers keeps them: the handler took charge.
                own = extra if not has_header(headers, b"access-control-allow-origin") else []
                message = with_headers(message, own)
                if self.vary_origin:
                    message["headers"] = add_vary(message["headers"], b"Origin")
            await send(message)

        return labelled_send

    def _preflight_response(self, origin: bytes, method: bytes, headers: RawHeaders) -> PlainTextResponse:
        allowed = self.allowed_origin(origin)
        wanted_method = method.decode("latin-1").strip()
        wanted_headers = _requested_headers(get_header(headers, b"access-control-request-headers"))
        problems = []
        if allowed is None:
            problems.append("the origin is not allowed")
        if not TOKEN.fullmatch(wanted_method) or not (self.any_method or wanted_method in self.methods):
            problems.append("the method is not allowed")
        if wanted_headers is None or not (self.any_header or self.headers.issuperset(wanted_headers)):
            problems.append("a requested header is not allowed")
        response = PlainTextResponse(
            "CORS preflight refused: " + "; ".join(problems) + "." if problems else "OK",
            status_code=400 if problems else 200,
        )
        raw = response.headers.raw
        if allowed is not None and not problems:
            raw.append((b"access-control-allow-origin", allowed))
            raw.extend(self.preflight)
            if self.any_method:
                raw.append((b"access-control-allow-methods", wanted_method.encode("latin-1")))
            if self.any_header and wanted_headers:
                raw.append((b"access-control-allow-headers", ", ".join(wanted_headers).encode("latin-1")))
        raw.extend((b"vary", name) for name in _PREFLIGHT_VARY if name != b"Origin" or self.vary_origin)
        return response
