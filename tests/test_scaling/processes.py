"""The processes of the scaling proof: `plait serve --workers 3`, `plait worker`, and a Redis of the test's own.

Each runs in a process group of its own (``start_new_session``), and is stopped in a ``finally``:
SIGTERM first, then SIGKILL to the whole group, so that no server worker or Redis outlives a test,
whatever it asserted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.test_hardening.server import free_port, plait_command

ROOT = Path(__file__).resolve().parents[2]
"""The repository: the servers import ``tests.test_scaling.scaleapp`` from here."""
APP = "tests.test_scaling.scaleapp:app"
DEADLINE = 30.0
SECRET = "scaling-proof-secret"  # a test key; every worker must share one, as in production


def environment(env: Mapping[str, str]) -> dict[str, str]:
    environ = {**os.environ, "PLAIT_SECRET_KEY": SECRET, **env}
    environ.pop("PYTHONPATH", None)  # the command puts the repository on it for its workers
    return environ


def stop(process: subprocess.Popen[bytes], *, timeout: float = 15.0) -> int:
    """SIGTERM and wait; then SIGKILL whatever is left of the process group. Returns the exit status."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):  # then it is killed below
            process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):  # the group is empty: everything stopped
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait(timeout=timeout)


@dataclass
class Served:
    """A running `plait serve --workers N`."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: Mapping[str, str]
    """The settings it runs with (a `plait worker` for its jobs needs the same)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited with {self.process.returncode}:\n{self.log()}"
            try:
                if httpx.get(self.url + "/", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"no 200 within {DEADLINE} s:\n{self.log()}")


@contextlib.contextmanager
def plait_serve(env: Mapping[str, str], log_path: Path, workers: int = 3) -> Iterator[Served]:
    """`plait serve tests.test_scaling.scaleapp:app --workers N` on a free port, stopped after the block."""
    port = free_port()
    command = [*plait_command(), "serve", APP, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        served = Served(process, port, log_path, env)
        try:
            served.wait_until_serving()
            yield served
        finally:
            stop(process)


@contextlib.contextmanager
def plait_worker(env: Mapping[str, str], log_path: Path, concurrency: int = 10) -> Iterator[subprocess.Popen[bytes]]:
    """`PLAIT_APP=tests.test_scaling.scaleapp:app plait worker`, as an operator starts it; stopped after the block."""
    command = [*plait_command(), "worker", "--concurrency", str(concurrency)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment({**env, "PLAIT_APP": APP}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            stop(process)


def executable(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} is not on PATH; install the Redis server (it is how .ci/run starts Redis)"
    return path


class PrivateRedis:
    """A `redis-server` of the test's own on a free loopback port, to stop and start again at will.

    The shared Redis on 6379 is never touched. This one keeps an append-only file, fsynced on every
    write, in ``directory``: like a production Redis, it comes back with what it held (the jobs
    stream, its consumer group, the sessions), so the test shows recovery rather than data loss.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            executable("redis-server"),
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--daemonize", "no",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.directory),
        ]  # fmt: skip
        log = (self.directory / "redis.log").open("ab")
        with log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + DEADLINE
        ping = [executable("redis-cli"), "-p", str(self.port), "ping"]
        while subprocess.run(ping, capture_output=True, check=False).stdout != b"PONG\n":
            assert self.process.poll() is None, (self.directory / "redis.log").read_text()
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def crash(self) -> None:
        """SIGKILL: Redis gets no chance to say goodbye to its clients, as in a real crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
