"""The application: routing, method handling, mounts, url_for, scoped middleware and handlers, validation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from plait import (
    ConfigurationError,
    HTTPException,
    JSONResponse,
    Middleware,
    PlainTextResponse,
    Plait,
    Request,
    Response,
    Router,
    Settings,
)
from plait._types import ASGIApp, Message, Receive, Scope, Send
from tests.support import call


def make_app(**kwargs: Any) -> Plait:
    return Plait(settings=Settings(), **kwargs)


def test_hello_world() -> None:
    app = make_app()

    @app.get("/")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    response = call(app, "GET", "/")
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))


def test_every_verb_decorator() -> None:
    app = make_app()
    for verb in ("get", "post", "put", "patch", "delete", "options"):
        getattr(app, verb)("/x")(lambda verb=verb: {"verb": verb})
    for verb in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        assert call(app, verb, "/x").json() == {"verb": verb.lower()}


def test_head_is_answered_for_get_without_body() -> None:
    app = make_app()

    @app.get("/")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    response = call(app, "HEAD", "/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "17"


def test_explicit_head_route_wins_over_get() -> None:
    app = make_app()
    app.get("/")(lambda: "get")

    @app.head("/")
    def head() -> Response:
        return Response(headers={"x-head": "yes"})

    assert call(app, "HEAD", "/").headers["x-head"] == "yes"


def test_405_lists_allowed_methods() -> None:
    app = make_app()
    app.get("/items")(lambda: [])
    app.post("/items")(lambda: {})
    response = call(app, "DELETE", "/items")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 405


def test_404_is_problem_details() -> None:
    response = call(make_app(), "GET", "/missing")
    assert response.status_code == 404
    body = response.json()
    assert body["title"] == "Not Found"
    assert "/missing" in body["detail"]


def test_route_with_many_methods() -> None:
    app = make_app()

    @app.route("/thing", methods=["GET", "POST"])
    def thing(request: Request) -> dict[str, str]:
        return {"method": request.method}

    assert call(app, "POST", "/thing").json() == {"method": "POST"}
    assert call(app, "GET", "/thing").json() == {"method": "GET"}


def test_add_route_and_bad_method() -> None:
    app = make_app()
    app.add_route("/a", lambda: "a", methods=["get"])
    assert call(app, "GET", "/a").text == "a"
    with pytest.raises(ConfigurationError, match="unknown HTTP method"):
        app.add_route("/b", lambda: "b", methods=["FETCH"])
    with pytest.raises(ConfigurationError, match="not callable"):
        app.add_route("/c", "nope", methods=["GET"])  # type: ignore[arg-type]


def test_path_converters() -> None:
    app = make_app()

    @app.get("/int/{n:int}")
    def as_int(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/float/{x:float}")
    def as_float(x: float) -> dict[str, float]:
        return {"x": x}

    @app.get("/uuid/{u:uuid}")
    def as_uuid(u: str) -> dict[str, str]:
        return {"u": u}

    @app.get("/files/{rest:path}")
    def as_path(rest: str) -> dict[str, str]:
        return {"rest": rest}

    assert call(app, "GET", "/int/42").json() == {"n": 42}
    assert call(app, "GET", "/int/x").status_code == 404
    assert call(app, "GET", "/float/1.5").json() == {"x": 1.5}
    uid = "12345678-1234-5678-1234-567812345678"
    assert call(app, "GET", f"/uuid/{uid}").json() == {"u": uid}
    assert call(app, "GET", "/files/a/b/c.txt").json() == {"rest": "a/b/c.txt"}


def test_untyped_converter_validates_by_annotation_with_422() -> None:
    app = make_app()

    @app.get("/items/{id}")
    def item(id: int) -> dict[str, int]:
        return {"id": id}

    assert call(app, "GET", "/items/3").json() == {"id": 3}
    response = call(app, "GET", "/items/abc")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "id"]


def test_literal_segment_beats_parameter() -> None:
    app = make_app()
    app.get("/users/me")(lambda: "me")

    @app.get("/users/{name}")
    def user(name: str) -> str:
        return f"user {name}"

    assert call(app, "GET", "/users/me").text == "me"
    assert call(app, "GET", "/users/ann").text == "user ann"


def test_trailing_slash_redirects_both_ways_keeping_query() -> None:
    app = make_app()
    app.get("/a")(lambda: "a")
    app.get("/b/")(lambda: "b")
    response = call(app, "GET", "/a/?x=1")
    assert response.status_code == 308
    assert response.headers["location"] == "/a?x=1"
    assert call(app, "POST", "/b").headers["location"] == "/b/"


def test_trailing_slash_redirect_can_be_turned_off() -> None:
    app = Plait(settings=Settings(redirect_slashes=False))
    app.get("/a")(lambda: "a")
    assert call(app, "GET", "/a/").status_code == 404


def test_router_prefix_tags_nesting_and_names() -> None:
    app = make_app()
    api = Router(prefix="/api", name="api")
    users = Router(prefix="/users", name="users", tags=["users"])

    @users.get("/{id:int}")
    def show(id: int) -> dict[str, int]:
        return {"id": id}

    @users.get("/")
    def index() -> list[int]:
        return [1]

    api.include_router(users)
    app.include_router(api, prefix="/v1")
    assert call(app, "GET", "/v1/api/users/7").json() == {"id": 7}
    assert call(app, "GET", "/v1/api/users").json() == [1]
    assert app.url_for("api.users.show", id=7) == "/v1/api/users/7"
    names = {row.name for row in app.routes_table()}
    assert {"api.users.show", "api.users.index"} <= names


def test_router_cannot_include_itself_and_prefix_checked() -> None:
    router = Router()
    with pytest.raises(ConfigurationError, match="itself"):
        router.include_router(router)
    with pytest.raises(ConfigurationError, match="must start with '/'"):
        Router(prefix="api")
    with pytest.raises(ConfigurationError, match="not end"):
        Router(prefix="/api/")


def test_url_for_errors_and_query() -> None:
    app = make_app()

    @app.get("/posts/{slug}", name="post")
    def show(slug: str) -> str:
        return slug

    assert app.url_for("post", slug="hi", page=2) == "/posts/hi?page=2"
    with pytest.raises(ConfigurationError, match="No route is named 'nope'"):
        app.url_for("nope")
    with pytest.raises(ConfigurationError, match="needs slug"):
        app.url_for("post")


def test_duplicate_route_is_refused_at_startup() -> None:
    app = make_app()
    app.get("/x")(lambda: "one")

    @app.get("/x")
    def second() -> str:
        return "two"

    with pytest.raises(ConfigurationError, match="GET /x is routed twice"):
        app.build()


def test_duplicate_names_refused() -> None:
    app = make_app()
    app.get("/a", name="same")(lambda: "a")
    app.get("/b", name="same")(lambda: "b")
    with pytest.raises(ConfigurationError, match="Two routes are named 'same'"):
        app.build()


def test_path_param_missing_from_signature() -> None:
    app = make_app()

    @app.get("/items/{id}")
    def item() -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="add a parameter named 'id'"):
        app.build()


class Opaque:
    pass


def test_unknown_annotation_names_handler_and_fix() -> None:
    app = make_app()

    @app.get("/")
    def handler(thing: Opaque) -> str:
        return "x"

    with pytest.raises(ConfigurationError, match=r"handler: parameter 'thing' has type Opaque.*Depends"):
        app.build()


def test_unresolvable_annotation_says_to_import_it() -> None:
    app = make_app()

    class Local:
        pass

    @app.get("/")
    def handler(thing: Local) -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="import the type at module level"):
        app.build()


def test_url_for_ambiguous_derived_name() -> None:
    app = make_app()

    def shared() -> str:
        return "x"

    app.get("/a")(shared)
    app.get("/b")(shared)
    assert call(app, "GET", "/b").text == "x"
    with pytest.raises(ConfigurationError, match="Several routes are named 'shared'"):
        app.url_for("shared")


def test_bad_path_template_and_converter() -> None:
    app = make_app()
    app.get("/x/{id:nope}")(lambda id: id)
    with pytest.raises(ConfigurationError, match="unknown converter 'nope'"):
        app.build()


def test_mount_any_asgi_app() -> None:
    seen: list[tuple[str, str]] = []

    async def legacy(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope["root_path"], scope["path"]))
        await PlainTextResponse("legacy")(scope, receive, send)

    app = make_app()
    app.mount("/legacy", legacy, name="legacy")
    assert call(app, "GET", "/legacy/a/b").text == "legacy"
    assert call(app, "GET", "/legacy").text == "legacy"
    assert call(app, "GET", "/legacyx").status_code == 404
    assert seen == [("/legacy", "/legacy/a/b"), ("/legacy", "/legacy")]
    assert any(row.path == "/legacy/{path}" for row in app.routes_table())
    with pytest.raises(ConfigurationError):
        app.mount("", legacy)


def test_mount_another_plait_app() -> None:
    inner = make_app()
    inner.get("/ping")(lambda: "pong")
    app = make_app()
    app.mount("/inner", inner)
    assert call(app, "GET", "/inner/ping").text == "pong"


class Tag:
    """A middleware that stamps a header, to see where it applies."""

    def __init__(self, app: ASGIApp, value: str) -> None:
        self.app = app
        self.value = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-tag", self.value.encode())]
            await send(message)

        await self.app(scope, receive, stamped)


def test_router_middleware_is_scoped_to_its_routes() -> None:
    app = make_app(middleware=[Middleware(Tag, value="app")])
    admin = Router(prefix="/admin")
    admin.add_middleware(Tag, value="admin")
    admin.get("/")(lambda: "admin")
    app.get("/")(lambda: "public")
    app.include_router(admin)
    assert call(app, "GET", "/admin").headers.get_list("x-tag") == ["admin", "app"]
    assert call(app, "GET", "/").headers.get_list("x-tag") == ["app"]
    assert call(app, "GET", "/missing").headers.get_list("x-tag") == ["app"]


class Teapot(Exception):
    pass


def test_router_exception_handlers_are_scoped() -> None:
    app = make_app()
    api = Router(prefix="/api")

    @api.exception_handler(Teapot)
    def teapot(request: Request, exc: Teapot) -> Response:
        return JSONResponse({"where": "api"}, status_code=418)

    def boom() -> str:
        raise Teapot

    api.get("/boom")(boom)
    app.get("/boom")(boom)
    app.include_router(api)
    assert call(app, "GET", "/api/boom").status_code == 418
    assert call(app, "GET", "/boom", raise_app_exceptions=False).status_code == 500


def test_app_handler_by_status_code_covers_404_and_route_errors() -> None:
    async def not_found(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(f"custom 404 for {request.path}", status_code=404)

    app = make_app(exception_handlers={404: not_found})

    @app.get("/gone")
    def gone() -> str:
        raise HTTPException(404, "gone")

    assert call(app, "GET", "/nowhere").text == "custom 404 for /nowhere"
    assert call(app, "GET", "/gone").text == "custom 404 for /gone"


def test_inner_router_handler_overrides_app_handler() -> None:
    app = make_app()
    app.add_exception_handler(Teapot, lambda r, e: PlainTextResponse("app", status_code=418))
    router = Router(prefix="/r")
    router.add_exception_handler(Teapot, lambda r, e: PlainTextResponse("router", status_code=418))

    def boom() -> str:
        raise Teapot

    router.get("/")(boom)
    app.get("/")(boom)
    app.include_router(router)
    assert call(app, "GET", "/r").text == "router"
    assert call(app, "GET", "/").text == "app"


def test_http_exception_headers_and_extra_members() -> None:
    app = make_app()

    @app.get("/")
    def limited() -> str:
        raise HTTPException(429, "slow down", {"Retry-After": "3"}, extra={"retry_in": 3})

    response = call(app, "GET", "/")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["retry_in"] == 3


def test_unhandled_error_is_500_without_leaking() -> None:
    app = make_app()

    @app.get("/")
    def boom() -> str:
        raise RuntimeError("secret detail")

    response = call(app, "GET", "/", raise_app_exceptions=False)
    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_debug_shows_traceback_page() -> None:
    app = Plait(settings=Settings(), debug=True)

    @app.get("/")
    def boom() -> str:
        raise RuntimeError("<script>")

    response = call(app, "GET", "/", headers={"accept": "text/html"}, raise_app_exceptions=False)
    assert response.status_code == 500
    assert "RuntimeError" in response.text
    assert "&lt;script&gt;" in response.text
    assert "<script>" not in response.text
    assert app.debug


def test_response_objects_and_status_codes() -> None:
    app = make_app()
    app.post("/created", status_code=201)(lambda: {"ok": True})
    app.delete("/gone", status_code=204)(lambda: None)
    app.get("/custom")(lambda: Response(b"raw", status_code=202, media_type="application/x-raw"))
    app.get("/html", response_class=_html())(lambda: "<b>hi</b>")
    assert call(app, "POST", "/created").status_code == 201
    gone = call(app, "DELETE", "/gone")
    assert (gone.status_code, gone.content) == (204, b"")
    custom = call(app, "GET", "/custom")
    assert (custom.status_code, custom.content, custom.headers["content-type"]) == (202, b"raw", "application/x-raw")
    html = call(app, "GET", "/html")
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text == "<b>hi</b>"


def _html() -> type[Response]:
    from plait import HTMLResponse

    return HTMLResponse


def test_str_return_is_text_and_none_is_null() -> None:
    app = make_app()
    app.get("/text")(lambda: "plain")
    app.get("/none")(lambda: None)
    text = call(app, "GET", "/text")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert call(app, "GET", "/none").json() is None


def test_websocket_scope_without_routes_is_closed() -> None:
    import anyio

    app = make_app()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    anyio.run(app, scope, receive, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1000}]


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_DEBUG", "true")
    monkeypatch.chdir("/")
    assert Plait().debug is True


def test_state_is_typed_and_shared() -> None:
    class AppState:
        def __init__(self) -> None:
            self.count = 0

    app: Plait[AppState] = Plait(settings=Settings(), state=AppState())

    @app.get("/")
    def bump(request: Request) -> dict[str, int]:
        state: AppState = request.app.state
        state.count += 1
        return {"count": state.count}

    call(app, "GET", "/")
    assert call(app, "GET", "/").json() == {"count": 2}
    assert app.state.count == 2


def test_generator_in_route_dependencies_is_cleaned_up() -> None:
    from plait import Depends

    events: list[str] = []

    def audit() -> Iterator[None]:
        events.append("open")
        yield
        events.append("close")

    app = Plait(settings=Settings(), dependencies=[Depends(audit)])
    app.get("/")(lambda: "ok")
    assert call(app, "GET", "/").text == "ok"
    assert events == ["open", "close"]


def test_generator_swallowing_the_error_gives_500_not_silence() -> None:
    from plait import Depends

    async def careless() -> AsyncIterator[str]:
        try:
            yield "value"
        except RuntimeError:
            return  # swallowed on purpose: this is the mistake under test

    app = make_app()

    @app.get("/")
    def handler(value: Annotated[str, Depends(careless)]) -> str:
        raise RuntimeError("handler failed")

    response = call(app, "GET", "/", raise_app_exceptions=False)
    assert response.status_code == 500


def test_async_handlers_without_arguments() -> None:
    app = make_app()

    @app.get("/response")
    async def response() -> Response:
        return PlainTextResponse("as is", status_code=202)

    @app.get("/text")
    async def text() -> str:
        return 42  # type: ignore[return-value]

    @app.get("/gone")
    async def gone() -> dict[str, str]:
        raise HTTPException(410, "gone for good")

    @app.get("/broken")
    async def broken() -> dict[str, str]:
        raise RuntimeError("boom")

    assert (call(app, "GET", "/response").status_code, call(app, "GET", "/response").text) == (202, "as is")
    assert call(app, "GET", "/text").text == "42"
    assert call(app, "GET", "/gone").json()["detail"] == "gone for good"
    assert call(app, "GET", "/broken", raise_app_exceptions=False).status_code == 500
    head = call(app, "HEAD", "/text")
    assert (head.content, head.headers["content-length"]) == (b"", "2")


def test_a_failing_send_after_the_start_is_not_answered_twice() -> None:
    app = make_app()

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/resp")
    async def resp() -> Response:
        return PlainTextResponse("x")

    for path in ("/", "/resp"):
        assert _types_sent_with_failing_body(app, path) == ["http.response.start", "http.response.body"]


def _types_sent_with_failing_body(app: Plait, path: str) -> list[str]:
    import anyio

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            raise OSError("client went away")

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    anyio.run(app, scope, receive, send)
    return [m["type"] for m in sent]
