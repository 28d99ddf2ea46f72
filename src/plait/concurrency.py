"""Running sync code off the event loop, on a bounded thread pool."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

P = ParamSpec("P")
T = TypeVar("T")


class ThreadPool:
    """A thread pool of a fixed size for sync handlers and providers.

    >>> import anyio
    >>> anyio.run(ThreadPool(4).run, sum, [1, 2])
    3
    """

    def __init__(self, size: int = 40) -> None:
        self.size = size
        self._limiter: CapacityLimiter | None = None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        # The limiter is made lazily: it binds to the running event loop.
        if self._limiter is None:
            self._limiter = CapacityLimiter(self.size)
        call = functools.partial(fn, *args, **kwargs) if kwargs else fn
        return await anyio.to_thread.run_sync(call, *args if not kwargs else (), limiter=self._limiter)
