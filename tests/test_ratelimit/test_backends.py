"""Every algorithm on both backends, the Redis scripts against the memory arithmetic, and Redis outages."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

from plait.ratelimit import Limit, MemoryRateLimitBackend, RateLimitBackend, RedisRateLimitBackend
from plait.ratelimit.limits import ALGORITHMS, Algorithm
from tests.test_cache.proxy import Proxy

pytestmark = pytest.mark.anyio


async def hits(backend: RateLimitBackend, key: str, spec: str, algorithm: Algorithm, times: list[float]) -> list[bool]:
    limit = Limit.parse(spec)
    results = []
    for now in times:
        decision = await backend.hit(key, limit, algorithm, now)
        assert decision is not None
        results.append(decision.allowed)
    return results


async def test_fixed_window(backend: RateLimitBackend, redis_prefix: str) -> None:
    key = redis_prefix + "fixed"
    assert await hits(backend, key, "3/10s", "fixed-window", [0, 1, 2, 9.9, 10, 10.5]) == [
        True, True, True, False, True, True,
    ]  # fmt: skip
    decision = await backend.hit(key, Limit(3, 10.0), "fixed-window", 12.0)
    assert decision is not None
    assert (decision.allowed, decision.remaining, decision.reset_after) == (True, 0, 8.0)


async def test_sliding_window_limits_a_burst_across_the_boundary(backend: RateLimitBackend, redis_prefix: str) -> None:
    key = redis_prefix + "sliding"
    # 4 at the end of one window; right after the boundary the previous window still counts fully.
    assert await hits(backend, key, "4/10s", "sliding-window", [9, 9, 9, 9, 10.1, 15]) == [
        True, True, True, True, False, True,
    ]  # fmt: skip
    # At 15 s the previous window weighs half: 4 * 0.5 + 1 = 3, so one more fits, then none.
    assert await hits(backend, key, "4/10s", "sliding-window", [15]) == [True]
    denied = await backend.hit(key, Limit(4, 10.0), "sliding-window", 15.0)
    assert denied is not None
    assert not denied.allowed
    assert denied.retry_after == pytest.approx(2.5)  # 4 * (1 - f) + 2 + 1 <= 4 once f >= 0.75


async def test_token_bucket_allows_a_burst_then_the_rate(backend: RateLimitBackend, redis_prefix: str) -> None:
    key = redis_prefix + "bucket"
    assert await hits(backend, key, "3/6s", "token-bucket", [0, 0, 0, 0, 1.9, 2.0, 2.1]) == [
        True, True, True, False, False, True, False,
    ]  # fmt: skip
    decision = await backend.hit(key, Limit(3, 6.0), "token-bucket", 2.2)
    assert decision is not None
    assert decision.retry_after == pytest.approx(1.8)


async def test_keys_and_algorithms_count_separately(backend: RateLimitBackend, redis_prefix: str) -> None:
    for algorithm in ALGORITHMS:
        assert await hits(backend, redis_prefix + "a", "1/minute", algorithm, [0, 0]) == [True, False]
        assert await hits(backend, redis_prefix + "b", "1/minute", algorithm, [0]) == [True]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_redis_scripts_agree_with_the_memory_arithmetic(
    algorithm: Algorithm, redis_url: str, redis_prefix: str
) -> None:
    memory, redis = MemoryRateLimitBackend(), RedisRateLimitBackend(redis_url)
    limit = Limit(5, 4.0)
    times = [0.0, 0.3, 0.3, 1.1, 1.2, 2.5, 3.9, 4.0, 4.2, 5.7, 6.0, 6.1, 7.9, 8.5, 9.0, 9.0, 13.3, 13.4]
    try:
        for now in times:
            expected = await memory.hit("k", limit, algorithm, now)
            got = await redis.hit(redis_prefix + "k", limit, algorithm, now)
            assert got is not None
            assert (got.allowed, got.remaining) == (expected.allowed, expected.remaining), now
            assert got.retry_after == pytest.approx(expected.retry_after)
            assert got.reset_after == pytest.approx(expected.reset_after)
    finally:
        await redis.aclose()


def test_the_memory_backend_forgets_the_least_recent_clients() -> None:
    import anyio

    backend = MemoryRateLimitBackend(max_keys=2)

    async def run() -> list[bool]:
        await hits(backend, "a", "1/minute", "fixed-window", [0])
        await hits(backend, "b", "1/minute", "fixed-window", [0])
        await hits(backend, "c", "1/minute", "fixed-window", [0])  # "a" is forgotten: a fresh quota
        return await hits(backend, "a", "1/minute", "fixed-window", [0])

    assert anyio.run(run) == [True]
    assert len(backend) == 2
    with pytest.raises(Exception, match="at least 1 key"):
        MemoryRateLimitBackend(max_keys=0)


def test_backends_satisfy_the_protocol() -> None:
    assert isinstance(MemoryRateLimitBackend(), RateLimitBackend)
    assert isinstance(RedisRateLimitBackend(), RateLimitBackend)


_WORKER = textwrap.dedent(
    """
    import anyio, sys
    from plait.ratelimit import Limit, RedisRateLimitBackend

    async def main() -> None:
        backend = RedisRateLimitBackend(sys.argv[1])
        results = []

        async def one() -> None:
            decision = await backend.hit(sys.argv[2], Limit(25, 60.0), sys.argv[3], 1000.0)
            results.append(decision.allowed)

        async with anyio.create_task_group() as tasks:
            for _ in range(30):
                tasks.start_soon(one)
        await backend.aclose()
        print(sum(results))

    anyio.run(main)
    """
)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_two_processes_share_one_limit_exactly(algorithm: Algorithm, redis_url: str, redis_prefix: str) -> None:
    # Two OS processes, 30 concurrent requests each, one limit of 25 with the same clock reading:
    # the scripts are atomic, so exactly 25 are admitted in total, however the requests interleave.
    key = redis_prefix + "shared"
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, redis_url, key, algorithm], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    admitted = [int(worker.communicate(timeout=60)[0]) for worker in workers]
    assert sum(admitted) == 25
    assert all(worker.returncode == 0 for worker in workers)


async def test_redis_down_returns_no_decision_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    proxy = Proxy()
    await proxy.start()
    await proxy.stop()
    now = [0.0]
    backend = RedisRateLimitBackend(proxy.url, timeout=0.5, retry_interval=1, monotonic=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="plait.ratelimit"):
        assert await backend.hit("k", Limit(1, 1.0), "fixed-window", 0.0) is None
        assert await backend.hit("k", Limit(1, 1.0), "fixed-window", 0.0) is None  # not even tried
        now[0] = 2.0
        assert await backend.hit("k", Limit(1, 1.0), "token-bucket", 0.0) is None
    assert len([r for r in caplog.records if r.name == "plait.ratelimit"]) == 1
    await backend.aclose()


async def test_redis_backend_recovers_by_itself(redis_url: str, redis_prefix: str) -> None:
    proxy = Proxy()
    await proxy.start()
    now = [0.0]
    backend = RedisRateLimitBackend(proxy.url, timeout=0.5, retry_interval=1, monotonic=lambda: now[0])
    limit = Limit(5, 60.0)
    try:
        assert await backend.hit(redis_prefix + "k", limit, "sliding-window", 1.0) is not None
        await proxy.stop()
        assert await backend.hit(redis_prefix + "k", limit, "sliding-window", 1.0) is None
        await proxy.start()
        now[0] = 2.0
        decision = await backend.hit(redis_prefix + "k", limit, "sliding-window", 1.0)
        assert decision is not None
        assert decision.remaining == 3
        assert not backend.outage.down
    finally:
        await backend.aclose()
        await proxy.stop()


async def test_a_client_given_is_left_open(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    backend = RedisRateLimitBackend(client=client)
    assert await backend.hit(redis_prefix + "k", Limit(1, 5.0), "fixed-window", 0.0) is not None
    await backend.aclose()
    assert await client.ping()
    await client.aclose()
