"""Drive middleware with hand-made ASGI scopes, for what an HTTP client cannot send."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio

from plait._types import ASGIApp, Message, Receive, Scope, Send


def http_scope(
    path: str = "/", *, method: str = "GET", headers: Sequence[tuple[bytes, bytes]] = (), **extra: Any
) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": list(headers),
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    scope.update(extra)
    return scope


def websocket_scope(path: str = "/ws", *, headers: Sequence[tuple[bytes, bytes]] = (), **extra: Any) -> Scope:
    scope = http_scope(path, headers=headers, **extra)
    del scope["method"]
    scope["type"] = "websocket"
    scope["scheme"] = extra.get("scheme", "ws")
    return scope


def run(app: ASGIApp, scope: Scope, body: bytes = b"") -> list[Message]:
    """Call ``app`` once; every message it sends, in order."""
    sent: list[Message] = []
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    if scope["type"] == "websocket":
        incoming = [{"type": "websocket.connect"}]

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    return sent


class Recorder:
    """An ASGI app that remembers the scopes it saw and answers ``ok`` (accepts WebSockets)."""

    def __init__(self, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        self.scopes: list[Scope] = []
        self.headers = list(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": [*self.headers]})
            await send({"type": "http.response.body", "body": b"ok"})
        elif scope["type"] == "websocket":
            await send({"type": "websocket.accept"})

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]


def header(message: Message, name: bytes) -> list[bytes]:
    """Every value of ``name`` in a start message's headers."""
    return [value for key, value in message.get("headers", ()) if key.lower() == name]
