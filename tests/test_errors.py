"""Exceptions into responses: problem documents, handler lookup and the last-resort 500."""

import json
import logging
from typing import Any

import anyio
import pytest

from plait._types import Message, Receive, Scope, Send
from plait.app import Plait
from plait.errors import (
    HandlerTable,
    ProblemResponse,
    ResponseGuard,
    ServerErrors,
    call_handler,
    debug_response,
    handle,
    http_exception_response,
)
from plait.exceptions import ErrorDetail, HTTPException, RequestValidationError
from plait.requests import Request
from plait.responses import JSONResponse, PlainTextResponse, Response
from plait.routing import Router
from tests.test_di.helpers import Receiver, Recorder, call, http_scope, run_asgi


def body_of(response: Response) -> Any:
    return json.loads(response.body)


def request(accept: str = "") -> Request:
    headers = [(b"accept", accept.encode())] if accept else []
    return Request(http_scope("GET", "/where", headers=headers))


def run(coro_fn: Any, *args: Any) -> Any:
    return anyio.run(coro_fn, *args)


# -- problem documents ------------------------------------------------------------------------------


def test_problem_response_defaults() -> None:
    response = ProblemResponse(404)
    assert response.status_code == 404
    assert response.media_type == "application/problem+json"
    assert body_of(response) == {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Not Found"}


def test_problem_response_with_every_option() -> None:
    response = ProblemResponse(
        409,
        detail="The name is taken",
        title="Name taken",
        type="https://example.com/problems/taken",
        extra={"name": "ann"},
        headers={"Retry-After": "5"},
    )
    assert body_of(response) == {
        "type": "https://example.com/problems/taken",
        "title": "Name taken",
        "status": 409,
        "detail": "The name is taken",
        "name": "ann",
    }
    assert response.headers["retry-after"] == "5"


def test_problem_response_for_an_unknown_status() -> None:
    assert body_of(ProblemResponse(599))["title"] == "Error"


def test_http_exception_response_carries_headers_type_and_extra() -> None:
    exc = HTTPException(
        401, "Sign in", {"WWW-Authenticate": "Bearer"}, type="https://example.com/auth", extra={"realm": "api"}
    )
    response = http_exception_response(exc)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert body_of(response) == {
        "type": "https://example.com/auth",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Sign in",
        "realm": "api",
    }
    assert "errors" not in body_of(http_exception_response(HTTPException(400)))


def test_validation_error_response_lists_every_error() -> None:
    exc = RequestValidationError(
        [
            ErrorDetail(("query", "page"), "Expected `int`, got `str`", "type_error"),
            ErrorDetail(("body", "items", 0, "name"), "Field required", "missing"),
        ]
    )
    response = http_exception_response(exc)
    assert response.status_code == 422
    document = body_of(response)
    assert document["detail"] == "2 fields are invalid"
    assert document["errors"] == [
        {"loc": ["query", "page"], "msg": "Expected `int`, got `str`", "type": "type_error"},
        {"loc": ["body", "items", 0, "name"], "msg": "Field required", "type": "missing"},
    ]
    assert exc.extra == {}


# -- handler lookup ---------------------------------------------------------------------------------


class AppError(Exception):
    pass


class NotFoundError(AppError):
    pass


class DeeperError(NotFoundError):
    pass


def h_outer(request: Request, exc: BaseException) -> Response:
    return PlainTextResponse("outer")


def h_inner(request: Request, exc: BaseException) -> Response:
    return PlainTextResponse("inner")


def h_other(request: Request, exc: BaseException) -> Response:
    return PlainTextResponse("other")


def test_lookup_by_status_code() -> None:
    table = HandlerTable([{404: h_outer}])
    assert table.lookup(HTTPException(404)) is h_outer
    assert table.lookup(HTTPException(400)) is None
    assert table.lookup(AppError()) is None


def test_lookup_follows_the_class_hierarchy() -> None:
    table = HandlerTable([{AppError: h_outer, NotFoundError: h_inner, Exception: h_other}])
    assert table.lookup(AppError()) is h_outer
    assert table.lookup(NotFoundError()) is h_inner
    assert table.lookup(DeeperError()) is h_inner
    assert table.lookup(ValueError()) is h_other
    assert table.lookup(KeyboardInterrupt()) is None


def test_inner_layers_override_outer_ones() -> None:
    table = HandlerTable([{AppError: h_outer, 404: h_outer}, {AppError: h_inner, 404: h_inner}, {}])
    assert table.lookup(AppError()) is h_inner
    assert table.lookup(HTTPException(404)) is h_inner
    assert table.by_status == {404: h_inner}
    assert table.by_class == {AppError: h_inner}


def test_status_handler_wins_over_class_handler_for_http_exceptions() -> None:
    table = HandlerTable([{HTTPException: h_other, 404: h_inner}])
    assert table.lookup(HTTPException(404)) is h_inner
    assert table.lookup(HTTPException(500)) is h_other
    assert table.lookup(RequestValidationError([])) is h_other


def test_call_handler_accepts_sync_and_async_handlers() -> None:
    async def async_handler(request: Request, exc: BaseException) -> Response:
        return PlainTextResponse(f"async {exc}", status_code=418)

    sync_response = run(call_handler, h_inner, request(), ValueError("x"))
    assert sync_response.body == b"inner"
    async_response = run(call_handler, async_handler, request(), ValueError("x"))
    assert (async_response.status_code, async_response.body) == (418, b"async x")


def test_call_handler_refuses_a_non_response() -> None:
    def returns_dict(request: Request, exc: BaseException) -> Any:
        return {"error": str(exc)}

    with pytest.raises(TypeError) as info:
        run(call_handler, returns_dict, request(), ValueError("x"))
    message = str(info.value)
    assert "returns_dict" in message
    assert "returned dict; it must return a Response." in message


def test_handle_uses_the_table_then_the_defaults() -> None:
    table = HandlerTable([{AppError: h_inner}])
    found = run(handle, table, request(), NotFoundError())
    assert found.body == b"inner"
    default = run(handle, table, request(), HTTPException(403, "No"))
    assert default.status_code == 403
    assert body_of(default)["detail"] == "No"
    assert run(handle, table, request(), ValueError()) is None


def test_response_guard_notes_the_start_of_the_response() -> None:
    sent = Recorder()
    guard = ResponseGuard(sent)

    async def go() -> None:
        assert not guard.started
        await guard({"type": "http.response.body", "body": b""})
        assert not guard.started
        await guard({"type": "http.response.start", "status": 200, "headers": []})
        assert guard.started

    anyio.run(go)
    assert sent.types == ["http.response.body", "http.response.start"]


# -- the outermost 500 layer ------------------------------------------------------------------------


async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise ValueError("<script>alert('x')</script> & more")


def server(handlers: dict[Any, Any] | None = None, debug: bool = False, app: Any = failing_app) -> ServerErrors:
    return ServerErrors(app, HandlerTable([handlers or {}]), debug)


def scope_with_accept(accept: str = "") -> Scope:
    headers = [(b"accept", accept.encode())] if accept else []
    return http_scope("GET", "/boom", headers=headers)


def test_unhandled_error_becomes_a_500_problem(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="plait.error"):
        sent = run_asgi(server(), scope_with_accept("text/html"))
    assert sent.status == 500
    assert sent.headers["content-type"] == "application/problem+json"
    assert json.loads(sent.body) == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "The server hit an error it did not expect. It has been logged.",
    }
    assert b"script" not in sent.body
    record = caplog.records[-1]
    assert record.getMessage() == "Unhandled error in GET /boom"
    assert record.exc_info is not None
    assert record.exc_info[0] is ValueError


