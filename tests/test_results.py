"""Shaping results: response_class, Flask tuples, the response parameter, generator handlers."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import anyio
import msgspec
import pytest

from plait import (
    Depends,
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Plait,
    RedirectResponse,
    Request,
    Response,
    Settings,
    StreamingResponse,
)
from plait._types import Message
from plait.di.plan import Dependency
from plait.endpoint import Endpoint
from plait.results import compile_result, documented_type
from tests.support import call


def make_app() -> Plait:
    return Plait(settings=Settings())


class Item(msgspec.Struct):
    n: int


# -- response_class ---------------------------------------------------------------------------------


def test_a_str_returned_to_a_redirect_route_is_its_target() -> None:
    app = make_app()

    @app.get("/old", response_class=RedirectResponse)
    def old() -> str:
        return "/new"

    @app.get("/moved", response_class=RedirectResponse, status_code=301)
    async def moved() -> str:
        return "https://example.com/"

    response = call(app, "GET", "/old", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/new")
    response = call(app, "GET", "/moved", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (301, "https://example.com/")


def test_html_and_text_classes_wrap_a_string() -> None:
    app = make_app()

    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return "<h1>Hi</h1>"

    @app.get("/txt", response_class=PlainTextResponse, status_code=202)
    def txt() -> str:
        return "ok"

    page_response = call(app, "GET", "/page")
    assert page_response.headers["content-type"] == "text/html; charset=utf-8"
    assert page_response.text == "<h1>Hi</h1>"
    txt_response = call(app, "GET", "/txt")
    assert (txt_response.status_code, txt_response.text) == (202, "ok")


def test_a_file_class_takes_a_path(tmp_path: Path) -> None:
    app = make_app()
    (tmp_path / "notes.txt").write_text("hello file")

    @app.get("/notes", response_class=FileResponse)
    def notes() -> str:
        return str(tmp_path / "notes.txt")

    response = call(app, "GET", "/notes")
    assert response.status_code == 200
    assert response.text == "hello file"


class Compact(JSONResponse):
    media_type = "application/vnd.compact+json"


def test_json_classes_encode_the_result() -> None:
    app = make_app()

    @app.get("/j", response_class=JSONResponse, status_code=201)
    def j() -> Item:
        return Item(1)

    @app.get("/c", response_class=Compact, response_model=Item)
    def c() -> Any:
        return {"n": 2, "hidden": True}

    response = call(app, "GET", "/j")
    assert (response.status_code, response.json(), response.headers["content-type"]) == (
        201,
        {"n": 1},
        "application/json",
    )
    response = call(app, "GET", "/c")
    assert (response.json(), response.headers["content-type"]) == ({"n": 2}, "application/vnd.compact+json")


def test_an_event_stream_class_streams_a_generator() -> None:
    app = make_app()

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterator[dict[str, Any]]:
        yield {"data": "one"}
        yield {"data": "two", "event": "tick"}

    response = call(app, "GET", "/events")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == "data: one\n\nevent: tick\ndata: two\n\n"


def test_a_streaming_class_with_an_iterable_result() -> None:
    app = make_app()

    @app.get("/s", response_class=StreamingResponse)
    def s() -> list[str]:
        return ["a", "b"]

    assert call(app, "GET", "/s").text == "ab"


def test_a_handler_returning_its_own_response_still_works() -> None:
    app = make_app()

    @app.get("/r")
    def r() -> RedirectResponse:
        return RedirectResponse("/there", status_code=303)

    @app.get("/plain")
    async def plain() -> Response:
        return Response(b"raw", media_type="text/plain")

    @app.get("/cls", response_class=HTMLResponse)
    def cls() -> Response:
        return PlainTextResponse("explicit wins")

    response = call(app, "GET", "/r", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/there")
    assert call(app, "GET", "/plain").text == "raw"
    assert call(app, "GET", "/cls").headers["content-type"] == "text/plain; charset=utf-8"


def test_a_no_content_status_sends_no_body() -> None:
    app = make_app()

    @app.delete("/x", status_code=204, response_model=None)
    def delete() -> None:
        return None

    response = call(app, "DELETE", "/x")
    assert (response.status_code, response.content) == (204, b"")


# -- Flask tuples -----------------------------------------------------------------------------------


def test_flask_tuples_set_status_and_headers() -> None:
    app = make_app()

    @app.post("/a")
    def a():  # type: ignore[no-untyped-def]  # an unannotated Flask habit
        return {"created": True}, 201

    @app.get("/b")
    async def b() -> Any:
        return "text", 202, {"X-One": "1"}

    @app.get("/c")
    def c() -> tuple[Item, int, list[tuple[str, str]]]:
        return Item(3), 200, [("X-Two", "2")]

    @app.get("/d")
    def d() -> Any:
        return {"only": "headers"}, {"X-Three": "3"}

    response = call(app, "POST", "/a")
    assert (response.status_code, response.json()) == (201, {"created": True})
    response = call(app, "GET", "/b")
    assert (response.status_code, response.text, response.headers["x-one"]) == (202, "text", "1")
    response = call(app, "GET", "/c")
    assert (response.json(), response.headers["x-two"]) == ({"n": 3}, "2")
    response = call(app, "GET", "/d")
    assert (response.status_code, response.headers["x-three"]) == (200, "3")


def test_a_tuple_around_a_response_overrides_its_status() -> None:
    app = make_app()

    @app.get("/r")
    def r(q: str = "") -> Any:
        return PlainTextResponse("gone"), 410

    response = call(app, "GET", "/r")
    assert (response.status_code, response.text) == (410, "gone")


def test_other_tuples_stay_json_arrays() -> None:
    app = make_app()

    @app.get("/pair")
    def pair() -> tuple[int, int]:
        return (1, 2)

    @app.get("/loose")
    def loose() -> Any:
        return (1, 2)  # 2 is no HTTP status: a value, as FastAPI users expect

    @app.get("/three")
    def three():  # type: ignore[no-untyped-def]
        return ("a", "b", "c")

    @app.get("/dicts")
    def dicts() -> Any:
        return {"a": 1}, {"b": 2}  # {"b": 2} is no header mapping (its value is not a str)

    assert call(app, "GET", "/dicts").json() == [{"a": 1}, {"b": 2}]
    assert call(app, "GET", "/pair").json() == [1, 2]
    assert call(app, "GET", "/loose").json() == [1, 2]
    assert call(app, "GET", "/three").json() == ["a", "b", "c"]


def test_an_annotated_flask_tuple_of_the_wrong_shape_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.get("/bad")
    def bad_shape() -> tuple[str, int]:
        return ("x", "y")  # type: ignore[return-value]

    assert call(app, "GET", "/bad", raise_app_exceptions=False).status_code == 500
    assert "bad_shape returned a tuple of 2 items" in caplog.text


def test_tuples_cost_nothing_when_the_annotation_excludes_them() -> None:
    app = make_app()

    async def typed() -> dict[str, str]:
        return {}

    async def untyped():  # type: ignore[no-untyped-def]
        return {}

    async def optional() -> dict[str, str] | None:
        return None

    compiler = app.container.compiler
    for fn, tuples in [(typed, False), (untyped, True), (optional, False)]:
        plan = compiler.compile(fn)
        spec = compile_result(plan, {}, [])
        assert spec.tuples is tuples
        assert spec.shaper is None or tuples
        endpoint = Endpoint(plan, [], app.container, app_table(), result=spec)
        assert endpoint.special == ((Response, tuple) if tuples else Response)
        assert endpoint.asgi == endpoint._no_args  # the fast path is kept either way
        assert Endpoint(plan, [], app.container, app_table()).special == endpoint.special  # compiled on its own


def app_table() -> Any:
    from plait.errors import HandlerTable

    return HandlerTable([{}])


# -- the response parameter -------------------------------------------------------------------------


def test_the_response_parameter_sets_cookies_headers_and_status() -> None:
    app = make_app()

    @app.post("/login")
    def login(response: Response) -> dict[str, bool]:
        response.set_cookie("session", "abc")
        response.headers["X-Trace"] = "t1"
        response.status_code = 201
        return {"ok": True}

    response = call(app, "POST", "/login")
    assert (response.status_code, response.json()) == (201, {"ok": True})
    assert response.headers["x-trace"] == "t1"
    assert response.cookies["session"] == "abc"
    assert response.headers["content-type"] == "application/json"


def test_a_provider_shares_the_response_parameter() -> None:
    app = make_app()

    def stamp(response: Response) -> None:
        response.headers["X-Stamped"] = "yes"

    @app.get("/s", dependencies=[Depends(stamp)])
    async def s(response: Response) -> str:
        response.set_cookie("seen", "1")
        return "hi"

    @app.get("/guarded", dependencies=[Depends(stamp)])
    async def guarded() -> dict[str, int]:
        return {"n": 1}

    response = call(app, "GET", "/s")
    assert (response.text, response.headers["x-stamped"], response.cookies["seen"]) == ("hi", "yes", "1")
    assert call(app, "GET", "/guarded").headers["x-stamped"] == "yes"


def test_the_response_parameter_with_a_returned_response() -> None:
    app = make_app()

    @app.get("/go")
    def go(response: Response) -> RedirectResponse:
        response.set_cookie("flash", "saved")
        response.headers["location"] = "/ignored"  # the returned response's own headers win
        response.headers["X-Extra"] = "kept"
        response.status_code = 200  # and so does its status
        return RedirectResponse("/done", status_code=303)

    response = call(app, "GET", "/go", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/done")
    assert (response.cookies["flash"], response.headers["x-extra"]) == ("saved", "kept")


def test_a_tuple_status_beats_the_response_parameter() -> None:
    app = make_app()

    @app.get("/t")
    def t(response: Response) -> Any:
        response.status_code = 202
        response.headers["X-P"] = "p"
        return {"a": 1}, 409

    response = call(app, "GET", "/t")
    assert (response.status_code, response.headers["x-p"]) == (409, "p")


def test_an_untouched_response_parameter_changes_nothing() -> None:
    app = make_app()

    @app.get("/u", status_code=202)
    def u(response: Response) -> dict[str, int]:
        assert response.status_code == 0  # "not set"
        return {"a": 1}

    response = call(app, "GET", "/u")
    assert (response.status_code, response.json(), response.headers["content-length"]) == (202, {"a": 1}, "7")


# -- generator handlers -----------------------------------------------------------------------------


def test_a_generator_of_objects_streams_json_lines() -> None:
    app = make_app()
    threads: list[str] = []

    @app.get("/items")
    def items() -> Iterator[Item]:
        threads.append(threading.current_thread().name)
        for n in range(3):
            yield Item(n)

    response = call(app, "GET", "/items")
    assert response.headers["content-type"] == "application/jsonl"
    assert "content-length" not in response.headers
    assert [json.loads(line) for line in response.text.splitlines()] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert threads != [threading.main_thread().name]  # a sync generator runs in a worker thread


def test_an_async_generator_of_text_streams_text() -> None:
    app = make_app()

    @app.get("/words")
    async def words() -> AsyncIterator[str]:
        yield "hello "
        yield "world"

    response = call(app, "GET", "/words")
    assert (response.headers["content-type"], response.text) == ("text/plain; charset=utf-8", "hello world")


def test_an_unannotated_generator_is_judged_by_its_first_item() -> None:
    app = make_app()

    @app.get("/objs")
    async def objs():  # type: ignore[no-untyped-def]
        yield {"a": 1}
        yield [2]

    @app.get("/text")
    def text():  # type: ignore[no-untyped-def]
        yield b"raw "
        yield "text"

    @app.get("/empty")
    def empty():  # type: ignore[no-untyped-def]
        yield from ()

    @app.get("/async-empty")
    async def async_empty() -> AsyncIterator[str]:
        nothing: tuple[str, ...] = ()
        for item in nothing:
            yield item

    response = call(app, "GET", "/objs")
    assert (response.headers["content-type"], response.text) == ("application/jsonl", '{"a":1}\n[2]\n')
    response = call(app, "GET", "/text")
    assert (response.headers["content-type"], response.text) == ("text/plain; charset=utf-8", "raw text")
    response = call(app, "GET", "/empty")
    assert (response.headers["content-type"], response.text) == ("application/jsonl", "")
    response = call(app, "GET", "/async-empty")
    assert (response.headers["content-type"], response.text) == ("text/plain; charset=utf-8", "")


def test_a_generator_error_before_the_first_item_is_a_proper_error() -> None:
    app = make_app()

    @app.get("/missing/{id}")
    async def missing(id: int) -> AsyncIterator[str]:
        if id:
            raise HTTPException(404, "no such thing")
        yield "found"

    @app.get("/sync-missing")
    def sync_missing(q: str = "") -> Iterator[Item]:
        if not q:
            raise HTTPException(404, "none here")
        yield Item(0)

    assert call(app, "GET", "/missing/1").status_code == 404
    assert call(app, "GET", "/missing/0").text == "found"
    assert call(app, "GET", "/sync-missing").status_code == 404


def test_a_generator_route_with_a_declared_media_type_and_model() -> None:
    app = make_app()

    @app.get("/csv", response_class=PlainTextResponse, status_code=201)
    async def csv() -> AsyncIterator[str]:
        yield "a,b\n"
        yield "1,2\n"

    @app.get("/filtered", response_model=Item)
    def filtered() -> Iterator[dict[str, int]]:
        yield {"n": 1, "secret": 2}

    response = call(app, "GET", "/csv")
    assert (response.status_code, response.headers["content-type"]) == (201, "text/plain; charset=utf-8")
    assert response.text == "a,b\n1,2\n"
    assert call(app, "GET", "/filtered").text == '{"n":1}\n'


EVENTS: list[str] = []


async def resource() -> AsyncIterator[str]:
    EVENTS.append("open")
    yield "db"
    EVENTS.append("close")


def test_a_generator_keeps_its_providers_open_while_it_streams() -> None:
    app = make_app()
    events = EVENTS
    events.clear()

    @app.get("/stream")
    async def stream(db: Annotated[str, Depends(resource)]) -> AsyncIterator[str]:
        for n in range(2):
            events.append(f"item {n} via {db}")
            yield str(n)

    assert call(app, "GET", "/stream").text == "01"
    assert events == ["open", "item 0 via db", "item 1 via db", "close"]


def test_a_generator_with_the_response_parameter() -> None:
    app = make_app()

    @app.get("/g")
    async def g(response: Response) -> AsyncIterator[str]:
        response.headers["X-Stream"] = "yes"
        yield "x"

    response = call(app, "GET", "/g")
    # The first item is taken before the headers go out, so what was set until then is sent.
    assert (response.text, response.headers["x-stream"]) == ("x", "yes")


def test_a_sync_generator_is_closed_when_the_stream_ends_early() -> None:
    app = make_app()
    closed: list[bool] = []

    @app.get("/g")
    def g() -> Iterator[str]:
        try:
            yield "a"
            raise RuntimeError("broken mid-stream")
        finally:
            closed.append(True)

    sent: list[Message] = []

    async def receive() -> Message:
        await anyio.sleep(1)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/g", "headers": [], "query_string": b"", "root_path": ""}
    anyio.run(app, scope, receive, send)  # the error comes after the headers: it can only be logged
    assert [m.get("body") for m in sent[1:]] == [b"a"]
    assert closed == [True]


def test_head_on_a_generator_route_sends_headers_only() -> None:
    app = make_app()

    @app.get("/g")
    async def g() -> AsyncIterator[str]:
        yield "body"

    response = call(app, "HEAD", "/g")
    assert (response.status_code, response.content) == (200, b"")


def test_documented_type_for_the_openapi_document() -> None:
    compiler = make_app().container.compiler

    def flask() -> tuple[Item, int, dict[str, str]]:
        return Item(1), 200, {}

    async def items() -> AsyncIterator[Item]:
        yield Item(1)

    def plain() -> list[Item]:
        return []

    assert documented_type(compiler.compile(flask), {}) is Item
    assert documented_type(compiler.compile(items), {}) is Item
    assert documented_type(compiler.compile(plain), {}) == list[Item]
    assert documented_type(compiler.compile(plain), {"response_model": None}) is None


def test_a_plain_no_content_route_and_the_endpoint_called_directly() -> None:
    app = make_app()

    @app.delete("/x", status_code=204)
    def delete(q: str = "") -> None:
        return None

    response = call(app, "DELETE", "/x")
    assert (response.status_code, response.content) == (204, b"")

    async def hello(q: str = "") -> dict[str, str]:
        return {"q": q}

    async def guarded(request: Request) -> dict[str, str]:
        return {"path": request.url.path}

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"q=1", "root_path": ""}
    for fn, guards in [(hello, []), (hello, [Dependency(app.container.compiler.compile(guarded), True, "request")])]:
        endpoint = Endpoint(app.container.compiler.compile(fn), guards, app.container, app_table())
        anyio.run(endpoint, dict(scope), receive, send)  # __call__: the same answer as the route table's method
    assert [m["body"] for m in sent if m["type"] == "http.response.body"] == [b'{"q":"1"}', b'{"q":"1"}']
