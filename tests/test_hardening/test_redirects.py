"""Redirects Plait builds from request data never send the browser to another host."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from plait import StaticFiles
from plait.app import Plait
from tests.test_di.helpers import Receiver, Recorder, http_scope


def slashed_app() -> Plait:
    """Only slashed paths are routed, so every other one is redirected to them."""
    app = Plait()

    @app.get("/{a}/")
    def one(a: str) -> str:
        return a

    @app.get("/{a}/{b}/")
    def two(a: str, b: str) -> str:
        return a + b

    return app


def unslashed_app() -> Plait:
    app = Plait()

    @app.get("/{a}")
    def one(a: str) -> str:
        return a

    @app.get("/{a}/{b}")
    def two(a: str, b: str) -> str:
        return a + b

    return app


def location_for(app: object, raw_path: bytes, path: str, query: bytes = b"") -> tuple[int, str | None]:
    sent = Recorder()
    scope = http_scope("GET", path, query=query, raw_path=raw_path)
    anyio.run(app, scope, Receiver(), sent)  # type: ignore[arg-type]
    start = sent.messages[0]
    headers = dict(start["headers"])
    location = headers.get(b"location")
    return start["status"], None if location is None else location.decode("latin-1")


def assert_same_site(location: str | None) -> None:
    assert location is not None
    assert location.startswith("/")
    assert location[1:2] not in ("/", "\\")
    assert not any(ord(char) < 0x21 or ord(char) == 0x7F for char in location)


@pytest.mark.parametrize(
    ("raw_path", "path"),
    [
        (b"/\\evil.example", "/\\evil.example"),  # browsers read "/\\evil.example/" as //evil.example/
        (b"/%5Cevil.example", "/\\evil.example"),
        (b"/\t/evil.example", "/\t/evil.example"),  # browsers drop the tab: //evil.example/
        (b"/%09/evil.example", "/\t/evil.example"),
        (b"/\x7f/evil.example", "/\x7f/evil.example"),
    ],
)
def test_trailing_slash_redirect_stays_on_the_site(raw_path: bytes, path: str) -> None:
    status, location = location_for(slashed_app(), raw_path, path)
    assert status == 308
    assert_same_site(location)
    status, location = location_for(unslashed_app(), raw_path + b"/", path + "/")
    assert status == 308
    assert_same_site(location)


def test_trailing_slash_redirect_keeps_ordinary_paths_and_queries() -> None:
    status, location = location_for(slashed_app(), b"/docs/a%3Fb", "/docs/a?b", b"x=1")
    assert (status, location) == (308, "/docs/a%3Fb/?x=1")


def test_trailing_slash_redirect_without_a_raw_path_stays_on_the_site() -> None:
    sent = Recorder()
    anyio.run(slashed_app(), http_scope("GET", "/\\evil.example"), Receiver(), sent)
    assert_same_site(dict(sent.messages[0]["headers"])[b"location"].decode())


def test_static_directory_redirect_stays_on_the_site(tmp_path: Path) -> None:
    (tmp_path / "evil.example").mkdir()
    (tmp_path / "evil.example" / "index.html").write_text("hi")
    files = StaticFiles(directory=tmp_path, html=True)
    assert location_for(files, b"//evil.example", "//evil.example") == (404, None)  # refused outright
    # A server told its root path is "/" (uvicorn --root-path /) would otherwise build "//evil.example/".
    sent = Recorder()
    anyio.run(files, http_scope("GET", "/evil.example", root_path="/"), Receiver(), sent)
    start = sent.messages[0]
    assert (start["status"], dict(start["headers"])[b"location"]) == (307, b"/evil.example/")
