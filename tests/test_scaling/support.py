"""What the scaling tests share: the backends' settings, requests on fresh connections, database and Redis checks."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx
import redis
import redis.asyncio as aioredis

from tests.test_scaling.processes import Served

ROUNDS = 10
"""Bursts tried before giving up on seeing another worker answer (one is almost always enough)."""
BATCH = 100
"""Jobs enqueued per request."""


def backends(redis_url: str, prefix: str, database_url: str, store: str = "redis") -> dict[str, str]:
    """The settings that put every battery of the app on PostgreSQL and Redis, under the test's own key prefix."""
    return {
        "PLAIT_DATABASE_URL": database_url,
        "PLAIT_CACHE_URL": redis_url,
        "PLAIT_CACHE_PREFIX": prefix + "cache:",
        "PLAIT_RATELIMIT_URL": redis_url,
        "PLAIT_RATELIMIT_PREFIX": prefix + "ratelimit:",
        "PLAIT_CHANNELS_URL": redis_url,
        "PLAIT_CHANNELS_PREFIX": prefix + "channels:",
        "PLAIT_JOBS_URL": redis_url,
        "PLAIT_JOBS_QUEUE": prefix + "jobs",
        # A job left unacknowledged by a dead worker is taken by another after 2 s (production: minutes).
        "PLAIT_JOBS_REDELIVERY_TIMEOUT": "2",
        "SCALE_SESSION_STORE": store,
        "SCALE_REDIS_URL": redis_url,
        "SCALE_REDIS_PREFIX": prefix,
    }


async def execute(database_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def fetch_value(database_url: str, query: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval(query))
    finally:
        await connection.close()


async def create_session_table(database_url: str) -> None:
    """``plait_session`` as ``plait db migrate`` would create it, from the model's own metadata."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from plait.db.models import Model
    from plait.sessions.stores.database import SessionRecord

    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.begin() as connection:
            table = Model.metadata.tables[SessionRecord.__tablename__]
            await connection.run_sync(lambda sync: table.create(sync, checkfirst=True))
    finally:
        await engine.dispose()


def delete_keys(url: str, prefix: str) -> None:
    """Remove what the test left in a shared Redis: only keys under its own prefix (SCAN, never KEYS or FLUSHDB)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def client(served: Served) -> httpx.AsyncClient:
    # No keep-alive: a new connection per request, each accepted by whichever worker the kernel picks.
    return httpx.AsyncClient(
        base_url=served.url,
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"connection": "close"},
        timeout=15.0,
    )


def pid(response: httpx.Response) -> int:
    return int(response.headers["x-worker-pid"])


async def burst(
    served: Served,
    method: str,
    path: str,
    count: int,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> list[httpx.Response]:
    """``count`` requests at once, each on its own connection."""
    responses: list[httpx.Response] = []
    async with client(served) as http, anyio.create_task_group() as tasks:
        for _ in range(count):

            async def one() -> None:
                responses.append(await http.request(method, path, headers=headers, params=params))

            tasks.start_soon(one)
    return responses


def pids(responses: Iterable[httpx.Response]) -> set[int]:
    return {pid(response) for response in responses}


async def wait_for(database_url: str, query: str, expected: int, worker: subprocess.Popen[bytes], log: Path) -> None:
    with anyio.fail_after(60):
        while await fetch_value(database_url, query) < expected:
            assert worker.poll() is None, log.read_text()
            await anyio.sleep(0.05)


async def enqueue(served: Served, start: int, count: int) -> set[int]:
    """Enqueue jobs ``start`` .. ``start + count - 1`` through the served app, ``BATCH`` per request."""
    pids: set[int] = set()
    async with (
        httpx.AsyncClient(base_url=served.url, limits=httpx.Limits(max_keepalive_connections=0), timeout=30.0) as http,
        anyio.create_task_group() as tasks,
    ):
        for first in range(start, start + count, BATCH):

            async def send(first: int = first) -> None:
                response = await http.post("/jobs", params={"start": first, "count": BATCH})
                assert response.status_code == 200, response.text
                pids.add(response.json()["pid"])

            tasks.start_soon(send)
    return pids


async def queue_is_empty(redis_url: str, queue: str) -> bool:
    """Nothing waits in the stream and nothing is delivered but unacknowledged."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        pending = await client.xpending(queue, "plait")
        return int(await client.xlen(queue)) == 0 and int(pending["pending"]) == 0
    finally:
        await client.aclose()
