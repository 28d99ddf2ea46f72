"""The examples of the "Coming from Flask" guide (and the middleware part of "Coming from FastAPI"), run as tests."""

from __future__ import annotations

import time
from pathlib import Path

from plait import Plait, Request, Response, g
from plait.errors import http_exception_handler
from plait.exceptions import HTTPException
from plait.routing import CallNext
from plait.testing import TestClient


def test_guide_hooks_and_g() -> None:
    app = Plait()

    @app.before_request
    def load_user(request: Request) -> None:
        g.user = request.headers.get("x-user", "anonymous")

    @app.after_request
    def no_cache(response: Response) -> Response:
        response.headers["cache-control"] = "no-store"
        return response

    @app.get("/me")
    def me() -> dict[str, str]:
        return {"user": g.user}

    with TestClient(app) as client:
        response = client.get("/me", headers={"x-user": "ada"})
    assert response.json() == {"user": "ada"}
    assert response.headers["cache-control"] == "no-store"


def test_guide_function_middleware() -> None:
    app = Plait()

    @app.middleware("http")
    async def timing(request: Request, call_next: CallNext) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["x-time"] = f"{time.perf_counter() - start:.4f}"
        return response

    app.get("/")(lambda: "hi")
    with TestClient(app) as client:
        assert "x-time" in client.get("/").headers


def test_guide_form_upload_and_url_for(tmp_path: Path) -> None:
    app = Plait()
    app.mount_static("/static", str(tmp_path), name="static")

    @app.post("/avatar")
    async def avatar(request: Request) -> dict[str, str]:
        form = await request.form()
        upload = form["avatar"]  # missing -> 400 naming 'avatar'
        await upload.save(tmp_path / upload.filename)  # type: ignore[union-attr,operator]
        return {"css": app.url_for("static", path="app.css"), "home": request.url_for("avatar")}

    with TestClient(app) as client:
        assert client.post("/avatar", files={"photo": ("a.png", b"x")}).status_code == 400
        saved = client.post("/avatar", files={"avatar": ("a.png", b"x")})
    assert saved.json() == {"css": "/static/app.css", "home": "http://testserver/avatar"}
    assert (tmp_path / "a.png").read_bytes() == b"x"


def test_guide_secure_cookies_in_tests() -> None:
    app = Plait()

    @app.post("/login")
    def login(response: Response) -> str:
        response.set_cookie("sid", "abc")  # Secure, HttpOnly, SameSite=Lax by default
        return "ok"

    @app.get("/whoami")
    def whoami(request: Request) -> str:
        return request.cookies.get("sid", "nobody")

    with TestClient(app, base_url="https://testserver") as client:
        client.post("/login")
        assert client.get("/whoami").text == "abc"


def test_guide_delegating_exception_handler() -> None:
    seen: list[int] = []

    async def log_and_answer(request: Request, exc: HTTPException) -> Response:
        seen.append(exc.status_code)
        return await http_exception_handler(request, exc)

    app = Plait(exception_handlers={HTTPException: log_and_answer})
    with TestClient(app) as client:
        assert client.get("/nowhere").status_code == 404
    assert seen == [404]
