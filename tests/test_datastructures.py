"""Tests for ``plait.datastructures``."""

from __future__ import annotations

from typing import Any, assert_type

import anyio
import pytest

from plait._types import Scope
from plait.datastructures import (
    MAX_FILENAME_BYTES,
    URL,
    Address,
    FormData,
    FormValue,
    Headers,
    MultiMapping,
    MutableHeaders,
    QueryError,
    QueryParams,
    State,
    UploadFile,
    parse_query,
    safe_filename,
)

# --- MultiMapping and QueryParams ------------------------------------------------------------


def test_multimapping_last_value_wins_and_getlist_keeps_all() -> None:
    m = MultiMapping([("a", "1"), ("b", "2"), ("a", "3")])
    assert m["a"] == "3"
    assert m.getlist("a") == ["1", "3"]
    assert m.getlist("missing") == []
    assert m.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert list(m) == ["a", "b"]
    assert len(m) == 2
    assert "b" in m
    assert m.get("c", "default") == "default"
    assert repr(m) == "MultiMapping([('a', '1'), ('b', '2'), ('a', '3')])"
    with pytest.raises(KeyError):
        m["c"]


def test_multimapping_multi_items_is_a_copy() -> None:
    m = MultiMapping([("a", "1")])
    m.multi_items().append(("b", "2"))
    assert m.multi_items() == [("a", "1")]


def test_query_params_from_bytes() -> None:
    q = QueryParams(b"tag=a&tag=b&page=2&empty=&q=hello+world&x=%2F%C3%A9")
    assert q.getlist("tag") == ["a", "b"]
    assert q["tag"] == "b"
    assert q["page"] == "2"
    assert q["empty"] == ""
    assert q["q"] == "hello world"
    assert q["x"] == "/é"


def test_query_params_from_str_and_pairs() -> None:
    assert QueryParams("a=1&a=2").getlist("a") == ["1", "2"]
    assert QueryParams([("a", "1"), ("b", "x y")])["b"] == "x y"
    assert len(QueryParams()) == 0
    assert len(QueryParams("")) == 0


def test_query_params_str_round_trips() -> None:
    q = QueryParams([("tag", "a b"), ("tag", "c&d"), ("next", "/path?x=1")])
    text = str(q)
    assert text == "tag=a+b&tag=c%26d&next=%2Fpath%3Fx%3D1"
    assert QueryParams(text).multi_items() == q.multi_items()


# --- Headers -----------------------------------------------------------------------------------


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    h = Headers([(b"Accept", b"text/html"), (b"x-tag", b"a"), (b"X-Tag", b"b")])
    assert h["accept"] == "text/html"
    assert h["ACCEPT"] == "text/html"
    assert h["x-tag"] == "a, b"
    assert h.getlist("X-TAG") == ["a", "b"]
    assert h.getlist("missing") == []
    assert "Accept" in h
    assert "x-TAG" in h
    assert "nope" not in h
    not_a_name: object = 42
    assert not_a_name not in h
    assert sorted(h) == ["accept", "x-tag"]
    assert len(h) == 2
    assert h.get("missing") is None
    with pytest.raises(KeyError):
        h["missing"]


def test_headers_decode_latin1() -> None:
    h = Headers([(b"x-name", "café".encode("latin-1"))])
    assert h["x-name"] == "café"
    assert h.getlist("x-name") == ["café"]


def test_headers_default_and_from_scope() -> None:
    empty = Headers()
    assert empty.raw == []
    assert len(empty) == 0
    raw = [(b"host", b"example.com")]
    h = Headers.from_scope({"headers": raw})
    assert h.raw is raw
    assert h["host"] == "example.com"
    assert repr(h) == "Headers([(b'host', b'example.com')])"


def test_headers_equal_as_mappings() -> None:
    assert Headers([(b"A", b"1")]) == Headers([(b"a", b"1")])
    assert Headers([(b"a", b"1")]) == {"a": "1"}


# --- MutableHeaders ---------------------------------------------------------------------------


def test_mutable_headers_set_replaces_every_value() -> None:
    h = MutableHeaders([(b"vary", b"a"), (b"x-keep", b"1"), (b"vary", b"b")])
    h["Vary"] = "Cookie"
    assert h.raw == [(b"x-keep", b"1"), (b"vary", b"Cookie")]
    assert h["vary"] == "Cookie"


