"""Broadcast across processes for real: `plait serve` servers sharing one Redis, a WebSocket client on one.

A message published by a request to one server process reaches a WebSocket held open by another,
which is what lets a chat or a live dashboard run on several workers or machines.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.test_hardening.server import Server, free_port, plait_command, serve

pytestmark = pytest.mark.redis

APP = """
import os

import anyio

from plait import Plait, WebSocket
from plait.channels import Channels

app = Plait(extensions=[Channels()])


@app.get("/")
def index() -> str:
    return "ok"


@app.websocket("/rooms/{room}")
async def room(ws: WebSocket, room: str, channels: Channels) -> None:
    await ws.accept()
    async with channels.subscribe("room:" + room) as messages, anyio.create_task_group() as tasks:

        async def relay() -> None:
            async for message in messages:
                await ws.send_json(message)

        tasks.start_soon(relay)
        await ws.send_json({"ready": os.getpid()})
        async for text in ws.iter_text():  # until the client leaves, which ends the subscription at once
            await channels.publish("room:" + room, {"text": text})
        tasks.cancel_scope.cancel()


@app.post("/rooms/{room}", status_code=204)
async def say(room: str, text: str, channels: Channels) -> None:
    await channels.publish("room:" + room, {"text": text})
"""


@contextmanager
def listen(server: Server, room: str) -> Iterator[tuple[ClientConnection, int]]:
    with connect(f"ws://127.0.0.1:{server.port}/rooms/{room}", open_timeout=10) as ws:
        ready = json.loads(ws.recv(timeout=10))  # subscribed (Redis confirmed it); the worker's pid
        assert isinstance(ready["ready"], int)
        yield ws, ready["ready"]


@contextmanager
def serve_workers(directory: Path, env: dict[str, str], workers: int) -> Iterator[Server]:
    """`plait serve app:app --workers N` (granian), stopped after the block."""
    (directory / "app.py").write_text(APP)
    port = free_port()
    environ = {**os.environ, "PLAIT_SECRET_KEY": "broadcast-secret", **env}
    environ.pop("PYTHONPATH", None)
    log_path = directory / "server.log"
    command = [
        *plait_command(),
        "serve",
        "app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
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


@pytest.fixture
def servers(tmp_path: Path, redis_url: str, redis_prefix: str) -> Iterator[tuple[Server, Server]]:
    env = {"PLAIT_CHANNELS_URL": redis_url, "PLAIT_CHANNELS_PREFIX": redis_prefix}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with serve(tmp_path / "a", APP, "granian", env) as one, serve(tmp_path / "b", APP, "uvicorn", env) as two:
        yield one, two


def test_a_websocket_on_one_process_receives_what_another_process_publishes(servers: tuple[Server, Server]) -> None:
    one, two = servers
    with ExitStack() as stack:
        here, _ = stack.enter_context(listen(one, "1"))
        there, _ = stack.enter_context(listen(two, "1"))
        response = httpx.post(f"http://127.0.0.1:{two.port}/rooms/1", params={"text": "from two"}, timeout=10)
        assert response.status_code == 204
        here.send("from one")  # through the WebSocket on the first process
        for ws in (here, there):
            assert json.loads(ws.recv(timeout=10)) == {"text": "from two"}
            assert json.loads(ws.recv(timeout=10)) == {"text": "from one"}


def test_every_worker_of_plait_serve_workers_3_delivers_a_broadcast(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    env = {"PLAIT_CHANNELS_URL": redis_url, "PLAIT_CHANNELS_PREFIX": redis_prefix}
    with serve_workers(tmp_path, env, workers=3) as server, ExitStack() as stack:
        sockets: list[ClientConnection] = []
        pids: set[int] = set()
        # The kernel hands each new connection to one of the workers; open them until several answered.
        while len(pids) < 3 and len(sockets) < 40:
            ws, pid = stack.enter_context(listen(server, "lobby"))
            sockets.append(ws)
            pids.add(pid)
        assert len(pids) >= 2, f"all {len(sockets)} WebSockets landed on one worker"
        response = httpx.post(f"http://127.0.0.1:{server.port}/rooms/lobby", params={"text": "all"}, timeout=10)
        assert response.status_code == 204
        for ws in sockets:
            assert json.loads(ws.recv(timeout=10)) == {"text": "all"}
