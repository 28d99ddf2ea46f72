"""``RedisStore``: sessions as Redis keys that expire by themselves (redis-py's asyncio client)."""

from __future__ import annotations

try:
    import redis.asyncio as aioredis
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        f"plait.sessions.stores.redis needs redis-py ({exc}); install it with: pip install 'plait[redis]'"
    ) from exc

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from redis import exceptions as redis_errors

from plait.exceptions import ConfigurationError
from plait.sessions.stores.base import SessionStore, new_key

if TYPE_CHECKING:
    from plait.app import Plait

_DATA = msgspec.json.Decoder(dict[str, Any])


class RedisStore(SessionStore):
    """Each session is one Redis string ``<prefix><id>`` holding JSON, with a TTL of the session's max age.

    Redis drops expired sessions itself, so there is nothing to clean up. The client is opened for
    the app's life (pass ``client=`` to share one you manage yourself).

    >>> store = RedisStore("redis://localhost:6379/0", prefix="myapp:session:")
    >>> store.prefix
    'myapp:session:'
    """

    unavailable: ClassVar[tuple[type[Exception], ...]] = (redis_errors.ConnectionError, redis_errors.TimeoutError)

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        prefix: str = "plait:session:",
        client: Any = None,
        timeout: float = 1.0,
    ) -> None:
        self.url = url
        self.timeout = timeout
        """Seconds to connect and to wait for an answer: a Redis that hangs is a 503, not a hung request."""
        self.prefix = prefix
        self._given = client
        self._client: aioredis.Redis | None = client

    @property
    def client(self) -> aioredis.Redis:
        """The client, while the app runs."""
        if self._client is None:
            raise ConfigurationError(
                "The Redis session store is open only while the app runs (inside its lifespan: a request, "
                "`async with app.running():` or a TestClient block)."
            )
        return self._client

    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[None]:
        if self._given is not None:
            yield
            return
        self._client = aioredis.Redis.from_url(
            self.url, socket_connect_timeout=self.timeout, socket_timeout=self.timeout
        )
        try:
            yield
        finally:
            client, self._client = self._client, None
            await client.aclose()

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._open()

    async def load(self, key: str) -> dict[str, Any] | None:
        raw = await self.client.get(self.prefix + key)
        if raw is None:
            return None
        try:
            return _DATA.decode(raw)
        except msgspec.DecodeError:
            return None  # not written by this store: treat as no session rather than fail the request

    async def save(self, key: str | None, data: dict[str, Any], max_age: int) -> str:
        payload = msgspec.json.encode(data)
        if key is not None:
            await self.client.set(self.prefix + key, payload, ex=max_age)
            return key
        while True:
            # NX: a new session never overwrites an existing one, however unlikely a 256-bit collision is.
            key = new_key()
            if await self.client.set(self.prefix + key, payload, ex=max_age, nx=True):
                return key

    async def delete(self, key: str) -> None:
        await self.client.delete(self.prefix + key)