def test_mutable_headers_set_and_delete_match_names_in_any_case() -> None:
    h = MutableHeaders([(b"Content-Type", b"text/html"), (b"X-Old", b"1")])
    h["content-type"] = "text/plain"
    assert h.getlist("content-type") == ["text/plain"]
    del h["x-old"]
    assert "x-old" not in h
    assert h.raw == [(b"content-type", b"text/plain")]


def test_mutable_headers_append_keeps_earlier_values() -> None:
    h = MutableHeaders()
    h.append("Set-Cookie", "a=1")
    h.append("set-cookie", "b=2")
    assert h.getlist("set-cookie") == ["a=1", "b=2"]
    assert h.raw == [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]


def test_mutable_headers_cache_is_refreshed_after_changes() -> None:
    h = MutableHeaders()
    h["x-a"] = "1"
    assert h["x-a"] == "1"
    h["x-a"] = "2"
    assert h["x-a"] == "2"
    h.append("x-a", "3")
    assert h["x-a"] == "2, 3"
    del h["X-A"]
    assert "x-a" not in h
    assert len(h) == 0


def test_mutable_headers_delete_missing_is_harmless() -> None:
    h = MutableHeaders([(b"a", b"1")])
    del h["b"]
    assert h.raw == [(b"a", b"1")]


def test_mutable_headers_setdefault_and_update() -> None:
    h = MutableHeaders([(b"content-type", b"text/html")])
    assert h.setdefault("Content-Type", "text/plain") == "text/html"
    assert h.setdefault("X-Frame-Options", "DENY") == "DENY"
    h.update({"content-type": "application/json", "cache-control": "no-store"})
    assert h.raw == [
        (b"x-frame-options", b"DENY"),
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
    ]


def test_mutable_headers_share_the_raw_list() -> None:
    raw: list[tuple[bytes, bytes]] = []
    h = MutableHeaders(raw)
    h["x-a"] = "1"
    del h["x-a"]
    h["x-b"] = "2"
    assert raw == [(b"x-b", b"2")]
    assert h.raw is raw


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: evil=1", "a\nb", "a\rb", "a\x00b"])
def test_mutable_headers_refuse_response_splitting(value: str) -> None:
    h = MutableHeaders()
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        h["x-a"] = value
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        h.append("x-a", value)
    assert h.raw == []


@pytest.mark.parametrize("name", ["", "bad name", "x:y", "x\r\ny", "é"])
def test_mutable_headers_refuse_invalid_names(name: str) -> None:
    h = MutableHeaders()
    with pytest.raises(ValueError, match="not a valid HTTP token"):
        h[name] = "1"
    with pytest.raises(ValueError, match="not a valid HTTP token"):
        h.append(name, "1")
    assert h.raw == []


# --- URL -----------------------------------------------------------------------------------------


def scope_of(**values: Any) -> Scope:
    scope: Scope = {"type": "http", "path": "/", "headers": [], "query_string": b""}
    scope.update(values)
    return scope


def test_url_prefers_the_host_header() -> None:
    url = URL.from_scope(
        scope_of(
            scheme="https",
            server=("10.0.0.1", 8443),
            path="/items",
            query_string=b"page=2",
            headers=[(b"accept", b"*/*"), (b"host", b"shop.example"), (b"host", b"other.example")],
        )
    )
    assert (url.scheme, url.netloc, url.path, url.query) == ("https", "shop.example", "/items", "page=2")
    assert str(url) == "https://shop.example/items?page=2"


@pytest.mark.parametrize(
    ("scheme", "server", "netloc"),
    [
        ("http", ("example.com", 80), "example.com"),
        ("https", ("example.com", 443), "example.com"),
        ("ws", ("example.com", 80), "example.com"),
        ("wss", ("example.com", 443), "example.com"),
        ("http", ("example.com", 8000), "example.com:8000"),
        ("https", ("example.com", 80), "example.com:80"),
        ("http", ("/run/app.sock", None), "/run/app.sock"),
    ],
)
def test_url_from_server_omits_default_ports(scheme: str, server: tuple[str, int | None], netloc: str) -> None:
    assert URL.from_scope(scope_of(scheme=scheme, server=server)).netloc == netloc


