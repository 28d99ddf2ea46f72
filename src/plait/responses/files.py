"""Serving a file from disk, with validators, conditional requests and byte ranges.

Decisions worth knowing:

* The ``ETag`` is strong, built from the modification time (in nanoseconds) and the size:
  ``"<mtime_ns hex>-<size hex>"``. A strong tag lets ``If-Range`` and ``If-Match`` work, so
  interrupted downloads can resume. Servers behind a load balancer agree on it as long as
  their copies of the file share the same modification time.
* ``Range`` is honoured for ``GET`` only (RFC 9110 section 14.2). A single range gets a
  ``206`` with ``Content-Range``; several get a ``multipart/byteranges`` body. Overlapping or
  adjacent ranges are merged first. A header with more than ``MAX_RANGES`` ranges, a malformed
  header, a unit other than ``bytes`` or a zero-length file makes the range ignored and the
  whole file sent with ``200``. When no range overlaps the file, the answer is ``416`` with
  ``Content-Range: bytes */<size>``.
* A missing path, a directory or anything that is not a regular file gets a plain ``404``; a
  file the process may not read gets a plain ``403``.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from typing import Literal
from urllib.parse import quote

import anyio
import anyio.to_thread
from anyio import AsyncFile

from plait._types import Receive, Scope, Send
from plait.datastructures import Headers, MutableHeaders
from plait.responses.base import PlainTextResponse, Response
from plait.responses.streaming import log_disconnect, send_until_disconnect

MAX_RANGES = 16
"""The most ranges one ``Range`` header may ask for; above it the whole file is sent."""

# Compressed files are served as they are, never with a Content-Encoding, so ``.tar.gz`` must
# not claim to be a tar archive.
_ENCODING_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
}
_CHARSET_TYPES = {"application/javascript", "application/ecmascript", "image/svg+xml", "application/xml"}
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)", re.ASCII)
_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')
_DISPOSITION_SAFE = "!#$&+-.^_`|~"
# Headers that describe a body; a 304 or an error status sent instead must not carry them.
_BODY_HEADERS = ("content-type", "content-length", "content-disposition", "content-range")


def guess_media_type(name: str) -> str:
    """The media type for a file name, ``application/octet-stream`` when unknown.

    >>> guess_media_type("notes.txt"), guess_media_type("backup.tar.gz"), guess_media_type("blob")
    ('text/plain', 'application/gzip', 'application/octet-stream')
    """
    media_type, encoding = mimetypes.guess_type(name, strict=False)
    if encoding is not None:
        return _ENCODING_TYPES.get(encoding, "application/octet-stream")
    return media_type or "application/octet-stream"


def content_disposition(disposition: str, filename: str) -> str:
    """A ``Content-Disposition`` value that is safe whatever characters ``filename`` holds.

    Control characters are dropped. The ``filename`` parameter keeps printable ASCII only, with
    ``"`` and ``\\`` replaced by ``_``; when that changed the name, ``filename*`` carries the exact
    name in UTF-8 (RFC 5987), which every current browser prefers.

    >>> content_disposition("attachment", "résumé.pdf")
    'attachment; filename="r_sum_.pdf"; filename*=utf-8\\'\\'r%C3%A9sum%C3%A9.pdf'
    """
    cleaned = "".join(ch for ch in filename if ch >= " " and ch != "\x7f")
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in cleaned)
    value = f'{disposition}; filename="{fallback}"'
    if fallback != cleaned:
        value += f"; filename*=utf-8''{quote(cleaned, safe=_DISPOSITION_SAFE)}"
    return value


def _to_int(digits: str) -> int:
    # Very long numbers are capped instead of parsed: they are past the end of any file anyway,
    # and Python refuses to convert strings of thousands of digits.
    return int(digits) if len(digits) <= 18 else 10**18


def _coalesce(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or touching ranges, keeping the order in which they were asked for."""
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        hits = [i for i, (s, e) in enumerate(merged) if start <= e and s <= end]
        for i in hits:
            start, end = min(start, merged[i][0]), max(end, merged[i][1])
        if not hits:
            merged.append((start, end))
            continue
        merged[hits[0]] = (start, end)
        for i in reversed(hits[1:]):
            del merged[i]
    return merged


