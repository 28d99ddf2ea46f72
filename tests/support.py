"""A tiny driver for core tests that must not depend on plait.testing."""

from __future__ import annotations

from typing import Any

import anyio
import httpx

from plait._types import ASGIApp


def call(app: ASGIApp, method: str, url: str, *, raise_app_exceptions: bool = True, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, url, **kwargs)

    return anyio.run(go)