def test_debug_page_for_browsers_is_escaped_html() -> None:
    sent = run_asgi(server(debug=True), scope_with_accept("text/html,application/xhtml+xml"))
    assert sent.status == 500
    assert sent.headers["content-type"].startswith("text/html")
    page = sent.body.decode()
    assert "<title>Plait debug: ValueError</title>" in page
    assert "<h1>ValueError: &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more</h1>" in page
    assert "<p>GET /boom</p>" in page
    assert "<script>" not in page
    assert "Traceback (most recent call last)" in page
    assert "failing_app" in page
    assert "Settings.debug is on" in page


def test_debug_response_for_other_clients_is_json_with_the_traceback() -> None:
    sent = run_asgi(server(debug=True), scope_with_accept("application/json"))
    assert sent.status == 500
    assert sent.headers["content-type"] == "application/problem+json"
    document = json.loads(sent.body)
    assert document["detail"] == "ValueError: <script>alert('x')</script> & more"
    assert document["title"] == "Internal Server Error"
    assert isinstance(document["traceback"], list)
    assert document["traceback"][0].startswith("Traceback")
    assert any("failing_app" in line for line in document["traceback"])
    assert document["traceback"][-1].startswith("ValueError: ")


def test_debug_response_without_an_accept_header_is_json() -> None:
    try:
        raise KeyError("k")
    except KeyError as exc:
        response = debug_response(request(), exc)
    assert response.media_type == "application/problem+json"
    assert body_of(response)["detail"] == "KeyError: 'k'"


def test_user_500_handler_answers() -> None:
    seen: list[BaseException] = []

    async def on_500(request: Request, exc: BaseException) -> Response:
        seen.append(exc)
        return JSONResponse({"oops": request.path}, status_code=503)

    sent = run_asgi(server({500: on_500}), scope_with_accept())
    assert sent.status == 503
    assert json.loads(sent.body) == {"oops": "/boom"}
    assert isinstance(seen[0], ValueError)