def parse_range(value: str, size: int) -> list[tuple[int, int]] | None:
    """Parse a ``Range`` header against a file of ``size`` bytes.

    Returns half-open ``(start, end)`` byte ranges, merged where they overlap; an empty list
    when none can be satisfied (answer ``416``); ``None`` when the header must be ignored and the
    whole file sent (malformed, not ``bytes``, more than ``MAX_RANGES`` ranges, or an empty file).

    >>> parse_range("bytes=0-99, -50", 1000)
    [(0, 100), (950, 1000)]
    >>> parse_range("bytes=2000-", 1000), parse_range("pages=1-2", 1000)
    ([], None)
    """
    unit, sep, specs = value.partition("=")
    if not sep or unit.strip().lower() != "bytes" or size <= 0:
        return None
    parts = [part.strip() for part in specs.split(",")]
    parts = [part for part in parts if part]
    if not parts or len(parts) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for part in parts:
        match = _RANGE_SPEC.fullmatch(part)
        if match is None or match.group(0) == "-":
            return None
        first, last = match.groups()
        if not first:
            suffix = _to_int(last)
            if suffix > 0:
                ranges.append((max(0, size - suffix), size))
            continue
        start = _to_int(first)
        if last and _to_int(last) < start:
            return None
        if start < size:
            ranges.append((start, min(_to_int(last) + 1, size) if last else size))
    return _coalesce(ranges)


def _parse_http_date(value: str) -> int | None:
    """Seconds since the epoch for an HTTP date, or None when it cannot be read."""
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        # A date without a zone is read as UTC, which is what HTTP dates always are.
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _etag_matches(header: str, etag: str, *, weak: bool) -> bool:
    """Whether an ``If-Match``/``If-None-Match`` list names ``etag``.

    Weak comparison ignores ``W/`` prefixes; strong comparison never matches a weak tag.
    """
    if header.strip() == "*":
        return True
    for candidate in _ENTITY_TAG.findall(header):
        if weak and candidate.removeprefix("W/") == etag.removeprefix("W/"):
            return True
        if not weak and candidate == etag and not etag.startswith("W/"):
            return True
    return False


@dataclass(slots=True)
class _Plan:
    """What to send: status, headers, then file slices each preceded by some bytes."""

    status: int
    headers: MutableHeaders
    segments: list[tuple[bytes, int, int]] = field(default_factory=list)
    trailer: bytes = b""


