"""A route compiled into a plain ASGI app: gather arguments, call the handler, send the result."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from plait._types import Receive, Scope, Send
from plait.codec.types import unwrap_annotated
from plait.di.container import Container, Solver
from plait.di.markers import Depends
from plait.di.plan import CallKind, CallPlan, Dependency, call_kind, provider_of
from plait.errors import STARTED, HandlerTable, ResponseGuard, handle
from plait.exceptions import HTTPException, RequestValidationError, WebSocketException
from plait.params.extractors import received_body
from plait.params.signature import find_marker
from plait.requests import Request
from plait.responses import Response
from plait.results import ResultSpec, compile_result
from plait.websockets import WebSocket, WebSocketClose, WebSocketDisconnect

logger = logging.getLogger("plait.error")

_JSON = (b"content-type", b"application/json")
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_NO_BODY = frozenset({204, 304})


class Endpoint:
    """Runs one handler for one request. Everything it needs was decided at startup."""

    __slots__ = (
        "asgi",
        "container",
        "direct",
        "encode",
        "extractors",
        "fn",
        "guards",
        "is_async",
        "needs_stack",
        "plan",
        "response_class",
        "shaper",
        "simple",
        "special",
        "status_code",
        "streams",
        "table",
        "text",
    )

    def __init__(
        self,
        plan: CallPlan,
        guards: list[Dependency],
        container: Container,
        table: HandlerTable,
        *,
        status_code: int = 200,
        response_class: type[Response] | None = None,
        result: ResultSpec | None = None,
    ) -> None:
        self.plan = plan
        self.fn = plan.fn
        self.guards = guards
        self.needs_stack = plan.needs_exit_stack or any(g.plan.needs_exit_stack for g in guards)
        self.container = container
        self.table = table
        self.status_code = status_code
        self.response_class = response_class
        if result is None:
            result = compile_result(plan, {"status_code": status_code, "response_class": response_class}, guards)
        self.text = result.text
        self.encode = result.encode
        # Routes whose results need more than JSON or text (response_model, response_class, generators,
        # the response parameter) send every result through the shaper; plain routes never see it.
        self.shaper = result.shaper
        self.streams = plan.kind in (CallKind.ASYNC_GEN, CallKind.SYNC_GEN)
        # PERF: only a handler whose annotation allows a tuple pays for the Flask tuple check, folded
        # into the isinstance() that already looks for a Response.
        self.special: type | tuple[type, ...] = (Response, tuple) if result.tuples else Response
        self.extractors = tuple(plan.sync_params)
        self.is_async = plan.kind is CallKind.ASYNC
        # PERF: the common shape (arguments straight from the request, no providers, no body) runs
        # without a Solver, a send wrapper or extra coroutine frames.
        self.direct = (
            plan.kind in (CallKind.ASYNC, CallKind.SYNC) and not plan.deps and not plan.async_params and not guards
        )
        self.simple = response_class is None and status_code not in _NO_BODY and not result.always
        # PERF: the route table holds this bound method, one coroutine frame fewer than __call__.
        self.asgi: Callable[[Scope, Receive, Send], Awaitable[None]] = self._general
        if self.direct:
            no_args = self.is_async and not self.extractors and plan.body is None and self.simple
            self.asgi = self._no_args if no_args else self._direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.direct:
            await self._direct(scope, receive, send)
        else:
            await self._general(scope, receive, send)

    async def _no_args(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``async def hello() -> ...``: nothing to gather, so nothing but the call and the two messages.

        The sending code repeats ``_direct``'s on purpose (# PERF:): a shared helper coroutine would cost
        one more frame per request on the path the benchmarks' JSON hello measures.
        """
        try:
            result = await self.fn()
        except Exception as exc:
            await self._fail(scope, receive, send, None, exc)
            return
        if isinstance(result, self.special):  # a Response, or (only when the annotation allows it) a tuple
            await self._answer(scope, receive, send, None, result)
            return
        if self.text or type(result) is str:
            body, kind = (result if type(result) is str else str(result)).encode(), _TEXT
        else:
            body, kind = self.encode(result), _JSON
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": [kind, (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        except Exception:
            scope[STARTED] = True
            raise
        if "plait.background" in scope:
            await scope["plait.background"].run(functools.partial(run_task, self.container))

    async def _direct(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.plan
        request = Request(scope, receive) if self.extractors or plan.body is not None else None
        try:
            try:
                kwargs = await self._arguments(request) if request is not None else {}
                if self.is_async:
                    result = await self.fn(**kwargs)
                else:
                    result = await self.container.pool.run(self.fn, **kwargs)
            except Exception as exc:
                await self._fail(scope, receive, send, request, exc)
                return
            if self.simple and not isinstance(result, self.special):
                if self.text or type(result) is str:
                    body, kind = str(result).encode("utf-8"), _TEXT
                else:
                    body, kind = self.encode(result), _JSON  # an output error here is a 500 (nothing sent yet)
                try:
                    await send(
                        {
                            "type": "http.response.start",
                            "status": self.status_code,
                            "headers": [kind, (b"content-length", str(len(body)).encode())],
                        }
                    )
                    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
                except Exception:
                    scope[STARTED] = True
                    raise
            elif not await self._answer(scope, receive, send, request, result):
                return  # the result could not be shaped: an error response went out instead
            if "plait.background" in scope:
                await scope["plait.background"].run(functools.partial(run_task, self.container))
        finally:
            # Uploads the handler parsed itself (request.form()), closed once the response is sent, as in _general.
            if request is not None and request._form is not None:
                await request.close()

    async def _answer(self, scope: Scope, receive: Receive, send: Send, request: Request | None, result: Any) -> bool:
        """Send a result the fast paths do not handle; False when shaping it failed and an error was sent.

        Shaping (response_model, a Flask tuple) can fail before anything is sent: that failure gets
        the usual error handling. A failure while sending marks the response as started.
        """
        if self.shaper is not None:
            try:
                result = await self.shaper.build(scope, result)
            except Exception as exc:
                await self._fail(scope, receive, send, request, exc)
                return False
        try:
            if isinstance(result, Response):
                await result(scope, receive, send)
            else:
                await self.respond(scope, receive, send, result)
        except Exception:
            scope[STARTED] = True
            raise
        return True

    async def _arguments(self, request: Request) -> dict[str, Any]:
        """Every argument straight from the request, with all their errors in one 422."""
        kwargs: dict[str, Any] = {}
        errors: list[Any] | None = None
        for name, extractor in self.extractors:
            try:
                kwargs[name] = extractor.extract(request)
            except RequestValidationError as exc:
                errors = [*(errors or []), *exc.details]
        plan = self.plan
        if plan.body is not None:
            try:
                value = await plan.body.extract(request)
            except RequestValidationError as exc:
                errors = [*(errors or []), *exc.details]
            else:
                if plan.body_names is None:
                    kwargs[plan.body_fields[0].name] = value
                else:
                    for name in plan.body_names:
                        kwargs[name] = getattr(value, name)
        if errors:
            raise RequestValidationError(errors, body=received_body(request))
        return kwargs

    async def _fail(self, scope: Scope, receive: Receive, send: Send, request: Request | None, exc: Exception) -> None:
        response = await handle(self.table, request or Request(scope, receive), exc)
        if response is None:
            raise exc
        await response(scope, receive, send)

    async def _general(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        guard = ResponseGuard(send)
        try:
            if self.needs_stack or self.container.overrides:
                async with contextlib.AsyncExitStack() as stack:
                    await self._run(request, Solver(self.container, request, stack), guard)
                if not guard.started:
                    raise RuntimeError(
                        f"A generator provider of {self.plan.name} swallowed the handler's exception, so there is "
                        "no response to send; re-raise it after your cleanup (use try/finally around the yield)."
                    )
            else:
                await self._run(request, Solver(self.container, request, None), guard)
        except Exception as exc:
            if guard.started:
                scope[STARTED] = True
                raise
            response = await handle(self.table, request, exc)
            if response is None:
                raise
            await response(scope, receive, send)
            return  # the handler failed: the work it scheduled goes with it
        finally:
            await request.close()
        tasks = scope.get("plait.background")
        if tasks is not None:  # after the response and the providers' cleanup
            await tasks.run(functools.partial(run_task, self.container))

    async def _run(self, request: Request, solver: Solver, send: Send) -> None:
        for dep in self.guards:
            await solver.resolve(dep)
        plan = self.plan
        if self.streams:  # a generator handler: its items are the response body, streamed
            result = plan.fn(**(await solver.arguments(plan)))
        else:
            result = await solver.invoke(plan, await solver.arguments(plan))
        await self.respond(request.scope, request._receive, send, result)

    async def respond(self, scope: Scope, receive: Receive, send: Send, result: Any) -> None:
        if self.shaper is not None:  # decided at startup: routes with nothing special never take this
            await self.shaper.respond(scope, receive, send, result)
            return
        if isinstance(result, Response):
            await result(scope, receive, send)
            return
        status = self.status_code  # a response_class always comes with a shaper (see compile_result)
        if status in _NO_BODY:
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        # PERF: text and JSON results skip the Response object: one encode and two messages.
        if self.text or isinstance(result, str):
            body = str(result).encode("utf-8")
            headers = [_TEXT, (b"content-length", str(len(body)).encode())]
        else:
            body = self.encode(result)
            headers = [_JSON, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


class WebSocketEndpoint:
    """Runs one WebSocket handler: checks the origin, gathers arguments, closes cleanly whatever happens."""

    __slots__ = ("container", "guards", "origins", "plan")

    def __init__(self, plan: CallPlan, guards: list[Dependency], container: Container, origins: Sequence[str]) -> None:
        self.plan = plan
        self.guards = guards
        self.container = container
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = scope["app"].settings if "app" in scope else None
        limit = settings.websocket_max_message_size if settings is not None else 1024 * 1024
        ws = WebSocket(scope, receive, send, max_message_size=limit)
        if self.origins and ws.headers.get("origin") not in self.origins:
            await ws.close(WebSocketClose.POLICY_VIOLATION, "origin not allowed")  # before accept: a 403
            return
        try:
            async with contextlib.AsyncExitStack() as stack:
                solver = Solver(self.container, ws, stack)  # type: ignore[arg-type]
                for dep in self.guards:
                    await solver.resolve(dep)
                await solver.invoke(self.plan, await solver.arguments(self.plan))
        except WebSocketDisconnect:
            pass
        except WebSocketException as exc:  # the handler (or a provider) chose the close code itself
            await ws.close(exc.code, exc.reason)
            return
        except HTTPException as exc:  # a validation error or a refusal from a provider
            await ws.close(WebSocketClose.POLICY_VIOLATION, _close_reason(exc))
            return  # as for HTTP, a failed handler's background tasks are dropped
        except Exception:
            logger.exception("Unhandled error in WebSocket %s", scope.get("path"))
            await ws.close(WebSocketClose.INTERNAL_ERROR, "internal error")
            return
        else:
            await ws.close(WebSocketClose.NORMAL)
        tasks = scope.get("plait.background")
        if tasks is not None:  # after the connection has closed and the providers' cleanup
            await tasks.run(functools.partial(run_task, self.container))


async def run_task(container: Container, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Call one background task, filling the ``Depends`` parameters its caller left out.

    Only those are resolved: the arguments given to ``add_task`` pass through untouched, whatever
    their types, and parameters with ordinary defaults keep them.
    """
    async with contextlib.AsyncExitStack() as stack:
        solver = Solver(container, None, stack)
        resolved = {name: await solver.resolve(dep) for name, dep in _task_dependencies(container, fn, args, kwargs)}
        if call_kind(fn) is CallKind.ASYNC:
            result = fn(*args, **kwargs, **resolved)
        else:
            result = await container.pool.run(functools.partial(fn, *args, **kwargs, **resolved))
        if inspect.isawaitable(result):  # an async callable the checks above could not recognise
            await result


def _task_dependencies(
    container: Container, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[tuple[str, Dependency]]:
    try:
        signature = inspect.signature(fn)
    except ValueError:  # a builtin without a signature asks for no providers
        return []
    given = signature.bind_partial(*args, **kwargs).arguments
    target = fn if inspect.isroutine(fn) else getattr(fn, "__call__", fn)  # noqa: B004
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # an annotation that does not resolve cannot hold a Depends marker we could use
        hints = {}
    found = []
    for param in signature.parameters.values():
        if param.name in given or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        marker: Depends | None = find_marker(hints.get(param.name), param.default, Depends)
        if marker is None and container.compiler.providers:  # an extension's provider, by annotation
            marker = container.compiler.providers.get(unwrap_annotated(hints.get(param.name))[0])
        if marker is not None:
            plan = container.plan_for(provider_of(marker, hints.get(param.name), f"task parameter {param.name!r}"))
            found.append((param.name, Dependency(plan, marker.use_cache, marker.scope)))
    return found


def _close_reason(exc: HTTPException) -> str:
    """A close reason that says what to fix: the first bad parameter for a validation error."""
    if isinstance(exc, RequestValidationError) and exc.details:
        first = exc.details[0]
        where = ".".join(str(part) for part in first.loc)
        more = f" (+{len(exc.details) - 1} more)" if len(exc.details) > 1 else ""
        return f"{where}: {first.msg}{more}"
    return exc.detail
