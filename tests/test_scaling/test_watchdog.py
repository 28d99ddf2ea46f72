"""The watchdog that bounds every test of the scaling, jobs, broadcast, cache and rate-limit suites."""

from __future__ import annotations

import signal
import time

import anyio
import pytest

from tests.test_scaling.watchdog import Hung, watchdog


def test_a_blocked_call_is_interrupted_and_named() -> None:
    with pytest.raises(Hung, match=r"the stuck part ran longer than 0\.1 s"), watchdog("the stuck part", 0.1):
        time.sleep(5)


def test_an_awaited_message_that_never_comes_is_interrupted() -> None:
    async def wait_forever() -> None:
        await anyio.Event().wait()

    with pytest.raises(Hung), watchdog("waiting", 0.1):
        anyio.run(wait_forever)


def test_an_inner_watchdog_hands_the_outer_one_back_its_time() -> None:
    # This very test runs under the conftest's watchdog (LIMIT seconds): the inner one must not cancel it.
    handler = signal.getsignal(signal.SIGALRM)
    before, _ = signal.getitimer(signal.ITIMER_REAL)
    with watchdog("quick", 5):
        pass
    after, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 0 < after <= before
    assert signal.getsignal(signal.SIGALRM) is handler


def test_without_an_outer_watchdog_none_is_left_running() -> None:
    saved, _ = signal.getitimer(signal.ITIMER_REAL)
    signal.setitimer(signal.ITIMER_REAL, 0)  # as outside pytest's hooks
    try:
        with watchdog("alone", 5):
            pass
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, saved)
