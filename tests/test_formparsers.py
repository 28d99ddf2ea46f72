"""Tests for plait.formparsers: urlencoded and multipart bodies, limits, malformed input, cleanup."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import parse_qsl

import anyio
import pytest

from plait import formparsers
from plait.datastructures import FormData, UploadFile
from plait.exceptions import HTTPException
from plait.formparsers import MULTIPART, URLENCODED, FormLimits, parse_form
from plait.settings import Settings

BOUNDARY = "----PlaitFormBoundary7MA4YWxkTrZu0gW"
MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"

# A file body full of near-misses of the delimiter, so chunk splits land inside partial matches.
TRICKY_FILE = b"line one\r\nline two\r\n--" + BOUNDARY.encode()[:-3] + b"\r\n\r\n--\r\n-" + bytes(range(256)) + b"\r\n"


# --- helpers --------------------------------------------------------------------------------------


async def _stream(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def split(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]


Snapshot = list[tuple[str, Any]]


async def snapshot(form: FormData) -> Snapshot:
    """Every item, files as (filename, content_type, content); closes the form."""
    out: Snapshot = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            out.append((name, (value.filename, value.content_type, await value.read())))
        else:
            out.append((name, value))
    await form.close()
    return out


def parse(content_type: str, chunks: Iterable[bytes], limits: FormLimits | None = None) -> Snapshot:
    async def main() -> Snapshot:
        form = await parse_form(content_type, _stream(chunks), limits or FormLimits())
        return await snapshot(form)

    return anyio.run(main)


def parse_error(content_type: str, chunks: Iterable[bytes], limits: FormLimits | None = None) -> HTTPException:
    with pytest.raises(HTTPException) as info:
        parse(content_type, chunks, limits)
    return info.value


def part(
    name: str | None,
    content: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    headers: Iterable[str] = (),
) -> bytes:
    lines = list(headers)
    if name is not None:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        lines.insert(0, f"Content-Disposition: {disposition}")
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    return "".join(f"{line}\r\n" for line in lines).encode() + b"\r\n" + content


def multipart(*parts: bytes, boundary: str = BOUNDARY) -> bytes:
    delimiter = b"--" + boundary.encode()
    body = b"".join(delimiter + b"\r\n" + p + b"\r\n" for p in parts)
    return body + delimiter + b"--\r\n"


@pytest.fixture
def created_uploads(monkeypatch: pytest.MonkeyPatch) -> list[UploadFile]:
    """Every UploadFile the parser creates, so tests can check they were closed."""
    created: list[UploadFile] = []

    class TrackedUpload(UploadFile):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(formparsers, "UploadFile", TrackedUpload)
    return created


# --- FormLimits -----------------------------------------------------------------------------------


def test_limits_defaults_match_settings() -> None:
    assert FormLimits() == FormLimits.from_settings(Settings())


def test_limits_from_settings_maps_every_field() -> None:
    settings = Settings(max_form_fields=3, max_form_files=4, max_part_size=5, upload_spool_size=6)
    assert FormLimits.from_settings(settings) == FormLimits(max_fields=3, max_files=4, max_part_size=5, spool_size=6)


@pytest.mark.parametrize(
    ("field", "value"), [("max_fields", -1), ("max_files", -1), ("max_part_size", -1), ("spool_size", 0)]
)
def test_limits_refuse_nonsense(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=f"FormLimits.{field}"):
        FormLimits(**{field: value})


# --- content type dispatch ------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "multipart/mixed; boundary=x"])
def test_unsupported_content_type_is_415_naming_accepted_types(content_type: str) -> None:
    error = parse_error(content_type, [b"a=1"])
    assert error.status_code == 415
    assert URLENCODED in error.detail
    assert MULTIPART in error.detail
    assert content_type.split(";")[0] in error.detail


def test_missing_content_type_is_415() -> None:
    error = parse_error("", [b"a=1"])
    assert error.status_code == 415
    assert "no Content-Type" in error.detail


def test_content_type_match_ignores_case_and_parameters() -> None:
    assert parse("Application/X-WWW-Form-URLEncoded; charset=UTF-8", [b"a=1"]) == [("a", "1")]


# --- urlencoded -----------------------------------------------------------------------------------


def test_urlencoded_decodes_plus_and_percent_escapes() -> None:
    body = b"name=Ada+Lovelace&sym=%2B%26%3D%25&text=caf%C3%A9&raw=na\xc3\xafve"
    assert parse(URLENCODED, [body]) == [
        ("name", "Ada Lovelace"),
        ("sym", "+&=%"),
        ("text", "café"),
        ("raw", "naïve"),
    ]


def test_urlencoded_keeps_blank_values_and_repeats() -> None:
    body = b"a=&b&=c&tag=x&tag=y&&tag=z&"
    assert parse(URLENCODED, [body]) == [
        ("a", ""),
        ("b", ""),
        ("", "c"),
        ("tag", "x"),
        ("tag", "y"),
        ("tag", "z"),
    ]


def test_urlencoded_repeated_names_available_through_getlist() -> None:
    async def main() -> tuple[list[Any], Any]:
        form = await parse_form(URLENCODED, _stream([b"tag=a&tag=b&one=1"]), FormLimits())
        return form.getlist("tag"), form["tag"]

    assert anyio.run(main) == (["a", "b"], "b")


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 1000])
def test_urlencoded_split_at_any_chunk_boundary(size: int) -> None:
    body = b"first=caf%C3%A9+au+lait&&second=a%2Bb=c&empty=&flag&%E2%9C%93=ok&last=%41"
    expected = parse_qsl(body.decode(), keep_blank_values=True)
    assert parse(URLENCODED, split(body, size)) == expected


def test_urlencoded_empty_chunks_are_harmless() -> None:
    assert parse(URLENCODED, [b"", b"a=", b"", b"1", b""]) == [("a", "1")]


def test_urlencoded_empty_body_is_an_empty_form() -> None:
    assert parse(URLENCODED, []) == []
    assert parse(URLENCODED, [b""]) == []


@pytest.mark.parametrize("body", [b"a=%FF", b"a=\xff\xfe", b"%C3=1", b"ok=1&bad=%E2%82"])
def test_urlencoded_bad_utf8_is_400(body: bytes) -> None:
    error = parse_error(URLENCODED, [body])
    assert error.status_code == 400
    assert "UTF-8" in error.detail


def test_urlencoded_field_count_at_limit_is_accepted() -> None:
    assert len(parse(URLENCODED, [b"a=1&b=2&c"], FormLimits(max_fields=3))) == 3


def test_urlencoded_too_many_fields_is_413() -> None:
    error = parse_error(URLENCODED, [b"a=1&b=2&c=3&d=4"], FormLimits(max_fields=3))
    assert error.status_code == 413
    assert error.detail == "More than 3 form fields; raise Settings.max_form_fields to accept more."


def test_urlencoded_zero_fields_allowed_refuses_any_field() -> None:
    assert parse_error(URLENCODED, [b"a"], FormLimits(max_fields=0)).status_code == 413


def test_urlencoded_value_at_size_limit_counts_decoded_bytes() -> None:
    limits = FormLimits(max_part_size=3)
    assert parse(URLENCODED, [b"v=%41%42%43"], limits) == [("v", "ABC")]
    assert parse(URLENCODED, [b"v=%E2%9C%93"], limits) == [("v", "✓")]


def test_urlencoded_value_over_size_limit_is_413_naming_field_and_setting() -> None:
    error = parse_error(URLENCODED, [b"bio=", b"abcd"], FormLimits(max_part_size=3))
    assert error.status_code == 413
    assert "'bio'" in error.detail
    assert "larger than 3 bytes" in error.detail
    assert "Settings.max_part_size" in error.detail


def test_urlencoded_oversized_escaped_value_is_caught_after_decoding() -> None:
    error = parse_error(URLENCODED, [b"v=%41%42%43%44"], FormLimits(max_part_size=3))
    assert error.status_code == 413


def test_urlencoded_oversized_value_refused_before_body_ends() -> None:
    consumed: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for chunk in [b"big=", b"x" * 64, b"x" * 64, b"&more=1"]:
            consumed.append(chunk)
            yield chunk

    async def main() -> None:
        await parse_form(URLENCODED, body(), FormLimits(max_part_size=100))

    with pytest.raises(HTTPException) as info:
        anyio.run(main)
    assert info.value.status_code == 413
    assert consumed[-1] != b"&more=1"


def test_urlencoded_invalid_escapes_stay_literal_and_count_towards_the_limit() -> None:
    assert parse(URLENCODED, [b"a%zz=%zz%4"]) == [("a%zz", "%zz%4")]
    limits = FormLimits(max_part_size=5)
    assert parse_error(URLENCODED, [b"%zz%zz=1"], limits).status_code == 413
    error = parse_error(URLENCODED, [b"v=%zz%zz"], limits)
    assert error.status_code == 413
    assert "'v'" in error.detail


def test_urlencoded_oversized_name_is_413() -> None:
    error = parse_error(URLENCODED, [b"abcdef=1"], FormLimits(max_part_size=5))
    assert error.status_code == 413
    assert "field name" in error.detail
    assert parse_error(URLENCODED, [b"%41%42%43%44%45%46"], FormLimits(max_part_size=5)).status_code == 413


# --- multipart: the happy paths -------------------------------------------------------------------


def test_multipart_fields_and_files() -> None:
    body = multipart(
        part("title", b"Hello, world"),
        part("doc", b"file content\r\nsecond line", filename="notes.txt", content_type="text/plain"),
        part("empty", b""),
    )
    assert parse(MULTIPART_TYPE, [body]) == [
        ("title", "Hello, world"),
        ("doc", ("notes.txt", "text/plain", b"file content\r\nsecond line")),
        ("empty", ""),
    ]


def test_multipart_upload_attributes() -> None:
    body = multipart(part("f", b"12345", filename="a.bin", headers=["X-Extra: yes"]))

    async def main() -> None:
        form = await parse_form(MULTIPART_TYPE, _stream([body]), FormLimits())
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        assert upload.filename == "a.bin"
        assert upload.content_type == "application/octet-stream"
        assert upload.size == 5
        assert upload.in_memory
        assert await upload.read() == b"12345"
        assert upload.headers["x-extra"] == "yes"
        assert upload.headers["Content-Disposition"] == 'form-data; name="f"; filename="a.bin"'
        await form.close()
        assert upload.file.closed

    anyio.run(main)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 37, 64, 100_000])
def test_multipart_split_at_any_chunk_boundary(size: int) -> None:
    body = multipart(
        part("a", b"alpha"),
        part("upload", TRICKY_FILE, filename="tricky.bin", content_type="application/octet-stream"),
        part("b", "ünïcode\r\n--not a boundary".encode()),
    )
    assert parse(MULTIPART_TYPE, split(body, size)) == [
        ("a", "alpha"),
        ("upload", ("tricky.bin", "application/octet-stream", TRICKY_FILE)),
        ("b", "ünïcode\r\n--not a boundary"),
    ]


def test_multipart_repeated_names_keep_every_value() -> None:
    body = multipart(
        part("tag", b"x"),
        part("photos", b"one", filename="1.jpg", content_type="image/jpeg"),
        part("tag", b"y"),
        part("photos", b"two", filename="2.jpg", content_type="image/jpeg"),
    )

    async def main() -> None:
        form = await parse_form(MULTIPART_TYPE, _stream([body]), FormLimits())
        assert form.getlist("tag") == ["x", "y"]
        photos = form.getlist("photos", UploadFile)
        assert [p.filename for p in photos] == ["1.jpg", "2.jpg"]
        assert [await p.read() for p in photos] == [b"one", b"two"]
        await form.close()

    anyio.run(main)


def test_multipart_file_spools_to_disk_past_spool_size() -> None:
    content = bytes(range(256)) * 40  # 10 KiB
    body = multipart(part("big", content, filename="big.bin"), part("small", b"tiny", filename="s.bin"))

    async def main() -> None:
        form = await parse_form(MULTIPART_TYPE, _stream(split(body, 1000)), FormLimits(spool_size=1024))
        big, small = form["big"], form["small"]
        assert isinstance(big, UploadFile)
        assert isinstance(small, UploadFile)
        assert not big.in_memory
        assert small.in_memory
        assert big.size == len(content)
        assert await big.read() == content
        await form.close()
        assert big.file.closed

    anyio.run(main)


def test_multipart_files_are_not_limited_by_part_size() -> None:
    body = multipart(part("f", b"x" * 100, filename="f.txt"))
    assert parse(MULTIPART_TYPE, [body], FormLimits(max_part_size=10)) == [
        ("f", ("f.txt", "application/octet-stream", b"x" * 100))
    ]


def test_multipart_empty_filename_part_is_skipped() -> None:
    body = multipart(
        part("avatar", b"", filename="", content_type="application/octet-stream"),
        part("other", b"ignored content", filename=""),
        part("name", b"Ada"),
    )
    assert parse(MULTIPART_TYPE, [body], FormLimits(max_files=0)) == [("name", "Ada")]


def test_multipart_header_names_and_parameters_ignore_case() -> None:
    raw = b'CONTENT-DISPOSITION: Form-Data; NAME="doc"; FileName="A.TXT"\r\ncontent-TYPE: Text/Plain\r\n\r\nhi'
    assert parse(MULTIPART_TYPE, [multipart(raw)]) == [("doc", ("A.TXT", "text/plain", b"hi"))]


def test_multipart_quoted_parameters_keep_semicolons_and_escaped_quotes() -> None:
    raw = b'Content-Disposition: form-data; name="a;b"; filename="say \\"hi\\"; ok.txt"\r\n\r\nx'
    assert parse(MULTIPART_TYPE, [multipart(raw)]) == [("a;b", ('say "hi"; ok.txt', "application/octet-stream", b"x"))]


def test_multipart_keeps_browser_backslashes_in_the_raw_filename_only() -> None:
    raw = b'Content-Disposition: form-data; name="f"; filename="C:\\fakepath\\a.txt"\r\n\r\nx'

    async def main() -> UploadFile:
        form = await parse_form(MULTIPART_TYPE, _stream([multipart(raw)]), FormLimits())
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        await form.close()
        return upload

    upload = anyio.run(main)
    assert (upload.filename, upload.raw_filename) == ("a.txt", "C:\\fakepath\\a.txt")


def test_multipart_utf8_filename_and_field_name() -> None:
    raw = 'Content-Disposition: form-data; name="résumé"; filename="café ✓.pdf"\r\n\r\nx'.encode()
    assert parse(MULTIPART_TYPE, [multipart(raw)]) == [("résumé", ("café ✓.pdf", "application/octet-stream", b"x"))]


def test_multipart_non_utf8_filename_is_read_as_latin1() -> None:
    raw = b'Content-Disposition: form-data; name="f"; filename="caf\xe9.txt"\r\n\r\nx'
    [(_, (filename, _, _))] = parse(MULTIPART_TYPE, [multipart(raw)])
    assert filename == "café.txt"


def test_multipart_disposition_tolerates_spacing_flags_and_stray_parameters() -> None:
    raw = b'Content-Disposition: form-data ; flag; ="nameless"; name = "a" ;name="second"\r\n\r\n1'
    assert parse(MULTIPART_TYPE, [multipart(raw)]) == [("a", "1")]


def test_multipart_rfc5987_filename_wins_over_plain_filename() -> None:
    raw = b"Content-Disposition: form-data; name=f; filename=\"fallback.txt\"; filename*=UTF-8''na%C3%AFve.txt\r\n\r\nx"
    [(name, (filename, _, _))] = parse(MULTIPART_TYPE, [multipart(raw)])
    assert (name, filename) == ("f", "naïve.txt")


def test_multipart_malformed_rfc5987_filename_falls_back() -> None:
    raw = b"Content-Disposition: form-data; name=f; filename=\"plain.txt\"; filename*=bogus-charset''%FF\r\n\r\nx"
    [(_, (filename, _, _))] = parse(MULTIPART_TYPE, [multipart(raw)])
    assert filename == "plain.txt"


def test_multipart_rfc5987_filename_without_quotes_is_ignored() -> None:
    raw = b'Content-Disposition: form-data; name=f; filename="plain.txt"; filename*=just-text\r\n\r\nx'
    [(_, (filename, _, _))] = parse(MULTIPART_TYPE, [multipart(raw)])
    assert filename == "plain.txt"


def test_multipart_field_uses_its_declared_charset() -> None:
    body = multipart(part("city", "Zürich".encode("latin-1"), content_type="text/plain; charset=iso-8859-1"))
    assert parse(MULTIPART_TYPE, [body]) == [("city", "Zürich")]


def test_multipart_quoted_boundary_and_preamble_newlines_and_epilogue() -> None:
    body = b"\r\n" + multipart(part("a", b"1")) + b"epilogue text the parser ignores"
    assert parse(f'multipart/form-data; boundary="{BOUNDARY}"', [body]) == [("a", "1")]


def test_multipart_body_with_no_parts_is_an_empty_form() -> None:
    assert parse(MULTIPART_TYPE, [f"--{BOUNDARY}--\r\n".encode()]) == []


# --- multipart: limits ----------------------------------------------------------------------------


def test_multipart_field_limit_counts_only_non_file_parts() -> None:
    body = multipart(
        part("a", b"1"),
        part("f1", b"x", filename="1"),
        part("f2", b"x", filename="2"),
    )
    assert len(parse(MULTIPART_TYPE, [body], FormLimits(max_fields=1, max_files=2))) == 3


def test_multipart_too_many_fields_is_413(created_uploads: list[UploadFile]) -> None:
    body = multipart(part("f", b"data", filename="f.txt"), part("a", b"1"), part("b", b"2"))
    error = parse_error(MULTIPART_TYPE, [body], FormLimits(max_fields=1))
    assert error.status_code == 413
    assert error.detail == "More than 1 form fields; raise Settings.max_form_fields to accept more."
    assert len(created_uploads) == 1
    assert created_uploads[0].file.closed


def test_multipart_too_many_files_is_413_and_closes_earlier_files(created_uploads: list[UploadFile]) -> None:
    body = multipart(*(part("f", b"data", filename=f"{i}.txt") for i in range(3)))
    error = parse_error(MULTIPART_TYPE, split(body, 10), FormLimits(max_files=2))
    assert error.status_code == 413
    assert error.detail == "More than 2 files in one form; raise Settings.max_form_files to accept more."
    assert len(created_uploads) == 2
    assert all(upload.file.closed for upload in created_uploads)


def test_multipart_field_at_size_limit_is_accepted() -> None:
    assert parse(MULTIPART_TYPE, [multipart(part("a", b"12345"))], FormLimits(max_part_size=5)) == [("a", "12345")]


def test_multipart_field_over_size_limit_is_413(created_uploads: list[UploadFile]) -> None:
    body = multipart(part("f", b"x", filename="f.txt"), part("comment", b"123456"))
    error = parse_error(MULTIPART_TYPE, split(body, 3), FormLimits(max_part_size=5))
    assert error.status_code == 413
    assert "'comment'" in error.detail
    assert "Settings.max_part_size" in error.detail
    assert created_uploads[0].file.closed


def test_multipart_header_line_over_8_kib_is_400() -> None:
    body = multipart(part("f", b"x", filename="n" * (formparsers.MAX_PART_HEADER_LINE + 1)))
    error = parse_error(MULTIPART_TYPE, split(body, 4096))
    assert error.status_code == 400
    assert f"longer than {formparsers.MAX_PART_HEADER_LINE} bytes" in error.detail


def test_multipart_header_lines_just_under_the_limit_are_read() -> None:
    headers = [f"X-Pad-{i}: {'v' * 8000}" for i in range(formparsers.MAX_PART_HEADERS - 1)]
    assert parse(MULTIPART_TYPE, split(multipart(part("a", b"1", headers=headers)), 1000)) == [("a", "1")]


def test_multipart_header_line_padded_with_spaces_is_400() -> None:
    raw = b"Content-Disposition: form-data; name=a\r\nX-Pad:" + b" " * 40_000 + b"v\r\n\r\n1"
    error = parse_error(MULTIPART_TYPE, [multipart(raw)])
    assert error.status_code == 400
    assert "header line of a multipart part" in error.detail


def test_multipart_part_may_have_exactly_the_maximum_headers() -> None:
    headers = [f"X-H{i}: v" for i in range(formparsers.MAX_PART_HEADERS - 1)]
    assert parse(MULTIPART_TYPE, [multipart(part("a", b"1", headers=headers))]) == [("a", "1")]


def test_multipart_too_many_headers_in_a_part_is_400() -> None:
    headers = [f"X-H{i}: v" for i in range(formparsers.MAX_PART_HEADERS)]
    error = parse_error(MULTIPART_TYPE, [multipart(part("a", b"1", headers=headers))])
    assert error.status_code == 400
    assert f"more than {formparsers.MAX_PART_HEADERS} headers" in error.detail


# --- multipart: malformed bodies ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; charset=utf-8"],
)
def test_multipart_without_boundary_is_400(content_type: str) -> None:
    error = parse_error(content_type, [multipart(part("a", b"1"))])
    assert error.status_code == 400
    assert "no boundary parameter" in error.detail


def test_multipart_overlong_boundary_is_400() -> None:
    boundary = "b" * 300
    error = parse_error(f"multipart/form-data; boundary={boundary}", [multipart(part("a", b"1"), boundary=boundary)])
    assert error.status_code == 400
    assert "boundary" in error.detail


def test_multipart_non_latin1_boundary_is_400() -> None:
    assert parse_error("multipart/form-data; boundary=✓", [b"--x--"]).status_code == 400


def test_multipart_body_with_a_different_boundary_is_400() -> None:
    error = parse_error(MULTIPART_TYPE, [multipart(part("a", b"1"), boundary="something-else")])
    assert error.status_code == 400
    assert "malformed" in error.detail
    assert "boundary" in error.detail


@pytest.mark.parametrize("cut", [10, 60, 100])
def test_multipart_truncated_body_is_400(cut: int, created_uploads: list[UploadFile]) -> None:
    body = multipart(part("f", b"some file content " * 5, filename="f.txt"))
    error = parse_error(MULTIPART_TYPE, [body[:cut]])
    assert error.status_code == 400
    assert "cut off" in error.detail or "malformed" in error.detail
    assert all(upload.file.closed for upload in created_uploads)


def test_multipart_missing_final_boundary_is_400_and_closes_the_file(
    created_uploads: list[UploadFile],
) -> None:
    body = multipart(part("f", b"content", filename="f.txt"))
    body = body[: body.rindex(b"--" + BOUNDARY.encode())]
    error = parse_error(MULTIPART_TYPE, [body])
    assert error.status_code == 400
    assert f"closing boundary '--{BOUNDARY}--'" in error.detail
    assert len(created_uploads) == 1
    assert created_uploads[0].file.closed


def test_multipart_empty_body_is_400() -> None:
    assert parse_error(MULTIPART_TYPE, []).status_code == 400


def test_multipart_header_without_colon_is_400() -> None:
    raw = b"Content-Disposition form-data\r\n\r\nx"
    error = parse_error(MULTIPART_TYPE, [multipart(raw)])
    assert error.status_code == 400
    assert "malformed" in error.detail


def test_multipart_part_without_content_disposition_is_400() -> None:
    error = parse_error(MULTIPART_TYPE, [multipart(part(None, b"x", content_type="text/plain"))])
    assert error.status_code == 400
    assert "Content-Disposition" in error.detail


def test_multipart_part_without_name_is_400() -> None:
    raw = b'Content-Disposition: form-data; filename="a.txt"\r\n\r\nx'
    error = parse_error(MULTIPART_TYPE, [multipart(raw)])
    assert error.status_code == 400
    assert "no name parameter" in error.detail


def test_multipart_field_with_bad_utf8_is_400() -> None:
    error = parse_error(MULTIPART_TYPE, [multipart(part("a", b"\xff\xfe"))])
    assert error.status_code == 400
    assert "'a' is not valid utf-8" in error.detail


def test_multipart_field_with_unknown_charset_is_400() -> None:
    body = multipart(part("a", b"x", content_type="text/plain; charset=klingon"))
    error = parse_error(MULTIPART_TYPE, [body])
    assert error.status_code == 400
    assert "'klingon'" in error.detail


# --- multipart: cleanup when the body stream fails ------------------------------------------------


def test_stream_error_closes_uploads_and_propagates(created_uploads: list[UploadFile]) -> None:
    head = multipart(part("f", b"x" * 5000, filename="f.bin"))[:-100]

    async def body() -> AsyncIterator[bytes]:
        yield head
        raise ConnectionResetError("client went away")

    async def main() -> None:
        await parse_form(MULTIPART_TYPE, body(), FormLimits(spool_size=100))

    with pytest.raises(ConnectionResetError):
        anyio.run(main)
    assert len(created_uploads) == 1
    assert not created_uploads[0].in_memory
    assert created_uploads[0].file.closed


def test_cancellation_closes_spooled_uploads(created_uploads: list[UploadFile]) -> None:
    head = multipart(part("f", b"x" * 5000, filename="f.bin"))[:-100]

    async def body() -> AsyncIterator[bytes]:
        yield head
        await anyio.sleep_forever()
        yield b""  # pragma: no cover

    async def main() -> None:
        with anyio.move_on_after(0.2) as scope:
            await parse_form(MULTIPART_TYPE, body(), FormLimits(spool_size=100))
        assert scope.cancelled_caught

    anyio.run(main)
    assert len(created_uploads) == 1
    assert created_uploads[0].file.closed


# --- upload file names ----------------------------------------------------------------------------


def uploaded_names(disposition: bytes) -> tuple[str | None, str | None]:
    """(filename, raw_filename) of the one upload whose Content-Disposition is ``disposition``."""
    raw = b"Content-Disposition: " + disposition + b"\r\n\r\nx"

    async def main() -> UploadFile:
        form = await parse_form(MULTIPART_TYPE, _stream([multipart(raw)]), FormLimits())
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        await form.close()
        return upload

    upload = anyio.run(main)
    return upload.filename, upload.raw_filename


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        (b'form-data; name=f; filename="../../etc/passwd"', ("passwd", "../../etc/passwd")),
        (b'form-data; name=f; filename="..\\\\..\\\\boot.ini"', ("boot.ini", "..\\..\\boot.ini")),
        (b'form-data; name=f; filename="C:evil.txt"', ("evil.txt", "C:evil.txt")),
        (b'form-data; name=f; filename="a\x01b\x7f.txt"', ("ab.txt", "a\x01b\x7f.txt")),
        (b'form-data; name=f; filename=".."', (None, "..")),
        (b"form-data; name=f; filename*=UTF-8''..%2F..%2Fna%C3%AFve%00.txt", ("naïve.txt", "../../naïve\x00.txt")),
        (b"form-data; name=f; filename=\"safe.txt\"; filename*=UTF-8''%2Fetc%2Fshadow", ("shadow", "/etc/shadow")),
    ],
)
def test_upload_filename_is_a_safe_basename_and_the_original_is_kept(
    disposition: bytes, expected: tuple[str | None, str | None]
) -> None:
    assert uploaded_names(disposition) == expected


def test_upload_filename_star_and_filename_are_reconciled() -> None:
    # filename* wins when it decodes; a broken one leaves filename, cleaned the same way.
    assert uploaded_names(b"form-data; name=f; filename=\"a.txt\"; filename*=UTF-8''b%C3%A9.txt") == (
        "bé.txt",
        "bé.txt",
    )
    broken = uploaded_names(b"form-data; name=f; filename=\"dir/a.txt\"; filename*=UTF-8''%FF")
    assert broken == ("a.txt", "dir/a.txt")


def test_upload_filename_is_capped_at_255_bytes_keeping_the_extension() -> None:
    name, raw = uploaded_names(b'form-data; name=f; filename="' + "é".encode() * 200 + b'.pdf"')
    assert name is not None
    assert raw == "é" * 200 + ".pdf"
    assert name.endswith(".pdf")
    assert len(name.encode()) <= 255
