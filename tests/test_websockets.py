"""WebSocket routes end to end, through the test client: messages, parameters, close codes, limits."""

# Handlers here are defined inside the tests and close over per-test lists, so annotations are
# evaluated eagerly (no ``from __future__ import annotations``) and may name local providers.

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import msgspec
import pytest

from plait import ConfigurationError, Depends, Header, HTTPException, Plait, Router, Settings
from plait.background import BackgroundTasks
from plait.testing import TestClient, WebSocketDenied
from plait.websockets import WebSocket, WebSocketClose, WebSocketDisconnect, WebSocketState


class Point(msgspec.Struct):
    x: int
    y: int


def echo_app(**settings: Any) -> Plait:
    app = Plait(settings=Settings(**settings))

    @app.websocket("/text")
    async def text(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws.iter_text():
            await ws.send_text(message)

    @app.websocket("/bytes")
    async def binary(ws: WebSocket) -> None:
        await ws.accept()
        async for data in ws.iter_bytes():
            await ws.send_bytes(data[::-1])

    @app.websocket("/json")
    async def json(ws: WebSocket) -> None:
        await ws.accept()
        async for value in ws.iter_json():
            await ws.send_json({"got": value}, binary=isinstance(value, list))

    @app.websocket("/point")
    async def point(ws: WebSocket) -> None:
        await ws.accept()
        async for p in ws.iter_json(Point):
            await ws.send_json(Point(p.y, p.x))

    return app


# -- messages --------------------------------------------------------------------------------------


def test_echo_text_bytes_and_json() -> None:
    with TestClient(echo_app()) as client:
        with client.websocket_connect("/text") as ws:
            ws.send_text("héllo")
            assert ws.receive_text() == "héllo"
        with client.websocket_connect("/bytes") as ws:
            ws.send_bytes(b"\x00\x01\x02")
            assert ws.receive_bytes() == b"\x02\x01\x00"
        with client.websocket_connect("/json") as ws:
            ws.send_json({"a": [1, 2]})
            assert ws.receive_json() == {"got": {"a": [1, 2]}}
            ws.send_json([1], binary=True)  # a binary message is JSON too
            message = ws.receive()
            assert message["bytes"] == b'{"got":[1]}'


def test_typed_json_decodes_into_a_struct() -> None:
    with TestClient(echo_app()) as client, client.websocket_connect("/point") as ws:
        ws.send_json({"x": 1, "y": 2})
        assert ws.receive_json(Point) == Point(2, 1)


@pytest.mark.parametrize("payload", ['{"x": "one", "y": 2}', "not json", '{"x": 1}'])
def test_a_json_message_of_the_wrong_shape_closes_with_1003(payload: str) -> None:
    with TestClient(echo_app()) as client, client.websocket_connect("/point") as ws:
        ws.send_text(payload)
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert caught.value.code == 1003
    assert caught.value.reason.startswith("invalid JSON message")


def test_the_wrong_kind_of_message_closes_with_1003() -> None:
    with TestClient(echo_app()) as client:
        with client.websocket_connect("/text") as ws:
            ws.send_bytes(b"binary")
            with pytest.raises(WebSocketDisconnect) as caught:
                ws.receive_text()
            assert (caught.value.code, caught.value.reason) == (1003, "expected a text message")
        with client.websocket_connect("/bytes") as ws:
            ws.send_text("text")
            with pytest.raises(WebSocketDisconnect) as caught:
                ws.receive_bytes()
            assert (caught.value.code, caught.value.reason) == (1003, "expected a binary message")


def test_a_message_over_the_size_limit_closes_with_1009() -> None:
    with TestClient(echo_app(websocket_max_message_size=8)) as client, client.websocket_connect("/text") as ws:
        ws.send_text("12345678")  # exactly the limit is fine
        assert ws.receive_text() == "12345678"
        ws.send_text("é" * 5)  # five characters, ten bytes
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_text()
    assert (caught.value.code, caught.value.reason) == (WebSocketClose.MESSAGE_TOO_BIG, "message too big")


# -- parameters and dependencies -------------------------------------------------------------------


def test_path_query_and_header_parameters() -> None:
    app = Plait()

    @app.websocket("/rooms/{room}")
    async def room(ws: WebSocket, room: str, nick: str, x_colour: Annotated[str, Header()] = "none") -> None:
        await ws.accept()
        await ws.send_json({"room": room, "nick": nick, "colour": x_colour})

    with TestClient(app) as client:
        with client.websocket_connect("/rooms/lobby?nick=ada", headers={"X-Colour": "teal"}) as ws:
            assert ws.receive_json() == {"room": "lobby", "nick": "ada", "colour": "teal"}
        with client.websocket_connect("/rooms/attic?nick=bo") as ws:
            assert ws.receive_json() == {"room": "attic", "nick": "bo", "colour": "none"}


def test_a_missing_required_parameter_refuses_with_1008() -> None:
    app = Plait()

    @app.websocket("/rooms/{room}")
    async def room(ws: WebSocket, room: str, nick: str) -> None:
        await ws.accept()  # pragma: no cover - the handler is never called

    with TestClient(app) as client, pytest.raises(WebSocketDenied) as caught:
        client.websocket_connect("/rooms/lobby")
    assert caught.value.code == 1008
    assert caught.value.reason == "query.nick: Field required"


def test_dependencies_and_generator_cleanup_after_the_connection_ends() -> None:
    events: list[str] = []

    def database() -> Iterator[str]:
        events.append("open")
        yield "db"
        events.append("closed")

    def current_user(nick: str, db: Annotated[str, Depends(database)]) -> str:
        return f"{nick}@{db}"

    app = Plait()

    @app.websocket("/me")
    async def me(ws: WebSocket, user: Annotated[str, Depends(current_user)]) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            events.append(text)
            await ws.send_text(user)

    with TestClient(app) as client:
        with client.websocket_connect("/me?nick=ada") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "ada@db"
            assert events == ["open", "hi"]
        assert events == ["open", "hi", "closed"]


def test_a_provider_refusing_with_403_closes_with_1008_and_its_detail() -> None:
    def require_token(x_token: Annotated[str | None, Header()] = None) -> str:
        if x_token != "secret":
            raise HTTPException(403, "A valid X-Token header is required.")
        return x_token

    app = Plait()

    @app.websocket("/private", dependencies=[Depends(require_token)])
    async def private(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("welcome")

    with TestClient(app) as client:
        with pytest.raises(WebSocketDenied) as caught:
            client.websocket_connect("/private", headers={"x-token": "guess"})
        assert (caught.value.code, caught.value.reason) == (1008, "A valid X-Token header is required.")
        with client.websocket_connect("/private", headers={"x-token": "secret"}) as ws:
            assert ws.receive_text() == "welcome"


def test_an_http_exception_after_accept_closes_with_1008() -> None:
    app = Plait()

    @app.websocket("/quota")
    async def quota(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        raise HTTPException(429, "Slow down.")

    with TestClient(app) as client, client.websocket_connect("/quota") as ws:
        ws.send_text("one")
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_text()
    assert (caught.value.code, caught.value.reason) == (1008, "Slow down.")


# -- origins ---------------------------------------------------------------------------------------


def origin_app() -> Plait:
    app = Plait()

    @app.websocket("/live", origins=["https://app.test"])
    async def live(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("live")

    return app


def test_an_allowed_origin_connects() -> None:
    client = TestClient(origin_app())
    with client, client.websocket_connect("/live", headers={"Origin": "https://app.test"}) as ws:
        assert ws.receive_text() == "live"


@pytest.mark.parametrize("headers", [{"origin": "https://evil.test"}, {}])
def test_another_origin_or_none_is_refused_before_accept(headers: dict[str, str]) -> None:
    with TestClient(origin_app()) as client, pytest.raises(WebSocketDenied) as caught:
        client.websocket_connect("/live", headers=headers)
    assert (caught.value.code, caught.value.reason) == (1008, "origin not allowed")


# -- how connections end ---------------------------------------------------------------------------


def test_a_handler_that_returns_closes_with_1000() -> None:
    app = Plait()

    @app.websocket("/once")
    async def once(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("bye")

    with TestClient(app) as client, client.websocket_connect("/once") as ws:
        assert ws.receive_text() == "bye"
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_text()
        assert caught.value.code == WebSocketClose.NORMAL
        assert ws.receive() == {"type": "websocket.close", "code": 1000, "reason": ""}  # and again


def test_an_unhandled_error_closes_with_1011_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = Plait()

    @app.websocket("/boom")
    async def boom(ws: WebSocket) -> None:
        await ws.accept()
        raise ValueError("kaboom")

    with (
        caplog.at_level(logging.ERROR, logger="plait.error"),
        TestClient(app) as client,
        client.websocket_connect("/boom") as ws,
        pytest.raises(WebSocketDisconnect) as caught,
    ):
        ws.receive_text()
    assert (caught.value.code, caught.value.reason) == (WebSocketClose.INTERNAL_ERROR, "internal error")
    record = next(r for r in caplog.records if r.name == "plait.error")
    assert "/boom" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)


def test_receiving_before_accept_is_a_programming_error(caplog: pytest.LogCaptureFixture) -> None:
    app = Plait()

    @app.websocket("/eager")
    async def eager(ws: WebSocket) -> None:
        await ws.receive_text()

    with (
        caplog.at_level(logging.ERROR, logger="plait.error"),
        TestClient(app) as client,
        pytest.raises(WebSocketDenied) as caught,
    ):
        client.websocket_connect("/eager")
    assert caught.value.code == 1011
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert any(isinstance(e, RuntimeError) and "Call accept()" in str(e) for e in errors)


async def _no_receive() -> dict[str, Any]:
    raise AssertionError("not reached")  # pragma: no cover


async def _no_send(message: Any) -> None:
    raise AssertionError("not reached")  # pragma: no cover


@pytest.mark.anyio
async def test_receive_and_send_before_accept_raise_runtime_error() -> None:
    ws = WebSocket({"type": "websocket", "headers": []}, _no_receive, _no_send)
    with pytest.raises(RuntimeError, match="Call accept"):
        await ws.receive()
    with pytest.raises(RuntimeError, match="Call accept"):
        await ws.send_text("too soon")


@pytest.mark.anyio
async def test_close_reasons_are_cut_to_123_bytes_on_a_character_boundary() -> None:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    ws = WebSocket({"type": "websocket", "headers": []}, _no_receive, send)
    await ws.close(1008, "é" * 100)
    await ws.close(1000)  # a second close sends nothing
    assert len(sent) == 1
    assert sent[0]["reason"] == "é" * 61  # 122 bytes: half a character would not be valid UTF-8


@pytest.mark.anyio
async def test_a_client_that_disconnects_during_the_handshake() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "websocket.disconnect", "code": 1001}

    ws = WebSocket({"type": "websocket", "headers": []}, receive, _no_send)
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.accept()
    assert caught.value.code == 1001
    assert ws.client_state is WebSocketState.DISCONNECTED


def test_iteration_ends_when_the_client_disconnects() -> None:
    ended: list[str] = []
    app = Plait()

    @app.websocket("/text")
    async def text(ws: WebSocket) -> None:
        await ws.accept()
        ended.extend([t async for t in ws.iter_text()])
        ended.append("text done")

    @app.websocket("/json")
    async def json(ws: WebSocket) -> None:
        await ws.accept()
        ended.extend([str(v) async for v in ws.iter_json(int)])
        ended.append("json done")

    with TestClient(app) as client:
        with client.websocket_connect("/text") as ws:
            ws.send_text("a")
            ws.send_text("b")
        with client.websocket_connect("/json") as ws:
            ws.send_json(7)
            ws.close(1001)
    assert ended == ["a", "b", "text done", "7", "json done"]


def test_sending_to_a_client_that_has_gone_ends_the_handler_quietly(caplog: pytest.LogCaptureFixture) -> None:
    ends: list[str] = []
    app = Plait()

    @app.websocket("/ticker")
    async def ticker(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text("tick")
                await anyio.sleep(0.001)
        except WebSocketDisconnect as exc:
            ends.append(f"gone {exc.code}")
            raise

    with caplog.at_level(logging.ERROR), TestClient(app) as client, client.websocket_connect("/ticker") as ws:
        assert ws.receive_text() == "tick"
        assert ws.receive_text() == "tick"
    assert ends == ["gone 1006"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_background_tasks_of_a_websocket_handler_run_after_it_closes() -> None:
    events: list[str] = []
    app = Plait()

    @app.websocket("/chat")
    async def chat(ws: WebSocket, tasks: BackgroundTasks) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            tasks.add_task(events.append, f"task {text}")
            events.append(f"got {text}")

    with TestClient(app) as client, client.websocket_connect("/chat") as ws:
        ws.send_text("a")
        ws.send_text("b")
    assert events == ["got a", "got b", "task a", "task b"]


# -- routing and configuration ---------------------------------------------------------------------


def test_http_get_on_a_websocket_path_is_426_with_upgrade() -> None:
    with TestClient(echo_app()) as client:
        response = client.get("/text")
    assert response.status_code == 426
    assert response.headers["upgrade"] == "websocket"
    assert response.headers["content-type"] == "application/problem+json"


def test_a_websocket_to_an_unknown_path_is_refused() -> None:
    with TestClient(echo_app()) as client, pytest.raises(WebSocketDenied):
        client.websocket_connect("/nowhere")


def test_a_websocket_to_an_http_only_path_is_refused() -> None:
    app = Plait()

    @app.get("/page")
    def page() -> str:
        return "page"  # pragma: no cover - only a WebSocket asks

    with TestClient(app) as client, pytest.raises(WebSocketDenied):
        client.websocket_connect("/page")


def test_a_router_websocket_route_gets_the_prefix() -> None:
    chat = Router(prefix="/chat")

    @chat.websocket("/{room}")
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept()
        await ws.send_text(f"{ws.url.path} {room}")

    app = Plait()
    app.include_router(chat, prefix="/v1")
    with TestClient(app) as client:
        with client.websocket_connect("/v1/chat/lobby") as ws:
            assert ws.receive_text() == "/v1/chat/lobby lobby"
        with pytest.raises(WebSocketDenied):
            client.websocket_connect("/chat/lobby")


def test_a_sync_websocket_handler_is_refused_at_registration() -> None:
    app = Plait()

    def blocking(ws: WebSocket) -> None:  # pragma: no cover - never registered
        pass

    with pytest.raises(ConfigurationError, match="must be an async def"):
        app.websocket("/sync")(blocking)


def test_a_body_parameter_in_a_websocket_handler_is_refused_at_startup() -> None:
    app = Plait()

    @app.websocket("/body")
    async def body(ws: WebSocket, point: Point) -> None:  # pragma: no cover - never called
        await ws.accept()

    with pytest.raises(ConfigurationError, match=r"receive messages with ws\.receive_json"):
        app.build()


def test_the_connection_sees_scheme_client_cookies_and_lifespan_state() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Plait) -> AsyncIterator[dict[str, str]]:
        yield {"greeting": "hello"}

    app = Plait(lifespan=lifespan)

    @app.websocket("/about")
    async def about(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json(
            {
                "url": str(ws.url),
                "client": list(ws.client or ()),
                "cookie": ws.cookies.get("session"),
                "greeting": ws.app.state.greeting,
            }
        )

    with TestClient(app, cookies={"session": "abc"}) as client, client.websocket_connect("/about?x=1") as ws:
        assert ws.receive_json() == {
            "url": "ws://testserver/about?x=1",
            "client": ["testclient", 50000],
            "cookie": "abc",
            "greeting": "hello",
        }