def test_url_defaults_without_server_or_scheme() -> None:
    scope: Scope = {"path": "/x"}
    url = URL.from_scope(scope)
    assert str(url) == "http://testserver/x"
    assert url.query == ""


def test_url_includes_root_path() -> None:
    url = URL.from_scope(scope_of(root_path="/api", path="/users", headers=[(b"host", b"h")]))
    assert url.path == "/api/users"
    assert str(url) == "http://h/api/users"


def test_url_replace_equality_hash_and_repr() -> None:
    url = URL("http", "example.com", "/a", "x=1")
    other = url.replace(scheme="https", query="")
    assert str(other) == "https://example.com/a"
    assert str(url) == "http://example.com/a?x=1"
    assert url == "http://example.com/a?x=1"
    assert url == URL("http", "example.com", "/a", "x=1")
    assert url != other
    assert hash(url) == hash(URL("http", "example.com", "/a", "x=1"))
    assert len({url, URL("http", "example.com", "/a", "x=1"), other}) == 2
    assert repr(url) == "URL('http://example.com/a?x=1')"


# --- State and Address -------------------------------------------------------------------------


def test_state_holds_attributes() -> None:
    state = State({"db": "pool"})
    assert state.db == "pool"
    state.cache = {"k": 1}
    assert state.cache == {"k": 1}
    assert "db" in state
    assert "cache" in state
    assert "missing" not in state
    assert getattr(state, "missing", None) is None
    del state.db
    assert "db" not in state


def test_state_missing_attribute_says_how_to_fix() -> None:
    with pytest.raises(AttributeError, match=r"State has no attribute 'db'; set it first"):
        State().db  # noqa: B018 - the attribute access is what is tested


def test_address_is_a_named_pair() -> None:
    host, port = Address("127.0.0.1", 5000)
    assert (host, port) == ("127.0.0.1", 5000)
    assert Address("::1", 1).host == "::1"


# --- UploadFile ----------------------------------------------------------------------------------


def in_memory(upload: UploadFile) -> bool:
    """Read the flag through a call, so the type checker does not narrow it between writes."""
    return upload.in_memory


def test_upload_file_defaults() -> None:
    upload = UploadFile("a.txt")
    assert upload.filename == "a.txt"
    assert upload.content_type == "application/octet-stream"
    assert len(upload.headers) == 0
    assert upload.size == 0
    assert upload.in_memory
    assert repr(upload) == "UploadFile(filename='a.txt', size=0, content_type='application/octet-stream')"
    anyio.run(upload.close)


def test_upload_file_small_content_stays_in_memory() -> None:
    async def main() -> None:
        headers = Headers([(b"content-type", b"text/plain")])
        upload = UploadFile("notes.txt", content_type="text/plain", headers=headers, spool_max_size=16)
        assert upload.headers is headers
        assert await upload.write(b"hello ") == 6
        assert await upload.write(b"world") == 5
        assert upload.size == 11
        assert in_memory(upload)
        assert await upload.seek(0) == 0
        assert await upload.read(5) == b"hello"
        assert await upload.read() == b" world"
        assert await upload.read() == b""
        await upload.close()
        assert upload.file.closed

    anyio.run(main)


def test_upload_file_exactly_at_threshold_stays_in_memory() -> None:
    async def main() -> None:
        upload = UploadFile("a.bin", spool_max_size=8)
        await upload.write(b"12345678")
        assert in_memory(upload)
        await upload.close()

    anyio.run(main)


def test_upload_file_spools_to_disk_past_the_threshold() -> None:
    async def main() -> None:
        upload = UploadFile("big.bin", spool_max_size=8)
        await upload.write(b"12345")
        assert in_memory(upload)
        await upload.write(b"6789")
        assert not in_memory(upload)
        await upload.write(b"abc")
        assert upload.size == 12
        assert not in_memory(upload)
        assert await upload.seek(3) == 3
        assert await upload.read(4) == b"4567"
        await upload.seek(0)
        assert await upload.read() == b"123456789abc"
        assert repr(upload) == ("UploadFile(filename='big.bin', size=12, content_type='application/octet-stream')")
        await upload.close()
        assert upload.file.closed

    anyio.run(main)


