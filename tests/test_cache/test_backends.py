"""The in-memory backend's bound and expiry, and the Redis backend's behaviour while Redis is away."""

from __future__ import annotations

import logging

import pytest

from plait.cache import CacheBackend, CacheClient, MemoryBackend, RedisBackend
from plait.cache.outage import Outage
from plait.cache.redis import describe
from plait.exceptions import ConfigurationError
from tests.test_cache.proxy import Proxy

pytestmark = pytest.mark.anyio


async def test_memory_backend_evicts_the_least_recently_used() -> None:
    backend = MemoryBackend(max_entries=3)
    for key in "abc":
        await backend.set(key, key.encode(), None)
    assert await backend.get("a") == b"a"  # "b" is now the oldest
    await backend.set("d", b"d", None)
    assert await backend.get_many(["a", "b", "c", "d"]) == [b"a", None, b"c", b"d"]
    assert len(backend) == 3


async def test_memory_backend_drops_expired_entries_before_evicting_live_ones() -> None:
    now = [0.0]
    backend = MemoryBackend(max_entries=2, clock=lambda: now[0])
    await backend.set("short", b"1", 1)
    await backend.set("long", b"2", 100)
    now[0] = 2.0
    await backend.set("new", b"3", None)  # the expired "short" goes, "long" stays
    assert await backend.get_many(["short", "long", "new"]) == [None, b"2", b"3"]


async def test_memory_backend_counter_keeps_its_expiry_and_aclose_empties_it() -> None:
    now = [0.0]
    backend = MemoryBackend(clock=lambda: now[0])
    assert await backend.incr("n", 1, 10) == 1
    now[0] = 9.0
    assert await backend.incr("n", 1, 10) == 2  # not extended by the second incr
    now[0] = 10.0
    assert await backend.get("n") is None
    await backend.aclose()
    assert len(backend) == 0


def test_memory_backend_needs_room_for_one_entry() -> None:
    with pytest.raises(ConfigurationError, match="at least 1"):
        MemoryBackend(max_entries=0)


def test_backends_satisfy_the_protocol() -> None:
    assert isinstance(MemoryBackend(), CacheBackend)
    assert isinstance(RedisBackend(), CacheBackend)


def test_descriptions_hide_passwords() -> None:
    assert describe("redis://user:secret@cache:6379/0") == "Redis at redis://***@cache:6379/0"
    assert describe("unix:///run/redis.sock") == "Redis at unix:///run/redis.sock"


async def test_redis_given_as_a_client_is_left_open(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    backend = RedisBackend(redis_url, client=client)
    await backend.set(redis_prefix + "k", b"v", 5)
    await backend.aclose()
    assert await client.get(redis_prefix + "k") == b"v"
    await client.delete(redis_prefix + "k")
    await client.aclose()


async def test_redis_down_means_misses_and_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    proxy = Proxy()
    await proxy.start()
    await proxy.stop()  # a port nothing listens on any more
    now = [0.0]
    backend = RedisBackend(proxy.url, timeout=0.5, warn_interval=60, retry_interval=1, clock=lambda: now[0])
    cache = CacheClient(backend)
    with caplog.at_level(logging.WARNING, logger="plait.cache"):
        assert await cache.get("k", "miss") == "miss"
        await cache.set("k", 1)
        await cache.set_many({"a": 1})
        assert await cache.get_many(["a", "b"]) == {}
        assert await cache.incr("n") is None
        assert await cache.delete("k") is False
        assert await cache.clear() == 0
        now[0] = 5.0  # past the retry interval: tried again, failed again, but no second warning yet
        assert await cache.get("k") is None
        assert backend.outage.down
    warnings = [r for r in caplog.records if r.name == "plait.cache"]
    assert len(warnings) == 1
    assert "is unavailable" in warnings[0].getMessage()
    assert proxy.url.split("//")[1] in warnings[0].getMessage()
    await backend.aclose()


async def test_redis_backend_recovers_by_itself(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = Proxy()
    await proxy.start()
    now = [0.0]
    backend = RedisBackend(proxy.url, timeout=0.5, retry_interval=1, clock=lambda: now[0])
    cache = CacheClient(backend, prefix=redis_prefix)
    try:
        await cache.set("k", "stored", ttl=30)
        await proxy.stop()
        with caplog.at_level(logging.INFO, logger="plait.cache"):
            assert await cache.get("k") is None  # a miss: the app carries on
            await proxy.start()  # Redis is back (same port)
            assert await cache.get("k") is None  # still inside the retry interval: Redis is not asked yet
            now[0] = 2.0
            assert await cache.get("k") == "stored"
        assert not backend.outage.down
        assert [r.levelname for r in caplog.records if r.name == "plait.cache"] == ["WARNING", "INFO"]
    finally:
        await cache.clear()
        await backend.aclose()
        await proxy.stop()


def test_outage_warns_again_after_the_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    outage = Outage(logging.getLogger("test.outage"), "thing", warn_interval=10, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.outage"):
        outage.failed(OSError("a"))
        now[0] = 5.0
        outage.failed(OSError("b"))
        now[0] = 10.0
        outage.failed(OSError("c"))
    assert [r.getMessage().split("(")[1][:10] for r in caplog.records] == ["OSError: a", "OSError: c"]
