"""The WebSocket sessions of TestClient and AsyncTestClient, against raw ASGI apps and Plait apps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio
import msgspec
import pytest

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.app import Plait
from plait.di import Depends
from plait.testing import (
    CLIENT_ADDRESS,
    AsyncTestClient,
    AsyncWebSocketTestSession,
    TestClient,
    WebSocketDenied,
    WebSocketTestSession,
)
from plait.websockets import WebSocket, WebSocketDisconnect

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


def raw(handler: Handler) -> ASGIApp:
    """A raw ASGI app running ``handler`` for WebSocket scopes (and ignoring the lifespan)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await handler(scope, receive, send)

    return app


async def accept(receive: Receive, send: Send, **extra: Any) -> None:
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept", **extra})


class Pair(msgspec.Struct):
    a: int
    b: str


def get_name() -> str:
    return "real"


Name = Annotated[str, Depends(get_name)]


def plait_app() -> Plait:
    app = Plait()

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(text)

    @app.websocket("/name")
    async def name(ws: WebSocket, who: Name) -> None:
        await ws.accept()
        await ws.send_text(who)

    return app


# -- the handshake ---------------------------------------------------------------------------------


def test_the_scope_is_a_websocket_handshake() -> None:
    scopes: list[Scope] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)
        await accept(receive, send, subprotocol="v2", headers=[(b"x-served-by", b"raw")])

    client = TestClient(raw(handler), base_url="https://example.test:8443")
    with client.websocket_connect(
        "/live/a%20b?x=1&y=2", subprotocols=["v1", "v2"], headers={"Origin": "https://example.test"}
    ) as ws:
        assert ws.accepted_subprotocol == "v2"
        assert ws.extra_headers["x-served-by"] == "raw"
    scope = scopes[0]
    assert scope["type"] == "websocket"
    assert "method" not in scope
    assert (scope["scheme"], scope["path"], scope["raw_path"]) == ("wss", "/live/a b", b"/live/a%20b")
    assert scope["query_string"] == b"x=1&y=2"
    assert scope["subprotocols"] == ["v1", "v2"]
    assert scope["client"] == CLIENT_ADDRESS
    assert scope["server"] == ("example.test", 8443)
    assert scope["root_path"] == ""
    headers = dict(scope["headers"])
    assert headers[b"host"] == b"example.test:8443"
    assert headers[b"origin"] == b"https://example.test"
    assert (headers[b"connection"], headers[b"upgrade"]) == (b"upgrade", b"websocket")
    assert headers[b"sec-websocket-version"] == b"13"
    assert headers[b"sec-websocket-protocol"] == b"v1, v2"
    assert b"sec-websocket-key" in headers


def test_plain_http_base_urls_give_ws_and_no_subprotocol_header() -> None:
    scopes: list[Scope] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)
        await accept(receive, send)

    with TestClient(raw(handler)) as client, client.websocket_connect("/") as ws:
        assert ws.accepted_subprotocol is None
        assert len(ws.extra_headers) == 0
    assert scopes[0]["scheme"] == "ws"
    assert b"sec-websocket-protocol" not in dict(scopes[0]["headers"])


def test_a_close_before_accept_is_a_denial_with_code_and_reason() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": 4003, "reason": "members only"})
        assert await receive() == {"type": "websocket.disconnect", "code": 4003, "reason": "members only"}

    with pytest.raises(WebSocketDenied) as caught:
        TestClient(raw(handler)).websocket_connect("/")
    assert (caught.value.code, caught.value.reason) == (4003, "members only")
    assert str(caught.value) == "The app refused the WebSocket connection with code 4003: members only"
    assert isinstance(caught.value, WebSocketDisconnect)


def test_an_app_that_returns_without_accepting_is_a_denial() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        return

    with pytest.raises(WebSocketDenied) as caught:
        TestClient(raw(handler)).websocket_connect("/")
    assert caught.value.code == 1006
    assert caught.value.reason == "the app returned without accepting the connection"
    assert str(WebSocketDenied(1000)) == "The app refused the WebSocket connection with code 1000"


async def fail_before_accept(scope: Scope, receive: Receive, send: Send) -> None:
    raise ValueError("no handshake today")


def test_an_error_before_accept_is_raised_or_becomes_a_denial() -> None:
    with pytest.raises(ValueError, match="no handshake today"):
        TestClient(raw(fail_before_accept)).websocket_connect("/")
    with pytest.raises(WebSocketDenied) as caught:
        TestClient(raw(fail_before_accept), raise_server_exceptions=False).websocket_connect("/")
    assert caught.value.code == 1006
    assert caught.value.reason == "the app raised ValueError: no handshake today without accepting the connection"


def test_sending_data_before_accept_is_a_protocol_error() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.send", "text": "too soon"})
        await receive()  # the connect
        assert (await receive())["type"] == "websocket.disconnect"

    with pytest.raises(RuntimeError, match=r"'websocket\.send' before 'websocket\.accept'"):
        TestClient(raw(handler)).websocket_connect("/")


