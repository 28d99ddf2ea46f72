"""The Request object: scope accessors, body reading and its limits, JSON and forms."""

from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from plait.app import Plait
from plait.datastructures import URL, Address, FormData, State, UploadFile
from plait.exceptions import ClientDisconnect, HTTPException
from plait.requests import Request
from plait.settings import Settings
from tests.test_di.helpers import Receiver, call, http_scope


def app_with(**settings: Any) -> SimpleNamespace:
    """Something that stands in for the app in ``scope["app"]``: only its settings are read."""
    return SimpleNamespace(settings=Settings(**settings))


def read(request: Request) -> bytes:
    return anyio.run(request.body)


def stream(request: Request) -> list[bytes]:
    async def go() -> list[bytes]:
        return [chunk async for chunk in request.stream()]

    return anyio.run(go)


def status_of(exc: pytest.ExceptionInfo[HTTPException]) -> int:
    return exc.value.status_code


# -- scope accessors --------------------------------------------------------------------------------


def test_scope_accessors() -> None:
    scope = http_scope(
        "POST",
        "/items/7",
        query=b"a=1&a=2&b=x",
        headers=[
            (b"host", b"example.com:8080"),
            (b"content-type", b"application/json; charset=utf-8"),
            (b"cookie", b"session=abc; theme=dark"),
            (b"x-multi", b"1"),
            (b"x-multi", b"2"),
        ],
        path_params={"id": 7},
    )
    request = Request(scope)
    assert request.scope is scope
    assert request.method == "POST"
    assert request.path == "/items/7"
    assert request.url == URL("http", "example.com:8080", "/items/7", "a=1&a=2&b=x")
    assert str(request.url) == "http://example.com:8080/items/7?a=1&a=2&b=x"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers.getlist("x-multi") == ["1", "2"]
    assert request.headers is request.headers
    assert request.query_params.getlist("a") == ["1", "2"]
    assert request.query_params["b"] == "x"
    assert request.query_params is request.query_params
    assert request.path_params == {"id": 7}
    assert request.cookies == {"session": "abc", "theme": "dark"}
    assert request.cookies is request.cookies
    assert request.client == Address("127.0.0.1", 5000)
    assert request.content_type == "application/json; charset=utf-8"
    assert repr(request) == "<Request POST /items/7>"


def test_accessors_on_a_bare_scope() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    assert request.query_params == {}
    assert request.path_params == {}
    assert request.cookies == {}
    assert request.client is None
    assert request.content_type == ""
    assert str(request.url) == "http://testserver/"


def test_state_is_stored_in_the_scope_and_shared() -> None:
    scope = http_scope()
    first = Request(scope)
    assert isinstance(first.state, State)
    first.state.user = "ann"
    assert first.state is first.state
    assert Request(scope).state.user == "ann"
    assert scope["plait.request_state"] is first.state


def test_app_and_settings_come_from_the_scope() -> None:
    app = Plait(settings=Settings(max_body_size=5))
    request = Request(http_scope(app=app))
    assert request.app is app
    assert request.settings.max_body_size == 5
    assert Request(http_scope()).settings == Settings()


# -- the body ---------------------------------------------------------------------------------------


def test_body_joins_chunks_and_is_cached() -> None:
    receive = Receiver.body(b"hel", b"", b"lo")
    request = Request(http_scope("POST"), receive)
    assert read(request) == b"hello"
    calls = receive.calls
    assert calls == 3
    assert read(request) == b"hello"
    assert receive.calls == calls
    assert stream(request) == [b"hello"]


def test_stream_yields_chunks_as_they_arrive_and_skips_empty_ones() -> None:
    request = Request(http_scope("POST"), Receiver.body(b"a", b"", b"b"))
    assert stream(request) == [b"a", b"b"]


def test_message_without_body_key_counts_as_empty() -> None:
    request = Request(http_scope("POST"), Receiver({"type": "http.request"}))
    assert read(request) == b""


