"""Testing Plait apps: in-process HTTP clients and pytest fixtures.

>>> from plait.testing import TestClient
>>> # with TestClient(app) as client:
>>> #     assert client.get("/").status_code == 200

Installing Plait registers a pytest plugin with two fixtures, ``client`` and ``async_client``,
built from an ``app`` fixture you define (see :mod:`plait.testing.plugin`).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait.testing.client import CLIENT_ADDRESS, AsyncTestClient, TestClient

__all__ = ["CLIENT_ADDRESS", "AsyncTestClient", "TestClient"]


def __getattr__(name: str) -> Any:
    # Imported on first use: pytest loads the plugin in this package at startup, before coverage
    # measurement begins, and the clients should be measured like the rest of Plait.
    if name in __all__:
        from plait.testing import client

        return getattr(client, name)
    raise AttributeError(f"module 'plait.testing' has no attribute {name!r}")
