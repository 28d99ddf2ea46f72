"""`plait serve --workers 3` on PostgreSQL and Redis: the same answers whichever worker a request lands on.

Each request goes on a connection of its own, so the kernel hands it to any of the three worker
processes; every response names the process that answered (``X-Worker-Pid``). What one worker
writes (a session, a cache entry, a rate-limit count, a broadcast) must be what every other
worker sees, or an app would behave differently depending on which process a client reached.
"""

from __future__ import annotations

import json

import anyio
import pytest
from websockets.asyncio.client import connect

from tests.test_scaling.processes import Served
from tests.test_scaling.scaleapp import LIMIT
from tests.test_scaling.support import ROUNDS, burst, client, pid, pids

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]


async def test_a_session_started_on_one_worker_is_the_same_on_every_worker(served_any_store: Served) -> None:
    served = served_any_store
    async with client(served) as http:
        login = await http.post("/session", params={"user": "ada"})
    assert login.status_code == 200, login.text
    cookie = {"cookie": "plait_session=" + login.cookies["plait_session"]}
    seen: set[int] = set()
    for _ in range(ROUNDS):
        reads = await burst(served, "GET", "/session", 12, headers=cookie)
        assert [(r.status_code, r.json()["user"]) for r in reads] == [(200, "ada")] * 12
        seen |= pids(reads)
        if seen - {pid(login)}:
            break
    assert seen - {pid(login)}, f"every read landed on the worker that wrote the session ({seen})"

    # Logging in again (cycle_key) retires the old session id on every worker, not just the one answering:
    # a session id an attacker fixed or stole before the login is worth nothing after it.
    async with client(served) as http:
        again = await http.post("/session", params={"user": "grace"}, headers=cookie)
    assert again.status_code == 200, again.text
    renewed = {"cookie": "plait_session=" + again.cookies["plait_session"]}
    stale = await burst(served, "GET", "/session", 12, headers=cookie)
    fresh = await burst(served, "GET", "/session", 12, headers=renewed)
    assert {r.json()["user"] for r in stale} == {None}
    assert {r.json()["user"] for r in fresh} == {"grace"}
    assert len(pids(stale) | pids(fresh)) > 1


async def test_the_cache_is_one_cache_for_every_worker(served_on_redis: Served) -> None:
    served = served_on_redis
    async with client(served) as http:
        written = await http.put("/cache/greeting", params={"value": 42})
    assert written.status_code == 200
    seen: set[int] = set()
    for _ in range(ROUNDS):
        reads = await burst(served, "GET", "/cache/greeting", 12)
        assert {r.json()["value"] for r in reads} == {42}
        seen |= pids(reads)
        if seen - {pid(written)}:
            break
    assert seen - {pid(written)}, f"every read landed on the worker that wrote the entry ({seen})"

    # incr is atomic in Redis: 60 increments from three processes at once give 1..60, each exactly once.
    counts = await burst(served, "POST", "/counter/hits", 60)
    assert sorted(r.json()["value"] for r in counts) == list(range(1, 61))
    assert len(pids(counts)) > 1

    # A cached response is computed once, by one worker, and served as is by all of them. (It is stored
    # just after it is sent, so wait for the first hit, the one with an Age header, before the burst.)
    async with client(served) as http:
        for _ in range(ROUNDS):
            first = await http.get("/cached")
            if "age" in first.headers:
                break
            await anyio.sleep(0.05)
    assert "age" in first.headers
    served_again = await burst(served, "GET", "/cached", 24)
    assert {r.json()["pid"] for r in served_again} == {first.json()["pid"]}
    assert {r.headers["etag"] for r in served_again} == {first.headers["etag"]}
    assert len(pids(served_again)) > 1


async def test_a_rate_limit_of_n_per_minute_admits_exactly_n_across_the_workers(served_on_redis: Served) -> None:
    # Each round is another client address (X-Forwarded-For from the trusted loopback proxy), so another
    # quota: rounds repeat until the admitted requests came through more than one worker. Every round,
    # whichever workers answered, admits exactly LIMIT of the 3 * LIMIT concurrent requests.
    workers: set[int] = set()
    for round_ in range(ROUNDS):
        client_address = {"X-Forwarded-For": f"203.0.113.{round_ + 1}"}
        responses = await burst(served_on_redis, "GET", "/limited", 3 * LIMIT, headers=client_address)
        admitted = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code == 429]
        assert (len(admitted), len(refused)) == (LIMIT, 2 * LIMIT)
        for response in refused:
            assert response.headers["content-type"] == "application/problem+json"
            assert int(response.headers["retry-after"]) >= 1
            assert response.headers["ratelimit-remaining"] == "0"
        workers = pids(admitted)
        if len(workers) > 1:
            break
    assert len(workers) > 1, "the admitted requests always came through one worker: nothing shared was tested"


async def test_a_websocket_on_one_worker_receives_what_another_worker_publishes(served_on_redis: Served) -> None:
    served = served_on_redis
    url = served.url.replace("http://", "ws://") + "/rooms/lobby"
    async with connect(url, open_timeout=10) as ws:
        with anyio.fail_after(15):
            ready = json.loads(await ws.recv())  # subscribed, confirmed by Redis
        listener = ready["pid"]
        sent: list[str] = []
        publishers: set[int] = set()
        for round_ in range(ROUNDS):
            texts = [f"{round_}-{n}" for n in range(6)]
            async with client(served) as http, anyio.create_task_group() as tasks:
                for text in texts:

                    async def say(text: str = text) -> None:
                        response = await http.post("/rooms/lobby", params={"text": text})
                        assert response.status_code == 200, response.text
                        publishers.add(pid(response))

                    tasks.start_soon(say)
            sent += texts
            if publishers - {listener}:
                break
        assert publishers - {listener}, f"every message was published by the listening worker ({publishers})"
        with anyio.fail_after(15):
            received = [json.loads(await ws.recv()) for _ in sent]
    assert sorted(message["text"] for message in received) == sorted(sent)
    assert {message["from"] for message in received} == publishers