def test_upload_file_one_large_write_goes_straight_to_disk() -> None:
    async def main() -> None:
        upload = UploadFile(None, spool_max_size=4)
        payload = bytes(range(256)) * 4
        assert await upload.write(payload) == len(payload)
        assert not in_memory(upload)
        await upload.seek(0)
        assert await upload.read() == payload
        await upload.close()

    anyio.run(main)


# --- FormData ------------------------------------------------------------------------------------


def test_form_data_mapping_and_getlist_by_kind() -> None:
    first = UploadFile("a.txt")
    second = UploadFile("b.txt")
    form = FormData([("name", "Ada"), ("files", first), ("files", "not a file"), ("files", second)])
    assert form["name"] == "Ada"
    assert form["files"] is second
    assert form.getlist("files") == [first, "not a file", second]
    uploads = form.getlist("files", UploadFile)
    assert_type(uploads, list[UploadFile])
    assert uploads == [first, second]
    texts = form.getlist("files", str)
    assert_type(texts, list[str])
    assert texts == ["not a file"]
    assert form.getlist("missing") == []
    assert list(form) == ["name", "files"]
    assert len(form) == 2
    assert form.multi_items() == [
        ("name", "Ada"),
        ("files", first),
        ("files", "not a file"),
        ("files", second),
    ]
    assert repr(form).startswith("FormData([('name', 'Ada'), ('files', UploadFile(filename='a.txt'")
    anyio.run(form.close)


def test_form_data_close_closes_every_upload() -> None:
    async def main() -> None:
        small = UploadFile("small.txt", spool_max_size=64)
        large = UploadFile("large.txt", spool_max_size=4)
        await small.write(b"hi")
        await large.write(b"far more than four bytes")
        assert small.in_memory
        assert not large.in_memory
        items: list[tuple[str, FormValue]] = [("a", small), ("b", "text"), ("a", large)]
        form = FormData(items)
        await form.close()
        assert small.file.closed
        assert large.file.closed

    anyio.run(main)


def test_empty_form_data() -> None:
    form = FormData()
    assert len(form) == 0
    assert form.getlist("x", str) == []
    anyio.run(form.close)


# -- query parsing limits and encoding (hardening) ----------------------------------------------------


def test_parse_query_limits_the_number_of_parameters() -> None:
    assert len(parse_query("a=1&b=2&&", max_params=2)) == 2
    with pytest.raises(QueryError, match="more than 2 parameters"):
        parse_query("a=1&b=2&c=3", max_params=2)


@pytest.mark.parametrize("query", ["a=%FF", "%FF=1", "a=%C3", "a=caf%E9+x"])
def test_parse_query_refuses_escapes_that_are_not_utf8(query: str) -> None:
    with pytest.raises(QueryError, match="not valid UTF-8"):
        parse_query(query)


def test_query_params_refuse_raw_bytes_that_are_not_utf8() -> None:
    assert QueryParams("q=café".encode()) == {"q": "café"}
    with pytest.raises(QueryError, match="bytes that are not valid UTF-8"):
        QueryParams(b"q=caf\xe9")
    with pytest.raises(QueryError):
        QueryParams(b"a&b&c", max_params=2)


# -- upload file names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("C:\\Users\\ada\\cv.docx", "cv.docx"),
        ("D:cv.docx", "cv.docx"),
        ("a\x00b.txt", "ab.txt"),
        ("tab\there.txt", "tabhere.txt"),
        ("photo\u202egnp.exe", "photognp.exe"),
        ("  .hidden.  ", "hidden"),
        ("naïve ✓.txt", "naïve ✓.txt"),
        ("..", None),
        ("/", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_filename(raw: str | None, safe: str | None) -> None:
    assert safe_filename(raw) == safe


def test_safe_filename_caps_the_length_on_a_character_boundary() -> None:
    name = safe_filename("ü" * 300 + ".jpeg")
    assert name is not None
    assert name.endswith(".jpeg")
    assert len(name.encode()) <= MAX_FILENAME_BYTES
    name.encode().decode("utf-8")  # whole characters only
    long_extension = safe_filename("a." + "b" * 300)
    assert long_extension is not None
    assert len(long_extension.encode()) == MAX_FILENAME_BYTES


def test_upload_file_keeps_the_raw_filename() -> None:
    upload = UploadFile("../secret/../x.txt")
    assert (upload.filename, upload.raw_filename) == ("x.txt", "../secret/../x.txt")
    anyio.run(upload.close)
