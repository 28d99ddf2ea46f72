"""Redis stopped mid-run under `plait serve --workers 3` and a `plait worker`, then started again.

The Redis here is the test's own (a `redis-server` on a free loopback port), so the shared one stays
up. While it is down each battery does what it promises: the cache answers as if empty (the app
keeps serving), sessions on Redis fail closed (503 with a problem document: nobody is let in, or
logged out, by an outage, and nothing is a 500), a rate limit fails open or closed as configured,
and enqueueing or publishing says 503 rather than losing work quietly. When Redis is back, every
worker recovers without a restart, and the jobs waiting in the stream (Redis keeps it on disk, as
a production Redis does) all run.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.test_scaling.processes import PrivateRedis, Served, plait_serve, plait_worker
from tests.test_scaling.support import backends, burst, enqueue, execute, fetch_value, queue_is_empty, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]

BEFORE, AFTER = 300, 100
"""Jobs enqueued before the outage (most still queued when Redis stops) and after it."""


@pytest.fixture
def private_redis(redis_url: str, tmp_path: Path) -> Iterator[PrivateRedis]:
    # redis_url: the CI-aware check that Redis is installed and the services are expected here.
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


PROBLEM = "application/problem+json"


def statuses(responses: list[httpx.Response]) -> set[int]:
    return {response.status_code for response in responses}


async def until(check: Callable[[], Awaitable[bool]], what: str, served: Served) -> None:
    """Poll ``check`` (each call a few fresh requests) until it holds; the workers reconnect by themselves."""
    deadline = anyio.current_time() + 30
    while not await check():
        assert served.process.poll() is None, served.log()
        assert anyio.current_time() < deadline, f"{what} did not come back within 30 s of Redis:\n{served.log()}"
        await anyio.sleep(0.2)


async def test_redis_stopped_mid_run_degrades_each_battery_as_promised_and_recovers(
    private_redis: PrivateRedis, fresh_postgres_database: str, tmp_path: Path
) -> None:
    database = fresh_postgres_database
    env = backends(private_redis.url, "scale:", database, "redis")
    await execute(database, "drop table if exists runs", "create table runs (n integer not null, pid integer not null)")
    worker_log = tmp_path / "worker.log"
    try:
        with plait_serve(env, tmp_path / "server.log") as served, plait_worker(env, worker_log) as worker:
            cookie = await before_the_outage(served, database, worker, worker_log)
            async with connect(served.url.replace("http://", "ws://") + "/rooms/a", open_timeout=10) as ws:
                with anyio.fail_after(15):
                    assert json.loads(await ws.recv())["ready"]
                private_redis.crash()
                await during_the_outage(served, cookie, worker, worker_log)
                waiting = BEFORE - await fetch_value(database, "select count(distinct n) from runs")
                assert waiting > 0, "every job had run before Redis stopped: nothing was left to resume"
                private_redis.start()  # the same port and data directory: Redis comes back with what it held
                await after_the_outage(served, cookie)
                await broadcast_resumes(served, ws)
            await enqueue(served, BEFORE, AFTER)
            await wait_for(database, "select count(distinct n) from runs", BEFORE + AFTER, worker, worker_log)
            with anyio.fail_after(15):
                while not await queue_is_empty(private_redis.url, env["PLAIT_JOBS_QUEUE"]):
                    await anyio.sleep(0.05)
            assert worker.poll() is None  # the worker waited out the outage; it never exited
        done = await fetch_value(database, f"select count(distinct n) from runs where n >= 0 and n < {BEFORE + AFTER}")  # noqa: S608
        assert done == BEFORE + AFTER  # the jobs queued before the outage and those sent after it: none lost
        log = worker_log.read_text()
        assert "Lost Redis" in log, log
        assert "retrying in" in log, log
    finally:
        await execute(database, "drop table if exists runs")


async def before_the_outage(served: Served, database: str, worker: subprocess.Popen[bytes], log: Path) -> str:
    """Log in, cache a value, queue jobs; return once the worker is part-way through them."""
    async with httpx.AsyncClient(base_url=served.url, timeout=15.0) as http:
        login = await http.post("/session", params={"user": "ada"})
        assert (await http.put("/cache/answer", params={"value": 42})).status_code == 200
        assert (await http.get("/limited-closed")).status_code == 200
    assert login.status_code == 200
    await enqueue(served, 0, BEFORE)
    await wait_for(database, "select count(*) from runs", 20, worker, log)
    return "plait_session=" + login.cookies["plait_session"]


async def during_the_outage(served: Served, cookie: str, worker: subprocess.Popen[bytes], log: Path) -> None:
    session = {"cookie": cookie}
    # The cache falls back: misses, writes dropped, the page still served.
    reads = await burst(served, "GET", "/cache/answer", 6)
    assert [(r.status_code, r.json()["value"]) for r in reads] == [(200, None)] * 6
    assert statuses(await burst(served, "PUT", "/cache/answer", 3, params={"value": 1})) == {200}
    assert statuses(await burst(served, "GET", "/", 3)) == {200}
    # Sessions on Redis fail closed: not "logged out" (a 200 without the user), not let in, not a 500.
    for responses in (
        await burst(served, "GET", "/session", 6, headers=session),
        await burst(served, "POST", "/session", 3, headers=session, params={"user": "mallory"}),
    ):
        assert statuses(responses) == {503}
        for response in responses:
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["detail"] == "The session store is unavailable. Try again shortly."
            assert response.headers["retry-after"] == "1"
    # Rate limits fail open by default (PLAIT_RATELIMIT_FAIL_OPEN), closed where the route says so.
    assert statuses(await burst(served, "GET", "/limited", 6)) == {200}
    closed = await burst(served, "GET", "/limited-closed", 6)
    assert statuses(closed) == {503}
    assert {r.headers["content-type"] for r in closed} == {PROBLEM}
    # Work that needs Redis is refused out loud (503, to retry), never accepted and lost: the jobs and
    # channels batteries answer their ...Unavailable errors themselves (the app maps nothing).
    for method, path, params, detail in (
        ("POST", "/jobs", {"start": 10_000, "count": 1}, "the job was not enqueued"),
        ("POST", "/rooms/a", {"text": "x"}, "the message was not published"),
    ):
        refused = await burst(served, method, path, 3, params=params)
        assert statuses(refused) == {503}, [r.text for r in refused]
        for response in refused:
            assert response.headers["content-type"] == PROBLEM
            assert response.headers["retry-after"] == "1"
            assert detail in response.json()["detail"]
    with anyio.fail_after(15):
        while "Lost Redis" not in log.read_text():
            assert worker.poll() is None, log.read_text()  # the worker waits for Redis; it does not exit
            await anyio.sleep(0.05)


async def after_the_outage(served: Served, cookie: str) -> None:
    """Every worker reconnects by itself: the session, the cached value and the limits are back."""

    async def session_back() -> bool:
        reads = await burst(served, "GET", "/session", 6, headers={"cookie": cookie})
        return [(r.status_code, r.json().get("user")) for r in reads] == [(200, "ada")] * 6

    async def cache_back() -> bool:
        reads = await burst(served, "GET", "/cache/answer", 6)
        return [r.json()["value"] for r in reads] == [42] * 6

    async def limits_back() -> bool:
        return statuses(await burst(served, "GET", "/limited-closed", 6)) == {200}

    await until(session_back, "the session", served)
    await until(cache_back, "the cached value", served)
    await until(limits_back, "the fail-closed rate limit", served)


async def broadcast_resumes(served: Served, ws: ClientConnection) -> None:
    """A WebSocket held open through the outage hears what is published after it.

    Its worker's pub/sub connection re-subscribes on its own; what was published before that is
    lost (pub/sub keeps no history: at-most-once), so publish until one message gets through.
    """
    deadline = anyio.current_time() + 30
    async with httpx.AsyncClient(base_url=served.url, timeout=15.0) as http:
        attempt = 0
        while True:
            assert anyio.current_time() < deadline, "no broadcast reached the WebSocket within 30 s of Redis"
            attempt += 1
            response = await http.post("/rooms/a", params={"text": f"after-{attempt}"})
            if response.status_code != 200:  # this worker's connection has not noticed Redis is back yet
                await anyio.sleep(0.2)
                continue
            with anyio.move_on_after(0.5):
                message = json.loads(await ws.recv())
                assert message["text"].startswith("after-")
                return
