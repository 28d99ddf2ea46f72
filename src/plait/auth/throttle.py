"""Login throttling: failed logins counted per account and per client address, in a window.

Before checking a password the login flow asks :meth:`Throttle.blocked` for its keys
(``account:<digest of the login>`` and ``ip:<address>``); a key with too many failures in the window
answers 429 with ``Retry-After``, before any hash is computed. Each failure adds one to both keys;
a success clears the account's count (the address keeps its own, so one good account does not
reset a credential-stuffing run).

Two stores: :class:`DatabaseThrottle` (the ``auth_throttle`` table, the default) and
:class:`RedisThrottle` (``PLAIT_AUTH_THROTTLE_REDIS_URL``), for several app servers without a
database write per failure. The counts live outside the request's transaction: a failed login
answers 401 and the request's session is rolled back, but the failure must still count.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import case, delete, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from plait.auth.models import LoginThrottle
from plait.db.models import utcnow

if TYPE_CHECKING:
    from plait.db.extension import Database

__all__ = ["DatabaseThrottle", "RedisThrottle", "Throttle", "account_key", "ip_key"]


def account_key(login: str) -> str:
    """The throttle key of an account: a digest, so the table holds no email addresses.

    >>> account_key("Ada@Example.com") == account_key("ada@example.com ")
    True
    """
    return "account:" + hashlib.sha256(login.strip().lower().encode()).hexdigest()


def ip_key(address: str) -> str:
    """The throttle key of a client address.

    >>> ip_key("192.0.2.7")
    'ip:192.0.2.7'
    """
    return f"ip:{address}"


class Throttle(Protocol):
    """Where failure counts live: anything with these four async methods fits ``Auth(throttle=...)``."""

    async def failures(self, key: str, window: float) -> tuple[int, float]:
        """``(failures in the current window, seconds until it ends)``; ``(0, 0)`` when none."""
        ...

    async def fail(self, key: str, window: float) -> None:
        """Count one failure for ``key`` (a new window starts when the last one ended)."""
        ...

    async def clear(self, key: str) -> None:
        """Forget ``key``'s failures."""
        ...

    async def aclose(self) -> None:
        """Release connections at shutdown."""
        ...


class DatabaseThrottle:
    """Counts in the ``auth_throttle`` table, through the app's engine, each change committed at once."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> AsyncSession:
        return AsyncSession(self.database.engine, expire_on_commit=False)

    async def failures(self, key: str, window: float) -> tuple[int, float]:
        async with self._session() as db:
            row = (await db.execute(select(LoginThrottle).where(LoginThrottle.key == key))).scalars().first()
        if row is None:
            return 0, 0.0
        left = (row.window_start + timedelta(seconds=window) - utcnow()).total_seconds()
        return (row.failures, left) if left > 0 else (0, 0.0)

    async def fail(self, key: str, window: float) -> None:
        now = utcnow()
        async with self._session() as db:
            for _ in range(3):  # an insert racing another process's insert becomes an update
                if await self._bump(db, key, now, now - timedelta(seconds=window)):
                    await db.commit()
                    return
                db.add(LoginThrottle(key=key, failures=1, window_start=now))
                try:
                    await db.commit()
                    return
                except sa_exc.IntegrityError:
                    await db.rollback()

    @staticmethod
    async def _bump(db: AsyncSession, key: str, now: datetime, expired_before: datetime) -> bool:
        # One statement, so concurrent failures cannot lose a count: a stale window restarts at 1.
        stale = LoginThrottle.window_start <= expired_before
        result: Any = await db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(
                failures=case((stale, 1), else_=LoginThrottle.failures + 1),
                window_start=case((stale, now), else_=LoginThrottle.window_start),
            )
        )
        return bool(result.rowcount)

    async def clear(self, key: str) -> None:
        async with self._session() as db:
            await db.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
            await db.commit()

    async def aclose(self) -> None:
        return None


class RedisThrottle:
    """Counts in Redis under ``prefix`` (one key per throttle key, expiring with its window)."""

    def __init__(self, url: str, *, prefix: str = "plait:auth:throttle:") -> None:
        import redis.asyncio as aioredis

        self.prefix = prefix
        self.client: Any = aioredis.Redis.from_url(url)

    async def failures(self, key: str, window: float) -> tuple[int, float]:
        name = self.prefix + key
        async with self.client.pipeline(transaction=True) as pipe:
            count, ttl = await pipe.get(name).pttl(name).execute()
        if count is None or ttl <= 0:
            return 0, 0.0
        return int(count), ttl / 1000

    async def fail(self, key: str, window: float) -> None:
        name = self.prefix + key
        async with self.client.pipeline(transaction=True) as pipe:
            # The window starts with the first failure: NX sets the expiry only on a fresh key.
            await pipe.incr(name).pexpire(name, math.ceil(window * 1000), nx=True).execute()

    async def clear(self, key: str) -> None:
        await self.client.delete(self.prefix + key)

    async def aclose(self) -> None:
        await self.client.aclose()
