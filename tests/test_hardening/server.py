"""Run `plait serve` for real in a test: a subprocess on a free 127.0.0.1 port, spoken to over raw sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEADLINE = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def plait_command() -> list[str]:
    script = Path(sys.executable).with_name("plait")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from plait.cli import main; main()"]


@dataclass
class Server:
    """A running `plait serve` process and where its output goes."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def request(self, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        """Send one whole request (``Connection: close``) and read the status and body of the answer."""
        with self.connect() as sock:
            sock.sendall(head + body)
            data = read_all(sock)
        status_line, _, rest = data.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 "), (data[:200], self.log())
        return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]

    def get(self, target: str, extra: bytes = b"") -> tuple[int, bytes]:
        head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + extra + b"Connection: close\r\n\r\n"
        return self.request(head)

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if self.get("/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"no 200 within {DEADLINE} s:\n{self.log()}")

    def stop(self) -> int:
        """SIGTERM and wait; kill the process group if it does not stop in time. Returns the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        return self.process.returncode


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@contextmanager
def serve(directory: Path, source: str, server: str, env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """`plait serve app:app` with ``source`` as app.py in ``directory``, stopped after the block."""
    (directory / "app.py").write_text(textwrap.dedent(source))
    port = free_port()
    environ = {**os.environ, "PLAIT_SECRET_KEY": "hardening-secret", **(env or {})}
    environ.pop("PYTHONPATH", None)
    log_path = directory / "server.log"
    command = [*plait_command(), "serve", "app:app", "--host", "127.0.0.1", "--port", str(port), "--server", server]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=directory, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        running = Server(process, port, directory, log_path)
        try:
            running.wait_until_serving()
            yield running
        finally:
            running.stop()
