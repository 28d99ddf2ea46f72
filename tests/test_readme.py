"""The README's Python examples run as written and behave as the README says."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from plait import Plait
from plait.testing import TestClient

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def run_block(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    # dont_inherit: run the example as a user's module would, without this file's `from __future__` imports.
    exec(compile(source, str(README), "exec", dont_inherit=True), namespace)  # noqa: S102 - the README is ours
    return namespace


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 2


def test_hello_world_example() -> None:
    app = run_block(python_blocks()[0])["app"]
    assert isinstance(app, Plait)
    with TestClient(app) as client:
        assert client.get("/").json() == {"hello": "world"}


def test_typed_handlers_example() -> None:
    app = run_block(python_blocks()[1])["app"]
    with TestClient(app) as client:
        created = client.post("/articles", json={"title": "T", "body": "B", "tags": ["x"]})
        assert created.status_code == 201
        assert created.json() == {"title": "T", "body": "B", "tags": ["x"], "id": 1}
        assert client.get("/articles/1").json()["title"] == "T"
        assert client.get("/articles?tag=x").json()[0]["id"] == 1
        assert client.get("/articles?tag=y").json() == []
        missing = client.get("/articles/9")
        assert missing.status_code == 404
        assert missing.json()["detail"] == "No article with id 9"
        assert client.get("/articles/", follow_redirects=False).status_code == 308
        bad = client.get("/articles?page=0")
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["query", "page"]


def test_web_layer_example() -> None:
    namespace = run_block(python_blocks()[2])
    app = namespace["app"]
    with TestClient(app) as client:
        response = client.post("/signup?address=a@example.com", headers={"origin": "https://example.com"})
        assert response.status_code == 202
        assert response.headers["access-control-allow-origin"] == "https://example.com"
        assert namespace["sent"] == ["a@example.com"]
        with client.websocket_connect("/echo") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi"
        with client.stream("GET", "/ticks") as stream:
            body = "".join(stream.iter_text())
        assert 'data: {"tick":0}' in body
        assert "id: 2" in body


def test_batteries_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "notes.db"
    monkeypatch.setenv("PLAIT_DATABASE_URL", f"sqlite:///{store}")
    namespace = run_block(python_blocks()[3])
    with TestClient(namespace["app"]) as client:
        first = client.post("/notes", params={"text": "milk"})
        assert (first.status_code, first.json()) == (201, {"text": "milk"})
        assert client.post("/notes", params={"text": "eggs"}).status_code == 201
        assert client.post("/notes").status_code == 422
    # Committed: another connection, after the app stopped, sees both rows.
    with contextlib.closing(sqlite3.connect(store)) as connection:
        assert connection.execute("select id, text from notes order by id").fetchall() == [(1, "milk"), (2, "eggs")]


def test_coming_from_fastapi_example() -> None:
    namespace = run_block(python_blocks()[4])
    namespace["test_me"]()  # the example's own test
    app = namespace["app"]
    with TestClient(app, follow_redirects=False) as client:
        me = client.get("/me")
        assert me.json() == {"id": 1, "name": "Ann"}
        cookie = me.headers["set-cookie"]
        assert cookie.startswith("seen=1")
        assert "; Secure" in cookie
        assert "; HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        old = client.get("/old")
        assert (old.status_code, old.headers["location"]) == (307, "/me")
        assert client.get("/me").request.headers.get("cookie") is None  # Secure: not sent back over http
    with TestClient(app) as client:
        assert client.get("/old").json() == {"id": 1, "name": "Ann"}  # followed by default


def test_coming_from_flask_example() -> None:
    app = run_block(python_blocks()[5])["app"]
    with TestClient(app) as client:  # follows redirects
        assert client.get("/me").json() == {"id": 1}
    with TestClient(app, follow_redirects=False) as client:
        me = client.get("/me")
        assert (me.status_code, me.headers["location"]) == (302, "/users/1")
        assert client.get("/users/1").json() == {"id": 1}
        created = client.post("/users/1", data={"note": "hi"}, headers={"x-user": "ada"})
        assert (created.status_code, created.json()) == (201, {"note": "hi", "by": "ada"})
        assert client.post("/users/1", data={"note": "hi"}).json()["by"] == "anonymous"
        missing = client.post("/users/1", data={"other": "x"})
        assert missing.status_code == 400
        assert "'note'" in missing.json()["detail"]
        unknown = client.get("/users/2")
        assert (unknown.status_code, unknown.json()["detail"]) == (404, "No user 2")
        options = client.options("/users/1")
        assert (options.status_code, options.headers["allow"]) == (204, "GET, HEAD, OPTIONS, POST")
        assert client.get("/users/one").status_code == 404


def test_guides_sit_between_the_web_layer_and_performance() -> None:
    headings = re.findall(r"^## (.+)$", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert headings[0] == "The flagship: Conduit"  # what `make demo` serves, before any code
    start = headings.index("The web layer")
    assert headings[start + 1 : start + 7] == [
        "Batteries",
        "Scaling out",
        "Coming from FastAPI",
        "Coming from Flask",
        "Limits",
        "Performance",
    ]
