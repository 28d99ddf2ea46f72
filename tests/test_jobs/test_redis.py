"""Jobs on the real Redis: the Streams broker, acknowledgement, redelivery of a dead worker's job."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from plait import Plait
from plait.jobs import Job, Jobs, JobsUnavailable, StreamBroker
from plait.jobs.cli import run_worker

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


def make_app() -> tuple[Plait, Jobs, Job[int]]:
    """One process's app: the producer and each worker build their own, as separate processes would."""
    jobs = Jobs()

    @jobs.job(name="double", result=True)
    async def double(n: int) -> int:
        return n * 2

    return Plait(extensions=[jobs]), jobs, double


@pytest.fixture
def queue(redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = redis_prefix + "jobs"
    monkeypatch.setenv("PLAIT_JOBS_URL", redis_url)
    monkeypatch.setenv("PLAIT_JOBS_QUEUE", name)
    return name


@pytest.fixture
async def redis(redis_url: str, redis_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    async for key in client.scan_iter(match=redis_prefix + "*"):  # only this test's keys
        await client.delete(key)
    await client.aclose()


@asynccontextmanager
async def worker(make: Callable[[], tuple[Plait, Jobs, Job[int]]] = make_app) -> AsyncIterator[None]:
    app, jobs, _ = make()
    stop = asyncio.Event()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(run_worker, app, jobs, 4, stop)
        try:
            yield
        finally:
            stop.set()


async def test_a_worker_runs_enqueued_jobs_and_acknowledges_them(queue: str, redis: Redis) -> None:
    app, jobs, double = make_app()
    async with app.running():
        assert isinstance(jobs.broker, StreamBroker)  # chosen by PLAIT_JOBS_URL at startup
        handles = [await double.enqueue(n) for n in range(5)]
        async with worker():
            assert [await handle.result(timeout=10) for handle in handles] == [0, 2, 4, 6, 8]
    # Acknowledged entries are deleted: the stream holds only jobs not yet done.
    assert await redis.xlen(queue) == 0
    assert await redis.exists(f"{queue}:result:{handles[0].id}")


async def test_jobs_enqueued_before_any_worker_existed_are_not_lost(queue: str, redis: Redis) -> None:
    await redis.xadd(queue, {b"data": b"not a job"})  # the stream exists, without a consumer group yet
    app, _, double = make_app()
    async with app.running():
        handle = await double.enqueue(21)
        async with worker():
            assert await handle.result(timeout=10) == 42
    assert await redis.xlen(queue) == 0  # the unreadable entry was acknowledged and dropped too


async def test_a_job_whose_worker_died_is_redelivered(
    queue: str, redis_url: str, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_JOBS_REDELIVERY_TIMEOUT", "0.2")
    app, _, double = make_app()
    async with app.running():
        handle = await double.enqueue(5)
        # A worker takes the job and dies before acknowledging it.
        dying = StreamBroker(redis_url, queue_name=queue, redelivery_timeout=0.2)
        await dying.startup()
        received = dying.listen()
        taken = await anext(received)
        assert b"double" in taken.data
        await received.aclose()
        await dying.shutdown()
        assert (await redis.xpending(queue, "plait"))["pending"] == 1
        async with worker():
            assert await handle.result(timeout=10) == 10
    assert await redis.xlen(queue) == 0


async def test_the_app_starts_while_redis_is_down_and_enqueue_raises_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.test_hardening.server import free_port

    monkeypatch.setenv("PLAIT_JOBS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    app, _, double = make_app()
    async with app.running():  # the rest of the app keeps serving
        assert "jobs wait until it is back" in caplog.text
        with pytest.raises(JobsUnavailable, match=r"Could not enqueue 'double': .*Check that Redis is running"):
            await double.enqueue(1)


async def test_reading_survives_redis_going_away_and_coming_back_empty(
    queue: str, redis_url: str, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.test_hardening.server import free_port

    down = StreamBroker(f"redis://127.0.0.1:{free_port()}/0", queue_name=queue, max_reconnect_delay=0.05)
    received = down.listen()
    with anyio.move_on_after(0.3):
        await anext(received)  # keeps retrying, never raises
    await received.aclose()
    assert "Lost Redis at" in caplog.text

    broker = StreamBroker(redis_url, queue_name=queue, redelivery_timeout=0.1)
    await broker.startup()
    try:
        await redis.delete(queue)  # what a restarted, empty Redis looks like: no stream, no group
        await redis.xadd(queue, {b"data": b"first"})
        received = broker.listen()
        with anyio.fail_after(5):
            assert (await anext(received)).data == b"first"
        await received.aclose()
        assert "recreating it" in caplog.text

        await redis.delete(queue)
        await redis.set(queue, "not a stream")  # a key clash is a configuration error: it is raised, not retried
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await anext(broker.listen())
    finally:
        await broker.shutdown()


async def test_a_redis_that_stops_answering_delays_nothing_for_long(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A listening socket nobody reads: connections are accepted, commands never answered, as with a frozen
    # server or a network partition. The app still starts, enqueue gives up (JobsUnavailable: a 503), and a
    # worker's reader counts Redis as lost rather than waiting on its socket forever.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)
        url = f"redis://127.0.0.1:{hole.getsockname()[1]}/0"
        monkeypatch.setenv("PLAIT_JOBS_URL", url)
        monkeypatch.setenv("PLAIT_JOBS_TIMEOUT", "0.3")
        app, _, double = make_app()
        with anyio.fail_after(10):
            async with app.running():
                assert "did not answer within 0.3 s; jobs wait until it is back" in caplog.text
                with pytest.raises(
                    JobsUnavailable, match=r"did not answer within 0\.3 s\. Check that Redis is running"
                ):
                    await double.enqueue(1)
        broker = StreamBroker(url, block=0.1, timeout=0.2, max_reconnect_delay=0.05)
        received = broker.listen()
        with anyio.move_on_after(0.8):  # a read times out after 0.3 s (block + timeout): then "Lost Redis"
            await anext(received)  # keeps retrying, never raises, never hangs on one read
        await received.aclose()
        assert "Lost Redis at" in caplog.text
