"""Streaming parsers for HTML form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

:func:`parse_form` reads the request body chunk by chunk and holds at most one field (bounded by
:attr:`FormLimits.max_part_size`), one part's headers and one body chunk in memory. Uploaded
files go to :class:`~plait.datastructures.UploadFile`, which spools to disk past
:attr:`FormLimits.spool_size`. Every problem with the body becomes an
:class:`~plait.exceptions.HTTPException` (400, 413 or 415) whose detail names the limit
that was hit and the setting that raises it.

Multipart rules worth knowing:

* A part whose ``Content-Disposition`` has a ``filename`` parameter becomes an ``UploadFile``;
  every other part becomes a ``str`` field, decoded with the part's ``charset`` (UTF-8 when absent).
* A part with ``filename=""`` is what browsers send for a file input left empty. Plait skips
  such parts entirely, so the form has no value under that name and an optional upload
  parameter stays unset. They do not count towards ``max_files``.
* ``filename*`` (RFC 5987, ``UTF-8''na%C3%AFve.txt``) wins over ``filename`` when both are present
  and it decodes; a malformed ``filename*`` is ignored in favour of ``filename``.
* ``UploadFile.filename`` is a plain, safe file name made from what the client sent (no directories,
  drive letters or control characters, at most 255 bytes; see ``safe_filename``); the client's own
  string stays in ``UploadFile.raw_filename``. Decide on ``filename`` whether to trust either at all.
* A part may have at most ``MAX_PART_HEADERS`` header lines, each at most ``MAX_PART_HEADER_LINE``
  bytes (400 otherwise).
* ``UploadFile.content_type`` is the part's media type, lower-cased and without parameters
  (``application/octet-stream`` when absent); the full part headers are in ``UploadFile.headers``.
* ``max_part_size`` bounds non-file fields only; the total upload size is bounded by the
  request body limit (``Settings.max_body_size``), which the caller enforces.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

import anyio
import msgspec
from python_multipart import MultipartParser, QuerystringParser
from python_multipart.exceptions import FormParserError

from plait.datastructures import FormData, FormValue, Headers, UploadFile
from plait.exceptions import HTTPException
from plait.http.headers import parse_options_header

if TYPE_CHECKING:
    from plait.settings import Settings

MIB = 1024 * 1024
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

MAX_PART_HEADER_LINE = 8 * 1024
"""Longest header line (name plus value) of one multipart part, in bytes (400 beyond it). Fixed, not a setting."""
MAX_PART_HEADERS = 8
"""Most header lines in one multipart part (400 beyond it); browsers send two. Fixed, not a setting."""


class FormLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The limits :func:`parse_form` enforces; build them from settings with :meth:`from_settings`.

    >>> FormLimits(max_fields=10).max_files
    100
    """

    max_fields: int = 1000
    """Most non-file fields in one form (``Settings.max_form_fields``)."""
    max_files: int = 100
    """Most files in one multipart form (``Settings.max_form_files``)."""
    max_part_size: int = MIB
    """Largest non-file field value, in bytes (``Settings.max_part_size``)."""
    spool_size: int = MIB
    """Uploads larger than this are spooled to disk (``Settings.upload_spool_size``)."""

    def __post_init__(self) -> None:
        for name in ("max_fields", "max_files", "max_part_size"):
            if getattr(self, name) < 0:
                raise ValueError(f"FormLimits.{name} must be 0 or more, got {getattr(self, name)}.")
        if self.spool_size < 1:
            raise ValueError(
                f"FormLimits.spool_size must be at least 1 byte, got {self.spool_size}; "
                "set Settings.upload_spool_size to a positive number of bytes."
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> FormLimits:
        """The limits configured in ``settings``."""
        return cls(
            max_fields=settings.max_form_fields,
            max_files=settings.max_form_files,
            max_part_size=settings.max_part_size,
            spool_size=settings.upload_spool_size,
        )


async def parse_form(content_type: str, stream: AsyncIterator[bytes], limits: FormLimits) -> FormData:
    """Parse a form body of the given ``Content-Type`` read from ``stream``.

    >>> async def body():
    ...     yield b"name=Ada+Lovelace&tag=a&tag=b"
    >>> form = anyio.run(parse_form, URLENCODED, body(), FormLimits())
    >>> form["name"], form.getlist("tag")
    ('Ada Lovelace', ['a', 'b'])

    Uploads come back rewound to their start, ready for ``await upload.read()``. The caller owns
    the returned form and must ``await form.close()`` when done with it; on error, every upload
    created so far is closed before the exception propagates.
    """
    media_type, params = parse_options_header(content_type)
    if media_type == URLENCODED:
        return await _parse_urlencoded(stream, limits)
    if media_type == MULTIPART:
        return await _parse_multipart(params.get("boundary", ""), stream, limits)
    sent = f"Content-Type {media_type!r}" if media_type else "no Content-Type"
    raise HTTPException(
        415, f"Cannot read a form from a request with {sent}; send the form as {URLENCODED} or {MULTIPART}."
    )


# --- application/x-www-form-urlencoded ----------------------------------------------------------


class _UrlencodedBuilder:
    """Collects fields from QuerystringParser callbacks, enforcing the limits as bytes arrive."""

    def __init__(self, limits: FormLimits) -> None:
        self.limits = limits
        self.items: list[tuple[str, FormValue]] = []
        self.count = 0
        self.name = bytearray()
        self.value = bytearray()
        # Count '%' as bytes arrive: len(raw) - 2 * percents is a lower bound on the decoded size,
        # so an oversized field is refused early without rescanning the buffer.
        self.name_percents = 0
        self.value_percents = 0

    def on_field_start(self) -> None:
        self.count += 1
        if self.count > self.limits.max_fields:
            raise _too_many_fields(self.limits.max_fields)
        self.name.clear()
        self.value.clear()
        self.name_percents = self.value_percents = 0

    def on_field_name(self, data: bytes, start: int, end: int) -> None:
        self.name += data[start:end]
        self.name_percents += data.count(b"%", start, end)
        if len(self.name) - 2 * self.name_percents > self.limits.max_part_size:
            raise _name_too_large(self.limits.max_part_size)

    def on_field_data(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]
        self.value_percents += data.count(b"%", start, end)
        if len(self.value) - 2 * self.value_percents > self.limits.max_part_size:
            raise _field_too_large(_percent_decode(self.name), self.limits.max_part_size)

    def on_field_end(self) -> None:
        raw_name = _percent_decode(self.name)
        if len(raw_name) > self.limits.max_part_size:
            raise _name_too_large(self.limits.max_part_size)
        raw_value = _percent_decode(self.value)
        if len(raw_value) > self.limits.max_part_size:
            raise _field_too_large(raw_name, self.limits.max_part_size)
        name = _utf8(raw_name, "A form field name")
        self.items.append((name, _utf8(raw_value, f"Form field {_show(name)}")))


def _percent_decode(raw: bytes | bytearray) -> bytes:
    return unquote_to_bytes(bytes(raw).replace(b"+", b" "))


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(
            400,
            f"{what} is not valid UTF-8 once percent-decoded; send urlencoded forms as UTF-8 "
            '(browsers do when the page declares <meta charset="utf-8">).',
        ) from None


async def _parse_urlencoded(stream: AsyncIterator[bytes], limits: FormLimits) -> FormData:
    builder = _UrlencodedBuilder(limits)
    parser = QuerystringParser(
        callbacks={
            "on_field_start": builder.on_field_start,
            "on_field_name": builder.on_field_name,
            "on_field_data": builder.on_field_data,
            "on_field_end": builder.on_field_end,
        }
    )
    async for chunk in stream:
        parser.write(chunk)
    parser.finalize()
    return FormData(builder.items)


# --- multipart/form-data -------------------------------------------------------------------------


class _Part:
    """The multipart part being read: a text field buffered in memory, a file, or a skipped part."""

    __slots__ = ("charset", "data", "name", "upload")

    def __init__(self, name: str | None, upload: UploadFile | None = None, charset: str = "utf-8") -> None:
        self.name = name  # None: an empty file input, whose content is discarded
        self.upload = upload
        self.charset = charset
        self.data = bytearray()


class _MultipartBuilder:
    """Turns MultipartParser callbacks into form items.

    The callbacks are synchronous, so file content is queued in ``pending`` and written with
    ``await flush()`` after each body chunk; the queue never holds more than one chunk's bytes.
    """

    def __init__(self, limits: FormLimits) -> None:
        self.limits = limits
        self.items: list[tuple[str, FormValue]] = []
        self.uploads: list[UploadFile] = []  # every upload created, closed on error
        self.pending: list[tuple[UploadFile, list[bytes]]] = []
        self.fields = 0
        self.files = 0
        self.ended = False
        self.part: _Part | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.header_bytes = 0  # of the header line being read

    def on_part_begin(self) -> None:
        self.part = None
        self.headers = []

    def on_header_begin(self) -> None:
        if len(self.headers) >= MAX_PART_HEADERS:
            raise _too_many_part_headers()
        self.header_name.clear()
        self.header_value.clear()
        self.header_bytes = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self.header_value += data[start:end]

    def _count_header_bytes(self, size: int) -> None:
        self.header_bytes += size
        if self.header_bytes > MAX_PART_HEADER_LINE:
            raise _part_header_too_large()

    def on_header_end(self) -> None:
        self.headers.append((bytes(self.header_name.lower()), bytes(self.header_value)))

    def on_headers_finished(self) -> None:
        self.part = self._start_part()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        if part is None or part.name is None:
            return
        if part.upload is None:
            part.data += data[start:end]
            if len(part.data) > self.limits.max_part_size:
                raise _field_too_large(part.name, self.limits.max_part_size)
        elif self.pending and self.pending[-1][0] is part.upload:
            self.pending[-1][1].append(data[start:end])
        else:
            self.pending.append((part.upload, [data[start:end]]))

    def on_part_end(self) -> None:
        part, self.part = self.part, None
        if part is None or part.name is None:
            return
        if part.upload is not None:
            self.items.append((part.name, part.upload))
        else:
            self.items.append((part.name, _decode_field(part)))

    def on_end(self) -> None:
        self.ended = True

    async def flush(self) -> None:
        """Write the file content queued by the last chunk."""
        pending, self.pending = self.pending, []
        for upload, pieces in pending:
            await upload.write(pieces[0] if len(pieces) == 1 else b"".join(pieces))

    def _start_part(self) -> _Part:
        disposition = self._header(b"content-disposition")
        if disposition is None:
            raise HTTPException(
                400,
                "A multipart part has no Content-Disposition header; every part of a "
                'multipart/form-data body needs one, like `Content-Disposition: form-data; name="field"`.',
            )
        params = _parse_disposition(_decode_header(disposition))
        name = params.get("name")
        if name is None:
            raise HTTPException(
                400,
                "A multipart part's Content-Disposition has no name parameter; "
                'send `Content-Disposition: form-data; name="field"`.',
            )
        content_type = self._header(b"content-type")
        media_type, type_params = parse_options_header(_decode_header(content_type or b""))
        filename = params.get("filename")
        if filename is None:
            self.fields += 1
            if self.fields > self.limits.max_fields:
                raise _too_many_fields(self.limits.max_fields)
            return _Part(name, charset=type_params.get("charset") or "utf-8")
        if filename == "":
            return _Part(None)
        self.files += 1
        if self.files > self.limits.max_files:
            raise HTTPException(
                413,
                f"More than {self.limits.max_files} files in one form; raise Settings.max_form_files to accept more.",
            )
        upload = UploadFile(
            filename,
            content_type=media_type or "application/octet-stream",
            headers=Headers(self.headers),
            spool_max_size=self.limits.spool_size,
        )
        self.uploads.append(upload)
        return _Part(name, upload)

    def _header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)


