"""A watchdog for the tests that wait on servers, processes and messages: a hang fails one test, not the run.

The test directories of the cache, rate limits, broadcast, jobs and the scaling proof enable it in
their ``conftest.py`` (``from tests.test_scaling.watchdog import *``). Each phase of a test (setup,
call, teardown) gets ``LIMIT`` seconds; past that, ``SIGALRM`` raises :class:`Hung` in the test,
naming it, so a lost message or a process that never answers cannot stall ``make test`` forever.
(pytest-timeout is not a dependency; this is the part of it these tests need.)
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Generator, Iterator
from types import FrameType
from typing import Any

import pytest

LIMIT = 120.0
"""Seconds per phase; the slowest of these tests take about 10 s on a loaded two-core machine."""

__all__ = ["Hung", "pytest_runtest_call", "pytest_runtest_setup", "pytest_runtest_teardown", "watchdog"]


class Hung(Exception):
    """A test phase ran past the watchdog's limit."""


@contextlib.contextmanager
def watchdog(what: str, seconds: float = LIMIT) -> Iterator[None]:
    """Raise :class:`Hung` in the main thread if the block runs longer than ``seconds``."""
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover - pytest runs tests there
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"{what} ran longer than {seconds:g} s: something it waits for never came (see its output)")

    outer, _ = signal.getitimer(signal.ITIMER_REAL)  # a watchdog this one runs inside (0: none)
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # give the outer watchdog back what is left of its time (at least a moment)
            signal.setitimer(signal.ITIMER_REAL, max(0.001, outer - (time.monotonic() - started)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    with watchdog(f"the setup of {item.nodeid}", LIMIT):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    with watchdog(item.nodeid, LIMIT):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, Any, Any]:
    with watchdog(f"the teardown of {item.nodeid}", LIMIT):
        return (yield)
