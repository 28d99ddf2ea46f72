"""Response compression: gzip always, Brotli (``br``) too when the ``brotli`` package is installed.

::

    app.add_middleware(GZipMiddleware, minimum_size=500)          # gzip only
    app.add_middleware(CompressionMiddleware)                     # br when possible, else gzip

Install Brotli support with ``pip install 'plait[brotli]'``.

A response is compressed only when all of these hold:

* the request is not ``HEAD`` and its ``Accept-Encoding`` accepts a coding we have (``q=0``
  refuses one; ``*`` stands for any not listed);
* the status is 2xx-5xx but not 204, 206 (a byte range of the identity body) or 304;
* the response has no ``Content-Encoding`` or ``Content-Range`` and no ``Cache-Control: no-transform``;
* its media type is not already compressed (images other than SVG/BMP/icons, audio, video,
  fonts in WOFF, zip/gzip/7z/... archives) and is not ``text/event-stream``, whose events must
  reach the client one by one;
* its body is at least ``minimum_size`` bytes (a declared ``Content-Length`` is believed).

A body sent in one message is compressed in one go and gets an exact ``Content-Length`` (and is
sent as it was if compression would not make it smaller). A streamed body is compressed chunk
by chunk, with a flush after each so the client can decode what it has; it loses its
``Content-Length``. A compressed response gets ``Vary: Accept-Encoding``, a strong ``ETag``
becomes weak (the bytes differ from the identity body's) and ``Accept-Ranges`` is dropped.
``HEAD`` responses are left alone: they describe the uncompressed body.
"""

from __future__ import annotations

import importlib
import re
import zlib
from collections.abc import Callable, Sequence
from typing import Protocol, cast

from plait._types import ASGIApp, Message, RawHeaders, Receive, Scope, Send
from plait.exceptions import ConfigurationError
from plait.http.headers import parse_options_header
from plait.middleware._headers import add_vary, get_header

__all__ = ["CompressionMiddleware", "GZipMiddleware", "brotli_available", "choose_encoding"]

