"""The guides in ``docs/`` run as written: every Python example builds its app, and some are driven."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest

from plait import Plait
from plait.testing import AsyncTestClient, TestClient

DOCS = Path(__file__).resolve().parent.parent / "docs"


def blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(encoding="utf-8"), flags=re.DOTALL)


def every_block() -> list[tuple[str, int]]:
    """Every example, except those importing the reader's own project (``from myproject...``)."""
    return [
        (path.name, index)
        for path in sorted(DOCS.glob("*.md"))
        for index, source in enumerate(blocks(path.name))
        if "myproject" not in source
    ]


@pytest.fixture
def guide_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working directory and a secret key, as a user's shell would have."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAIT_SECRET_KEY", "a-long-random-secret-for-the-guides")
    for name in ("DATABASE", "CACHE", "RATELIMIT", "JOBS", "CHANNELS"):
        monkeypatch.delenv(f"PLAIT_{name}_URL", raising=False)
    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    return tmp_path


def run(name: str, index: int = 0) -> dict[str, Any]:
    """Run example ``index`` of a guide after the ones before it: a guide's examples continue each other."""
    namespace: dict[str, Any] = {"__name__": "guide_example"}
    for source in blocks(name)[: index + 1]:
        exec(compile(source, str(DOCS / name), "exec", dont_inherit=True), namespace)  # noqa: S102 - our own docs
    return namespace


def test_there_are_guides() -> None:
    assert len(every_block()) >= 4


@pytest.mark.parametrize(("name", "index"), every_block())
def test_every_example_builds(name: str, index: int, guide_env: Path) -> None:
    app = run(name, index).get("app")
    if app is not None:
        assert isinstance(app, Plait)
        app.build()  # startup validation: extensions' settings and routes compile


def test_sessions_guide(guide_env: Path) -> None:
    app = run("sessions.md")["app"]
    with TestClient(app) as client:
        client.headers["origin"] = "http://testserver"
        token = client.get("/csrf").json()
        first = client.post("/cart/tea", headers={"x-csrf-token": _token(token)})
        assert first.status_code == 200
        assert first.json() == ["tea"]
        assert client.post("/cart/milk", headers={"x-csrf-token": _token(token)}).json() == ["tea", "milk"]
        assert client.post("/cart/jam").status_code == 403  # the session cookie is there, the token is not


def _token(body: Any) -> str:
    return str(body["csrf_token"])


def test_forms_guide(guide_env: Path) -> None:
    app = run("forms.md")["app"]
    with TestClient(app) as client:
        page = client.get("/articles/new")
        assert page.status_code == 200
        assert 'name="title"' in page.text
        bad = client.post("/articles/new", data={"title": "<script>x</script>" * 20, "body": ""})
        assert bad.status_code == 422
        assert "<script>x" not in bad.text
        good = client.post("/articles/new", data={"title": "Hi", "body": "Text"}, follow_redirects=False)
        assert good.status_code == 303


def test_cache_guide(guide_env: Path) -> None:
    app = run("cache.md")["app"]
    with TestClient(app) as client:
        assert client.get("/stats").json() == {"views": 1}
        assert client.get("/stats").json() == {"views": 2}
        first = client.get("/articles")
        assert client.get("/articles", headers={"if-none-match": first.headers["etag"]}).status_code == 304
        assert [client.post("/login").status_code for _ in range(6)] == [200] * 5 + [429]


def test_templates_guide(guide_env: Path) -> None:
    (guide_env / "templates" / "article.html").write_text("<h1>{{ article.title }}</h1>")
    app = run("templates.md")["app"]
    with TestClient(app) as client:
        page = client.get("/articles/7", headers={"accept": "text/html"})
        assert page.text == "<h1>&lt;Hello&gt;</h1>"
        assert client.get("/articles/7", headers={"accept": "application/json"}).json() == {"id": 7, "title": "<Hello>"}
        away = client.post("/login?next=//evil.example", follow_redirects=False)
        assert (away.status_code, away.headers["location"]) == (303, "/")


def test_channels_guide(guide_env: Path) -> None:
    app = run("channels.md")["app"]
    received = threading.Event()
    with TestClient(app) as client, client.websocket_connect("/rooms/tea") as ws:

        def publish() -> None:
            # The handler subscribes just after accepting: keep publishing until a message gets through.
            while not received.wait(0.05):
                assert client.post("/rooms/tea?text=hello").status_code == 204

        publisher = threading.Thread(target=publish)
        publisher.start()
        try:
            assert ws.receive_json() == {"text": "hello"}
        finally:
            received.set()
            publisher.join()


@pytest.mark.anyio
async def test_auth_guide(guide_env: Path) -> None:
    from plait.db import Model

    app = run("auth.md")["app"]
    async with AsyncTestClient(app) as client:
        async with app.extensions["database"].engine.begin() as connection:  # what `plait db migrate` does
            await connection.run_sync(Model.metadata.create_all)
        assert (await client.get("/hello")).status_code == 401
        account = {"username": "ada", "email": "ada@example.com", "password": "a long and unusual passphrase"}
        assert (await client.post("/auth/register", json=account)).status_code == 202
        login = {"grant_type": "password", "username": "ada@example.com", "password": account["password"]}
        token = await client.post("/auth/token", data=login)
        assert token.status_code == 200, token.text
        bearer = {"authorization": f"Bearer {token.json()['access_token']}"}
        assert (await client.get("/hello", headers=bearer)).text == "Hello ada"
