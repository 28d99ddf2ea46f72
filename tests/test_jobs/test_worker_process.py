"""`plait worker` for real: separate processes, a database dependency, a worker killed mid-run, Redis restarted.

The app enqueues from the test process; workers are subprocesses started the way an operator would
(``PLAIT_APP=... plait worker``), and what the jobs did is read back from the database.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest
from sqlalchemy import text

from tests.test_hardening.server import free_port, plait_command

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

APP = """
import os

import anyio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.db import Database
from plait.jobs import Jobs

jobs = Jobs()


@jobs.job(name="record")
async def record(n: int, db: AsyncSession) -> None:
    # Committed by the session when the job returns; a worker killed before that leaves no row.
    await anyio.sleep(0.002)  # a little work, so a worker killed mid-run has jobs in flight
    await db.execute(text("insert into runs (n, pid) values (:n, :pid)"), {"n": n, "pid": os.getpid()})


@jobs.job(name="beat", every=1)
async def beat(db: AsyncSession) -> None:
    await db.execute(text("insert into runs (n, pid) values (-1, :pid)"), {"pid": os.getpid()})


app = Plait(extensions=[Database(), jobs])
"""


def load(path: Path) -> ModuleType:
    """Import the app file under a name of its own (the test process is the producer)."""
    spec = importlib.util.spec_from_file_location(f"jobsapp_{uuid.uuid4().hex[:8]}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def plait_worker(
    directory: Path, env: dict[str, str], name: str, command: tuple[str, ...] = ("worker", "--concurrency", "10")
) -> Iterator[subprocess.Popen[bytes]]:
    log = directory / f"{name}.log"
    environ = {**os.environ, **env, "PLAIT_APP": str(directory / "jobsapp.py")}
    environ.pop("PYTHONPATH", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*plait_command(), *command],
            cwd=directory, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:  # pragma: no cover - only when a worker hangs
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)


async def count(app: Any, sql: str) -> int:
    async with app.extensions["database"].engine.connect() as connection:
        return int((await connection.execute(text(sql))).scalar_one())


async def wait_for(app: Any, sql: str, expected: int, process: subprocess.Popen[bytes], log: Path) -> None:
    with anyio.fail_after(60):
        while await count(app, sql) < expected:
            assert process.poll() is None, log.read_text()
            await anyio.sleep(0.05)


def setup_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> ModuleType:
    (tmp_path / "jobsapp.py").write_text(APP)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load(tmp_path / "jobsapp.py")


async def create_runs(app: Any) -> None:
    async with app.extensions["database"].engine.begin() as connection:
        await connection.execute(text("create table runs (n integer not null, pid integer not null)"))


async def test_plait_worker_runs_a_job_with_a_database_session(
    tmp_path: Path, redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "PLAIT_JOBS_URL": redis_url,
        "PLAIT_JOBS_QUEUE": redis_prefix + "jobs",
        "PLAIT_DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
    }
    module = setup_app(tmp_path, monkeypatch, env)
    async with module.app.running():
        await create_runs(module.app)
        await module.record.enqueue(7)
        with plait_worker(tmp_path, env, "worker") as process:
            await wait_for(module.app, "select count(*) from runs where n = 7", 1, process, tmp_path / "worker.log")
            assert await count(module.app, f"select count(*) from runs where pid = {process.pid}")  # noqa: S608 - an int == 1
        assert process.returncode == 0  # SIGTERM: a clean stop after the running jobs
    assert "Plait worker: 2 job(s)" in (tmp_path / "worker.log").read_text()


async def test_plait_scheduler_sends_periodic_jobs_to_the_workers(
    tmp_path: Path, redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "PLAIT_JOBS_URL": redis_url,
        "PLAIT_JOBS_QUEUE": redis_prefix + "jobs",
        "PLAIT_DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
    }
    module = setup_app(tmp_path, monkeypatch, env)
    async with module.app.running():
        await create_runs(module.app)
        with (
            plait_worker(tmp_path, env, "worker") as process,
            plait_worker(tmp_path, env, "scheduler", ("scheduler",)) as scheduler,
        ):
            await wait_for(module.app, "select count(*) from runs where n = -1", 2, process, tmp_path / "worker.log")
            assert scheduler.poll() is None
        assert scheduler.returncode == 0
    assert "Plait scheduler: beat" in (tmp_path / "scheduler.log").read_text()


async def test_a_thousand_jobs_survive_a_worker_killed_mid_run(
    tmp_path: Path, redis_url: str, redis_prefix: str, fresh_postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 1000
    env = {
        "PLAIT_JOBS_URL": redis_url,
        "PLAIT_JOBS_QUEUE": redis_prefix + "jobs",
        "PLAIT_JOBS_REDELIVERY_TIMEOUT": "1",
        "PLAIT_DATABASE_URL": fresh_postgres_database,
    }
    module = setup_app(tmp_path, monkeypatch, env)
    app = module.app
    async with app.running():
        async with app.extensions["database"].engine.begin() as connection:
            await connection.execute(text("drop table if exists runs"))
        await create_runs(app)
        for n in range(total):
            await module.record.enqueue(n)
        with plait_worker(tmp_path, env, "first") as first:
            await wait_for(app, "select count(*) from runs", 100, first, tmp_path / "first.log")
            first.send_signal(signal.SIGKILL)  # no chance to finish or acknowledge anything
            first.wait(timeout=10)
        done_by_first = await count(app, f"select count(*) from runs where pid = {first.pid}")  # noqa: S608 - an int
        assert done_by_first < total, "the first worker finished everything before it was killed"
        with plait_worker(tmp_path, env, "second") as second:
            await wait_for(app, "select count(distinct n) from runs", total, second, tmp_path / "second.log")
        runs = await count(app, "select count(*) from runs")
        duplicates = runs - total  # jobs committed by the killed worker but not acknowledged: run again
        assert 0 <= duplicates <= 10, f"{duplicates} duplicates; at most the jobs in flight when it died"
        assert await count(app, "select count(distinct n) from runs where n >= 0 and n < 1000") == total
        async with app.extensions["database"].engine.begin() as connection:
            await connection.execute(text("drop table runs"))


def executable(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} is not on PATH; install the Redis server (it is how .ci/run starts Redis)"
    return path


def start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """A Redis of this test's own (the shared one must stay up), without persistence: it restarts empty."""
    process = subprocess.Popen(
        [executable("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    ping = [executable("redis-cli"), "-p", str(port), "ping"]
    while subprocess.run(ping, capture_output=True).stdout != b"PONG\n":
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    return process


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


async def test_a_worker_resumes_when_redis_comes_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    env = {
        "PLAIT_JOBS_URL": f"redis://127.0.0.1:{port}/0",
        "PLAIT_DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
    }
    module = setup_app(tmp_path, monkeypatch, env)
    log = tmp_path / "worker.log"
    server = start_redis(port, tmp_path)
    try:
        async with module.app.running():
            await create_runs(module.app)
            await module.record.enqueue(1)
            with plait_worker(tmp_path, env, "worker") as process:
                await wait_for(module.app, "select count(*) from runs", 1, process, log)
                stop_redis(server)
                with anyio.fail_after(20):
                    while "Lost Redis" not in log.read_text():
                        assert process.poll() is None, log.read_text()  # the worker waits; it does not exit
                        await anyio.sleep(0.05)
                server = start_redis(port, tmp_path)  # back, and empty: no stream, no consumer group
                await module.record.enqueue(2)
                await wait_for(module.app, "select count(*) from runs", 2, process, log)
    finally:
        stop_redis(server)
    output = log.read_text()
    assert "retrying in" in output
    assert "recreating it" in output
