"""GZipMiddleware and CompressionMiddleware: negotiation, skip rules, streaming, Brotli."""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from plait import ConfigurationError, PlainTextResponse, Plait, Response, Router, Settings, StreamingResponse
from plait._types import Message, Receive, Scope, Send
from plait.middleware import CompressionMiddleware, GZipMiddleware
from plait.middleware.gzip import brotli_available, choose_encoding
from plait.testing import TestClient
from tests.test_middleware.helpers import header, http_scope, run

TEXT = "Plait weaves three strands into one framework. " * 40  # about 1.9 kB
GZIP = {"Accept-Encoding": "gzip"}


def gunzip(data: bytes) -> bytes:
    return zlib.decompress(data, 31)


def make_app(middleware: type[CompressionMiddleware] = GZipMiddleware, **options: Any) -> Plait:
    app = Plait(settings=Settings())
    app.add_middleware(middleware, **options)

    @app.get("/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse(TEXT)

    @app.get("/small")
    def small() -> PlainTextResponse:
        return PlainTextResponse("tiny")

    @app.get("/typed/{kind}/{sub}")
    def typed(kind: str, sub: str) -> Response:
        return Response(TEXT.encode(), media_type=f"{kind}/{sub}")

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter(["first chunk, ", "", "second chunk, ", "last"]), media_type="text/plain")

    @app.get("/headers")
    def headers(name: str, value: str, status: int = 200) -> Response:
        return Response(TEXT.encode(), status_code=status, headers={name: value}, media_type="text/plain")

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as client:
        yield client


# -- negotiation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip", "gzip"),
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("gzip;q=0.8, br;q=0.9", "br"),
        ("gzip;q=0", None),
        ("gzip; q=0.000", None),
        ("gzip;q=1.5", None),
        ("gzip;q=abc", None),
        ("gzip;level=1", "gzip"),
        ("*", "br"),
        ("*;q=0", None),
        ("br;q=0, *", "gzip"),
        ("identity", None),
        ("deflate, , zstd", None),
        ("", None),
        ("gzip;q=0.001, br;q=0", "gzip"),
    ],
)
def test_choose_encoding(accept: str, expected: str | None) -> None:
    assert choose_encoding(accept, ["br", "gzip"]) == expected


# -- gzip ------------------------------------------------------------------------------------------


def test_large_text_is_gzipped_with_an_exact_length(client: TestClient) -> None:
    with client.stream("GET", "/text", headers=GZIP) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-length"] == str(len(raw))
    assert response.headers["vary"] == "Accept-Encoding"
    assert len(raw) < len(TEXT)
    assert gunzip(raw) == TEXT.encode()


def test_the_client_reads_it_back(client: TestClient) -> None:
    assert client.get("/text", headers=GZIP).text == TEXT


@pytest.mark.parametrize("accept", [None, "gzip;q=0", "br", "identity"])
def test_not_compressed_unless_gzip_is_accepted(accept: str | None) -> None:
    app = make_app()
    with TestClient(app, headers={"Accept-Encoding": ""}) as client:
        response = client.get("/text", headers={"Accept-Encoding": accept} if accept else {})
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(TEXT))
    assert "vary" not in response.headers


def test_small_bodies_are_left_alone(client: TestClient) -> None:
    response = client.get("/small", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert response.text == "tiny"


def test_minimum_size_applies_to_bodies_without_a_length() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"x" * 99})

    small = run(GZipMiddleware(app, minimum_size=100), http_scope(headers=[(b"accept-encoding", b"gzip")]))
    large = run(GZipMiddleware(app, minimum_size=99), http_scope(headers=[(b"accept-encoding", b"gzip")]))
    assert header(small[0], b"content-encoding") == []
    assert small[1]["body"] == b"x" * 99
    assert header(large[0], b"content-encoding") == [b"gzip"]
    assert header(large[0], b"content-length") == [str(len(large[1]["body"])).encode()]
    assert gunzip(large[1]["body"]) == b"x" * 99


