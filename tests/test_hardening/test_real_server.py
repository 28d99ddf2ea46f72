"""Hostile clients against `plait serve` on granian, over real HTTP: the server answers 4xx or nothing, never 500.

One server serves the whole module (starting one takes about a second); each test then checks that
it still serves and that its log holds no traceback and no error.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator

import pytest

from tests.test_hardening.server import Server, serve

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="counts open temporary files through /proc")

APP = """
import logging
import os
import tempfile
from pathlib import Path
from typing import Annotated

import anyio

from plait import File, Form, UploadFile
from plait.app import Plait
from plait.responses import StreamingResponse

# Plait's own loggers, debug lines included, go to the server's output, which the tests read.
logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")
app = Plait()
MARKS = Path("marks")
MARKS.mkdir(exist_ok=True)


def mark(name: str) -> None:
    (MARKS / name).touch()


@app.get("/")
def index() -> str:
    return "ok"


@app.post("/json")
def take_json(data: dict[str, int]) -> str:
    mark("json")
    return "json"


@app.post("/form")
def take_form(name: Annotated[str, Form()]) -> str:
    mark("form")
    return "form"


@app.post("/upload")
def take_upload(upload: Annotated[UploadFile, File()]) -> str:
    mark("upload")
    return "upload"


@app.get("/stream")
def stream() -> StreamingResponse:
    async def ticks():
        try:
            while True:
                yield "tick\\n"
                await anyio.sleep(0.05)
        finally:
            mark("stream-closed")

    return StreamingResponse(ticks(), media_type="text/plain")


@app.get("/temp-files")
def temp_files() -> int:
    # Temporary files are unlinked at once on Linux; an open one still shows among this process's fds.
    where = tempfile.gettempdir()
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith(where)
        except OSError:  # the descriptor listdir itself used, closed by now
            pass
    return count


@app.get("/echo/{name}")
def echo(name: str) -> str:
    return name
"""

SETTINGS = {"PLAIT_MAX_HEADER_SIZE": "16384", "PLAIT_UPLOAD_SPOOL_SIZE": "1024"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("hardening")
    (directory / "tmp").mkdir()
    env = {**SETTINGS, "TMPDIR": str(directory / "tmp")}
    with serve(directory, APP, "granian", env) as running:
        yield running


def assert_healthy(server: Server) -> None:
    """Still serving, and nothing in the log reads as a crash."""
    assert server.get("/") == (200, b"ok")
    log = server.log()
    assert "Traceback" not in log, log
    assert "ERROR" not in log, log
    assert " 500" not in log, log


def wait_for(condition: object, what: str, server: Server) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within 5 s:\n{server.log()}")


def disconnect_lines(server: Server) -> int:
    return server.log().count("The client disconnected while sending its request body")


def multipart(size: int) -> tuple[bytes, bytes]:
    boundary = b"plaitboundary"
    head = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="upload"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    return b"multipart/form-data; boundary=" + boundary, head + b"x" * size


@pytest.mark.parametrize(
    ("path", "content_type", "partial"),
    [
        ("/json", b"application/json", b'{"a": 1, "b": '),
        ("/form", b"application/x-www-form-urlencoded", b"name=Ada&other=" + b"x" * 5000),
        ("/upload", *multipart(200_000)),
    ],
    ids=["json", "form", "multipart"],
)
def test_client_leaving_mid_body_is_not_an_error(
    server: Server, path: str, content_type: bytes, partial: bytes
) -> None:
    before = disconnect_lines(server)
    with server.connect() as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(partial) + 10_000}\r\n".encode()
            + b"Content-Type: "
            + content_type
            + b"\r\n\r\n"
            + partial
        )
        time.sleep(0.2)  # let the server start reading (and spool the upload to disk)
        if path == "/upload":
            assert server.get("/temp-files") == (200, b"1")  # so the check below means something
    wait_for(lambda: disconnect_lines(server) == before + 1, "the one debug line", server)
    time.sleep(0.1)
    assert disconnect_lines(server) == before + 1  # logged once
    assert not (server.directory / "marks" / path.strip("/")).exists()  # the handler never ran
    assert server.get("/temp-files") == (200, b"0")  # the spooled upload was closed
    assert_healthy(server)


def test_client_leaving_while_the_response_streams_ends_it_quietly(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while b"tick" not in received:  # the head and the first chunk may come in separate reads
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk
    wait_for((server.directory / "marks" / "stream-closed").exists, "the generator's cleanup", server)
    wait_for(lambda: "disconnected while the response streamed" in server.log(), "the debug line", server)
    assert_healthy(server)


def test_headers_over_the_limit_are_431_from_plait_or_from_granian(server: Server) -> None:
    # Just over Plait's limit but inside granian's buffer: Plait answers with a problem document.
    status, body = server.get("/", b"X-Pad: " + b"a" * 16_500 + b"\r\n")
    assert status == 431
    assert "Settings.max_header_size" in json.loads(body)["detail"]
    # Far over it: granian, given the limit by `plait serve`, refuses the head before Python sees it.
    status, body = server.get("/", b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(60)))
    assert (status, body) == (431, b"")
    assert server.get("/", b"X-Pad: " + b"a" * 15_000 + b"\r\n") == (200, b"ok")
    assert_healthy(server)


def test_a_path_whose_escapes_are_not_utf8_is_400_over_real_http(server: Server) -> None:
    status, body = server.get("/echo/a%FFb")
    assert status == 400
    assert "path" in json.loads(body)["detail"]
    assert server.get("/echo/caf%C3%A9") == (200, "café".encode())
    assert_healthy(server)


def test_a_client_that_vanishes_before_sending_anything_is_harmless(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"POST /json HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sock.shutdown(socket.SHUT_RDWR)
    assert_healthy(server)
