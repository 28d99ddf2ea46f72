"""The test clients keep cookies as a browser would: Secure ones travel only over HTTPS."""

from __future__ import annotations

import pytest

from plait.app import Plait
from plait.requests import Request
from plait.responses import Response
from plait.settings import Settings
from plait.testing import AsyncTestClient, TestClient


def make_app() -> Plait:
    app = Plait(settings=Settings(), docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/login")
    def login(response: Response, secure: bool = True) -> str:
        response.set_cookie("sid", "abc", secure=secure)
        return "ok"

    @app.get("/whoami")
    def whoami(request: Request) -> str:
        return request.cookies.get("sid", "nobody")

    return app


def test_a_cookie_without_secure_comes_back_over_http() -> None:
    with TestClient(make_app()) as client:
        client.post("/login", params={"secure": "false"})
        assert client.get("/whoami").text == "abc"


def test_a_secure_cookie_is_not_sent_over_http() -> None:
    with TestClient(make_app()) as client:
        login = client.post("/login")
        assert "Secure" in login.headers["set-cookie"]
        assert client.get("/whoami").text == "nobody"


def test_secure_cookies_are_tested_with_an_https_base_url() -> None:
    with TestClient(make_app(), base_url="https://testserver") as client:
        client.post("/login")
        assert client.get("/whoami").text == "abc"


@pytest.mark.anyio
async def test_the_async_client_keeps_cookies_the_same_way() -> None:
    async with AsyncTestClient(make_app(), base_url="https://testserver") as client:
        await client.post("/login")
        assert (await client.get("/whoami")).text == "abc"
