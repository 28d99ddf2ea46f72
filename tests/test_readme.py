"""The README's Python examples run as written and behave as the README says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from plait import Plait
from plait.testing import TestClient

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def run_block(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(source, str(README), "exec"), namespace)  # noqa: S102 - the README is ours
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
