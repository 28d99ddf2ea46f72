"""Cache backends: the small protocol every store implements, and the in-memory one.

A backend stores bytes under string keys; the :class:`~plait.cache.CacheClient` in front of it
builds the keys (prefix, version) and serialises values. Writing a backend means implementing
:class:`CacheBackend`: eight coroutines, none of which may raise because the store is down (answer
a miss or do nothing instead, as :class:`~plait.cache.RedisBackend` does).

>>> import anyio
>>> async def demo() -> bytes | None:
...     backend = MemoryBackend(max_entries=2)
...     await backend.set("a", b"1", None)
...     await backend.set("b", b"2", None)
...     await backend.get("a")              # "a" is now the most recently used
...     await backend.set("c", b"3", None)  # evicts "b", the least recently used
...     return await backend.get("b")
>>> anyio.run(demo) is None
True
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from plait.exceptions import ConfigurationError


@runtime_checkable
class CacheBackend(Protocol):
    """Where a cache keeps its bytes. ``ttl`` is in seconds; None keeps the entry until evicted."""

    async def get(self, key: str) -> bytes | None: ...
    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...
    async def set(self, key: str, value: bytes, ttl: float | None) -> None: ...
    async def set_many(self, items: Mapping[str, bytes], ttl: float | None) -> None: ...
    async def delete(self, key: str) -> bool: ...
    async def incr(self, key: str, delta: int, ttl: float | None) -> int | None:
        """Add ``delta`` to the integer at ``key`` (0 when absent, then ``ttl`` applies); None when unavailable."""

    async def clear(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``; the number deleted."""

    async def aclose(self) -> None: ...


def is_decimal(data: bytes) -> bool:
    """Whether ``data`` is an integer written in ASCII, as counters are stored (``b"-12"``)."""
    digits = data[1:] if data[:1] == b"-" else data
    return digits.isdigit() and digits.isascii()


class MemoryBackend:
    """A bounded LRU store with per-entry expiry, for one process (development, tests, small apps).

    At most ``max_entries`` entries are kept: writing one more evicts the least recently used.
    Expired entries are dropped when read, or when the store is full. ``clock`` (monotonic
    seconds) can be replaced in tests.
    """

    def __init__(self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ConfigurationError(f"MemoryBackend(max_entries={max_entries}): keep at least 1 entry.")
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def _read(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= self._clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    def _write(self, key: str, value: bytes, ttl: float | None) -> None:
        self._data[key] = (value, None if ttl is None else self._clock() + ttl)
        self._data.move_to_end(key)
        if len(self._data) > self.max_entries:
            self._purge_expired()
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def _purge_expired(self) -> None:
        now = self._clock()
        for key in [k for k, (_, expires) in self._data.items() if expires is not None and expires <= now]:
            del self._data[key]

    async def get(self, key: str) -> bytes | None:
        return self._read(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self._read(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        self._write(key, value, ttl)

    async def set_many(self, items: Mapping[str, bytes], ttl: float | None) -> None:
        for key, value in items.items():
            self._write(key, value, ttl)

    async def delete(self, key: str) -> bool:
        return self._data.pop(key, None) is not None

    async def incr(self, key: str, delta: int, ttl: float | None) -> int:
        current = self._read(key)
        if current is None:
            value = delta
            self._write(key, str(value).encode(), ttl)
            return value
        if not is_decimal(current):
            raise ValueError(f"The cache value at {key!r} is not an integer; incr() only adds to counters.")
        value = int(current) + delta
        # Keep the entry's expiry: a counter lives as long as the window it was created for.
        self._data[key] = (str(value).encode(), self._data[key][1])
        return value

    async def clear(self, prefix: str) -> int:
        doomed = [key for key in self._data if key.startswith(prefix)]
        for key in doomed:
            del self._data[key]
        return len(doomed)

    async def aclose(self) -> None:
        self._data.clear()
