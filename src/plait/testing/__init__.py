"""Testing Plait apps: in-process HTTP clients and pytest fixtures.

>>> from plait.testing import TestClient
>>> # with TestClient(app) as client:
>>> #     assert client.get("/").status_code == 200

Installing Plait registers a pytest plugin with two fixtures, ``client`` and ``async_client``,
built from an ``app`` fixture you define (see :mod:`plait.testing.plugin`).
"""

from plait.testing.client import CLIENT_ADDRESS, AsyncTestClient, TestClient

__all__ = ["CLIENT_ADDRESS", "AsyncTestClient", "TestClient"]