_QUALITY = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
_SKIPPED_STATUS = frozenset({204, 206, 304})
_COMPRESSED_TYPES = frozenset(
    {
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/zstd",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/java-archive",
        "application/x-brotli",
        "font/woff",
        "font/woff2",
        "text/event-stream",  # not compressed data, but each event must be delivered as it is sent
    }
)
_COMPRESSED_FAMILIES = ("image/", "audio/", "video/")
_COMPRESSIBLE_IMAGES = frozenset({"image/svg+xml", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon"})
_DROPPED = frozenset({b"content-length", b"accept-ranges", b"etag"})


class _Encoder(Protocol):
    def chunk(self, data: bytes) -> bytes:
        """Compress ``data`` and flush, so the client can decode everything sent so far."""

    def last(self, data: bytes) -> bytes:
        """Compress ``data`` and end the stream."""


class _GzipEncoder:
    __slots__ = ("_zlib",)

    def __init__(self, level: int) -> None:
        self._zlib = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 16 + 15: gzip framing, mtime 0

    def chunk(self, data: bytes) -> bytes:
        return self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)

    def last(self, data: bytes) -> bytes:
        return self._zlib.compress(data) + self._zlib.flush(zlib.Z_FINISH)


class _BrotliCompressor(Protocol):
    def process(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...
    def finish(self) -> bytes: ...


class _BrotliModule(Protocol):
    def Compressor(self, *, quality: int) -> _BrotliCompressor: ...


class _BrotliEncoder:
    __slots__ = ("_brotli",)

    def __init__(self, module: _BrotliModule, quality: int) -> None:
        self._brotli = module.Compressor(quality=quality)

    def chunk(self, data: bytes) -> bytes:
        return self._brotli.process(data) + self._brotli.flush()

    def last(self, data: bytes) -> bytes:
        return self._brotli.process(data) + self._brotli.finish()


def _load_brotli() -> _BrotliModule | None:
    # Imported by name so that the package stays optional (and untyped stubs stay out of mypy).
    try:
        return cast(_BrotliModule, importlib.import_module("brotli"))
    except ImportError:
        return None


def brotli_available() -> bool:
    """True when the optional ``brotli`` package can be imported."""
    return _load_brotli() is not None


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            # A malformed weight counts as a refusal: never send a coding the client may not read.
            return float(value) if _QUALITY.fullmatch(value) else 0.0
    return 1.0


def choose_encoding(accept_encoding: str, available: Sequence[str]) -> str | None:
    """The coding to use: the client's highest ``q`` among ``available``, ties going to the earlier.

    >>> choose_encoding("gzip, br;q=0.9", ["br", "gzip"])
    'gzip'
    >>> choose_encoding("gzip;q=0, *", ["gzip"]) is None
    True
    """
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding:
            weights["gzip" if coding == "x-gzip" else coding] = _quality(params)
    best, best_q = None, 0.0
    for name in available:
        q = weights.get(name, weights.get("*", 0.0))
        if q > best_q:
            best, best_q = name, q
    return best


def _compressible(media_type: bytes) -> bool:
    main, _ = parse_options_header(media_type.decode("latin-1"))
    if main in _COMPRESSED_TYPES or main.endswith("+zip"):
        return False
    return not main.startswith(_COMPRESSED_FAMILIES) or main in _COMPRESSIBLE_IMAGES


class CompressionMiddleware:
    """Compress responses with Brotli or gzip, whichever the client prefers (Brotli on a tie).

    ``brotli=None`` uses Brotli when the package is installed; ``True`` insists on it (an error
    at startup if it is missing); ``False`` never uses it. ``compresslevel`` (1-9) is gzip's
    level and ``brotli_quality`` (0-11) Brotli's; the defaults trade a little size for speed,
    which suits responses compressed on every request.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        minimum_size: int = 500,
        compresslevel: int = 6,
        brotli: bool | None = None,
        brotli_quality: int = 4,
    ) -> None:
        _check_range("minimum_size", minimum_size, 0, None)
        _check_range("compresslevel", compresslevel, 1, 9)
        _check_range("brotli_quality", brotli_quality, 0, 11)
        self.app = app
        self.minimum_size = minimum_size
        self.encoders: dict[str, Callable[[], _Encoder]] = {}
        module = _load_brotli() if brotli is not False else None
        if brotli and module is None:
            raise ConfigurationError(
                f"{type(self).__name__}(brotli=True) needs the 'brotli' package: pip install 'plait[brotli]', "
                "or leave brotli=None to use it only when installed."
            )
        if module is not None:
            self.encoders["br"] = lambda: _BrotliEncoder(module, brotli_quality)
        self.encoders["gzip"] = lambda: _GzipEncoder(compresslevel)
        self.codings = tuple(self.encoders)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        accept = get_header(scope["headers"], b"accept-encoding")
        coding = choose_encoding(accept.decode("latin-1"), self.codings) if accept else None
        if coding is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _CompressingSend(self, send, coding))

    def eligible(self, start: Message) -> bool:
        """Whether a response (its start message) may be compressed at all."""
        status = start["status"]
        if status < 200 or status in _SKIPPED_STATUS:
            return False
        for key, value in start.get("headers", ()):
            name = key.lower()
            if name in (b"content-encoding", b"content-range"):
                return False
            if name == b"content-length" and (not value.strip().isdigit() or int(value) < self.minimum_size):
                return False
            if name == b"content-type" and not _compressible(value):
                return False
            if name == b"cache-control" and b"no-transform" in value.lower():
                return False
        return True


def _check_range(option: str, value: int, low: int, high: int | None) -> None:
    if not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigurationError(f"Compression option {option}={value!r} must be a whole number {bounds}.")


def _compressed_start(start: Message, coding: str, length: int | None) -> Message:
    headers: RawHeaders = []
    for key, value in start.get("headers", ()):
        name = key.lower()
        if name not in _DROPPED:
            headers.append((key, value))
        elif name == b"etag":
            headers.append((key, value if value.startswith(b"W/") else b"W/" + value))
    headers.append((b"content-encoding", coding.encode("latin-1")))
    if length is not None:
        headers.append((b"content-length", str(length).encode("latin-1")))
    return {**start, "headers": add_vary(headers, b"Accept-Encoding")}


class _CompressingSend:
    """The ``send`` of one response: holds the start message until the first body decides."""

    __slots__ = ("coding", "encoder", "middleware", "passing", "send", "start")

    def __init__(self, middleware: CompressionMiddleware, send: Send, coding: str) -> None:
        self.middleware = middleware
        self.send = send
        self.coding = coding
        self.start: Message | None = None
        self.encoder: _Encoder | None = None
        self.passing = False

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if self.passing:
            await self.send(message)
        elif kind == "http.response.start":
            if self.middleware.eligible(message):
                self.start = message
            else:
                self.passing = True
                await self.send(message)
        elif kind == "http.response.body" and (encoder := self.encoder) is not None:
            await self._next(message, encoder)
        elif kind == "http.response.body" and self.start is not None:
            await self._first(message, self.start)
        else:  # e.g. a path-send extension before any body: there are no bytes to compress
            self.passing = True
            if self.start is not None:
                await self.send(self.start)
            await self.send(message)

    async def _first(self, message: Message, start: Message) -> None:
        body: bytes = message.get("body", b"")
        if message.get("more_body", False):
            self.encoder = encoder = self.middleware.encoders[self.coding]()
            await self.send(_compressed_start(start, self.coding, None))
            await self._next(message, encoder)
            return
        self.passing = True
        data = self.middleware.encoders[self.coding]().last(body) if len(body) >= self.middleware.minimum_size else b""
        if not data or len(data) >= len(body):  # too small to bother, or it would only grow
            await self.send(start)
            await self.send(message)
            return
        await self.send(_compressed_start(start, self.coding, len(data)))
        await self.send({**message, "body": data})

    async def _next(self, message: Message, encoder: _Encoder) -> None:
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            self.passing = True  # whatever follows the last body (trailers) goes out as it is
            await self.send({**message, "body": encoder.last(body)})
        elif body:
            await self.send({**message, "body": encoder.chunk(body)})
        else:  # an empty chunk carries nothing to compress; pass it on as the app sent it
            await self.send(message)


class GZipMiddleware(CompressionMiddleware):
    """Compress responses with gzip for clients that accept it (see the module notes).

    >>> from plait import Plait
    >>> app = Plait()
    >>> app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)
    """

    def __init__(self, app: ASGIApp, *, minimum_size: int = 500, compresslevel: int = 6) -> None:
        super().__init__(app, minimum_size=minimum_size, compresslevel=compresslevel, brotli=False)
