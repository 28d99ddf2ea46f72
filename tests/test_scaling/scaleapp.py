"""The app the scaling proof serves (`plait serve --workers 3`) and runs jobs of (`plait worker`).

Every answer names the process that gave it (``pid``), so a test can tell the workers apart and
check that what one worker wrote, another reads. Everything shared goes through the servers the
environment names, as it would in production:

* ``PLAIT_DATABASE_URL``, ``PLAIT_CACHE_URL``, ``PLAIT_RATELIMIT_URL``, ``PLAIT_CHANNELS_URL``,
  ``PLAIT_JOBS_URL`` (and their ``*_PREFIX``/``*_QUEUE``): the batteries' own settings;
* ``SCALE_SESSION_STORE`` (``redis`` or ``database``), ``SCALE_REDIS_URL`` and ``SCALE_REDIS_PREFIX``:
  the session store, which is chosen in code (``Sessions(RedisStore(url))``), not by a setting.

Imported without any of them (pytest's doctest collection does), it builds with in-process
defaults and connects to nothing.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import anyio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Middleware, Plait, WebSocket
from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.cache import Cache, CacheClient, cache_response
from plait.channels import Channels
from plait.db import Database
from plait.jobs import Jobs
from plait.middleware.proxy import ProxyHeadersMiddleware
from plait.ratelimit import RateLimiter, rate_limit
from plait.sessions import Session, Sessions, SessionStore
from plait.sessions.stores.database import DatabaseStore
from plait.sessions.stores.redis import RedisStore
from plait.websockets import WebSocketDisconnect

LIMIT = 20
"""Requests per minute ``/limited`` admits, counted across every worker."""


def session_store() -> SessionStore:
    if os.environ.get("SCALE_SESSION_STORE") == "database":
        return DatabaseStore()
    url = os.environ.get("SCALE_REDIS_URL", "redis://127.0.0.1:6379/0")
    return RedisStore(url, prefix=os.environ.get("SCALE_REDIS_PREFIX", "scaleapp:") + "session:")


jobs = Jobs()


@jobs.job(name="scale.record")
async def record(n: int, db: AsyncSession) -> None:
    """One row per run: a job run twice (at-least-once delivery) shows up as two rows with the same ``n``."""
    await db.execute(text("insert into runs (n, pid) values (:n, :pid)"), {"n": n, "pid": os.getpid()})


class WorkerHeader:
    """Adds ``X-Worker-Pid`` to every response: which process answered, even when the body came from the cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app  # built once, maybe in the parent before the workers fork: the pid is read per response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                pid = (b"x-worker-pid", str(os.getpid()).encode())
                message = {**message, "headers": [*message.get("headers", ()), pid]}
            await send(message)

        await self.app(scope, receive, tagged)


# Jobs after Database, so that enqueue_after_commit() can see the commit (Jobs checks the order).
app = Plait(
    extensions=[Database(), Sessions(session_store()), Cache(), RateLimiter(), Channels(), jobs],
    # The test client stands for a load balancer on loopback: its X-Forwarded-For is trusted, so the
    # rate-limit test can be many clients (the app's "ip" key) from one machine. Enqueueing or
    # publishing while Redis is down is a 503 from the jobs and channels batteries themselves.
    middleware=[Middleware(WorkerHeader), Middleware(ProxyHeadersMiddleware, trusted_proxies=["127.0.0.1"])],
)


def answer(**fields: Any) -> dict[str, Any]:
    return {"pid": os.getpid(), **fields}


@app.get("/")
def index() -> dict[str, Any]:
    return answer()


@app.post("/session")
async def log_in(user: str, session: Session) -> dict[str, Any]:
    session["user"] = user
    session.cycle_key()  # what a login does: a new session id, so one fixed before login is useless
    return answer()


@app.get("/session")
async def whoami(session: Session) -> dict[str, Any]:
    return answer(user=session.get("user"))


@app.put("/cache/{key}")
async def put(key: str, value: int, cache: CacheClient) -> dict[str, Any]:
    await cache.set(key, value, ttl=60)
    return answer()


@app.get("/cache/{key}")
async def get(key: str, cache: CacheClient) -> dict[str, Any]:
    return answer(value=await cache.get(key))


@app.post("/counter/{key}")
async def incr(key: str, cache: CacheClient) -> dict[str, Any]:
    return answer(value=await cache.incr(key))


@app.get("/cached")
@cache_response(ttl=60)
def cached() -> dict[str, Any]:
    return answer()  # the pid of the worker that computed it, whichever worker serves it later


@app.get("/limited", dependencies=[rate_limit(f"{LIMIT}/minute")])
def limited() -> dict[str, Any]:
    return answer()


@app.get("/limited-closed", dependencies=[rate_limit("1000/minute", fail_open=False)])
def limited_closed() -> dict[str, Any]:
    return answer()


@app.websocket("/rooms/{room}")
async def room(ws: WebSocket, room: str, channels: Channels) -> None:
    await ws.accept()
    async with channels.subscribe("room:" + room) as messages, anyio.create_task_group() as tasks:

        async def forward() -> None:
            async for message in messages:
                await ws.send_json(message)

        tasks.start_soon(forward)
        await ws.send_json(answer(ready=True))  # subscribed, and Redis confirmed it
        # Reading is what notices the client leaving (and answers its close frame): a handler that only
        # waits for messages would keep the subscription, and the client waiting, until the next publish.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await ws.receive()
        tasks.cancel_scope.cancel()


@app.post("/rooms/{room}")
async def say(room: str, text: str, channels: Channels) -> dict[str, Any]:
    await channels.publish("room:" + room, {"text": text, "from": os.getpid()})
    return answer()


@app.post("/jobs")
async def enqueue(start: int, count: int) -> dict[str, Any]:
    for n in range(start, start + count):
        await record.enqueue(n)
    return answer(enqueued=count)
