"""Refuse requests whose ``Host`` header does not name this site.

::

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"])

Code that builds absolute URLs (password-reset links, redirects, ``request.url``) trusts the
``Host`` header. Without this check an attacker can send ``Host: evil.example`` and have the
app write links to their site into an e-mail or a shared cache.

A host name is compared without its port, lower-cased and without a trailing dot.
``"*.example.com"`` allows every subdomain (``a.example.com``, ``a.b.example.com``) but not
``example.com`` itself: list both. IPv6 literals are written ``"[::1]"`` (or ``"::1"``).
``"*"`` turns the check off (for development). A request with no ``Host``, more than one, or
one that is not a well-formed host gets a 400 problem response; a WebSocket is closed before
it is accepted (code 1008). Put :class:`~plait.middleware.ProxyHeadersMiddleware` outside this
one when a proxy forwards the original host in ``X-Forwarded-Host``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterable

from plait._types import ASGIApp, Receive, Scope, Send
from plait.errors import ProblemResponse
from plait.exceptions import ConfigurationError
from plait.middleware._headers import get_headers

__all__ = ["TrustedHostMiddleware", "parse_host"]

# Fixed pattern: dot-separated labels of letters, digits, '-' and '_' (as used by container names).
_HOSTNAME = re.compile(r"(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}")


def _port(text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 5 or int(text) > 65535:
        return -1
    return int(text)


def parse_host(value: str) -> tuple[str, int | None] | None:
    """Split a ``Host`` header into a normalised host name and a port; None when malformed.

    >>> parse_host("Example.COM.:8000")
    ('example.com', 8000)
    >>> parse_host("[::0:1]")
    ('[::1]', None)
    >>> parse_host("evil.com/x") is None
    True
    """
    if value.startswith("["):
        end = value.find("]")
        literal, rest = value[1:end], value[end + 1 :]
        if end == -1 or "%" in literal or (rest and not rest.startswith(":")):
            return None
        try:
            host = f"[{ipaddress.IPv6Address(literal).compressed}]"
        except ValueError:
            return None
        port = _port(rest[1:])
    else:
        name, _, port_text = value.partition(":")
        host = name.lower()
        host = host[:-1] if host.endswith(".") else host
        if len(host) > 253 or not _HOSTNAME.fullmatch(host):
            return None
        port = _port(port_text)
    return None if port == -1 else (host, port)


def _pattern(pattern: str) -> tuple[str, bool]:
    """A configured host as (normalised host, is it a '*.' wildcard)."""
    text = pattern.strip().lower()
    wildcard = text.startswith("*.")
    body = text[2:] if wildcard else text
    with contextlib.suppress(ValueError):  # a bare IPv6 literal, written without brackets
        body = f"[{ipaddress.IPv6Address(body).compressed}]"
    parsed = parse_host(body)
    if parsed is None or parsed[1] is not None or (wildcard and body.startswith("[")):
        raise ConfigurationError(
            f"TrustedHostMiddleware(allowed_hosts=...): {pattern!r} is not a host name or a '*.domain' pattern; "
            "write it without scheme, port or path, e.g. 'example.com' or '*.example.com'."
        )
    return parsed[0], wildcard


class TrustedHostMiddleware:
    """Let through only requests for one of ``allowed_hosts`` (see the module notes)."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str]) -> None:
        if isinstance(allowed_hosts, str):
            raise ConfigurationError(
                f"TrustedHostMiddleware(allowed_hosts=...) takes a list of host names: [{allowed_hosts!r}]."
            )
        patterns = [str(host) for host in allowed_hosts]
        if not patterns:
            raise ConfigurationError(
                "TrustedHostMiddleware(allowed_hosts=[]) would refuse every request; list the site's host names "
                "(or '*' to allow any during development)."
            )
        self.app = app
        self.any = "*" in patterns
        self.exact: set[str] = set()
        self.suffixes: set[str] = set()
        for pattern in patterns:
            if pattern != "*":
                host, wildcard = _pattern(pattern)
                if wildcard:
                    self.suffixes.add("." + host)
                else:
                    self.exact.add(host)

    def allowed(self, host: str) -> bool:
        """Whether a normalised host name (as :func:`parse_host` returns it) is allowed."""
        if self.any or host in self.exact:
            return True
        # PERF: one set lookup per parent domain, never a loop over the patterns.
        dot = host.find(".")
        while dot != -1 and not host.startswith("["):
            if host[dot:] in self.suffixes:
                return True
            dot = host.find(".", dot + 1)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.any:
            await self.app(scope, receive, send)
            return
        values = get_headers(scope["headers"], b"host")
        parsed = parse_host(values[0].decode("latin-1")) if len(values) == 1 else None
        if parsed is not None and self.allowed(parsed[0]):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "Invalid host"})
            return
        if not values:
            detail = "The request has no Host header."
        elif len(values) > 1:
            detail = "The request has more than one Host header."
        else:
            detail = "The Host header does not name this site."
        await ProblemResponse(400, detail=detail)(scope, receive, send)
