"""Tests for ``FileResponse``: validators, conditional requests, ranges and error cases."""

from __future__ import annotations

import os
import re
from email.utils import formatdate
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from plait._types import ASGIApp, Message
from plait.responses import FileResponse
from plait.responses.files import MAX_RANGES, content_disposition, guess_media_type, parse_range

CONTENT = bytes(range(256)) * 4  # 1024 bytes, every offset distinguishable enough
MTIME = 1_700_000_000  # 2023-11-14 22:13:20 UTC
LAST_MODIFIED = formatdate(MTIME, usegmt=True)


def fetch(app: ASGIApp, method: str = "GET", headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, "/", headers=headers)

    return anyio.run(go)


def call(app: ASGIApp, method: str = "GET", receive: Any = None) -> list[Message]:
    """Run ``app`` directly and return every message it sent."""
    sent: list[Message] = []

    async def wait_forever() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/", "headers": []}
    anyio.run(app, scope, receive or wait_forever, send)
    return sent


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(CONTENT)
    os.utime(path, (MTIME, MTIME))
    return path


def etag_of(path: Path) -> str:
    return fetch(FileResponse(path)).headers["etag"]


# Plain responses -------------------------------------------------------------------------------


def test_whole_file_with_validators(data_file: Path) -> None:
    response = fetch(FileResponse(data_file))
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-length"] == "1024"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["last-modified"] == LAST_MODIFIED == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert re.fullmatch(r'"[0-9a-f]+-400"', response.headers["etag"])


def test_etag_changes_when_file_changes(data_file: Path) -> None:
    before = etag_of(data_file)
    os.utime(data_file, (MTIME + 1, MTIME + 1))
    assert etag_of(data_file) != before
    os.utime(data_file, (MTIME, MTIME))
    assert etag_of(data_file) == before
    data_file.write_bytes(CONTENT + b"!")
    os.utime(data_file, (MTIME, MTIME))
    assert etag_of(data_file) != before


def test_file_is_read_in_chunks(data_file: Path) -> None:
    sent = call(FileResponse(data_file, chunk_size=100))
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert b"".join(bodies) == CONTENT
    assert [len(b) for b in bodies] == [100] * 10 + [24, 0]
    assert sent[-1]["more_body"] is False


def test_head_sends_headers_only(data_file: Path) -> None:
    sent = call(FileResponse(data_file), method="HEAD")
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 200
    assert headers[b"content-length"] == b"1024"
    assert b"etag" in headers
    assert [m["body"] for m in sent[1:]] == [b""]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    response = fetch(FileResponse(path), headers={"Range": "bytes=0-10"})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"


def test_status_headers_and_cookies_pass_through(data_file: Path) -> None:
    response = FileResponse(data_file, status_code=404, headers={"Cache-Control": "no-cache"})
    response.set_cookie("seen", "1")
    result = fetch(response, headers={"If-None-Match": "*", "Range": "bytes=0-1"})
    # A status other than 200 is sent as given: no 304 and no ranges.
    assert result.status_code == 404
    assert result.content == CONTENT
    assert result.headers["cache-control"] == "no-cache"
    assert result.headers["set-cookie"].startswith("seen=1;")


def test_given_stat_result_is_used_instead_of_stat(data_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.bin"
    other.write_bytes(b"x" * 16)
    os.utime(other, (MTIME, MTIME))
    response = fetch(FileResponse(data_file, stat_result=os.stat(other)))
    assert response.headers["etag"] == etag_of(other)
    assert response.content == CONTENT[:16]


def test_hand_built_stat_result_without_nanoseconds(data_file: Path) -> None:
    fields = os.stat(data_file)
    minimal = os.stat_result(tuple(fields)[:10])
    response = fetch(FileResponse(data_file, stat_result=minimal))
    assert response.status_code == 200
    assert response.headers["etag"] == etag_of(data_file)


def test_file_that_shrank_since_stat_is_an_error(data_file: Path) -> None:
    stale = os.stat(data_file)
    data_file.write_bytes(CONTENT[:10])
    with pytest.raises(RuntimeError, match="shrank while it was being sent"):
        call(FileResponse(data_file, stat_result=stale))


# Media types and Content-Disposition ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.txt", "text/plain"),
        ("photo.png", "image/png"),
        ("NOTES.TXT", "text/plain"),
        ("archive.tar.gz", "application/gzip"),
        ("no-extension", "application/octet-stream"),
    ],
)
def test_guess_media_type(name: str, expected: str) -> None:
    assert guess_media_type(name) == expected


