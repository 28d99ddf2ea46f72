"""The bounded thread pool for sync handlers and providers."""

import threading
import time

import anyio
import pytest

from plait.concurrency import ThreadPool


def describe(a: int, b: int = 0, *, sep: str = ",") -> str:
    return f"{a}{sep}{b}@{threading.get_ident()}"


def run_in(pool: ThreadPool, a: int, b: int = 0) -> str:
    """Positional arguments only."""

    async def go() -> str:
        return await pool.run(describe, a, b)

    return anyio.run(go)


def test_default_size() -> None:
    assert ThreadPool().size == 40


def test_run_passes_positional_arguments() -> None:
    result = run_in(ThreadPool(2), 1, 2)
    value, thread = result.split("@")
    assert value == "1,2"
    assert int(thread) != threading.get_ident()


def test_run_passes_keyword_arguments() -> None:
    async def go() -> str:
        return await ThreadPool(2).run(describe, a=1, sep="-")

    assert anyio.run(go).split("@")[0] == "1-0"


def test_run_passes_positional_and_keyword_arguments() -> None:
    async def go() -> str:
        return await ThreadPool(2).run(describe, 3, b=4, sep="|")

    assert anyio.run(go).split("@")[0] == "3|4"


def test_run_with_no_arguments() -> None:
    async def go() -> int:
        return await ThreadPool(1).run(threading.get_ident)

    assert anyio.run(go) != threading.get_ident()


def test_errors_propagate() -> None:
    def fail() -> None:
        raise LookupError("missing")

    async def go() -> None:
        await ThreadPool(1).run(fail)

    with pytest.raises(LookupError, match="missing"):
        anyio.run(go)


def test_limiter_is_made_lazily_with_the_pool_size() -> None:
    pool = ThreadPool(3)
    assert pool._limiter is None

    async def go() -> float:
        await pool.run(int)
        assert pool._limiter is not None
        return pool._limiter.total_tokens

    assert anyio.run(go) == 3


def test_size_bounds_how_many_calls_run_at_once() -> None:
    pool = ThreadPool(2)
    lock = threading.Lock()
    running = 0
    peak = 0

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def go() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(pool.run, work)

    anyio.run(go)
    assert peak == 2
    assert running == 0


def test_pool_keeps_working_across_event_loops() -> None:
    pool = ThreadPool(1)
    assert run_in(pool, 1).startswith("1,0")
    assert run_in(pool, 2).startswith("2,0")
