"""Starting, watching and always stopping the servers under test.

Every framework runs on the same server with the same flags, pinned to the server core. Each
server gets its own process group, so stopping it stops its workers too; every server started
is remembered until stopped, and ``stop_all`` (run at exit and on SIGINT/SIGTERM) ends the rest.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from harness.config import APPS_DIR, GENERATED_DIR, HOST, PEERS_DIR, SERVER_CORE, Framework
from harness.environment import tool

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0

_running: set[Server] = set()

# Same for every framework: one worker process, one runtime thread, one Python thread, uvloop, HTTP/1.1.
GRANIAN_FLAGS = [
    "--workers", "1", "--runtime-threads", "1", "--runtime-mode", "st", "--blocking-threads", "1",
    "--loop", "uvloop", "--http", "1", "--no-ws", "--no-access-log", "--log-level", "warning",
]  # fmt: skip
UVICORN_FLAGS = [
    "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--ws", "none",
    "--no-access-log", "--log-level", "warning",
]  # fmt: skip


def command(server: str, framework: Framework, attribute: str, port: int) -> list[str]:
    target = framework.target(attribute)
    bin_dir = PEERS_DIR / "bin"
    if server == "granian":
        return [str(bin_dir / "granian"), "--interface", framework.interface, *GRANIAN_FLAGS,
                "--host", HOST, "--port", str(port), target]  # fmt: skip
    interface = ["--interface", "wsgi", "--lifespan", "off"] if framework.interface == "wsgi" else []
    return [str(bin_dir / "uvicorn"), *UVICORN_FLAGS, *interface, "--host", HOST, "--port", str(port), target]


def flags(server: str) -> str:
    """The flags every framework is served with, for the report."""
    return " ".join(GRANIAN_FLAGS if server == "granian" else UVICORN_FLAGS)


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def _environment() -> dict[str, str]:
    # PLAIT_* settings of the caller's shell must not change the app under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    env["PYTHONPATH"] = str(APPS_DIR)
    return env


class Server:
    """One framework on one port, pinned to the server core."""

    def __init__(self, server: str, framework: Framework, attribute: str, port: int) -> None:
        self.framework = framework
        self.port = port
        self.argv = [tool("taskset"), "-c", SERVER_CORE, *command(server, framework, attribute, port)]
        self.log_path = GENERATED_DIR / "logs" / f"{framework.key}-{attribute}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} is already in use; stop whatever listens there and rerun.")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=APPS_DIR,
                env=_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _running.add(self)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> str | None:
        """None once the server answers HTTP, else why it did not (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return f"server exited: {self.log_tail()}"
            if port_is_open(self.port) and self._answers(deadline - time.monotonic()):
                return None
            time.sleep(0.05)
        return f"not ready after {timeout:.0f} s: {self.log_tail()}"

    def _answers(self, remaining: float) -> bool:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=max(0.5, min(remaining, 10.0)))
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
        except OSError:
            return False
        finally:
            connection.close()
        return True

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"

    def worker_pid(self) -> int:
        """The process that runs the app: the largest descendant (granian's worker), or the server itself."""
        if self.process is None:
            raise RuntimeError("the server was never started")
        family = descendants(self.process.pid)
        return max(family, key=rss_kib) if family else self.process.pid

    def stop(self) -> None:
        process = self.process
        _running.discard(self)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # Workers may outlive the main process briefly; the group is gone once they are.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def stop_all() -> None:
    for server in list(_running):
        server.stop()


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # The command name may hold spaces and parentheses; fields after the last ")" are safe.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
