"""CacheClient over both backends: the same behaviour in memory and on the real Redis."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from plait.cache import CacheBackend, CacheClient, MemoryBackend
from plait.cache.client import decode, encode

pytestmark = pytest.mark.anyio


class Point(msgspec.Struct):
    x: int
    y: int


async def test_set_get_delete_round_trip_values(cache: CacheClient) -> None:
    values = {"dict": {"a": [1, 2.5, None]}, "text": "héllo", "bytes": b"\x00\x01", "true": True, "none": None}
    for key, value in values.items():
        await cache.set(key, value)
    assert {key: await cache.get(key) for key in values} == values
    assert await cache.get("missing", "fallback") == "fallback"
    assert await cache.delete("text") is True
    assert await cache.delete("text") is False
    assert await cache.get("text") is None


async def test_typed_get_converts_structs_dates_and_counters(cache: CacheClient) -> None:
    await cache.set("point", Point(1, 2))
    await cache.set("when", dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC))
    await cache.incr("count", 5)
    assert await cache.get("point", type=Point) == Point(1, 2)
    assert await cache.get("when", type=dt.datetime) == dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    assert await cache.get("count", type=float) == 5.0


async def test_a_value_that_no_longer_fits_its_type_is_a_miss(cache: CacheClient) -> None:
    await cache.set("point", {"x": "not a number"})
    assert await cache.get("point", "default", type=Point) == "default"
    assert await cache.get_or_set("point", lambda: Point(3, 4), type=Point) == Point(3, 4)
    assert await cache.get("point", type=Point) == Point(3, 4)


async def test_incr_creates_adds_and_refuses_non_integers(cache: CacheClient) -> None:
    assert await cache.incr("hits") == 1
    assert await cache.incr("hits", 10) == 11
    assert await cache.incr("hits", -20) == -9
    assert await cache.get("hits") == -9
    await cache.set("name", "plait")
    with pytest.raises(ValueError, match="not an integer"):
        await cache.incr("name")


async def test_get_or_set_calls_sync_and_async_defaults_once(cache: CacheClient) -> None:
    calls: list[str] = []

    def make() -> list[int]:
        calls.append("sync")
        return [1, 2]

    async def make_async() -> str:
        calls.append("async")
        return "computed"

    assert await cache.get_or_set("a", make) == [1, 2]
    assert await cache.get_or_set("a", make) == [1, 2]
    assert await cache.get_or_set("b", make_async) == "computed"
    assert await cache.get_or_set("b", make_async) == "computed"
    assert await cache.get_or_set("c", 7) == 7
    assert calls == ["sync", "async"]


async def test_versions_keep_entries_apart(cache: CacheClient) -> None:
    await cache.set("k", "v1")
    await cache.set("k", "v2", version=2)
    assert await cache.get("k") == "v1"
    assert await cache.get("k", version=2) == "v2"
    newer = CacheClient(cache.backend, prefix=cache.prefix, version=2)
    assert await newer.get("k") == "v2"
    assert newer.make_key("k") == f"{cache.prefix}2:k"


async def test_many_at_once(cache: CacheClient) -> None:
    await cache.set_many({"a": 1, "b": {"x": 1}})
    assert await cache.get_many(["a", "b", "missing"]) == {"a": 1, "b": {"x": 1}}
    assert await cache.get_many([]) == {}
    await cache.set_many({})
    await cache.set_many({"a": 2}, ttl=0)  # a ttl of zero deletes instead of storing
    assert await cache.get_many(["a"]) == {}


async def test_ttl_zero_deletes_and_clear_stays_under_the_prefix(cache: CacheClient, backend: CacheBackend) -> None:
    await cache.set("gone", 1)
    await cache.set("gone", 2, ttl=0)
    assert await cache.get("gone") is None
    other = CacheClient(backend, prefix=cache.prefix + "other*[x]:")  # glob characters are matched literally
    await other.set("kept", 1)
    await cache.set("a", 1, ttl=None)
    await cache.set("b", 1, version=9)
    assert await other.clear() == 1
    await other.set("kept", 1)
    try:
        assert await cache.clear() >= 2  # both versions, and the other client's key under the same prefix
        assert await cache.get("a") is None
    finally:
        await other.clear()


async def test_redis_clear_deletes_in_batches(cache: CacheClient) -> None:
    await cache.set_many({f"k{i}": i for i in range(1100)})
    assert await cache.clear() == 1100


async def test_entries_expire_after_their_ttl() -> None:
    now = [0.0]
    cache = CacheClient(MemoryBackend(clock=lambda: now[0]), default_ttl=10)
    await cache.set("default", 1)
    await cache.set("short", 1, ttl=1)
    await cache.set("forever", 1, ttl=None)
    await cache.incr("counter", ttl=5)
    now[0] = 5.0
    assert await cache.get_many(["default", "short", "forever", "counter"]) == {"default": 1, "forever": 1}
    now[0] = 11.0
    assert await cache.get_many(["default", "forever"]) == {"forever": 1}


def test_integers_are_stored_as_decimal_text_and_the_rest_as_msgpack() -> None:
    assert encode(49) == b"49"
    assert decode(b"49") == 49
    assert decode(encode(True)) is True
    assert decode(encode("7")) == "7"
    assert decode(encode(-3)) == -3
    assert decode(encode([49])) == [49]
