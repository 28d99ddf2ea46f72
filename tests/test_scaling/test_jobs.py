"""1,000 jobs enqueued through `plait serve --workers 3`, a `plait worker` killed mid-run: none is lost.

Delivery is at-least-once: a job is acknowledged (and removed from the Redis stream) only after it
ran and its database transaction committed. A worker killed with SIGKILL acknowledges nothing it
had in hand, so another worker takes those jobs over; the ones it had committed but not yet
acknowledged run twice. The database, not the queue, is the judge: one row per run.
"""

from __future__ import annotations

import signal
from pathlib import Path

import anyio
import pytest

from tests.test_scaling.processes import Served, plait_worker
from tests.test_scaling.support import enqueue, execute, fetch_value, queue_is_empty, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]

TOTAL = 1000


async def test_a_thousand_jobs_survive_a_worker_killed_with_sigkill(
    served_on_database: Served,
    fresh_postgres_database: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    served, database = served_on_database, fresh_postgres_database
    await execute(database, "drop table if exists runs", "create table runs (n integer not null, pid integer not null)")
    try:
        producers = await enqueue(served, 0, TOTAL)
        assert len(producers) > 1  # enqueued by several server workers, into the one stream

        with plait_worker(served.env, tmp_path / "first.log") as first:
            await wait_for(database, "select count(*) from runs", TOTAL // 5, first, tmp_path / "first.log")
            first.send_signal(signal.SIGKILL)  # mid-run: no chance to finish, commit or acknowledge anything
            first.wait(timeout=10)
        by_first = await fetch_value(database, f"select count(*) from runs where pid = {first.pid}")  # noqa: S608 - an int
        assert 0 < by_first < TOTAL, "the first worker was not killed mid-run"

        with plait_worker(served.env, tmp_path / "second.log") as second:
            await wait_for(database, "select count(distinct n) from runs", TOTAL, second, tmp_path / "second.log")
            with anyio.fail_after(15):  # the last acknowledgements follow the last commits
                while not await queue_is_empty(redis_url, served.env["PLAIT_JOBS_QUEUE"]):
                    await anyio.sleep(0.05)
            assert second.poll() is None
        by_second = await fetch_value(database, f"select count(*) from runs where pid = {second.pid}")  # noqa: S608

        runs = await fetch_value(database, "select count(*) from runs")
        done = await fetch_value(database, f"select count(distinct n) from runs where n >= 0 and n < {TOTAL}")  # noqa: S608
        duplicates = runs - TOTAL
        assert done == TOTAL  # every job ran: none lost
        assert by_first + by_second == runs
        # Run twice: at most the jobs the killed worker had committed but not yet acknowledged (its concurrency
        # of 10, plus a few taken over while they were still running on a loaded machine).
        assert 0 <= duplicates <= 30, f"{duplicates} jobs ran twice"
    finally:
        await execute(database, "drop table if exists runs")