def test_incompressible_bodies_are_sent_as_they_are() -> None:
    noise = os.urandom(4096)
    app = Plait(settings=Settings())
    app.add_middleware(GZipMiddleware)
    app.get("/noise")(lambda: Response(noise, media_type="application/octet-stream"))
    with TestClient(app) as client:
        response = client.get("/noise", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert response.content == noise


@pytest.mark.parametrize(
    ("media_type", "compressed"),
    [
        ("text/html", True),
        ("application/json", True),
        ("image/svg+xml", True),
        ("image/x-icon", True),
        ("application/octet-stream", True),
        ("image/png", False),
        ("image/jpeg", False),
        ("video/mp4", False),
        ("audio/ogg", False),
        ("font/woff2", False),
        ("application/zip", False),
        ("application/gzip", False),
        ("application/epub+zip", False),
        ("text/event-stream", False),
    ],
)
def test_media_types_already_compressed_are_skipped(client: TestClient, media_type: str, compressed: bool) -> None:
    response = client.get(f"/typed/{media_type}", headers=GZIP)
    assert ("content-encoding" in response.headers) is compressed
    assert response.content == TEXT.encode()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Content-Encoding", "br"),
        ("Content-Encoding", "identity"),
        ("Content-Range", "bytes 0-9/100"),
        ("Cache-Control", "public, No-Transform"),
        ("Content-Length", "12"),
        ("Content-Length", "a lot"),
    ],
)
def test_headers_that_forbid_compression(client: TestClient, name: str, value: str) -> None:
    with client.stream("GET", "/headers", params={"name": name, "value": value}, headers=GZIP) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers.get_list("content-encoding") in ([], [value])
    assert raw == TEXT.encode()


@pytest.mark.parametrize("status", [204, 206, 304, 101])
def test_statuses_without_a_compressible_body(status: int) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": TEXT.encode()})

    messages = run(GZipMiddleware(app), http_scope(headers=[(b"accept-encoding", b"gzip")]))
    assert header(messages[0], b"content-encoding") == []
    assert messages[1]["body"] == TEXT.encode()


def test_error_pages_are_compressed_too(client: TestClient) -> None:
    response = client.get("/headers", params={"name": "X-A", "value": "1", "status": 503}, headers=GZIP)
    assert response.status_code == 503
    assert response.headers["content-encoding"] == "gzip"


def test_head_responses_describe_the_identity_body(client: TestClient) -> None:
    response = client.head("/text", headers=GZIP)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(TEXT))
    assert response.content == b""


def test_strong_etag_becomes_weak_and_ranges_are_dropped(client: TestClient) -> None:
    response = client.get("/headers", params={"name": "ETag", "value": '"v1"'}, headers=GZIP)
    assert response.headers["etag"] == 'W/"v1"'
    weak = client.get("/headers", params={"name": "ETag", "value": 'W/"v1"'}, headers=GZIP)
    assert weak.headers["etag"] == 'W/"v1"'
    ranges = client.get("/headers", params={"name": "Accept-Ranges", "value": "bytes"}, headers=GZIP)
    assert "accept-ranges" not in ranges.headers


def test_vary_is_merged_not_duplicated(client: TestClient) -> None:
    response = client.get("/headers", params={"name": "Vary", "value": "accept-encoding"}, headers=GZIP)
    assert response.headers.get_list("vary") == ["accept-encoding"]
    other = client.get("/headers", params={"name": "Vary", "value": "Cookie"}, headers=GZIP)
    assert other.headers.get_list("vary") == ["Cookie", "Accept-Encoding"]


# -- streaming -------------------------------------------------------------------------------------


def test_streams_are_compressed_chunk_by_chunk(client: TestClient) -> None:
    decoder = zlib.decompressobj(31)
    with client.stream("GET", "/stream", headers=GZIP) as response:
        pieces = [decoder.decompress(chunk) for chunk in response.iter_raw()]
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    # Each chunk was flushed, so it decodes on its own as soon as it arrives.
    assert pieces[:2] == [b"first chunk, ", b"second chunk, "]
    assert b"".join(pieces) == b"first chunk, second chunk, last"
    assert decoder.eof


