"""Remembering that a server (Redis) is down: warn once per interval, retry after a pause.

Both the cache and the rate limiter keep serving while their Redis is unreachable. Without care,
every request would then wait for a connection timeout and log the same warning. An
:class:`Outage` records the failure: operations skip the server for ``retry_interval`` seconds
(answering at once, as a miss or a no-op), the warning is logged at most once per
``warn_interval``, and the first operation that succeeds again logs the recovery.

>>> import logging
>>> now = [0.0]
>>> outage = Outage(logging.getLogger("doc"), "Redis at redis://cache", retry_interval=1.0, clock=lambda: now[0])
>>> outage.failed(ConnectionError("refused"))
>>> outage.available()
False
>>> now[0] = 1.5
>>> outage.available()
True
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class Outage:
    """Whether a server may be tried now, and the warnings about it (see the module notes)."""

    __slots__ = ("_clock", "_down", "_logger", "_next_warning", "_retry_at", "retry_interval", "warn_interval", "what")

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        warn_interval: float = 60.0,
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self.what = what
        self.warn_interval = warn_interval
        self.retry_interval = retry_interval
        self._clock = clock
        self._down = False
        self._retry_at = 0.0
        self._next_warning = 0.0

    @property
    def down(self) -> bool:
        """True from a failure until the next success."""
        return self._down

    def available(self) -> bool:
        """Whether to try the server now: always when it is up, else once ``retry_interval`` has passed."""
        return not self._down or self._clock() >= self._retry_at

    def failed(self, exc: BaseException, consequence: str = "") -> None:
        """Record a failure; log a warning unless one was logged less than ``warn_interval`` ago."""
        now = self._clock()
        self._down = True
        self._retry_at = now + self.retry_interval
        if now >= self._next_warning:
            self._next_warning = now + self.warn_interval
            self._logger.warning(
                "%s is unavailable (%s: %s)%s; retrying every %gs, this warning repeats at most every %gs.",
                self.what,
                type(exc).__name__,
                exc,
                consequence,
                self.retry_interval,
                self.warn_interval,
            )

    def succeeded(self) -> None:
        """Record a success; the first one after an outage logs the recovery."""
        if self._down:
            self._down = False
            self._next_warning = 0.0
            self._logger.info("%s is answering again.", self.what)