def test_text_files_get_a_charset(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<p>hi</p>")
    assert fetch(FileResponse(path)).headers["content-type"] == "text/html; charset=utf-8"


def test_svg_gets_a_charset(data_file: Path) -> None:
    response = FileResponse(data_file, media_type="image/svg+xml")
    assert response.headers["content-type"] == "image/svg+xml; charset=utf-8"


def test_media_type_from_filename_then_explicit(data_file: Path) -> None:
    assert FileResponse(data_file, filename="a.png").headers["content-type"] == "image/png"
    explicit = FileResponse(data_file, filename="a.png", media_type="application/x-custom")
    assert explicit.headers["content-type"] == "application/x-custom"


def test_no_disposition_without_filename(data_file: Path) -> None:
    assert "content-disposition" not in FileResponse(data_file).headers


def test_ascii_filename_attachment(data_file: Path) -> None:
    response = fetch(FileResponse(data_file, filename="report 2024.pdf"))
    assert response.headers["content-disposition"] == 'attachment; filename="report 2024.pdf"'


def test_inline_disposition(data_file: Path) -> None:
    response = FileResponse(data_file, filename="a.txt", content_disposition_type="inline")
    assert response.headers["content-disposition"] == 'inline; filename="a.txt"'


def test_non_ascii_filename_gets_rfc5987_form(data_file: Path) -> None:
    response = fetch(FileResponse(data_file, filename="naïve résumé €.txt"))
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"na_ve r_sum_ _.txt\"; filename*=utf-8''na%C3%AFve%20r%C3%A9sum%C3%A9%20%E2%82%AC.txt"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('say "hi".txt', "attachment; filename=\"say _hi_.txt\"; filename*=utf-8''say%20%22hi%22.txt"),
        ("a\\b.txt", "attachment; filename=\"a_b.txt\"; filename*=utf-8''a%5Cb.txt"),
        ("evil\r\nSet-Cookie: x=1.txt", 'attachment; filename="evilSet-Cookie: x=1.txt"'),
    ],
)
def test_disposition_cannot_be_broken_by_the_name(name: str, expected: str) -> None:
    assert content_disposition("attachment", name) == expected


def test_disposition_survives_the_wire(data_file: Path) -> None:
    response = fetch(FileResponse(data_file, filename='x"\r\ny.txt'))
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="x_y.txt"')


def test_bad_arguments_are_explained(data_file: Path) -> None:
    with pytest.raises(ValueError, match=r"'attachment' .* or 'inline'"):
        FileResponse(data_file, content_disposition_type="download")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_size must be a positive"):
        FileResponse(data_file, chunk_size=0)


# Missing and unreadable files -------------------------------------------------------------------


def test_missing_file_is_404(tmp_path: Path) -> None:
    response = fetch(FileResponse(tmp_path / "nope.txt"))
    assert response.status_code == 404
    assert response.text == "Not Found"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_missing_parent_is_404(data_file: Path) -> None:
    assert fetch(FileResponse(data_file / "child")).status_code == 404


def test_directory_is_404(tmp_path: Path) -> None:
    assert fetch(FileResponse(tmp_path)).status_code == 404


def test_file_removed_after_stat_is_404(data_file: Path) -> None:
    stale = os.stat(data_file)
    data_file.unlink()
    response = fetch(FileResponse(data_file, stat_result=stale))
    assert response.status_code == 404