def test_an_app_that_never_answers_the_handshake_times_out() -> None:
    cancelled: list[bool] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    with pytest.raises(TimeoutError, match=r"sent nothing on the WebSocket for 0\.05 s"):
        TestClient(raw(handler)).websocket_connect("/", timeout=0.05)
    assert cancelled == [True]


# -- messages --------------------------------------------------------------------------------------


def test_text_bytes_and_json_both_ways() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")})

    with TestClient(raw(handler)) as client, client.websocket_connect("/") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
        ws.send_bytes(b"\x00hi")
        assert ws.receive_bytes() == b"\x00hi"
        ws.send_json({"a": 1, "b": "two"})
        assert ws.receive_json(Pair) == Pair(1, "two")
        ws.send_json([1, 2], binary=True)
        assert ws.receive_json() == [1, 2]
        ws.send({"type": "websocket.receive", "text": "raw"})
        assert ws.receive() == {"type": "websocket.send", "text": "raw", "bytes": None}


def test_receiving_the_wrong_kind_of_message_says_so() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)
        await send({"type": "websocket.send", "bytes": b"\x01\x02"})
        await send({"type": "websocket.send", "text": "words"})
        await receive()

    with TestClient(raw(handler)) as client, client.websocket_connect("/") as ws:
        with pytest.raises(TypeError, match=r"Expected a text message; the app sent binary data \(b'\\x01\\x02'\)"):
            ws.receive_text()
        with pytest.raises(TypeError, match=r"Expected a binary message; the app sent text \('words'\)"):
            ws.receive_bytes()


def test_a_receive_that_waits_too_long_times_out() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)
        await receive()  # waits for the client, which sends nothing but its close

    client = TestClient(raw(handler))
    with client.websocket_connect("/", timeout=0.05) as ws:
        with pytest.raises(TimeoutError, match="pass a longer timeout"):
            ws.receive_text()
        with pytest.raises(TimeoutError, match=r"for 0\.01 s"):
            ws.receive(timeout=0.01)


def test_the_close_of_the_app_is_a_disconnect_with_its_code() -> None:
    seen: list[Message] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)
        await send({"type": "websocket.send", "text": "last words"})
        await send({"type": "websocket.close", "code": 4001})
        seen.append(await receive())  # the app's own close, echoed as the disconnect
        with pytest.raises(OSError, match="closed"):
            await send({"type": "websocket.send", "text": "too late"})

    with TestClient(raw(handler)) as client, client.websocket_connect("/") as ws:
        assert ws.receive_text() == "last words"
        for receive in (ws.receive_text, ws.receive_bytes, ws.receive_json):
            with pytest.raises(WebSocketDisconnect) as caught:
                receive()
            assert (caught.value.code, caught.value.reason) == (4001, "")
        ws.send_text("nobody is listening")  # lost, as on a network, but no error
    assert seen == [{"type": "websocket.disconnect", "code": 4001, "reason": ""}]


def test_an_app_that_returns_without_closing_reads_as_1006() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)

    with TestClient(raw(handler)) as client, client.websocket_connect("/") as ws:
        assert ws.receive() == {"type": "websocket.close", "code": 1006, "reason": "the app returned without closing"}


def test_an_unexpected_message_on_an_open_connection_is_a_protocol_error() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)
        await send({"type": "websocket.accept"})
        await receive()

    with (
        TestClient(raw(handler)) as client,
        client.websocket_connect("/") as ws,
        pytest.raises(RuntimeError, match=r"sent 'websocket\.accept' on an open WebSocket"),
    ):
        ws.receive()


# -- closing ---------------------------------------------------------------------------------------


def test_close_delivers_what_was_sent_then_the_code_and_waits_for_the_app() -> None:
    seen: list[Message] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)
        seen.extend([await receive(), await receive(), await receive()])
        await anyio.sleep(0.01)  # the client's close waits for this
        seen.append({"type": "app done"})
        with pytest.raises(OSError, match="closed"):
            await send({"type": "websocket.send", "text": "after the close"})

    ws = TestClient(raw(handler)).websocket_connect("/")
    ws.send_text("one")
    ws.close(4000, "bye")
    ws.close()  # closing twice is harmless
    assert seen == [
        {"type": "websocket.receive", "text": "one"},
        {"type": "websocket.disconnect", "code": 4000, "reason": "bye"},
        {"type": "websocket.disconnect", "code": 4000, "reason": "bye"},
        {"type": "app done"},
    ]
    for use in (lambda: ws.send_text("x"), ws.receive, ws.receive_text):
        with pytest.raises(RuntimeError, match="session is closed"):
            use()


def test_an_app_that_ignores_the_close_is_cancelled_after_the_timeout() -> None:
    ends: list[str] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)
        try:
            await anyio.sleep_forever()
        finally:
            ends.append("cancelled")

    with TestClient(raw(handler)) as client, client.websocket_connect("/", timeout=0.05):
        pass
    assert ends == ["cancelled"]


