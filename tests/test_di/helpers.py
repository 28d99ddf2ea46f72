"""Drivers shared by the dependency, request, error and lifespan tests (no plait.testing needed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio
import httpx

from plait._types import ASGIApp, Message, Scope


def call(app: ASGIApp, method: str, url: str, *, raise_app_exceptions: bool = True, **kwargs: Any) -> httpx.Response:
    """Send one request to ``app`` through httpx and return the response."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, url, **kwargs)

    return anyio.run(go)


def http_scope(
    method: str = "GET",
    path: str = "/",
    *,
    query: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    **extra: Any,
) -> Scope:
    """A minimal ASGI HTTP scope."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": list(headers),
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }
    scope.update(extra)
    return scope


class Receiver:
    """An ASGI ``receive`` that hands out the given messages in order, counting the calls."""

    def __init__(self, *messages: Message) -> None:
        self.messages = list(messages)
        self.calls = 0

    @classmethod
    def body(cls, *chunks: bytes) -> Receiver:
        """``http.request`` messages carrying ``chunks``, the last one closing the body."""
        if not chunks:
            return cls({"type": "http.request", "body": b"", "more_body": False})
        last = len(chunks) - 1
        return cls(*({"type": "http.request", "body": c, "more_body": i < last} for i, c in enumerate(chunks)))

    async def __call__(self) -> Message:
        self.calls += 1
        if self.messages:
            return self.messages.pop(0)
        return {"type": "http.disconnect"}


class Recorder:
    """An ASGI ``send`` that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def types(self) -> list[str]:
        return [str(m["type"]) for m in self.messages]

    @property
    def status(self) -> int:
        return int(next(m["status"] for m in self.messages if m["type"] == "http.response.start"))

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")

    @property
    def headers(self) -> dict[str, str]:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}


def run_asgi(app: ASGIApp, scope: Scope, receive: Receiver | None = None) -> Recorder:
    """Run ``app`` once on ``scope`` and return what it sent."""
    sent = Recorder()
    anyio.run(app, scope, receive or Receiver.body(), sent)
    return sent
