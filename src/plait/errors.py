"""Turning exceptions into responses: RFC 9457 problem details, handler lookup, the debug page."""

from __future__ import annotations

import html
import inspect
import logging
import traceback
from collections.abc import Iterable, Mapping
from typing import Any

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.exceptions import ClientDisconnect, HTTPException, RequestValidationError, status_phrase
from plait.requests import Request
from plait.responses import HTMLResponse, JSONResponse, Response
from plait.responses.streaming import log_disconnect

logger = logging.getLogger("plait.error")
ExceptionKey = int | type[BaseException]
Handlers = Mapping[ExceptionKey, Any]


class ProblemResponse(JSONResponse):
    """An RFC 9457 problem document (``application/problem+json``).

    >>> ProblemResponse(404, detail="No such article").body
    b'{"type":"about:blank","title":"Not Found","status":404,"detail":"No such article"}'
    """

    media_type = "application/problem+json"

    def __init__(
        self,
        status_code: int,
        *,
        detail: str | None = None,
        title: str | None = None,
        type: str = "about:blank",
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        phrase = status_phrase(status_code)
        document: dict[str, Any] = {
            "type": type,
            "title": title or phrase,
            "status": status_code,
            "detail": detail if detail is not None else phrase,
        }
        if extra:
            document.update(extra)
        super().__init__(document, status_code=status_code, headers=headers)


def http_exception_response(exc: HTTPException) -> Response:
    extra = dict(exc.extra)
    if isinstance(exc, RequestValidationError):
        extra["errors"] = [{"loc": list(e.loc), "msg": e.msg, "type": e.type} for e in exc.details]
    return ProblemResponse(exc.status_code, detail=exc.detail, type=exc.type, extra=extra, headers=exc.headers)


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """Plait's default answer to an :class:`HTTPException`: its problem document, status and headers.

    Delegate to it from your own handler, after logging for instance:

    >>> import anyio
    >>> async def log_then_answer(request: Request, exc: HTTPException) -> Response:
    ...     print("refused:", exc.status_code)
    ...     return await http_exception_handler(request, exc)
    >>> response = anyio.run(log_then_answer, Request({"type": "http"}), HTTPException(403, "Admins only"))
    refused: 403
    >>> response.status_code, response.body
    (403, b'{"type":"about:blank","title":"Forbidden","status":403,"detail":"Admins only"}')
    """
    return http_exception_response(exc)


async def request_validation_exception_handler(request: Request, exc: RequestValidationError) -> Response:
    """Plait's default answer to a :class:`RequestValidationError`: a 422 problem listing every bad field.

    >>> import anyio
    >>> from plait.exceptions import ErrorDetail
    >>> exc = RequestValidationError([ErrorDetail(("query", "page"), "Expected `int`", "type_error")])
    >>> anyio.run(request_validation_exception_handler, Request({"type": "http"}), exc).status_code
    422
    """
    return http_exception_response(exc)


class HandlerTable:
    """Exception handlers by status code and by class, most specific first; built at startup."""

    __slots__ = ("by_class", "by_status")

    def __init__(self, layers: Iterable[Handlers]) -> None:
        self.by_status: dict[int, Any] = {}
        self.by_class: dict[type[BaseException], Any] = {}
        for layer in layers:  # outermost first: inner layers override
            for key, handler in layer.items():
                if isinstance(key, int):
                    self.by_status[key] = handler
                else:
                    self.by_class[key] = handler

    def lookup(self, exc: BaseException, *, below: type[BaseException] | None = None) -> Any:
        """The handler for ``exc``: by status for HTTP errors, then by class (nearest first).

        With ``below``, only classes more specific than ``below`` are considered.
        """
        if isinstance(exc, HTTPException) and exc.status_code in self.by_status:
            return self.by_status[exc.status_code]
        for cls in type(exc).__mro__:
            if cls is below:
                return None
            handler = self.by_class.get(cls)
            if handler is not None:
                return handler
        return None


async def call_handler(handler: Any, request: Request, exc: BaseException) -> Response:
    result = handler(request, exc)
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, Response):
        raise TypeError(
            f"Exception handler {getattr(handler, '__qualname__', handler)!r} returned {type(result).__name__}; "
            "it must return a Response."
        )
    return result


