"""``RequestValidationError.errors()`` / ``.body`` and ``WebSocketException``."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from plait import (
    Depends,
    ErrorDetail,
    Form,
    FormData,
    Plait,
    Request,
    RequestValidationError,
    WebSocket,
    WebSocketException,
    status,
)
from plait.responses import JSONResponse, Response
from plait.testing import TestClient, WebSocketDenied
from plait.websockets import WebSocketDisconnect
from tests.support import call


class Item(msgspec.Struct):
    name: str
    price: int


def test_errors_are_plain_dicts_and_details_keep_the_structs() -> None:
    detail = ErrorDetail(("body", "price"), "Expected 'int', got 'str'", "type_error")
    exc = RequestValidationError([detail], body={"price": "x"})
    assert exc.details == [detail]
    assert exc.errors() == [{"loc": ("body", "price"), "msg": "Expected 'int', got 'str'", "type": "type_error"}]
    assert exc.body == {"price": "x"}
    assert RequestValidationError([]).body is None


def captured_app() -> tuple[Plait, list[RequestValidationError]]:
    seen: list[RequestValidationError] = []

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        seen.append(exc)
        return JSONResponse({"errors": [{**e, "loc": list(e["loc"])} for e in exc.errors()]}, status_code=422)

    return Plait(exception_handlers={RequestValidationError: on_invalid}), seen


def test_a_handler_sees_errors_and_the_parsed_body() -> None:
    app, seen = captured_app()

    @app.post("/items")
    def create(item: Item, q: int = 0) -> str:
        return item.name

    response = call(app, "POST", "/items?q=x", json={"name": "pen", "price": "cheap"})
    assert response.status_code == 422
    assert seen[0].body == {"name": "pen", "price": "cheap"}
    assert [e["loc"] for e in seen[0].errors()] == [("query", "q"), ("body", "price")]
    assert response.json()["errors"][1] == {
        "loc": ["body", "price"],
        "msg": "Expected 'int', got 'str'",
        "type": "type_error",
    }


def test_body_is_the_form_data_of_a_form_and_none_without_a_body() -> None:
    app, seen = captured_app()

    @app.post("/")
    def create(q: int, data: Annotated[str, Form()] = "") -> int:
        return q

    @app.get("/")
    def read(q: int) -> int:
        return q

    assert call(app, "POST", "/", data={"data": "x"}).status_code == 422
    assert call(app, "GET", "/").status_code == 422
    assert isinstance(seen[0].body, FormData)
    assert seen[0].body["data"] == "x"
    assert seen[1].body is None


async def raw(request: Request) -> bytes:
    return await request.body()


def test_body_bytes_when_a_provider_fails_after_reading_non_json() -> None:
    app, seen = captured_app()

    @app.post("/")
    def create(data: Annotated[bytes, Depends(raw)], q: int) -> int:
        return q

    call(app, "POST", "/", content=b"\xff not json")
    assert seen[0].body == b"\xff not json"
    assert seen[0].errors()[0]["loc"] == ("query", "q")


def test_the_422_problem_document_is_unchanged() -> None:
    app = Plait()

    @app.get("/")
    def read(q: int) -> int:
        return q

    response = call(app, "GET", "/?q=x")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "1 field is invalid",
        "errors": [{"loc": ["query", "q"], "msg": "Expected 'int', got 'str'", "type": "type_error"}],
    }


def check_token(token: str = "") -> str:
    if token != "secret":
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "bad token")
    return token


def ws_app() -> Plait:
    app = Plait()

    @app.websocket("/guarded")
    async def guarded(ws: WebSocket, token: Annotated[str, Depends(check_token)]) -> None:
        await ws.accept()
        await ws.send_text(token)

    @app.websocket("/later")
    async def later(ws: WebSocket) -> None:
        await ws.accept()
        message = await ws.receive_text()
        raise WebSocketException(status.WS_1003_UNSUPPORTED_DATA, f"cannot use {message!r}")

    @app.websocket("/bare")
    async def bare(ws: WebSocket) -> None:
        raise WebSocketException(4000)

    return app


def test_websocket_exception_in_a_dependency_refuses_the_handshake() -> None:
    with TestClient(ws_app()) as client:
        with pytest.raises(WebSocketDenied) as caught:
            client.websocket_connect("/guarded?token=guess")
        assert (caught.value.code, caught.value.reason) == (1008, "bad token")
        with client.websocket_connect("/guarded?token=secret") as ws:
            assert ws.receive_text() == "secret"


def test_websocket_exception_after_accept_closes_with_its_code() -> None:
    with TestClient(ws_app()) as client, client.websocket_connect("/later") as ws:
        ws.send_text("xml")
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_text()
    assert (caught.value.code, caught.value.reason) == (1003, "cannot use 'xml'")


def test_websocket_exception_without_reason() -> None:
    exc = WebSocketException(4000)
    assert (exc.code, exc.reason, str(exc)) == (4000, "", "WebSocket closed with 4000")
    assert str(WebSocketException(1008, "no")) == "WebSocket closed with 1008: no"
    with TestClient(ws_app()) as client, pytest.raises(WebSocketDenied) as caught:
        client.websocket_connect("/bare")
    assert caught.value.code == 4000
