"""The dispatcher: root_path handling, method-aware matching, redirects built from raw bytes."""

from __future__ import annotations

from typing import Any

import anyio

from plait import HTTPException, Plait, Request, Settings
from plait._types import ASGIApp, Message, Receive, Scope, Send
from tests.support import call


def make_app(**kwargs: Any) -> Plait:
    return Plait(settings=Settings(), **kwargs)


def raw_request(app: ASGIApp, scope_extra: dict[str, Any]) -> tuple[int, dict[bytes, bytes], bytes]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "headers": [(b"host", b"testserver")],
        "query_string": b"",
        "root_path": "",
        **scope_extra,
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    headers = dict(sent[0]["headers"])
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], headers, body


def test_root_path_in_path_as_servers_send_it() -> None:
    app = make_app()

    @app.get("/hello")
    def hello(request: Request) -> dict[str, str]:
        return {"url": str(request.url)}

    status, _, body = raw_request(app, {"path": "/api/hello", "root_path": "/api"})
    assert status == 200
    assert body == b'{"url":"http://testserver/api/hello"}'


def test_root_path_older_convention_still_routes() -> None:
    app = make_app()
    app.get("/hello")(lambda: "hi")
    status, _, body = raw_request(app, {"path": "/hello", "root_path": "/api"})
    assert (status, body) == (200, b"hi")


def test_lower_priority_route_with_the_method_wins_over_405() -> None:
    app = make_app()
    app.get("/users/me")(lambda: "me")

    @app.delete("/users/{name}")
    def remove(name: str) -> str:
        return f"removed {name}"

    assert call(app, "DELETE", "/users/me").text == "removed me"
    assert call(app, "GET", "/users/me").text == "me"
    refused = call(app, "PUT", "/users/me")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "DELETE, GET, HEAD"


def test_redirect_keeps_percent_escapes_and_raw_query() -> None:
    app = make_app()

    @app.get("/s/{name}")
    def show(name: str) -> str:
        return name

    status, headers, _ = raw_request(app, {"path": "/s/a?b/", "raw_path": b"/s/a%3Fb/", "query_string": b"y=%E2%82%AC"})
    assert status == 308
    assert headers[b"location"] == b"/s/a%3Fb?y=%E2%82%AC"


def test_redirect_without_raw_path_quotes_the_path() -> None:
    app = make_app()
    app.get("/s/{name}")(lambda name: name)
    status, headers, _ = raw_request(app, {"path": "/s/a b/"})
    assert status == 308
    assert headers[b"location"] == b"/s/a%20b"


def test_url_for_percent_encodes_values() -> None:
    app = make_app()
    app.get("/s/{name}", name="s")(lambda name: name)
    app.get("/files/{p:path}", name="files")(lambda p: p)
    assert app.url_for("s", name="a b?c#d") == "/s/a%20b%3Fc%23d"
    assert app.url_for("files", p="x y/?z") == "/files/x%20y/%3Fz"


class Guard:
    """Middleware that refuses requests without a token, the way an auth layer would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(k == b"x-token" for k, _ in scope["headers"]):
            raise HTTPException(401, "Send an X-Token header.", {"WWW-Authenticate": "Token"})
        await self.app(scope, receive, send)


def test_http_exception_from_app_middleware_is_not_a_crash() -> None:
    from plait import Middleware

    app = make_app(middleware=[Middleware(Guard)])
    app.get("/")(lambda: "ok")
    refused = call(app, "GET", "/")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Token"
    assert call(app, "GET", "/", headers={"x-token": "t"}).text == "ok"


# -- automatic OPTIONS ------------------------------------------------------------------------------


def test_options_is_answered_with_allow_on_every_routed_path() -> None:
    app = make_app()

    @app.get("/items")
    def items() -> list[int]:
        return []

    @app.post("/items")
    def create() -> dict[str, int]:
        return {}

    @app.get("/items/{id}")
    def one(id: int) -> dict[str, int]:
        return {"id": id}

    response = call(app, "OPTIONS", "/items")
    assert (response.status_code, response.content) == (204, b"")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert call(app, "OPTIONS", "/items/3").headers["allow"] == "GET, HEAD, OPTIONS"
    assert call(app, "OPTIONS", "/nothing").status_code == 404


def test_options_lists_methods_of_overlapping_routes() -> None:
    app = make_app()

    @app.get("/users/me")
    def me() -> str:
        return "me"

    @app.delete("/users/{name}")
    def remove(name: str) -> str:
        return name

    assert call(app, "OPTIONS", "/users/me").headers["allow"] == "DELETE, GET, HEAD, OPTIONS"


def test_a_declared_options_route_is_used() -> None:
    app = make_app()

    @app.get("/x")
    def x() -> str:
        return "x"

    @app.options("/x")
    def x_options() -> str:
        return "mine"

    assert call(app, "OPTIONS", "/x").text == "mine"


def test_options_on_a_websocket_only_path_says_how_to_connect() -> None:
    app = make_app()

    @app.websocket("/ws")
    async def ws() -> None:
        return None

    assert call(app, "OPTIONS", "/ws").status_code == 426


def test_cors_preflight_is_still_answered_by_the_middleware() -> None:
    from plait.middleware.cors import CORSMiddleware

    app = make_app()
    app.add_middleware(CORSMiddleware, allow_origins=["https://a.example"], allow_methods=["GET", "POST"])

    @app.post("/api")
    def api() -> dict[str, bool]:
        return {"ok": True}

    preflight = call(
        app,
        "OPTIONS",
        "/api",
        headers={"origin": "https://a.example", "access-control-request-method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == "https://a.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    plain = call(app, "OPTIONS", "/api")  # not a preflight: the automatic answer
    assert (plain.status_code, plain.headers["allow"]) == (204, "OPTIONS, POST")
