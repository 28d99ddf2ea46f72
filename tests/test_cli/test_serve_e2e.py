"""`plait serve` for real: a server process on a free port, polled over HTTP, then stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.test_hardening.server import free_port, plait_command

DEADLINE = 20.0

TMPAPP = """
from plait.app import Plait

app = Plait()
started: list[str] = []


@app.on_startup
def startup() -> None:
    started.append("yes")


@app.get("/")
def index() -> dict[str, object]:
    return {"hello": "world", "started": started == ["yes"], "signed": bool(app.settings.secret_key)}
"""


def poll(url: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    """GET ``url`` until it answers 200, the server exits, or the deadline passes."""
    deadline = time.monotonic() + DEADLINE
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before answering")
        try:
            response = httpx.get(url, timeout=2.0)
        except httpx.TransportError as exc:
            last = exc
        else:
            if response.status_code == 200:
                return response
        time.sleep(0.1)
    raise AssertionError(f"no 200 from {url} within {DEADLINE} s (last error: {last!r})")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server and wait; kill its process group if it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_plait_serve_answers_http(server: str, tmp_path: Path) -> None:
    (tmp_path / "tmpapp.py").write_text(textwrap.dedent(TMPAPP))
    port = free_port()
    env = {**os.environ, "PLAIT_SECRET_KEY": "e2e-secret"}
    env.pop("PYTHONPATH", None)
    log = (tmp_path / "server.log").open("wb")
    command = [*plait_command(), "serve", "tmpapp:app", "--host", "127.0.0.1", "--port", str(port), "--server", server]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        try:
            response = poll(f"http://127.0.0.1:{port}/", process)
        except AssertionError as exc:
            log.flush()
            raise AssertionError(f"{exc}\n--- server output ---\n{(tmp_path / 'server.log').read_text()}") from None
        assert response.json() == {"hello": "world", "started": True, "signed": True}
        assert response.headers["content-type"] == "application/json"
    finally:
        stop(process)
        log.close()
    output = (tmp_path / "server.log").read_text()
    assert f"Plait serving http://127.0.0.1:{port}" in output


SLOW_APP = """
from pathlib import Path

import anyio

from plait.app import Plait

app = Plait()


@app.get("/")
def index() -> str:
    return "ok"


@app.get("/slow")
async def slow() -> str:
    Path("started").touch()
    await anyio.sleep(1)
    return "finished"
"""


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_sigterm_finishes_the_request_in_flight_and_exits_0(server: str, tmp_path: Path) -> None:
    import threading

    from tests.test_hardening.server import serve

    answers: list[tuple[int, bytes]] = []
    with serve(tmp_path, SLOW_APP, server) as running:
        client = threading.Thread(target=lambda: answers.append(running.get("/slow")))
        client.start()
        deadline = time.monotonic() + DEADLINE
        while not (tmp_path / "started").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (tmp_path / "started").exists(), running.log()
        status = running.stop()  # SIGTERM while /slow sleeps
        client.join(timeout=10)
        log = running.log()
    assert answers == [(200, b"finished")], log
    assert status == 0, log
    assert "Traceback" not in log, log


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_oversized_request_heads_are_431_on_both_servers(server: str, tmp_path: Path) -> None:
    from tests.test_hardening.server import serve

    with serve(tmp_path, SLOW_APP, server, {"PLAIT_MAX_HEADER_SIZE": "10000"}) as running:
        status, body = running.get("/", b"X-Pad: " + b"a" * 10_500 + b"\r\n")  # Plait's own count answers
        assert (status, b"Settings.max_header_size" in body) == (431, True)
        status, _ = running.get("/", b"X-Pad: " + b"a" * 60_000 + b"\r\n")  # granian refuses it before Python
        assert status == 431
        assert running.get("/", b"X-Pad: " + b"a" * 9_000 + b"\r\n") == (200, b"ok")
        assert "Traceback" not in running.log()