def test_a_stream_with_a_declared_length_loses_it() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"a" * 500, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await send({"type": "http.response.body", "body": b"b" * 500, "more_body": False})
        await send({"type": "http.response.trailers", "headers": [], "more_trailers": False})

    messages = run(GZipMiddleware(app), http_scope(headers=[(b"accept-encoding", b"gzip")]))
    assert header(messages[0], b"content-length") == []
    assert [m.get("more_body") for m in messages[1:4]] == [True, True, False]
    assert messages[2]["body"] == b""
    assert gunzip(b"".join(m["body"] for m in messages[1:4])) == b"a" * 500 + b"b" * 500
    assert messages[4]["type"] == "http.response.trailers"


def test_a_path_send_before_any_body_passes_untouched() -> None:
    start: Message = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start)
        await send({"type": "http.response.pathsend", "path": "/srv/file.txt"})

    messages = run(GZipMiddleware(app), http_scope(headers=[(b"accept-encoding", b"gzip")]))
    assert messages == [start, {"type": "http.response.pathsend", "path": "/srv/file.txt"}]


def test_unknown_messages_before_the_start_pass_through() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.debug", "info": {}})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": TEXT.encode()})

    messages = run(GZipMiddleware(app), http_scope(headers=[(b"accept-encoding", b"gzip")]))
    assert [m["type"] for m in messages] == ["http.response.debug", "http.response.start", "http.response.body"]
    assert messages[2]["body"] == TEXT.encode()


def test_non_http_scopes_pass_through() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    scope: Scope = {"type": "lifespan"}
    run(GZipMiddleware(app), scope)
    assert seen == [scope]


def test_router_scoped_compression() -> None:
    assets = Router(prefix="/assets")
    assets.add_middleware(GZipMiddleware, minimum_size=10)
    assets.get("/app.js")(lambda: PlainTextResponse(TEXT))
    app = Plait(settings=Settings())
    app.get("/plain")(lambda: PlainTextResponse(TEXT))
    app.include_router(assets)
    with TestClient(app) as client:
        assert client.get("/assets/app.js", headers=GZIP).headers["content-encoding"] == "gzip"
        assert "content-encoding" not in client.get("/plain", headers=GZIP).headers


# -- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"minimum_size": -1}, "minimum_size=-1 must be a whole number at least 0"),
        ({"compresslevel": 0}, "between 1 and 9"),
        ({"compresslevel": 10}, "between 1 and 9"),
        ({"brotli_quality": 12}, "between 0 and 11"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        CompressionMiddleware(make_app(), **options)


# -- brotli ----------------------------------------------------------------------------------------


@pytest.fixture
def brotli() -> Any:
    return pytest.importorskip("brotli")


def test_brotli_is_preferred_when_accepted(brotli: Any) -> None:
    assert brotli_available()
    with TestClient(make_app(CompressionMiddleware)) as client:
        with client.stream("GET", "/text", headers={"Accept-Encoding": "gzip, br"}) as response:
            raw = b"".join(response.iter_raw())
        gz = client.get("/text", headers={"Accept-Encoding": "gzip, br;q=0.5"})
    assert response.headers["content-encoding"] == "br"
    assert response.headers["content-length"] == str(len(raw))
    assert brotli.decompress(raw) == TEXT.encode()
    assert gz.headers["content-encoding"] == "gzip"


def test_brotli_streams_chunk_by_chunk(brotli: Any) -> None:
    decoder = brotli.Decompressor()
    app = make_app(CompressionMiddleware, brotli=True)
    with TestClient(app) as client, client.stream("GET", "/stream", headers={"Accept-Encoding": "br"}) as response:
        pieces = [decoder.process(chunk) for chunk in response.iter_raw()]
    assert response.headers["content-encoding"] == "br"
    assert pieces[:2] == [b"first chunk, ", b"second chunk, "]
    assert b"".join(pieces) == b"first chunk, second chunk, last"


def test_gzip_middleware_never_uses_brotli() -> None:
    with TestClient(make_app(GZipMiddleware)) as client:
        response = client.get("/text", headers={"Accept-Encoding": "br"})
    assert "content-encoding" not in response.headers


def test_without_the_brotli_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "brotli", None)  # makes `import brotli` fail
    assert not brotli_available()
    assert CompressionMiddleware(make_app()).codings == ("gzip",)
    assert CompressionMiddleware(make_app(), brotli=False).codings == ("gzip",)
    with pytest.raises(ConfigurationError, match=r"pip install 'plait\[brotli\]'"):
        CompressionMiddleware(make_app(), brotli=True)
