"""One log line per HTTP request, safe to write whatever the client sent.

::

    app.add_middleware(AccessLogMiddleware)   # logs to the "plait.access" logger at INFO

A line looks like::

    203.0.113.9 "GET /articles?page=2 HTTP/1.1" 200 5120 3.4ms id=4f1c... ua="Mozilla/5.0 ..."

client address, request line, status, body bytes sent, time until the app returned, the
request id (when :class:`~plait.middleware.RequestIDMiddleware` runs, inside or outside this
one) and the user agent. The method, target, user agent and every other field are escaped:
backslash, double quote, control characters and anything outside printable ASCII become
``\\\\``, ``\\"``, ``\\r``, ``\\n``, ``\\x1b``, ``\\u2028`` and so on. A client therefore cannot end the line early,
forge a second one, or colour a terminal. The raw path is logged as the client sent it.

The same values are attached to the record as ``record.access`` (a dict) for structured
formatters. When the app raises before it starts the response the line says 500 and the
exception goes on up; a Plait app's own error page is sent outside the middleware stack, so
its bytes are not counted. A request cancelled before any response (the client went away) is
logged with status ``-``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.middleware._headers import get_header
from plait.middleware.request_id import SCOPE_KEY

__all__ = ["AccessLogMiddleware", "escape"]

# Backslash and quote are escaped so that an escape sequence in a log line always means one
# the logger wrote, never one the client typed.
_TABLE = {code: f"\\x{code:02x}" for code in range(256) if not 0x20 <= code < 0x7F}
_TABLE.update({ord("\\"): "\\\\", ord('"'): '\\"', ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"})
_FORMAT = '%s "%s %s HTTP/%s" %s %d %.1fms id=%s ua="%s"'


def _wide(char: str) -> str:
    code = ord(char)
    if code < 0x80:
        return char
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(text: str | bytes) -> str:
    """``text`` with everything but printable ASCII escaped; bytes are read one per character.

    >>> print(escape("GET\\r\\nX: 1\\x1b[31m"))
    GET\\r\\nX: 1\\x1b[31m
    >>> print(escape(b"/caf\\xc3\\xa9"))
    /caf\\xc3\\xa9
    """
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    # PERF: the common case, plain printable ASCII, costs a few C-level scans.
    if text.isascii() and text.isprintable() and "\\" not in text and '"' not in text:
        return text
    escaped = text.translate(_TABLE)
    return escaped if escaped.isascii() else "".join(_wide(char) for char in escaped)


class AccessLogMiddleware:
    """Log one escaped line per HTTP request (see the module notes)."""

    def __init__(self, app: ASGIApp, *, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger if logger is not None else logging.getLogger("plait.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # PERF: with the logger off, requests skip the wrapper entirely.
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        status: int | None = None
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        started = time.perf_counter()
        failed = False
        try:
            await self.app(scope, receive, counting_send)
        except Exception:
            failed = True
            raise
        finally:
            shown = status if status is not None else (500 if failed else None)
            self._log(scope, shown, sent, (time.perf_counter() - started) * 1000)

    def _log(self, scope: Scope, status: int | None, sent: int, elapsed_ms: float) -> None:
        client = scope.get("client")
        target: bytes | str = scope.get("raw_path") or scope.get("path", "")
        query: bytes = scope.get("query_string", b"")
        if query:
            target = (target.decode("latin-1") if isinstance(target, bytes) else target) + "?" + query.decode("latin-1")
        fields: dict[str, Any] = {
            "client": escape(str(client[0])) if client else "-",
            "method": escape(str(scope.get("method", "-"))),
            "target": escape(target),
            "http_version": escape(str(scope.get("http_version", "1.1"))),
            "status": status,
            "bytes": sent,
            "duration_ms": round(elapsed_ms, 3),
            "request_id": escape(str(scope.get(SCOPE_KEY, "-"))),
            "user_agent": escape(get_header(scope.get("headers", ()), b"user-agent") or b"-"),
        }
        self.logger.info(
            _FORMAT,
            fields["client"],
            fields["method"],
            fields["target"],
            fields["http_version"],
            "-" if status is None else status,
            sent,
            elapsed_ms,
            fields["request_id"],
            fields["user_agent"],
            extra={"access": fields},
        )
