"""Testing Plait apps: in-process HTTP and WebSocket clients and pytest fixtures.

>>> from plait.testing import TestClient
>>> # with TestClient(app) as client:
>>> #     assert client.get("/").status_code == 200
>>> #     with client.websocket_connect("/ws") as ws:
>>> #         ws.send_text("hello")

Installing Plait registers a pytest plugin with two fixtures, ``client`` and ``async_client``,
built from an ``app`` fixture you define (see :mod:`plait.testing.plugin`).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait.testing.client import CLIENT_ADDRESS, AsyncTestClient, TestClient
    from plait.testing.websocket import AsyncWebSocketTestSession, WebSocketDenied, WebSocketTestSession

__all__ = [
    "CLIENT_ADDRESS",
    "AsyncTestClient",
    "AsyncWebSocketTestSession",
    "TestClient",
    "WebSocketDenied",
    "WebSocketTestSession",
]

_HOMES = {
    "CLIENT_ADDRESS": "client",
    "AsyncTestClient": "client",
    "TestClient": "client",
    "AsyncWebSocketTestSession": "websocket",
    "WebSocketDenied": "websocket",
    "WebSocketTestSession": "websocket",
}


def __getattr__(name: str) -> Any:
    # Imported on first use: pytest loads the plugin in this package at startup, before coverage
    # measurement begins, and the clients should be measured like the rest of Plait.
    home = _HOMES.get(name)
    if home is not None:
        return getattr(importlib.import_module(f"plait.testing.{home}"), name)
    raise AttributeError(f"module 'plait.testing' has no attribute {name!r}")
