"""The Request object: scope accessors, body reading and its limits, JSON and forms."""

import logging
from types import SimpleNamespace
from typing import Annotated, Any

import anyio
import pytest

from plait import File, formparsers
from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.app import Plait
from plait.datastructures import URL, Address, FormData, State, UploadFile
from plait.exceptions import ClientDisconnect, HTTPException
from plait.requests import Request, RequestLimits
from plait.routing.stack import Middleware
from plait.settings import Settings
from tests.test_di.helpers import Receiver, Recorder, call, http_scope


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


JSON_TYPE = [(b"content-type", b"application/json")]


def json_of(body: bytes, **settings: Any) -> Any:
    request = Request(http_scope("POST", headers=JSON_TYPE, app=app_with(**settings)), Receiver.body(body))
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
    json_type = {"content-type": "application/json"}
    bad = call(app, "POST", "/", content=b"{oops", headers=json_type)
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert call(app, "POST", "/", content=b"[[[1]]]", headers=json_type).status_code == 400
    assert call(app, "POST", "/", json=["x" * 40]).status_code == 413
    assert call(app, "POST", "/", content=b"1", headers={**json_type, "content-length": "abc"}).status_code == 400


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


# -- JSON content type ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x"]
)
def test_json_needs_a_json_content_type(content_type: bytes | None) -> None:
    headers = [] if content_type is None else [(b"content-type", content_type)]
    receive = Receiver.body(b'{"a": 1}')
    request = Request(http_scope("POST", headers=headers, app=app_with()), receive)
    with pytest.raises(HTTPException) as info:
        anyio.run(request.json)
    assert status_of(info) == 415
    assert "strict_content_type=False" in info.value.detail
    assert receive.calls == 0  # refused before the body is read


@pytest.mark.parametrize("content_type", [b"application/json; charset=utf-8", b"application/merge-patch+json"])
def test_json_accepts_json_and_plus_json_types(content_type: bytes) -> None:
    request = Request(http_scope("POST", headers=[(b"content-type", content_type)]), Receiver.body(b"[1]"))
    assert anyio.run(request.json) == [1]


def test_json_content_type_check_can_be_turned_off() -> None:
    app = Plait()

    @app.post("/beacon")
    async def beacon(request: Request) -> Any:
        return await request.json(strict_content_type=False)

    @app.post("/strict")
    async def strict(request: Request) -> Any:
        return await request.json()

    text = {"content-type": "text/plain"}
    assert call(app, "POST", "/beacon", content=b'{"page": "/"}', headers=text).json() == {"page": "/"}
    refused = call(app, "POST", "/strict", content=b'{"page": "/"}', headers=text)
    assert refused.status_code == 415
    assert refused.headers["content-type"] == "application/problem+json"


# -- query limits -----------------------------------------------------------------------------------


def query_of(query: bytes, **settings: Any) -> dict[str, str]:
    return dict(Request(http_scope(query=query, app=app_with(**settings))).query_params)


def test_query_params_up_to_the_limit_are_read() -> None:
    query = b"&".join(b"p%d=1" % i for i in range(5))
    assert len(query_of(query + b"&&&", max_query_params=5)) == 5  # empty pieces are not parameters


def test_more_query_params_than_the_limit_is_a_400() -> None:
    with pytest.raises(HTTPException) as info:
        query_of(b"&".join(b"p%d=1" % i for i in range(6)), max_query_params=5)
    assert status_of(info) == 400
    assert "more than 5 parameters" in info.value.detail
    assert "Settings.max_query_params" in info.value.detail


def test_default_query_param_limit_is_1000() -> None:
    assert Settings().max_query_params == 1000
    assert len(query_of(b"&".join(b"p%d" % i for i in range(1000)))) == 1000
    with pytest.raises(HTTPException):
        query_of(b"&".join(b"p%d" % i for i in range(1001)))


@pytest.mark.parametrize(
    ("query", "named"), [(b"name=%FF", "'name'"), (b"%C3%28=1", "'%C3%28'"), (b"ok=1&x=caf%E9", "'x'")]
)
def test_query_escapes_that_are_not_utf8_are_a_400_naming_the_parameter(query: bytes, named: str) -> None:
    with pytest.raises(HTTPException) as info:
        query_of(query)
    assert status_of(info) == 400
    assert named in info.value.detail
    assert "not valid UTF-8" in info.value.detail


def test_raw_query_bytes_that_are_not_utf8_are_a_400() -> None:
    assert query_of("q=café".encode()) == {"q": "café"}
    with pytest.raises(HTTPException) as info:
        query_of(b"q=caf\xe9")
    assert status_of(info) == 400
    assert "query string" in info.value.detail


def test_a_real_replacement_character_in_the_query_is_kept() -> None:
    assert query_of(b"q=%EF%BF%BD") == {"q": "\ufffd"}


# -- checks on every request: header size, query string size, path encoding -------------------------


def limits_app(**settings: Any) -> Plait:
    app = Plait(settings=Settings(**settings))

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.get("/files/{name}")
    def file(name: str) -> str:
        return name

    return app


def test_headers_over_the_limit_are_a_431() -> None:
    app = limits_app(max_header_size=400)
    assert call(app, "GET", "/", headers={"x-pad": "a" * 100}).status_code == 200
    response = call(app, "GET", "/", headers={"x-pad": "a" * 400})
    assert response.status_code == 431
    assert "Settings.max_header_size" in response.json()["detail"]