class FileResponse(Response):
    """A file from disk, read in chunks off the event loop.

    Sends ``ETag``, ``Last-Modified``, ``Accept-Ranges`` and ``Content-Length``; answers
    ``If-None-Match``, ``If-Modified-Since``, ``If-Match`` and ``If-Unmodified-Since`` with
    ``304``/``412``, and ``Range`` (guarded by ``If-Range``) with ``206`` or ``416``. A missing
    file gets a plain ``404`` rather than an error. See the module documentation for details.

    >>> response = FileResponse("report.pdf", filename="Q3 report.pdf")
    >>> response.headers["content-type"], response.headers["content-disposition"]
    ('application/pdf', 'attachment; filename="Q3 report.pdf"')
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        filename: str | None = None,
        content_disposition_type: Literal["attachment", "inline"] = "attachment",
        stat_result: os.stat_result | None = None,
        chunk_size: int = 64 * 1024,
    ) -> None:
        if content_disposition_type not in ("attachment", "inline"):
            raise ValueError(
                f"content_disposition_type must be 'attachment' (download) or 'inline' (show in the "
                f"browser), not {content_disposition_type!r}."
            )
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be a positive number of bytes, not {chunk_size}.")
        self.path = path
        self.filename = filename
        self.stat_result = stat_result
        self.chunk_size = chunk_size
        if media_type is None:
            media_type = guess_media_type(filename or os.fspath(path))
        if media_type in _CHARSET_TYPES:
            media_type = f"{media_type}; charset={self.charset}"
        super().__init__(None, status_code=status_code, headers=headers, media_type=media_type)
        # The length is only known once the file is looked at, when the response is sent.
        del self.headers["content-length"]
        if filename is not None and "content-disposition" not in self.headers:
            self.headers["content-disposition"] = content_disposition(content_disposition_type, filename)

    async def _stat(self) -> os.stat_result | Response:
        """The file's status, or the response to send when it cannot be served."""
        try:
            result = self.stat_result
            if result is None:
                result = await anyio.to_thread.run_sync(os.stat, self.path)
        except (FileNotFoundError, NotADirectoryError):
            return PlainTextResponse("Not Found", status_code=404)
        except PermissionError:
            return PlainTextResponse("Forbidden", status_code=403)
        if not stat.S_ISREG(result.st_mode):
            # Directories, sockets and FIFOs are never served: reading a FIFO could hang forever.
            return PlainTextResponse("Not Found", status_code=404)
        return result

    def _base_headers(self, result: os.stat_result) -> tuple[MutableHeaders, str]:
        headers = MutableHeaders(list(self.headers.raw))
        # A stat_result built by hand from a 10-tuple has no nanosecond fields.
        mtime_ns: int | None = getattr(result, "st_mtime_ns", None)
        if mtime_ns is None:
            mtime_ns = int(result.st_mtime * 1_000_000_000)
        etag = headers.get("etag") or f'"{mtime_ns:x}-{result.st_size:x}"'
        headers.setdefault("etag", etag)
        headers.setdefault("last-modified", formatdate(result.st_mtime, usegmt=True))
        headers.setdefault("accept-ranges", "bytes")
        return headers, etag

    def _plan(self, scope: Scope, result: os.stat_result) -> _Plan:
        headers, etag = self._base_headers(result)
        size = result.st_size
        full = _Plan(self.status_code, headers, [(b"", 0, size)] if size else [])
        headers["content-length"] = str(size)
        if self.status_code != 200:
            return full
        method = scope.get("method", "GET")
        request = Headers(scope.get("headers") or [])
        mtime = int(result.st_mtime)
        decided = _check_preconditions(method, request, etag, mtime)
        if decided is not None:
            for name in _BODY_HEADERS:
                del headers[name]
            if decided == 412:
                headers["content-length"] = "0"
            return _Plan(decided, headers)
        if method != "GET" or "range" not in request or not _if_range_allows(request, etag, mtime):
            return full
        ranges = parse_range(request["range"], size)
        if ranges is None:
            return full
        return self._ranged_plan(headers, ranges, size)

    def _ranged_plan(self, headers: MutableHeaders, ranges: list[tuple[int, int]], size: int) -> _Plan:
        if not ranges:
            for name in _BODY_HEADERS:
                del headers[name]
            headers["content-range"] = f"bytes */{size}"
            headers["content-length"] = "0"
            return _Plan(416, headers)
        if len(ranges) == 1:
            start, end = ranges[0]
            headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
            headers["content-length"] = str(end - start)
            return _Plan(206, headers, [(b"", start, end)])
        boundary = secrets.token_hex(16)
        part_type = headers.get("content-type", "application/octet-stream")
        segments = [
            (
                f"--{boundary}\r\nContent-Type: {part_type}\r\n"
                f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n".encode("latin-1"),
                start,
                end,
            )
            for start, end in ranges
        ]
        # Every part after the first is preceded by the CRLF that ends the previous part.
        segments = [(b"\r\n" + prefix if i else prefix, s, e) for i, (prefix, s, e) in enumerate(segments)]
        trailer = f"\r\n--{boundary}--\r\n".encode("latin-1")
        length = sum(len(prefix) + end - start for prefix, start, end in segments) + len(trailer)
        headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
        headers["content-length"] = str(length)
        return _Plan(206, headers, segments, trailer)

    async def _send_body(self, file: AsyncFile[bytes], plan: _Plan, send: Send) -> None:
        for prefix, start, end in plan.segments:
            if prefix:
                await send({"type": "http.response.body", "body": prefix, "more_body": True})
            await file.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = await file.read(min(self.chunk_size, remaining))
                if not chunk:
                    raise RuntimeError(
                        f"{os.fspath(self.path)!r} shrank while it was being sent; the client got an "
                        "incomplete response. Replace served files atomically (write elsewhere, then rename)."
                    )
                remaining -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": plan.trailer, "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        result = await self._stat()
        if isinstance(result, Response):
            await result(scope, receive, send)
            return
        plan = self._plan(scope, result)
        start = {"type": "http.response.start", "status": plan.status, "headers": plan.headers.raw}
        if scope.get("method") == "HEAD" or not plan.segments:
            await send(start)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        try:
            file = await anyio.open_file(self.path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        except PermissionError:
            await PlainTextResponse("Forbidden", status_code=403)(scope, receive, send)
            return
        async with file:
            await send(start)
            if not await send_until_disconnect(receive, send, functools.partial(self._send_body, file, plan)):
                log_disconnect(scope, "while the file was sent")


def _check_preconditions(method: str, request: Headers, etag: str, mtime: int) -> int | None:
    """Evaluate conditional headers in the order RFC 9110 section 13.2.2 gives.

    Returns ``304`` or ``412`` when a condition decides the response, ``None`` to carry on.
    """
    if_match = request.get("if-match")
    if if_match is not None:
        if not _etag_matches(if_match, etag, weak=False):
            return 412
    elif (unmodified_since := request.get("if-unmodified-since")) is not None:
        date = _parse_http_date(unmodified_since)
        if date is not None and mtime > date:
            return 412
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        if _etag_matches(if_none_match, etag, weak=True):
            return 304 if method in ("GET", "HEAD") else 412
    elif method in ("GET", "HEAD") and (modified_since := request.get("if-modified-since")) is not None:
        date = _parse_http_date(modified_since)
        if date is not None and mtime <= date:
            return 304
    return None


def _if_range_allows(request: Headers, etag: str, mtime: int) -> bool:
    """Whether ``If-Range`` (if sent) lets the ``Range`` header apply.

    An entity tag must match strongly; a date must equal ``Last-Modified`` exactly.
    """
    if_range = request.get("if-range")
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', 'W/"')):
        return _etag_matches(if_range, etag, weak=False)
    return _parse_http_date(if_range) == mtime