class ClientGone(Response):
    """The answer to a client that left while sending its body: nothing to send, one debug line logged.

    Not an error: no handler runs, no 500 is logged and the access log shows no status.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        log_disconnect(scope, "while sending its request body")


async def handle(table: HandlerTable, request: Request, exc: BaseException) -> Response | None:
    """The response for ``exc`` from the table or the defaults, or None when it is unhandled."""
    if isinstance(exc, ClientDisconnect):  # nobody is left to answer, so no handler runs
        return ClientGone()
    handler = table.lookup(exc)
    if handler is not None:
        return await call_handler(handler, request, exc)
    if isinstance(exc, HTTPException):
        return http_exception_response(exc)
    return None


class ResponseGuard:
    """Wraps ``send`` to remember whether the response has started (then no error page can follow)."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


STARTED = "plait.response_started"
"""Scope key set when an error escapes after the response began (so no error page can follow)."""


class ServerErrors:
    """Outermost layer: any unhandled exception becomes a 500 (a traceback page only in debug)."""

    def __init__(self, app: ASGIApp, table: HandlerTable, debug: bool) -> None:
        self.app = app
        self.table = table
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guard = ResponseGuard(send)
        try:
            await self.app(scope, receive, guard)
        except Exception as exc:
            await self.answer(scope, receive, send, exc, started=guard.started)

    async def answer(self, scope: Scope, receive: Receive, send: Send, exc: Exception, *, started: bool) -> None:
        """Send the response for ``exc``; once a response has begun, only log it (nothing else can be sent)."""
        if isinstance(exc, ClientDisconnect):  # raised outside a route (a middleware reading the body)
            log_disconnect(scope, "while sending its request body")
            return
        if started or scope.get(STARTED):
            logger.error(
                "Error after the response began in %s %s", scope.get("method"), scope.get("path"), exc_info=exc
            )
            return
        request = Request(scope, receive)
        # A handler for this kind of error (or its status) beats the 500 handler, which beats a catch-all.
        handler = self.table.lookup(exc, below=Exception)
        if handler is not None:
            response = await call_handler(handler, request, exc)
        elif isinstance(exc, HTTPException):  # raised on purpose (a 404, an auth check): not a crash
            response = http_exception_response(exc)
        else:
            logger.error("Unhandled error in %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
            response = await self._response(scope, receive, exc)
        await response(scope, receive, send)

    async def _response(self, scope: Scope, receive: Receive, exc: Exception) -> Response:
        request = Request(scope, receive)
        # A handler for this kind of error beats the 500 handler, which beats a catch-all for Exception.
        handler = self.table.by_status.get(500) or self.table.lookup(exc)
        if handler is not None:
            try:
                return await call_handler(handler, request, exc)
            except Exception:
                logger.exception("The 500 handler itself failed")
        if self.debug:
            return debug_response(request, exc)
        return ProblemResponse(500, detail="The server hit an error it did not expect. It has been logged.")


def debug_response(request: Request, exc: BaseException) -> Response:
    """A traceback for developers: HTML for browsers, problem JSON otherwise. Never used unless debug is on."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    if "text/html" in request.headers.get("accept", ""):
        body = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Plait debug: "
            f"{html.escape(type(exc).__name__)}</title><style>body{{font-family:sans-serif;margin:2em}}"
            "pre{background:#f4f4f4;padding:1em;overflow:auto}</style></head><body>"
            f"<h1>{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</h1>"
            f"<p>{html.escape(request.method)} {html.escape(request.path)}</p>"
            f"<pre>{html.escape(''.join(lines))}</pre>"
            "<p>Shown because Settings.debug is on. Turn it off in production.</p></body></html>"
        )
        return HTMLResponse(body, status_code=500)
    return ProblemResponse(500, detail=f"{type(exc).__name__}: {exc}", extra={"traceback": lines})