def test_user_exception_class_handler_answers() -> None:
    def on_error(request: Request, exc: BaseException) -> Response:
        return PlainTextResponse(type(exc).__name__, status_code=502)

    sent = run_asgi(server({Exception: on_error}), scope_with_accept())
    assert (sent.status, sent.body) == (502, b"ValueError")


def test_500_handler_wins_over_a_class_handler() -> None:
    sent = run_asgi(server({Exception: h_other, 500: h_inner}), scope_with_accept())
    assert sent.body == b"inner"


def test_specific_class_handler_wins_over_the_500_handler() -> None:
    sent = run_asgi(server({ValueError: h_other, 500: h_inner}), scope_with_accept())
    assert sent.body == b"other"


def test_failing_500_handler_falls_back_to_the_default(caplog: pytest.LogCaptureFixture) -> None:
    def broken(request: Request, exc: BaseException) -> Response:
        raise RuntimeError("handler broke")

    def not_a_response(request: Request, exc: BaseException) -> Any:
        return "text"

    with caplog.at_level(logging.ERROR, logger="plait.error"):
        sent = run_asgi(server({500: broken}), scope_with_accept())
    assert sent.status == 500
    assert json.loads(sent.body)["detail"].startswith("The server hit an error")
    assert "The 500 handler itself failed" in [r.getMessage() for r in caplog.records]

    sent = run_asgi(server({500: not_a_response}), scope_with_accept())
    assert sent.status == 500
    assert sent.headers["content-type"] == "application/problem+json"

    sent = run_asgi(server({500: broken}, debug=True), scope_with_accept("text/html"))
    assert sent.status == 500
    assert b"Plait debug: ValueError" in sent.body


def test_no_second_response_once_the_first_has_started() -> None:
    async def half_sent(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("mid-stream")

    sent = run_asgi(server({500: h_inner}, app=half_sent), scope_with_accept())
    assert sent.types == ["http.response.start", "http.response.body"]
    assert sent.status == 200
    assert sent.body == b"partial"


def test_non_http_scopes_pass_straight_through() -> None:
    seen: list[Message] = []

    async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())
        await send({"type": "lifespan.startup.complete"})

    sent = Recorder()
    anyio.run(server(app=lifespan_app), {"type": "lifespan"}, Receiver({"type": "lifespan.startup"}), sent)
    assert seen == [{"type": "lifespan.startup"}]
    assert sent.types == ["lifespan.startup.complete"]

    async def broken_ws(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("ws")

    with pytest.raises(ValueError, match="ws"):
        anyio.run(server(app=broken_ws), {"type": "websocket"}, Receiver(), Recorder())


def test_successful_responses_are_untouched() -> None:
    sent = run_asgi(server(app=PlainTextResponse("fine")), scope_with_accept())
    assert (sent.status, sent.body) == (200, b"fine")


# -- through an app ---------------------------------------------------------------------------------


def test_router_handlers_override_app_handlers_for_their_routes() -> None:
    def app_level(request: Request, exc: BaseException) -> Response:
        return PlainTextResponse("app", status_code=400)

    def router_level(request: Request, exc: BaseException) -> Response:
        return PlainTextResponse("router", status_code=409)

    app = Plait(exception_handlers={AppError: app_level})
    api = Router(prefix="/api")
    api.add_exception_handler(AppError, router_level)

    @api.get("/x")
    def in_router() -> str:
        raise NotFoundError

    @app.get("/x")
    def in_app() -> str:
        raise NotFoundError

    app.include_router(api)
    inner = call(app, "GET", "/api/x")
    assert (inner.status_code, inner.text) == (409, "router")
    outer = call(app, "GET", "/x")
    assert (outer.status_code, outer.text) == (400, "app")


def test_app_500_handler_and_debug_page() -> None:
    def on_500(request: Request, exc: BaseException) -> Response:
        return PlainTextResponse(f"sorry: {exc}", status_code=500)

    app = Plait(exception_handlers={500: on_500})

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("nope")

    response = call(app, "GET", "/boom", raise_app_exceptions=False)
    assert (response.status_code, response.text) == (500, "sorry: nope")

    debug_app = Plait(debug=True)
    debug_app.get("/boom")(boom)
    page = call(debug_app, "GET", "/boom", headers={"accept": "text/html"}, raise_app_exceptions=False)
    assert page.status_code == 500
    assert "ValueError: nope" in page.text
    problem = call(debug_app, "GET", "/boom", raise_app_exceptions=False)
    assert problem.json()["detail"] == "ValueError: nope"


def test_http_errors_use_status_handlers_in_an_app() -> None:
    def not_found(request: Request, exc: BaseException) -> Response:
        return PlainTextResponse(f"nothing at {request.path}", status_code=404)

    app = Plait(exception_handlers={404: not_found})

    @app.get("/item")
    def item() -> str:
        raise HTTPException(404, "no item")

    assert call(app, "GET", "/item").text == "nothing at /item"
    assert call(app, "GET", "/missing").text == "nothing at /missing"