def _decode_header(raw: bytes) -> str:
    # Browsers send non-ASCII filenames as raw UTF-8; anything else is read as Latin-1, which never fails.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _decode_field(part: _Part) -> str:
    name = _show(part.name or "")
    try:
        return bytes(part.data).decode(part.charset)
    except LookupError:
        raise HTTPException(
            400,
            f"Form field {name} declares charset {part.charset!r}, which Plait does not know; send it as UTF-8.",
        ) from None
    except UnicodeDecodeError:
        raise HTTPException(
            400,
            f"Form field {name} is not valid {part.charset}; send its text in the charset its "
            "Content-Type declares (UTF-8 when none is given).",
        ) from None


def _parse_disposition(value: str) -> dict[str, str]:
    """Parameters of a Content-Disposition value, names lower-cased; ``filename*`` folded into ``filename``.

    >>> _parse_disposition('form-data; name="a;b"; filename*=UTF-8\\'\\'caf%C3%A9.txt')
    {'name': 'a;b', 'filename': 'café.txt'}
    """
    _, _, rest = value.partition(";")
    params: dict[str, str] = {}
    i = 0
    while i < len(rest):
        stop = len(rest)
        for sep in "=;":
            found = rest.find(sep, i)
            if found != -1:
                stop = min(stop, found)
        key = rest[i:stop].strip().lower()
        if stop < len(rest) and rest[stop] == "=":
            param, stop = _read_param_value(rest, stop + 1)
            if key:
                params.setdefault(key, param)
        i = stop + 1
    extended = params.pop("filename*", None)
    decoded = _decode_extended(extended) if extended is not None else None
    if decoded is not None:
        params["filename"] = decoded
    return params


