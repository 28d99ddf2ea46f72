"""`plait worker` and `plait scheduler`: found in the app's extensions, their checks, the scheduler loop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from plait import Plait
from plait.cli import main
from plait.jobs import Jobs
from plait.jobs.cli import _until_signalled, run_scheduler

APP = """
from plait import Plait
from plait.jobs import Jobs

jobs = Jobs()


@jobs.job
async def ping() -> None: ...


@jobs.job{options}
async def tick(n: int{default}) -> None: ...


app = Plait(extensions=[jobs])
"""


@pytest.fixture(autouse=True)
def _forget_imported_apps() -> Iterator[None]:
    """Each test writes its own app.py; drop the imported one (and its sys.path entry) afterwards."""
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:
        if not name.startswith(("plait", "taskiq", "redis", "pydantic")):
            del sys.modules[name]


def invoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], options: str = "", default: str = ""
) -> str:
    path = tmp_path / "app.py"
    path.write_text(APP.format(options=options, default=default))
    monkeypatch.setenv("PLAIT_APP", str(path))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    return result.output


def test_the_commands_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app.py").write_text(APP.format(options="", default=""))
    monkeypatch.setenv("PLAIT_APP", str(tmp_path / "app.py"))
    output = CliRunner().invoke(main, ["--help"]).output
    assert "  worker " in output
    assert "  scheduler " in output


def test_a_worker_needs_a_redis_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAIT_JOBS_URL", raising=False)
    output = invoke(tmp_path, monkeypatch, ["worker"])
    assert "nothing for a worker to do. Set PLAIT_JOBS_URL=redis://" in output


def test_the_scheduler_needs_a_scheduled_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = invoke(tmp_path, monkeypatch, ["scheduler"])
    assert "No job is declared with schedule= or every=" in output


def test_a_scheduled_job_cannot_need_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = invoke(tmp_path, monkeypatch, ["scheduler"], options='(schedule="*/5 * * * *")')
    assert "missing a required argument: 'n'" in output
    assert "A scheduled job takes no arguments (or only ones with defaults)" in output


@pytest.mark.anyio
async def test_the_scheduler_sends_jobs_at_their_times() -> None:
    jobs = Jobs()
    ran: list[int] = []
    twice = anyio.Event()

    @jobs.job(every=1, schedule=["0 0 1 1 *"])
    async def heartbeat(n: int = 0) -> None:
        ran.append(n)
        if len(ran) == 2:
            twice.set()

    app = Plait(extensions=[jobs])
    stop = asyncio.Event()
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run_scheduler, app, jobs, stop)
            await twice.wait()  # once a second (the in-process broker runs it right here)
            stop.set()
    assert ran == [0, 0]


@pytest.mark.anyio
async def test_sigterm_stops_a_command_cleanly() -> None:
    async def main(stop: asyncio.Event) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # delivered to the event loop's handler, not the default one
        await stop.wait()

    with anyio.fail_after(5):
        await _until_signalled(main)
