"""Function middleware: ``@app.middleware("http")`` with ``async def mw(request, call_next)``.

``call_next(request)`` starts the rest of the app in a child task and returns as soon as the
response *begins* (its status and headers), not when it ends. The middleware may change the
status and headers; the body then flows straight from the handler to the client, chunk by chunk,
so streaming responses still stream. Context variables work both ways: the child task starts
from the middleware's context, and whatever the app below set before its response began is
copied back into the middleware's context when ``call_next`` returns.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.datastructures import MutableHeaders
from plait.exceptions import ConfigurationError
from plait.requests import Request
from plait.responses import Response
from plait.routing.stack import Middleware

CallNext = Callable[[Request], Awaitable[Response]]
Dispatch = Callable[[Request, CallNext], Awaitable[Response]]

__all__ = ["CallNext", "Dispatch", "FunctionMiddleware", "function_middleware"]


def function_middleware(kind: str, fn: Callable[..., Any]) -> Middleware:
    """Check a ``@middleware(kind)`` declaration and wrap ``fn`` as a :class:`Middleware`.

    >>> async def timing(request, call_next):
    ...     return await call_next(request)
    >>> function_middleware("http", timing)
    Middleware(FunctionMiddleware, {'dispatch': <function timing at ...>})
    """
    if kind != "http":
        raise ConfigurationError(
            f"@middleware({kind!r}): function middleware only wraps HTTP requests; write @middleware('http'), "
            "or for WebSocket/lifespan traffic write a pure ASGI middleware class and add it with add_middleware()."
        )
    name = getattr(fn, "__qualname__", repr(fn))
    if not inspect.iscoroutinefunction(fn):
        raise ConfigurationError(
            f"Middleware {name} must be declared 'async def {getattr(fn, '__name__', 'mw')}(request, call_next)' "
            "and return 'await call_next(request)' (or another Response)."
        )
    positional = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(positional) != 2:
        raise ConfigurationError(f"Middleware {name} must take exactly two parameters: (request, call_next).")
    return Middleware(FunctionMiddleware, dispatch=fn)


class FunctionMiddleware:
    """Runs ``dispatch(request, call_next)`` around the app for HTTP requests; other traffic passes by."""

    __slots__ = ("app", "dispatch")

    def __init__(self, app: ASGIApp, dispatch: Dispatch) -> None:
        self.app = app
        self.dispatch = dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        error: Exception | None = None
        async with anyio.create_task_group() as group:
            call_next = _CallNext(self.app, receive, group)
            try:
                await self._respond(request, call_next, scope, receive, send)
            except Exception as exc:  # raised after the group closes: a task group would wrap it in a group
                error = exc
            finally:
                # The app below runs on after its response only to finish its own work (background tasks);
                # if its response was replaced or cut short, it is stopped.
                call_next.abandon_unless_finished()
        if error is None and call_next.started:  # e.g. a background task of the app below, after its response
            error = call_next.error
        if error is not None:
            raise error

    async def _respond(
        self, request: Request, call_next: _CallNext, scope: Scope, receive: Receive, send: Send
    ) -> None:
        response = await self.dispatch(request, call_next)
        if not isinstance(response, Response):
            raise TypeError(
                f"Middleware {getattr(self.dispatch, '__qualname__', self.dispatch)} returned "
                f"{type(response).__name__}; return the Response from 'await call_next(request)' or another one."
            )
        await response(scope, receive, send)


class _CallNext:
    """The ``call_next`` given to one middleware call: runs the app below once, in a child task."""

    def __init__(self, app: ASGIApp, receive: Receive, group: anyio.abc.TaskGroup) -> None:
        self.app = app
        self.receive = receive
        self.group = group
        self.pending: _PendingResponse | None = None
        self.error: Exception | None = None
        self.changes: list[tuple[contextvars.ContextVar[Any], Any]] = []
        self.started = False
        self._cancel = anyio.CancelScope()
        self._out: MemoryObjectSendStream[Message]
        self._in: MemoryObjectReceiveStream[Message]
        self._called = False

    async def __call__(self, request: Request) -> Response:
        if self._called:
            raise RuntimeError("call_next() can be called only once per request; keep the Response it returned.")
        self._called = True
        # Unbuffered: the app below sends its next chunk only when the client side has taken the last one.
        self._out, self._in = anyio.create_memory_object_stream[Message]()
        self.group.start_soon(self._run, request.scope, replaying(request, self.receive))
        message = await self._next()
        self._adopt_context()
        if message is None:
            if self.error is not None:
                raise self.error
            raise RuntimeError("The app below the middleware returned without sending a response.")
        self.pending = _PendingResponse(message, self)
        return self.pending

    async def _run(self, scope: Scope, receive: Receive) -> None:
        before = contextvars.copy_context()

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.started = True
                self.changes = _changed_vars(before, contextvars.copy_context())
            try:
                await self._out.send(message)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                raise OSError("The middleware did not send this response; the client will not see it.") from None

        with self._cancel, self._out:
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                if not self.started:
                    self.changes = _changed_vars(before, contextvars.copy_context())
                self.error = exc

    async def _next(self) -> Message | None:
        try:
            return await self._in.receive()
        except anyio.EndOfStream:
            return None

    def _adopt_context(self) -> None:
        for var, value in self.changes:
            var.set(value)

    async def forward(self, send: Send) -> None:
        """Pass the body messages of the app below to ``send`` until the response is complete."""
        while (message := await self._next()) is not None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                break
        if self.error is not None:
            raise self.error

    def abandon_unless_finished(self) -> None:
        if not self._called:
            return
        if not (self.pending is not None and self.pending.finished):
            self._cancel.cancel()
        self._in.close()


class _PendingResponse(Response):
    """The response of the app below, begun but not sent: status and headers may still change."""

    def __init__(self, start: Message, source: _CallNext) -> None:  # no super().__init__: the body is not here
        self.status_code = start["status"]
        self.headers = MutableHeaders(list(start.get("headers", [])))
        self.body = b""
        self.source = source
        self.finished = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.headers.raw})
        await self.source.forward(send)
        self.finished = True


def replaying(request: Request, receive: Receive) -> Receive:
    """``receive`` for the app below: a body the middleware (or hook) already read is handed over again.

    A body consumed piece by piece (``stream()``, a multipart ``form()``) was not kept, so it cannot be;
    the app below is then told so, loudly, rather than left waiting for a body that will never come.
    """
    body = request._body
    if body is None and not request._stream_used:
        return receive
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            if body is None:
                raise RuntimeError(
                    "The request body was consumed by a middleware or before_request hook (stream() or a multipart "
                    "form()); read it there with 'await request.body()' so that it is kept for the handler too."
                )
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _changed_vars(
    before: contextvars.Context, after: contextvars.Context
) -> list[tuple[contextvars.ContextVar[Any], Any]]:
    missing = object()
    return [(var, value) for var, value in after.items() if before.get(var, missing) is not value]