def test_unreadable_file_is_403(data_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_stat = os.stat

    def denying_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if os.fspath(path) == os.fspath(data_file):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", denying_stat)
    response = fetch(FileResponse(data_file))
    assert response.status_code == 403
    assert response.text == "Forbidden"


def test_file_unreadable_at_open_is_403(data_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def denying_open(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(anyio, "open_file", denying_open)
    assert fetch(FileResponse(data_file)).status_code == 403


# Conditional requests ---------------------------------------------------------------------------


def test_if_none_match_exact_gives_304(data_file: Path) -> None:
    etag = etag_of(data_file)
    response = fetch(FileResponse(data_file, filename="d.bin"), headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["last-modified"] == LAST_MODIFIED
    for name in ("content-length", "content-type", "content-disposition"):
        assert name not in response.headers


@pytest.mark.parametrize("form", ['"other", {tag}', "W/{tag}", '"a,b", W/{tag}, "c"', "*", " * "])
def test_if_none_match_forms(data_file: Path, form: str) -> None:
    header = form.format(tag=etag_of(data_file))
    assert fetch(FileResponse(data_file), headers={"If-None-Match": header}).status_code == 304


def test_if_none_match_miss_gives_200(data_file: Path) -> None:
    response = fetch(FileResponse(data_file), headers={"If-None-Match": '"nope", W/"other"'})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_if_none_match_on_head(data_file: Path) -> None:
    headers = {"If-None-Match": etag_of(data_file)}
    assert fetch(FileResponse(data_file), method="HEAD", headers=headers).status_code == 304


def test_if_none_match_on_unsafe_method_gives_412(data_file: Path) -> None:
    response = fetch(FileResponse(data_file), method="POST", headers={"If-None-Match": "*"})
    assert response.status_code == 412
    assert response.content == b""


@pytest.mark.parametrize(
    ("since", "status"),
    [
        (LAST_MODIFIED, 304),
        (formatdate(MTIME + 3600, usegmt=True), 304),
        (formatdate(MTIME - 1, usegmt=True), 200),
        ("Tuesday, 14-Nov-23 22:13:20 GMT", 304),
        ("Tue Nov 14 22:13:20 2023", 304),  # asctime form, no zone: read as UTC
        ("Tue Nov 14 22:13:19 2023", 200),
        ("not a date", 200),
    ],
)
def test_if_modified_since(data_file: Path, since: str, status: int) -> None:
    response = fetch(FileResponse(data_file), headers={"If-Modified-Since": since})
    assert response.status_code == status


def test_if_modified_since_is_ignored_when_if_none_match_is_sent(data_file: Path) -> None:
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": formatdate(MTIME + 60, usegmt=True)}
    assert fetch(FileResponse(data_file), headers=headers).status_code == 200


def test_if_modified_since_only_for_get_and_head(data_file: Path) -> None:
    headers = {"If-Modified-Since": formatdate(MTIME + 60, usegmt=True)}
    assert fetch(FileResponse(data_file), method="POST", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("header", "status"),
    [("{tag}", 200), ('"a", {tag}', 200), ("*", 200), ('"stale"', 412), ("W/{tag}", 412)],
)
def test_if_match(data_file: Path, header: str, status: int) -> None:
    value = header.format(tag=etag_of(data_file))
    assert fetch(FileResponse(data_file), headers={"If-Match": value}).status_code == status


@pytest.mark.parametrize(("offset", "status"), [(0, 200), (60, 200), (-60, 412)])
def test_if_unmodified_since(data_file: Path, offset: int, status: int) -> None:
    headers = {"If-Unmodified-Since": formatdate(MTIME + offset, usegmt=True)}
    assert fetch(FileResponse(data_file), headers=headers).status_code == status


# Ranges -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, 1024),
        ("bytes=-500", 524, 1024),
        ("bytes=-5000", 0, 1024),
        ("bytes=1000-99999", 1000, 1024),
        ("bytes=1023-1023", 1023, 1024),
        ("BYTES = 5-9", 5, 10),
        ("bytes=0-1, 1-3", 0, 4),  # overlapping ranges are merged
        ("bytes=0-0,,", 0, 1),
        ("bytes=2000-, 10-19", 10, 20),  # the unsatisfiable range is dropped
        ("bytes=0-99999999999999999999999", 0, 1024),
    ],
)
def test_single_range(data_file: Path, header: str, start: int, end: int) -> None:
    response = fetch(FileResponse(data_file), headers={"Range": header})
    assert response.status_code == 206
    assert response.content == CONTENT[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/1024"
    assert response.headers["content-length"] == str(end - start)
    assert response.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0", "bytes=2000-, -0"])
def test_unsatisfiable_range_gives_416(data_file: Path, header: str) -> None:
    response = fetch(FileResponse(data_file, filename="d.txt"), headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"
    assert response.headers["content-length"] == "0"
    assert "content-disposition" not in response.headers
    assert response.content == b""


@pytest.mark.parametrize(
    "header",
    [
        "bytes=",
        "bytes",
        "bytes=abc",
        "bytes=5-1",
        "bytes=-",
        "bytes=1-2-3",
        "bytes=0-1, nonsense",
        "bytes=+1-2",
        "items=0-1",
        "bytes=0-1; x",
    ],
)
def test_malformed_range_is_ignored(data_file: Path, header: str) -> None:
    response = fetch(FileResponse(data_file), headers={"Range": header})
    assert response.status_code == 200
    assert response.content == CONTENT
    assert "content-range" not in response.headers


def parse_multipart(response: httpx.Response) -> list[tuple[dict[str, str], bytes]]:
    match = re.fullmatch(r"multipart/byteranges; boundary=([0-9a-f]+)", response.headers["content-type"])
    assert match is not None
    boundary = match.group(1).encode()
    body = response.content
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    parts = []
    for chunk in body[: -len(boundary) - 6].split(b"--" + boundary + b"\r\n")[1:]:
        head, _, data = chunk.partition(b"\r\n\r\n")
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append((fields, data.removesuffix(b"\r\n")))
    return parts


def test_multiple_ranges_give_multipart(data_file: Path) -> None:
    response = fetch(FileResponse(data_file, filename="d.txt"), headers={"Range": "bytes=500-509, 0-4, -3"})
    assert response.status_code == 206
    assert response.headers["content-length"] == str(len(response.content))
    assert "content-range" not in response.headers
    parts = parse_multipart(response)
    # Parts keep the order in which they were asked for.
    assert parts == [
        (
            {"Content-Type": "text/plain; charset=utf-8", "Content-Range": "bytes 500-509/1024"},
            CONTENT[500:510],
        ),
        ({"Content-Type": "text/plain; charset=utf-8", "Content-Range": "bytes 0-4/1024"}, CONTENT[0:5]),
        (
            {"Content-Type": "text/plain; charset=utf-8", "Content-Range": "bytes 1021-1023/1024"},
            CONTENT[1021:],
        ),
    ]


def test_multipart_boundary_is_random(data_file: Path) -> None:
    headers = {"Range": "bytes=0-1, 5-6"}
    first = fetch(FileResponse(data_file), headers=headers).headers["content-type"]
    second = fetch(FileResponse(data_file), headers=headers).headers["content-type"]
    assert first != second


def test_too_many_ranges_send_the_whole_file(data_file: Path) -> None:
    header = "bytes=" + ", ".join(f"{i * 10}-{i * 10 + 1}" for i in range(MAX_RANGES + 1))
    response = fetch(FileResponse(data_file), headers={"Range": header})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_range_limit_itself_is_allowed(data_file: Path) -> None:
    header = "bytes=" + ", ".join(f"{i * 10}-{i * 10 + 1}" for i in range(MAX_RANGES))
    response = fetch(FileResponse(data_file), headers={"Range": header})
    assert response.status_code == 206
    assert len(parse_multipart(response)) == MAX_RANGES


def test_range_is_ignored_for_head_and_post(data_file: Path) -> None:
    for method in ("HEAD", "POST"):
        response = fetch(FileResponse(data_file), method=method, headers={"Range": "bytes=0-9"})
        assert response.status_code == 200
        assert response.headers["content-length"] == "1024"


def test_range_read_in_small_chunks(data_file: Path) -> None:
    response = fetch(FileResponse(data_file, chunk_size=7), headers={"Range": "bytes=10-59, 900-949"})
    assert [data for _, data in parse_multipart(response)] == [CONTENT[10:60], CONTENT[900:950]]


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        ("{tag}", 206),
        ('"stale"', 200),
        ("W/{tag}", 200),  # weak tags never match for If-Range
        (LAST_MODIFIED, 206),
        (formatdate(MTIME + 60, usegmt=True), 200),  # only an exact date match counts
        (formatdate(MTIME - 60, usegmt=True), 200),
        ("garbage", 200),
    ],
)
def test_if_range(data_file: Path, if_range: str, status: int) -> None:
    headers = {"Range": "bytes=0-9", "If-Range": if_range.format(tag=etag_of(data_file))}
    response = fetch(FileResponse(data_file), headers=headers)
    assert response.status_code == status
    assert response.content == (CONTENT[:10] if status == 206 else CONTENT)


def test_if_range_without_range_is_ignored(data_file: Path) -> None:
    assert fetch(FileResponse(data_file), headers={"If-Range": '"stale"'}).status_code == 200


def test_conditional_beats_range(data_file: Path) -> None:
    headers = {"Range": "bytes=0-9", "If-None-Match": etag_of(data_file)}
    assert fetch(FileResponse(data_file), headers=headers).status_code == 304


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 100, [(0, 10)]),
        ("bytes=0-9,20-29", 100, [(0, 10), (20, 30)]),
        ("bytes=20-29,0-9,5-24", 100, [(0, 30)]),
        ("bytes=0-9,10-19", 100, [(0, 20)]),  # touching ranges merge too
        ("bytes=50-,-10", 100, [(50, 100)]),
        ("bytes=200-", 100, []),
        ("bytes=0-0", 0, None),
        ("bytes=0-9", -1, None),
        ("bytes=\u00b2-\u00b3", 100, None),  # superscript digits are not digits in HTTP
        ("bytes=\u0661-\u0662", 100, None),
    ],
)
def test_parse_range(header: str, size: int, expected: list[tuple[int, int]] | None) -> None:
    assert parse_range(header, size) == expected


# Disconnects ------------------------------------------------------------------------------------


def test_disconnect_stops_sending(data_file: Path) -> None:
    async def gone() -> Message:
        return {"type": "http.disconnect"}

    sent = call(FileResponse(data_file, chunk_size=1), receive=gone)
    assert sent[0]["type"] == "http.response.start"
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert len(bodies) < len(CONTENT)
    assert all(m["more_body"] for m in bodies)


def test_send_oserror_stops_quietly(data_file: Path) -> None:
    sent: list[Message] = []

    async def broken_send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            raise BrokenPipeError("client went away")

    async def wait_forever() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    anyio.run(FileResponse(data_file, chunk_size=10), scope, wait_forever, broken_send)
    assert len(sent) == 2
