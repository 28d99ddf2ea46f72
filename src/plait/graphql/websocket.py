"""Subscriptions over WebSocket with the ``graphql-transport-ws`` protocol (the one ``graphql-ws`` speaks).

The client opens the socket asking for the subprotocol, sends ``connection_init`` (an optional
``payload``, kept as ``info.context.connection_params``), and the server acknowledges. Then each
``subscribe`` message (an ``id`` and the usual ``query``, ``variables``, ``operationName``) runs
one operation: the server sends a ``next`` per result and ``complete`` at its end, or ``error``
when the document does not validate; the client's ``complete`` stops it. Queries and mutations run
the same way with one ``next``. ``ping`` gets ``pong``. Protocol errors close the socket with the
codes the protocol names: 4400 (a message that is not one), 4401 (subscribe before the ack), 4406
(no such subprotocol), 4408 (no ``connection_init`` in time), 4409 (an id in use), 4429 (a second
``connection_init``). Each operation has its own dependency scope (its own database session)
for its whole life, so keep subscriptions' database work short.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import anyio
import msgspec
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from plait.graphql.errors import format_errors
from plait.graphql.execution import operation_context, payload
from plait.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from plait.graphql.extension import GraphQL

PROTOCOL = "graphql-transport-ws"
_ANY = (OperationType.QUERY, OperationType.MUTATION, OperationType.SUBSCRIPTION)


class _Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def serve(ext: GraphQL, ws: WebSocket) -> None:
    """Run the protocol on one connection until either side ends it."""
    if PROTOCOL not in ws.scope.get("subprotocols", ()):
        await ws.close(4406, f"Subprotocol not acceptable: ask for {PROTOCOL}")
        return
    await ws.accept(subprotocol=PROTOCOL)
    connection = _Connection(ext, ws)
    try:
        async with anyio.create_task_group() as group:
            connection.group = group
            group.start_soon(connection.expect_init)
            await connection.listen()
            group.cancel_scope.cancel()
    except* _Closed as group:
        closed = group.exceptions[0]
        assert isinstance(closed, _Closed)
        await ws.close(closed.code, closed.reason)


class _Connection:
    def __init__(self, ext: GraphQL, ws: WebSocket) -> None:
        self.ext = ext
        self.ws = ws
        self.acknowledged = False
        self.init_received = False
        self.params: dict[str, Any] = {}
        self.operations: dict[str, anyio.CancelScope] = {}
        self.group: Any = None
        self.send_lock = anyio.Lock()

    async def expect_init(self) -> None:
        await anyio.sleep(self.ext.connection_init_wait)
        if not self.init_received:
            raise _Closed(4408, "Connection initialisation timeout")

    async def listen(self) -> None:
        try:
            while True:
                text = await self.ws.receive_text()
                await self.dispatch(_message(text))
        except WebSocketDisconnect:
            for scope in self.operations.values():
                scope.cancel()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the client has gone already
                await self.ws.send_text(msgspec.json.encode(message).decode("utf-8"))

    async def dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            if self.init_received:
                raise _Closed(4429, "Too many initialisation requests")
            self.init_received = True
            params = message.get("payload")
            self.params = params if isinstance(params, dict) else {}
            self.acknowledged = True
            await self.send({"type": "connection_ack"})
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self.subscribe(message)
        elif kind == "complete":
            scope = self.operations.pop(str(message.get("id")), None)
            if scope is not None:
                scope.cancel()
        else:
            raise _Closed(4400, f"Unknown message type {kind!r}"[:100])

    async def subscribe(self, message: dict[str, Any]) -> None:
        if not self.acknowledged:
            raise _Closed(4401, "Unauthorized")
        op_id, body = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise _Closed(4400, "A subscribe message needs an id and a payload with a query")
        if op_id in self.operations:
            raise _Closed(4409, f"Subscriber for {op_id} already exists"[:100])
        scope = anyio.CancelScope()
        self.operations[op_id] = scope
        self.group.start_soon(self.run, op_id, body, scope)

    async def run(self, op_id: str, body: dict[str, Any], scope: anyio.CancelScope) -> None:
        ext = self.ext
        with scope:
            if len(body["query"].encode("utf-8", "surrogatepass")) > ext.max_document_size:
                await self.send({"type": "error", "id": op_id, "payload": [_too_large(ext.max_document_size)]})
                self.operations.pop(op_id, None)
                return
            variables = body.get("variables")
            async with operation_context(self.ws, ext.container) as context:
                context.connection_params = self.params
                results = await ext.schema.stream(
                    body["query"],
                    variable_values=variables if isinstance(variables, dict) else None,
                    context_value=context,
                    operation_name=body.get("operationName"),
                    allowed_operation_types=_ANY,
                )
                async with contextlib.aclosing(results):
                    async for result in results:
                        if not isinstance(result, ExecutionResult):  # pragma: no cover - @defer/@stream frames
                            await self.send({"type": "next", "id": op_id, "payload": result.formatted})
                            continue
                        if isinstance(result, PreExecutionError):
                            errors = format_errors(result.errors or (), debug=ext.debug)
                            context.failed = True
                            await self.send({"type": "error", "id": op_id, "payload": errors})
                            self.operations.pop(op_id, None)
                            return
                        context.failed = context.failed or bool(result.errors)
                        shown = payload(result.data, result.errors, result.extensions, debug=ext.debug)
                        await self.send({"type": "next", "id": op_id, "payload": shown})
        if self.operations.pop(op_id, None) is not None:  # not stopped by the client's own complete
            await self.send({"type": "complete", "id": op_id})


def _message(text: str) -> dict[str, Any]:
    try:
        message = msgspec.json.decode(text)
    except msgspec.DecodeError:
        raise _Closed(4400, "Invalid message: not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise _Closed(4400, "Invalid message: an object with a type is expected")
    return message


def _too_large(limit: int) -> dict[str, Any]:
    return {"message": f"The GraphQL document is larger than {limit} bytes.", "extensions": {"code": "BAD_REQUEST"}}