async def raise_after_close(scope: Scope, receive: Receive, send: Send) -> None:
    await accept(receive, send)
    await receive()
    raise KeyError("cleanup failed")


def test_an_error_after_the_close_is_raised_by_close() -> None:
    ws = TestClient(raw(raise_after_close)).websocket_connect("/")
    with pytest.raises(KeyError, match="cleanup failed"):
        ws.close()
    quiet = TestClient(raw(raise_after_close), raise_server_exceptions=False).websocket_connect("/")
    quiet.close()


def test_an_error_during_the_conversation_is_raised_by_the_receive_that_finds_it() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)
        await send({"type": "websocket.send", "text": "before"})
        raise LookupError("mid-conversation")

    with TestClient(raw(handler)) as client:
        with client.websocket_connect("/") as ws:
            assert ws.receive_text() == "before"  # what was sent first still arrives
            with pytest.raises(LookupError, match="mid-conversation"):
                ws.receive_text()
            with pytest.raises(WebSocketDisconnect) as caught:  # raised once; then the connection is gone
                ws.receive_text()
            assert caught.value.code == 1006
        quiet = TestClient(raw(handler), raise_server_exceptions=False)
        with quiet.websocket_connect("/") as ws:
            assert ws.receive_text() == "before"
            assert ws.receive()["code"] == 1006


def test_unknown_names_are_not_in_plait_testing() -> None:
    import plait.testing

    with pytest.raises(AttributeError, match="has no attribute 'WebSocketClient'"):
        _ = plait.testing.WebSocketClient


def test_sessions_left_open_are_closed_with_the_client() -> None:
    disconnects: list[Message] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send)
        disconnects.append(await receive())

    with TestClient(raw(handler)) as client:
        client.websocket_connect("/")
        client.websocket_connect("/")
    assert disconnects == [{"type": "websocket.disconnect", "code": 1000, "reason": ""}] * 2
    client = TestClient(raw(handler))  # without `with`, each session has its own event loop
    session = client.websocket_connect("/")
    assert isinstance(session, WebSocketTestSession)
    client.close()
    assert len(disconnects) == 3


# -- with Plait ------------------------------------------------------------------------------------


def test_a_plait_app_with_and_without_the_lifespan() -> None:
    app = plait_app()
    with TestClient(app) as client, client.websocket_connect("/echo") as ws:
        ws.send_text("inside")
        assert ws.receive_text() == "inside"
    with TestClient(app).websocket_connect("/echo") as ws:
        ws.send_text("outside")
        assert ws.receive_text() == "outside"


def test_dependency_overrides_apply_to_websockets() -> None:
    app = plait_app()
    overrides = {get_name: lambda: "fake"}
    with TestClient(app, dependency_overrides=overrides) as client, client.websocket_connect("/name") as ws:
        assert ws.receive_text() == "fake"
    assert app.dependency_overrides == {}
    with TestClient(app) as client, client.websocket_connect("/name") as ws:
        assert ws.receive_text() == "real"


# -- async -----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_sessions_inside_and_outside_the_client_block() -> None:
    app = plait_app()
    async with AsyncTestClient(app) as client, client.websocket_connect("/echo") as ws:
        assert isinstance(ws, AsyncWebSocketTestSession)
        await ws.send_json({"n": 1})
        assert await ws.receive_json() == {"n": 1}
        await ws.send_text("more")
        assert await ws.receive_text() == "more"
    client = AsyncTestClient(app, dependency_overrides={get_name: lambda: "fake"})
    async with client.websocket_connect("/name") as ws:
        assert ws.accepted_subprotocol is None
        assert await ws.receive_text() == "fake"


@pytest.mark.anyio
async def test_async_sessions_send_bytes_receive_raw_and_close_with_a_code() -> None:
    seen: list[Message] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await accept(receive, send, subprotocol="v1")
        message = await receive()
        await send({"type": "websocket.send", "bytes": message["bytes"] * 2})
        seen.append(await receive())

    async with AsyncTestClient(raw(handler)) as client, client.websocket_connect("/", subprotocols=["v1"]) as ws:
        assert ws.accepted_subprotocol == "v1"
        await ws.send_bytes(b"ab")
        assert await ws.receive_bytes() == b"abab"
        await ws.close(4002, "done")
        with pytest.raises(RuntimeError, match="session is closed"):
            await ws.send_text("after the close")
    assert seen == [{"type": "websocket.disconnect", "code": 4002, "reason": "done"}]


@pytest.mark.anyio
async def test_async_denials_and_errors_are_raised_on_entering() -> None:
    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": 1008, "reason": "no"})

    async with AsyncTestClient(raw(refuse)) as client:
        with pytest.raises(WebSocketDenied) as caught:
            async with client.websocket_connect("/"):
                pass  # pragma: no cover
    assert (caught.value.code, caught.value.reason) == (1008, "no")
    with pytest.raises(ValueError, match="no handshake today"):
        async with AsyncTestClient(raw(fail_before_accept)).websocket_connect("/"):
            pass  # pragma: no cover