def test_header_size_counts_names_and_values() -> None:
    limits = RequestLimits(Settings(max_header_size=10))
    limits.check(http_scope(headers=[(b"abcde", b"12345")]))
    with pytest.raises(HTTPException) as info:
        limits.check(http_scope(headers=[(b"abcde", b"123456")]))
    assert status_of(info) == 431


def test_query_string_over_the_limit_is_a_414_on_any_route() -> None:
    app = limits_app(max_query_string_size=50)
    assert call(app, "GET", "/?q=" + "a" * 48).status_code == 200
    response = call(app, "GET", "/?q=" + "a" * 49)
    assert response.status_code == 414
    assert "Settings.max_query_string_size" in response.json()["detail"]
    assert call(app, "GET", "/files/x?q=" + "a" * 49).status_code == 414


def test_limits_also_hold_behind_app_middleware() -> None:
    seen: list[int] = []

    class Watch:
        """Sees every response status, so the refusal is shown to be answered inside the middleware."""

        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def watched(message: Message) -> None:
                if message["type"] == "http.response.start":
                    seen.append(message["status"])
                await send(message)

            await self.app(scope, receive, watched)

    app = Plait(settings=Settings(max_header_size=400), middleware=[Middleware(Watch)])

    @app.get("/")
    def index() -> str:
        return "ok"

    assert call(app, "GET", "/").status_code == 200
    assert call(app, "GET", "/", headers={"x-pad": "a" * 400}).status_code == 431
    assert seen == [200, 431]


def test_path_escapes_that_are_not_utf8_are_a_400() -> None:
    app = limits_app()
    response = call(app, "GET", "/files/a%FFb")
    assert response.status_code == 400
    assert "request path" in response.json()["detail"]
    assert call(app, "GET", "/files/caf%C3%A9").text == "café"
    assert call(app, "GET", "/files/a%EF%BF%BDb").text == "a\ufffdb"  # a replacement character really sent


def test_path_check_needs_the_raw_path() -> None:
    limits = RequestLimits(Settings())
    limits.check(http_scope(path="/a\ufffd"))  # no raw_path: nothing to compare with, so accepted
    with pytest.raises(HTTPException) as info:
        limits.check(http_scope(path="/a\ufffd", raw_path=b"/a%FF"))
    assert status_of(info) == 400


def test_routes_that_read_no_query_ignore_a_bad_one() -> None:
    app = limits_app()
    assert call(app, "GET", "/?q=%FF").status_code == 200
    assert call(app, "GET", "/files/x?" + "&".join(["a=1"] * 1001)).status_code == 200


# -- cookies ----------------------------------------------------------------------------------------


def test_a_cookie_with_invalid_bytes_is_skipped_and_the_others_read() -> None:
    cookie = "bad=%FF; good=1; raw=caf\xe9; utf8=caf\xc3\xa9".encode("latin-1")
    request = Request(http_scope(headers=[(b"cookie", cookie)]))
    assert request.cookies == {"good": "1", "utf8": "café"}


# -- clients that leave mid-body --------------------------------------------------------------------


def disconnect_app(ran: list[str]) -> Plait:
    app = Plait(exception_handlers={Exception: lambda request, exc: ran.append("catch-all")})

    @app.post("/json")
    def take_json(data: dict[str, int]) -> str:
        ran.append("json")
        return "ok"

    @app.post("/upload")
    def take_upload(upload: Annotated[UploadFile, File()]) -> str:
        ran.append("upload")
        return "ok"

    @app.post("/raw")
    async def raw(request: Request) -> Any:
        ran.append("raw")
        return await request.json()

    return app


def send_partial(app: ASGIApp, path: str, content_type: bytes, partial: bytes) -> Recorder:
    scope = http_scope("POST", path, headers=[(b"content-type", content_type)])
    receive = Receiver({"type": "http.request", "body": partial, "more_body": True})  # then http.disconnect
    sent = Recorder()
    anyio.run(app, scope, receive, sent)
    return sent


MULTIPART_HEAD = b'--xyz\r\nContent-Disposition: form-data; name="upload"; filename="a.bin"\r\n\r\n' + b"x" * 5000


@pytest.mark.parametrize(
    ("path", "content_type", "partial"),
    [
        ("/json", b"application/json", b'{"a": 1, "b"'),
        ("/upload", b"multipart/form-data; boundary=xyz", MULTIPART_HEAD),
        ("/raw", b"application/json", b"[1, 2"),
    ],
)
def test_a_client_leaving_mid_body_gets_no_answer_and_logs_one_debug_line(
    path: str, content_type: bytes, partial: bytes, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads: list[UploadFile] = []

    class Recorded(UploadFile):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            uploads.append(self)

    monkeypatch.setattr(formparsers, "UploadFile", Recorded)
    ran: list[str] = []
    caplog.set_level(logging.DEBUG, logger="plait")
    sent = send_partial(disconnect_app(ran), path, content_type, partial)
    assert sent.messages == []  # nobody to answer: no 500 is sent or logged
    assert ran == (["raw"] if path == "/raw" else [])  # typed bodies: the handler never runs
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "disconnected while sending its request body: POST " + path in caplog.text
    assert all(upload.file.closed for upload in uploads)
    assert len(uploads) == (1 if path == "/upload" else 0)


def test_a_middleware_reading_the_body_of_a_client_that_left_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    class ReadsBody:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await Request(scope, receive).body()
            await self.app(scope, receive, send)

    app = Plait(middleware=[Middleware(ReadsBody)])

    @app.post("/")
    def index() -> str:
        return "ok"

    caplog.set_level(logging.DEBUG, logger="plait")
    assert send_partial(app, "/", b"text/plain", b"abc").messages == []
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