def _read_param_value(text: str, i: int) -> tuple[str, int]:
    """Read a parameter value starting at ``i``; return it and the index of the next ``;`` (or the end)."""
    while i < len(text) and text[i] in " \t":
        i += 1
    if i < len(text) and text[i] == '"':
        chars: list[str] = []
        i += 1
        while i < len(text) and text[i] != '"':
            # Only \" and \\ are escapes: browsers send backslashes in filenames unescaped.
            if text[i] == "\\" and text[i + 1 : i + 2] in ('"', "\\"):
                i += 1
            chars.append(text[i])
            i += 1
        end = text.find(";", i)
        return "".join(chars), len(text) if end == -1 else end
    end = text.find(";", i)
    end = len(text) if end == -1 else end
    return text[i:end].strip(), end


def _decode_extended(value: str) -> str | None:
    """Decode an RFC 5987 ``charset'language'percent-encoded`` value; None when it is malformed."""
    charset, sep, rest = value.partition("'")
    _, sep2, encoded = rest.partition("'")
    if not (sep and sep2):
        return None
    try:
        return unquote_to_bytes(encoded).decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return None


def _new_multipart_parser(boundary: str, builder: _MultipartBuilder) -> MultipartParser:
    try:
        encoded = boundary.encode("latin-1")
        return MultipartParser(
            encoded,
            callbacks={
                "on_part_begin": builder.on_part_begin,
                "on_part_data": builder.on_part_data,
                "on_part_end": builder.on_part_end,
                "on_header_begin": builder.on_header_begin,
                "on_header_field": builder.on_header_field,
                "on_header_value": builder.on_header_value,
                "on_header_end": builder.on_header_end,
                "on_headers_finished": builder.on_headers_finished,
                "on_end": builder.on_end,
            },
            # Looser than Plait's own checks, which run first and give the clearer message;
            # Plait's count refuses the extra header before the parser's would.
            max_header_count=MAX_PART_HEADERS + 1,
            max_header_size=2 * MAX_PART_HEADER_LINE,
        )
    except (UnicodeEncodeError, FormParserError) as exc:
        raise HTTPException(
            400, f"The multipart boundary in Content-Type is invalid ({exc}); use 1 to 70 ASCII characters."
        ) from None


