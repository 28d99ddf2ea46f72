"""url_for: named mounts, and absolute URLs built from the request (scheme, host, root_path)."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from plait.app import Plait
from plait.exceptions import ConfigurationError
from plait.requests import Request
from plait.settings import Settings
from plait.testing import TestClient


def make_app() -> Plait:
    return Plait(settings=Settings(), docs_url=None, redoc_url=None, openapi_url=None)


def test_url_for_reaches_a_named_static_mount(tmp_path: Path) -> None:
    app = make_app()
    app.mount_static("/static", str(tmp_path), name="static")
    assert app.url_for("static", path="app.css") == "/static/app.css"
    assert app.url_for("static", path="/img/a b.png", v=2) == "/static/img/a%20b.png?v=2"


def test_unknown_names_list_the_mounts_too(tmp_path: Path) -> None:
    app = make_app()
    app.mount_static("/static", str(tmp_path), name="static")
    with pytest.raises(ConfigurationError, match="No route is named 'statics'; known names: static"):
        app.url_for("statics", path="x")


def test_a_mount_and_a_route_may_not_share_a_name(tmp_path: Path) -> None:
    app = make_app()
    app.mount_static("/static", str(tmp_path), name="static")
    app.get("/static-page", name="static")(lambda: "page")
    with pytest.raises(ConfigurationError, match="rename one so url_for"):
        app.build()


def test_request_url_for_is_absolute() -> None:
    app = make_app()

    @app.get("/users/{id:int}")
    def user(id: int, request: Request) -> str:
        return request.url_for("user", id=id + 1, tab="posts")

    with TestClient(app, base_url="https://example.com:8443") as client:
        assert client.get("/users/1").text == "https://example.com:8443/users/2?tab=posts"


def test_request_url_for_keeps_the_mount_prefix(tmp_path: Path) -> None:
    inner = make_app()
    inner.mount_static("/assets", str(tmp_path), name="assets")

    @inner.get("/users/{id:int}")
    def user(id: int, request: Request) -> dict[str, str]:
        return {"self": request.url_for("user", id=id), "css": request.url_for("assets", path="app.css")}

    outer = make_app()
    outer.mount("/api", inner)
    with TestClient(outer) as client:
        assert client.get("/api/users/7").json() == {
            "self": "http://testserver/api/users/7",
            "css": "http://testserver/api/assets/app.css",
        }


def test_request_url_for_keeps_the_servers_root_path() -> None:
    app = make_app()

    @app.get("/users/{id:int}")
    def user(id: int, request: Request) -> str:
        return request.url_for("user", id=id)

    async def fetch() -> str:
        transport = httpx.ASGITransport(app=app, root_path="/prefix")
        async with httpx.AsyncClient(transport=transport, base_url="http://example.com") as client:
            return (await client.get("/prefix/users/7")).text

    assert anyio.run(fetch) == "http://example.com/prefix/users/7"


def test_external_url_for_outside_a_request_points_to_request_url_for() -> None:
    app = make_app()
    app.get("/")(lambda: "ok")
    with pytest.raises(RuntimeError, match=r"call request.url_for\(name, ...\) in the handler instead"):
        app.url_for("<lambda>", _external=True)
