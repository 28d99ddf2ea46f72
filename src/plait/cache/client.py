"""The cache API handlers use: ``get``, ``set``, ``delete``, ``get_or_set``, ``incr`` and friends.

Values are serialised with msgspec's MessagePack codec (so anything msgspec encodes can be cached:
dicts, lists, structs, dataclasses, datetimes, ...); integers are stored as decimal text so that
``incr`` can add to them atomically in Redis. Read a value back as a type with ``type=``.

Keys are namespaced as ``{prefix}{version}:{key}``: bump ``version`` (``PLAIT_CACHE_VERSION``)
when the shape of cached values changes, and old entries are simply never read again.

>>> import anyio
>>> from plait.cache.backends import MemoryBackend
>>> cache = CacheClient(MemoryBackend())
>>> async def demo() -> tuple[object, object, object]:
...     await cache.set("greeting", {"text": "hello"}, ttl=60)
...     hits = [await cache.incr("hits"), await cache.incr("hits")]
...     answer = await cache.get_or_set("answer", lambda: 42)
...     return await cache.get("greeting"), hits, answer
>>> anyio.run(demo)
({'text': 'hello'}, [1, 2], 42)
"""

from __future__ import annotations

import enum
import inspect
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from plait.cache.backends import CacheBackend, is_decimal

logger = logging.getLogger("plait.cache")
_encoder = msgspec.msgpack.Encoder()


class _Default(enum.Enum):
    TTL = "default"


DEFAULT_TTL = _Default.TTL
"""The ``ttl`` meaning "the client's ``default_ttl``" (a sentinel, so that None can mean "no expiry")."""
TTL = float | None | _Default


def encode(value: Any) -> bytes:
    """The stored form of ``value``: decimal text for an integer (so counters work), else MessagePack.

    A MessagePack document never starts with ``-`` or a digit once integers are taken out (those
    bytes are small positive integers in MessagePack), so :func:`decode` can tell the two apart.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(int(value)).encode()
    return _encoder.encode(value)


def decode(data: bytes, type: Any = Any) -> Any:
    """The value stored as ``data`` (see :func:`encode`), converted to ``type`` when given."""
    if is_decimal(data):
        number = int(data)
        return number if type is Any else msgspec.convert(number, type)
    return msgspec.msgpack.decode(data, type=type)


class CacheClient:
    """A cache over a :class:`~plait.cache.CacheBackend`; the ``Cache`` extension gives handlers one.

    ``default_ttl`` (seconds, None: no expiry) applies when a call passes no ``ttl``; a ``ttl``
    of zero or less deletes the entry instead of storing it.
    """

    def __init__(
        self,
        backend: CacheBackend,
        *,
        prefix: str = "plait:cache:",
        version: int = 1,
        default_ttl: float | None = 300.0,
    ) -> None:
        self.backend = backend
        self.prefix = prefix
        self.version = version
        self.default_ttl = default_ttl

    def make_key(self, key: str, version: int | None = None) -> str:
        """The key as stored: ``prefix``, ``version``, then ``key``."""
        return f"{self.prefix}{self.version if version is None else version}:{key}"

    def _ttl(self, ttl: TTL) -> float | None:
        return self.default_ttl if ttl is DEFAULT_TTL else ttl

    def _decode(self, key: str, data: bytes | None, type: Any) -> tuple[bool, Any]:
        if data is None:
            return False, None
        try:
            return True, decode(data, type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            # A value written by an older release (or another app) no longer fits: treat it as a miss,
            # and let the caller overwrite it, rather than failing the request.
            logger.debug("Ignoring the cached value at %r: %s", key, exc)
            return False, None

    async def get(self, key: str, default: Any = None, *, type: Any = Any, version: int | None = None) -> Any:
        """The value at ``key`` (as ``type`` when given), or ``default`` on a miss."""
        found, value = self._decode(key, await self.backend.get(self.make_key(key, version)), type)
        return value if found else default

    async def set(self, key: str, value: Any, ttl: TTL = DEFAULT_TTL, *, version: int | None = None) -> None:
        """Store ``value`` at ``key`` for ``ttl`` seconds (``default_ttl`` when not given; None: no expiry)."""
        seconds = self._ttl(ttl)
        if seconds is not None and seconds <= 0:
            await self.backend.delete(self.make_key(key, version))
            return
        await self.backend.set(self.make_key(key, version), encode(value), seconds)

    async def delete(self, key: str, *, version: int | None = None) -> bool:
        """Remove ``key``; True when it was there."""
        return await self.backend.delete(self.make_key(key, version))

    async def get_or_set(
        self,
        key: str,
        default: Any,
        ttl: TTL = DEFAULT_TTL,
        *,
        type: Any = Any,
        version: int | None = None,
    ) -> Any:
        """The value at ``key``; on a miss, ``default`` (called, and awaited, when callable), stored and returned."""
        found, value = self._decode(key, await self.backend.get(self.make_key(key, version)), type)
        if found:
            return value
        value = default() if callable(default) else default
        if inspect.isawaitable(value):
            value = await value
        await self.set(key, value, ttl, version=version)
        return value

    async def incr(self, key: str, delta: int = 1, *, ttl: TTL = DEFAULT_TTL, version: int | None = None) -> int | None:
        """Add ``delta`` to the counter at ``key`` atomically and return it; a new counter starts at 0.

        ``ttl`` applies when the counter is created. None when the backend is unavailable (Redis down).
        """
        return await self.backend.incr(self.make_key(key, version), delta, self._ttl(ttl))

    async def get_many(self, keys: Iterable[str], *, type: Any = Any, version: int | None = None) -> dict[str, Any]:
        """The values found for ``keys`` (missing keys are left out)."""
        wanted = list(keys)
        found: dict[str, Any] = {}
        for key, data in zip(
            wanted, await self.backend.get_many([self.make_key(k, version) for k in wanted]), strict=True
        ):
            ok, value = self._decode(key, data, type)
            if ok:
                found[key] = value
        return found

    async def set_many(self, values: Mapping[str, Any], ttl: TTL = DEFAULT_TTL, *, version: int | None = None) -> None:
        """Store every item of ``values`` for ``ttl`` seconds."""
        seconds = self._ttl(ttl)
        if seconds is not None and seconds <= 0:
            for key in values:
                await self.backend.delete(self.make_key(key, version))
            return
        encoded = {self.make_key(key, version): encode(value) for key, value in values.items()}
        await self.backend.set_many(encoded, seconds)

    async def clear(self) -> int:
        """Delete every entry under this client's prefix (all versions); other data is left alone."""
        return await self.backend.clear(self.prefix)
