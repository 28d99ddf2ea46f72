"""Send every plain-HTTP request to the same URL over HTTPS.

::

    app.add_middleware(HTTPSRedirectMiddleware)

``http://`` requests get a ``308 Permanent Redirect`` to ``https://`` with the same host, path
and query (308 keeps the method and body, so a ``POST`` is repeated as a ``POST``). A ``ws://``
WebSocket is answered with the same redirect to ``wss://`` when the server supports the
WebSocket denial-response extension, and closed (code 1008) otherwise. An explicit port other
than 80 is kept; port 80 is dropped.

The scheme is the one the server reports in the ASGI scope. Behind a proxy that terminates TLS
every request arrives as ``http``: put :class:`~plait.middleware.ProxyHeadersMiddleware`
outside this middleware, or every request will redirect to itself. The target host comes from
the ``Host`` header; a malformed one gets a 400 rather than a redirect to an attacker's site,
and :class:`~plait.middleware.TrustedHostMiddleware` outside this one restricts it to yours.
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes

from plait._types import ASGIApp, Receive, Scope, Send
from plait.errors import ProblemResponse
from plait.middleware._headers import get_headers
from plait.middleware.hosts import parse_host
from plait.responses import RedirectResponse

__all__ = ["HTTPSRedirectMiddleware", "secure_url"]

_SECURE = {"http": "https", "ws": "wss"}
# RFC 3986 characters that may stand unencoded in a path (and, with "?", in a query); "%" is
# kept so that what the client already encoded is not encoded twice.
_PATH_SAFE = "/%!$&'()*+,;=:@-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def secure_url(scope: Scope) -> str | None:
    """The ``https``/``wss`` URL for a plain ``http``/``ws`` request; None if its host is malformed.

    >>> secure_url({"type": "http", "scheme": "http", "path": "/a b", "query_string": b"x=1",
    ...             "headers": [(b"host", b"example.com:80")]})
    'https://example.com/a%20b?x=1'
    """
    values = get_headers(scope["headers"], b"host")
    if values:
        parsed = parse_host(values[0].decode("latin-1")) if len(values) == 1 else None
        if parsed is None:
            return None
        host, port = parsed
    else:  # HTTP/1.0 may omit Host: fall back to the address the server listens on
        name, port = scope.get("server") or ("localhost", None)
        host = f"[{name}]" if ":" in name else name
    netloc = host if port in (None, 80) else f"{host}:{port}"
    raw_path = scope.get("raw_path") or (scope.get("root_path", "") + scope["path"]).encode("utf-8")
    url = f"{_SECURE[scope.get('scheme', 'http')]}://{netloc}{quote_from_bytes(raw_path, _PATH_SAFE)}"
    query = scope.get("query_string", b"")
    return f"{url}?{quote_from_bytes(query, _QUERY_SAFE)}" if query else url


class HTTPSRedirectMiddleware:
    """Redirect ``http``/``ws`` requests to ``https``/``wss`` with a 308 (see the module notes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or scope.get("scheme", "http") not in _SECURE:
            await self.app(scope, receive, send)
            return
        url = secure_url(scope)
        if kind == "websocket":
            await _refuse_websocket(scope, send, url)
        elif url is None:
            await ProblemResponse(400, detail="The Host header is not a valid host name.")(scope, receive, send)
        else:
            await RedirectResponse(url, status_code=308)(scope, receive, send)


async def _refuse_websocket(scope: Scope, send: Send, url: str | None) -> None:
    if url is None or "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close", "code": 1008, "reason": "Use wss://"})
        return
    headers = [(b"location", url.encode("latin-1")), (b"content-length", b"0")]
    await send({"type": "websocket.http.response.start", "status": 308, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": b""})
