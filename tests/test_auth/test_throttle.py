"""Failure counts per key in the database (SQLite, PostgreSQL) and in Redis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from plait.auth import Auth
from plait.auth.models import LoginThrottle
from plait.auth.throttle import DatabaseThrottle, RedisThrottle, account_key
from plait.db.models import utcnow
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import FAST, PASSWORD, add_user, make_app

pytestmark = pytest.mark.anyio


async def _exercise(throttle: Any) -> None:
    key = account_key("ada@example.com")
    assert await throttle.failures(key, 60) == (0, 0.0)
    for _ in range(3):
        await throttle.fail(key, 60)
    count, left = await throttle.failures(key, 60)
    assert count == 3
    assert 0 < left <= 60
    assert (await throttle.failures("ip:192.0.2.1", 60))[0] == 0  # keys are separate
    await throttle.clear(key)
    assert await throttle.failures(key, 60) == (0, 0.0)


async def test_database_counts(auth_database_url: str) -> None:
    app = make_app(auth_database_url, router=False)
    async with AsyncTestClient(app):
        throttle = DatabaseThrottle(app.extensions["database"])
        await _exercise(throttle)
        await throttle.aclose()


async def test_database_windows_end(auth_database_url: str) -> None:
    app = make_app(auth_database_url, router=False)
    async with AsyncTestClient(app):
        database = app.extensions["database"]
        throttle = DatabaseThrottle(database)
        await throttle.fail("ip:192.0.2.9", 60)
        await throttle.fail("ip:192.0.2.9", 60)
        async with AsyncSession(database.engine) as db:  # as if the window had started two minutes ago
            await db.execute(update(LoginThrottle).values(window_start=utcnow() - timedelta(minutes=2)))
            await db.commit()
        assert await throttle.failures("ip:192.0.2.9", 60) == (0, 0.0)
        await throttle.fail("ip:192.0.2.9", 60)  # a new window starts at one
        assert (await throttle.failures("ip:192.0.2.9", 60))[0] == 1


async def test_redis_counts(redis_url: str, redis_prefix: str) -> None:
    throttle = RedisThrottle(redis_url, prefix=redis_prefix)
    try:
        await _exercise(throttle)
        await throttle.fail("ip:192.0.2.3", 0.2)
        count, left = await throttle.failures("ip:192.0.2.3", 0.2)
        assert count == 1
        assert 0 < left <= 0.2
        await throttle.clear("ip:192.0.2.3")
    finally:
        await throttle.aclose()


async def test_an_insert_that_loses_a_race_counts_as_an_update(
    auth_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(auth_database_url, router=False)
    async with AsyncTestClient(app):
        throttle = DatabaseThrottle(app.extensions["database"])
        await throttle.fail("ip:192.0.2.4", 60)
        real = DatabaseThrottle._bump
        calls: list[bool] = []

        async def first_misses(*args: Any) -> bool:
            # As if another process inserted the row between this one's update and insert.
            calls.append(True)
            return False if len(calls) == 1 else await real(*args)

        monkeypatch.setattr(DatabaseThrottle, "_bump", staticmethod(first_misses))
        await throttle.fail("ip:192.0.2.4", 60)
        assert len(calls) == 2
        assert (await throttle.failures("ip:192.0.2.4", 60))[0] == 2


async def test_login_through_http_is_throttled_in_redis_per_account_and_per_address(
    auth_database_url: str, redis_url: str, redis_prefix: str
) -> None:
    settings = FAST.__class__(
        **{name: getattr(FAST, name) for name in FAST.__struct_fields__}
        | {"throttle_account_limit": 2, "throttle_ip_limit": 3}
    )
    throttle = RedisThrottle(redis_url, prefix=redis_prefix)  # several app servers share these counts
    app = make_app(auth_database_url, auth=Auth(settings=settings, throttle=throttle))
    async with AsyncTestClient(app) as client:
        await add_user(app)
        wrong = [
            (await client.post("/auth/login", json={"email": "ada@example.com", "password": "nope"})).status_code
            for _ in range(2)
        ]
        # The account is locked, even for the right password (a guesser cannot tell it found it).
        locked = await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        other = await client.post("/auth/login", json={"email": "bob@example.com", "password": "nope"})
        # Three failures from this address in all: every account is now refused from here.
        by_address = await client.post("/auth/login", json={"email": "carol@example.com", "password": "nope"})
        counted = [key async for key in throttle.client.scan_iter(match=redis_prefix + "*")]
        await throttle.client.delete(*counted)  # leave nothing behind on the shared server
    assert wrong == [401, 401]
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    assert other.status_code == 401
    assert by_address.status_code == 429
    assert sorted(key.decode().removeprefix(redis_prefix).split(":")[0] for key in counted) == [
        "account",
        "account",
        "ip",
    ]