def test_streaming_twice_is_refused() -> None:
    request = Request(http_scope("POST"), Receiver.body(b"abc"))
    assert stream(request) == [b"abc"]
    with pytest.raises(RuntimeError, match=r"already consumed .* call body\(\) first"):
        stream(request)
    with pytest.raises(RuntimeError, match="already consumed"):
        read(request)


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    receive = Receiver.body(b"x" * 20)
    scope = http_scope("POST", headers=[(b"content-length", b"20")], app=app_with(max_body_size=10))
    with pytest.raises(HTTPException) as info:
        read(Request(scope, receive))
    assert status_of(info) == 413
    assert "larger than 10 bytes" in info.value.detail
    assert "Settings.max_body_size" in info.value.detail
    assert receive.calls == 0


def test_streamed_body_over_the_limit_is_refused() -> None:
    receive = Receiver.body(b"x" * 6, b"x" * 6, b"x" * 6)
    scope = http_scope("POST", app=app_with(max_body_size=10))
    with pytest.raises(HTTPException) as info:
        read(Request(scope, receive))
    assert status_of(info) == 413
    assert receive.calls == 2


def test_body_of_exactly_the_limit_is_accepted() -> None:
    scope = http_scope("POST", headers=[(b"content-length", b"10")], app=app_with(max_body_size=10))
    assert read(Request(scope, Receiver.body(b"x" * 4, b"y" * 6))) == b"xxxxyyyyyy"


def test_body_longer_than_its_declared_length_still_hits_the_limit() -> None:
    scope = http_scope("POST", headers=[(b"content-length", b"2")], app=app_with(max_body_size=10))
    with pytest.raises(HTTPException) as info:
        read(Request(scope, Receiver.body(b"x" * 11)))
    assert status_of(info) == 413


@pytest.mark.parametrize("value", [b"ten", b"-1", b"1.5", b"", b"\xb2", b"\xb9\xb3"])
def test_content_length_that_is_not_a_whole_number_is_a_400(value: bytes) -> None:
    receive = Receiver.body(b"ab")
    scope = http_scope("POST", headers=[(b"content-length", value)])
    with pytest.raises(HTTPException) as info:
        read(Request(scope, receive))
    assert status_of(info) == 400
    assert info.value.detail == "The Content-Length header must be a whole number of bytes."
    assert receive.calls == 0


def test_client_disconnect_while_reading() -> None:
    receive = Receiver({"type": "http.request", "body": b"part", "more_body": True}, {"type": "http.disconnect"})
    with pytest.raises(ClientDisconnect, match="disconnected while sending its body"):
        read(Request(http_scope("POST"), receive))


def test_request_without_a_receive_channel() -> None:
    with pytest.raises(RuntimeError, match="no body channel"):
        read(Request(http_scope("POST")))


# -- JSON -------------------------------------------------------------------------------------------


def json_of(body: bytes, **settings: Any) -> Any:
    request = Request(http_scope("POST", app=app_with(**settings)), Receiver.body(body))
    return anyio.run(request.json)


