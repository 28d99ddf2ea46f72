"""Rate-limit fixtures: a backend per kind (memory, and the real Redis under a key prefix of the test's own)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from plait.ratelimit import MemoryRateLimitBackend, RateLimitBackend, RedisRateLimitBackend
from tests.test_scaling.watchdog import *  # noqa: F403 - a hang fails one test, never the whole run


@pytest.fixture(params=["memory", "redis"])
def backend_url(request: pytest.FixtureRequest) -> str:
    # Resolved here, outside the event loop: the redis_url fixture probes the server with asyncio.run().
    return "memory://" if request.param == "memory" else str(request.getfixturevalue("redis_url"))


@pytest.fixture
async def backend(backend_url: str) -> AsyncIterator[RateLimitBackend]:
    made: RateLimitBackend
    made = MemoryRateLimitBackend() if backend_url == "memory://" else RedisRateLimitBackend(backend_url)
    yield made
    await made.aclose()
