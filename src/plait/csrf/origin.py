"""Where an unsafe request came from: the ``Origin`` and ``Referer`` checks, as pure functions.

A token alone is not the whole defence: on HTTPS, a man-in-the-middle on plain HTTP can plant
cookies for the secure site (cookies do not isolate by scheme), so a matching cookie and token
could both be the attacker's. Requiring the request to come from a page of this very origin
(``Origin``, else ``Referer`` on HTTPS) closes that gap, as browsers set those headers themselves.

>>> scope = {"scheme": "https", "server": ("example.com", 443), "headers": [(b"host", b"example.com")]}
>>> origin_problem(scope, {"origin": "https://example.com"}, ()) is None
True
>>> origin_problem(scope, {"origin": "https://evil.example"}, ())[0]
'csrf_origin_mismatch'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Origin", "origin_problem", "own_origin", "parse_origin", "trusted"]

Origin = tuple[str, str, int]
"""(scheme, host, port), lower-cased, with the scheme's default port filled in."""

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def parse_origin(value: str) -> Origin | None:
    """``https://Example.com`` -> ``('https', 'example.com', 443)``; None when it is not an origin.

    >>> parse_origin("https://Example.com:8443/path")
    ('https', 'example.com', 8443)
    >>> parse_origin("null") is None
    True
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]


def own_origin(scope: Mapping[str, Any]) -> Origin | None:
    """This request's own origin: its scheme and the ``Host`` it was sent to."""
    scheme = scope.get("scheme", "http")
    host = next((value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"host"), None)
    if host is None:
        server = scope.get("server")
        if not server:
            return None
        host = f"{server[0]}:{server[1]}"
    return parse_origin(f"{scheme}://{host}")


def trusted(origin: Origin, patterns: Sequence[str]) -> bool:
    """True when ``origin`` is one of ``patterns`` (``https://app.example.com``, ``https://*.example.com``).

    >>> trusted(("https", "api.example.com", 443), ["https://*.example.com"])
    True
    >>> trusted(("http", "api.example.com", 80), ["https://*.example.com"])
    False
    """
    for pattern in patterns:
        wildcard = "://*." in pattern
        parsed = parse_origin(pattern.replace("://*.", "://", 1) if wildcard else pattern)
        if parsed is None or parsed[0] != origin[0] or parsed[2] != origin[2]:
            continue
        if origin[1] == parsed[1] or (wildcard and origin[1].endswith("." + parsed[1])):
            return True
    return False


def _show(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}" + ("" if _DEFAULT_PORTS[scheme] == port else f":{port}")


def origin_problem(
    scope: Mapping[str, Any], headers: Mapping[str, str], trusted_origins: Sequence[str]
) -> tuple[str, str] | None:
    """``(code, explanation)`` when an unsafe request did not come from this site; None when it did."""
    own = own_origin(scope)
    origin = headers.get("origin")
    if origin is not None:
        # Browsers send Origin on every cross-origin request and on same-origin POSTs; when present
        # it is the most reliable word on where the request came from, on HTTP as on HTTPS.
        if origin.strip().lower() == "null":
            # "null" comes from sandboxed iframes, data: URLs and some redirects: contexts an attacker
            # can create at will, and that never are this site's own pages.
            return "csrf_origin_null", (
                "The Origin header is 'null' (a sandboxed frame, a data: URL or a privacy redirect); "
                "unsafe requests must come from this site's own pages."
            )
        parsed = parse_origin(origin)
        if parsed is None or (parsed != own and not trusted(parsed, trusted_origins)):
            site = _show(own) if own else "this site"
            return "csrf_origin_mismatch", (
                f"The Origin header ({origin}) is not {site}. If that origin is yours, add it to "
                "CSRF(trusted_origins=[...])."
            )
        return None
    if scope.get("scheme") != "https":
        return None
    return _referer_problem(headers.get("referer"), own, trusted_origins)


def _referer_problem(referer: str | None, own: Origin | None, trusted_origins: Sequence[str]) -> tuple[str, str] | None:
    # Without Origin (older browsers), HTTPS requests must name a referring page of this site:
    # browsers send Referer from HTTPS to the same origin under every default referrer policy.
    if not referer:
        return "csrf_referer_missing", (
            "The request has neither an Origin nor a Referer header, which HTTPS requests from this site's "
            "pages carry; check the page's Referrer-Policy (use 'same-origin' or stricter, not 'no-referrer')."
        )
    parsed = parse_origin(referer)
    if parsed is None or parsed[0] != "https":
        return "csrf_referer_insecure", (
            f"The Referer ({referer}) is not an HTTPS page; an HTTPS site only accepts unsafe requests from "
            "HTTPS pages."
        )
    if parsed != own and not trusted(parsed, trusted_origins):
        return "csrf_referer_mismatch", (
            f"The Referer ({referer}) is not a page of this site. If that origin is yours, add it to "
            "CSRF(trusted_origins=[...])."
        )
    return None