def _feed(parser: MultipartParser, chunk: bytes) -> None:
    try:
        parser.write(chunk)
    except FormParserError as exc:
        message = str(exc)
        # Plait's byte count skips the padding around header values, which the parser counts.
        if message.startswith("Maximum header size"):
            raise _part_header_too_large() from None
        raise HTTPException(
            400,
            f"The multipart body is malformed ({message}); check that the body uses the boundary "
            "given in the Content-Type header and that every part has headers, a blank line and content.",
        ) from None


async def _parse_multipart(boundary: str, stream: AsyncIterator[bytes], limits: FormLimits) -> FormData:
    if not boundary:
        raise HTTPException(
            400,
            "The multipart/form-data Content-Type has no boundary parameter; send "
            "`Content-Type: multipart/form-data; boundary=...` "
            "(HTTP clients add it when they build the body).",
        )
    builder = _MultipartBuilder(limits)
    try:
        parser = _new_multipart_parser(boundary, builder)
        async for chunk in stream:
            _feed(parser, chunk)
            await builder.flush()
        if not builder.ended:
            raise HTTPException(
                400,
                f"The multipart body ended before its closing boundary '--{boundary}--'; "
                "the upload was probably cut off, so send it again.",
            )
        for upload in builder.uploads:
            await upload.seek(0)
    except BaseException:
        await _close_all(builder.uploads)
        raise
    return FormData(builder.items)


async def _close_all(uploads: list[UploadFile]) -> None:
    # Shielded: cleanup must finish even when parsing stopped because the request was cancelled.
    with anyio.CancelScope(shield=True):
        for upload in uploads:
            with contextlib.suppress(OSError):
                await upload.close()


# --- errors -------------------------------------------------------------------------------------


def _show(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:60] + "...")


def _too_many_fields(limit: int) -> HTTPException:
    return HTTPException(413, f"More than {limit} form fields; raise Settings.max_form_fields to accept more.")


def _field_too_large(name: bytes | str, limit: int) -> HTTPException:
    text = name if isinstance(name, str) else name.decode("utf-8", "replace")
    return HTTPException(
        413,
        f"Form field {_show(text)} is larger than {limit} bytes; raise Settings.max_part_size to accept larger fields.",
    )


def _name_too_large(limit: int) -> HTTPException:
    return HTTPException(
        413, f"A form field name is larger than {limit} bytes; raise Settings.max_part_size to accept it."
    )


def _too_many_part_headers() -> HTTPException:
    return HTTPException(
        400,
        f"A multipart part has more than {MAX_PART_HEADERS} headers; "
        "Plait accepts no more per part, so send fewer headers (browsers send two).",
    )


def _part_header_too_large() -> HTTPException:
    return HTTPException(
        400,
        f"A header line of a multipart part is longer than {MAX_PART_HEADER_LINE} bytes; "
        "Plait does not accept longer ones, so send shorter headers "
        "(a very long filename is the usual cause).",
    )


__all__ = ["MULTIPART", "URLENCODED", "FormLimits", "parse_form"]