def test_json_decodes_into_builtins() -> None:
    assert json_of(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize("body", [b"[1", b"", b"{'a': 1}", b"\xff"])
def test_malformed_json_is_a_400(body: bytes) -> None:
    with pytest.raises(HTTPException) as info:
        json_of(body)
    assert status_of(info) == 400
    assert info.value.detail == "The request body is not valid JSON."


def test_json_deeper_than_the_limit_is_a_400() -> None:
    assert json_of(b"[[[1]]]", max_json_depth=3) == [[[1]]]
    with pytest.raises(HTTPException) as info:
        json_of(b"[[[[1]]]]", max_json_depth=3)
    assert status_of(info) == 400
    assert "nested more than 3 levels deep" in info.value.detail


def test_json_through_an_app() -> None:
    app = Plait(settings=Settings(max_body_size=32, max_json_depth=2))

    @app.post("/")
    async def echo(request: Request) -> Any:
        return await request.json()

    assert call(app, "POST", "/", json={"a": [1]}).json() == {"a": [1]}
    bad = call(app, "POST", "/", content=b"{oops")
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert call(app, "POST", "/", content=b"[[[1]]]").status_code == 400
    assert call(app, "POST", "/", json=["x" * 40]).status_code == 413
    assert call(app, "POST", "/", content=b"1", headers={"content-length": "abc"}).status_code == 400


# -- forms ------------------------------------------------------------------------------------------


def test_urlencoded_form_is_parsed_and_cached() -> None:
    receive = Receiver.body(b"a=1&a=2&b=x%20y")
    scope = http_scope("POST", headers=[(b"content-type", b"application/x-www-form-urlencoded")])
    request = Request(scope, receive)

    async def go() -> tuple[FormData, FormData]:
        return await request.form(), await request.form()

    first, second = anyio.run(go)
    assert first is second
    assert first.getlist("a") == ["1", "2"]
    assert first["b"] == "x y"


def test_form_can_follow_body() -> None:
    scope = http_scope("POST", headers=[(b"content-type", b"application/x-www-form-urlencoded")])
    request = Request(scope, Receiver.body(b"a=1"))

    async def go() -> FormData:
        assert await request.body() == b"a=1"
        return await request.form()

    assert anyio.run(go)["a"] == "1"


MULTIPART = (
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="title"\r\n\r\n'
    b"notes\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="doc"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"hello file\r\n"
    b"--XyZ--\r\n"
)


def test_multipart_upload_and_close_closes_the_files() -> None:
    scope = http_scope("POST", headers=[(b"content-type", b"multipart/form-data; boundary=XyZ")])
    request = Request(scope, Receiver.body(MULTIPART[:40], MULTIPART[40:]))

    async def go() -> tuple[str, bytes, UploadFile]:
        form = await request.form()
        upload = form["doc"]
        assert isinstance(upload, UploadFile)
        content = await upload.read()
        await request.close()
        return str(form["title"]), content, upload

    title, content, upload = anyio.run(go)
    assert (title, content) == ("notes", b"hello file")
    assert upload.filename == "a.txt"
    assert upload.content_type == "text/plain"
    assert upload.file.closed


def test_close_without_a_form_does_nothing() -> None:
    request = Request(http_scope(), Receiver.body(b"x"))
    anyio.run(request.close)
    assert read(request) == b"x"


def test_form_with_the_wrong_content_type_is_refused() -> None:
    scope = http_scope("POST", headers=[(b"content-type", b"application/json")])
    request = Request(scope, Receiver.body(b"{}"))
    with pytest.raises(HTTPException) as info:
        anyio.run(request.form)
    assert status_of(info) == 415


def test_form_limits_come_from_settings() -> None:
    scope = http_scope(
        "POST",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
        app=app_with(max_form_fields=2),
    )
    request = Request(scope, Receiver.body(b"a=1&b=2&c=3"))
    with pytest.raises(HTTPException) as info:
        anyio.run(request.form)
    assert status_of(info) == 413


def test_empty_body_without_a_content_type_is_an_empty_form() -> None:
    request = Request(http_scope("POST"), Receiver.body())
    form = anyio.run(request.form)
    assert isinstance(form, FormData)
    assert len(form) == 0


def test_body_without_a_content_type_is_not_a_form() -> None:
    request = Request(http_scope("POST"), Receiver.body(b"a=1"))
    with pytest.raises(HTTPException) as info:
        anyio.run(request.form)
    assert status_of(info) == 415


def test_body_of_several_messages_past_the_limit_is_413() -> None:
    scope = http_scope("POST")
    scope["app"] = app_with(max_body_size=5)
    request = Request(scope, Receiver.body(b"abc", b"def"))
    with pytest.raises(HTTPException) as caught:
        read(request)
    assert caught.value.status_code == 413


def test_single_message_body_past_the_limit_is_413() -> None:
    scope = http_scope("POST")
    scope["app"] = app_with(max_body_size=5)
    with pytest.raises(HTTPException) as caught:
        read(Request(scope, Receiver.body(b"abcdefgh")))
    assert caught.value.status_code == 413


def test_disconnect_before_any_body_is_client_disconnect() -> None:
    request = Request(http_scope("POST"), Receiver({"type": "http.disconnect"}))
    with pytest.raises(ClientDisconnect):
        read(request)


def test_disconnect_after_the_first_chunk_is_client_disconnect() -> None:
    receive = Receiver({"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"})
    with pytest.raises(ClientDisconnect):
        read(Request(http_scope("POST"), receive))


def test_body_after_stream_reuses_nothing_and_says_so() -> None:
    request = Request(http_scope("POST"), Receiver.body(b"abc"))
    assert stream(request) == [b"abc"]
    with pytest.raises(RuntimeError, match="already consumed"):
        read(request)
