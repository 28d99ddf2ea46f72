"""Request and response data structures: headers, query parameters, URLs, state, uploads."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, NamedTuple, TypeVar, overload
from urllib.parse import unquote_plus, urlencode

import anyio.to_thread

from plait._types import RawHeaders, Scope
from plait.exceptions import BadRequestKeyError
from plait.http.headers import check_header_name, encode_header_value

T = TypeVar("T")


class Address(NamedTuple):
    """The client's (host, port), as the server reports it."""

    host: str
    port: int


class MultiMapping(Mapping[str, str]):
    """A read-only mapping that keeps every value of a repeated key.

    ``m[key]`` gives the last value (as browsers and most frameworks do); ``getlist`` gives all.
    """

    __slots__ = ("_dict", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = list(items)
        self._dict = dict(self._items)

    def get(self, key: str, default: Any = None) -> Any:
        # PERF: Mapping.get goes through __getitem__ and a KeyError; the dict's own get does not.
        return self._dict.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def getlist(self, key: str) -> list[str]:
        """All values for ``key``, in order; an empty list when absent."""
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (key, value) pair, repeats included."""
        return list(self._items)

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class QueryError(ValueError):
    """A query string Plait refuses to read: too many parameters, or escapes that are not UTF-8."""


def parse_query(query: str, *, max_params: int | None = None) -> list[tuple[str, str]]:
    """Split a query string into (key, value) pairs; blank values kept, ``+`` and ``%XX`` decoded.

    >>> parse_query("q=tea+time&tag=a&tag=b&empty=&flag")
    [('q', 'tea time'), ('tag', 'a'), ('tag', 'b'), ('empty', ''), ('flag', '')]

    Escapes must decode to UTF-8 (two different byte strings must never read as the same text),
    and with ``max_params`` no more than that many parameters are read; either problem raises
    :class:`QueryError`.
    """
    parts = query.split("&")
    if max_params is not None and len(parts) > max_params and len(parts) - parts.count("") > max_params:
        raise QueryError(
            f"The query string has more than {max_params} parameters; send fewer (bulk data belongs in the "
            "request body), or raise Settings.max_query_params."
        )
    # PERF: most query strings hold no escapes, so they are split without calling unquote at all.
    pairs = []
    for part in parts:
        if not part:
            continue
        key, _, value = part.partition("=")
        if "%" in part or "+" in part:
            key, value = _unquote_query(key, key), _unquote_query(value, key)
        pairs.append((key, value))
    return pairs


def _unquote_query(text: str, key: str) -> str:
    try:
        return unquote_plus(text, errors="strict")
    except UnicodeDecodeError:
        shown = key if len(key) <= 60 else key[:60] + "..."
        raise QueryError(
            f"The query parameter {shown!r} has percent-escapes that are not valid UTF-8; "
            "percent-encode the query as UTF-8 (%C3%A9 for é)."
        ) from None


class QueryParams(MultiMapping):
    """Query string parameters.

    >>> QueryParams(b"tag=a&tag=b&page=2").getlist("tag")
    ['a', 'b']

    Raises :class:`QueryError` for escapes that are not UTF-8 and, with ``max_params``, for
    more parameters than that.
    """

    __slots__ = ()

    def __init__(self, query: bytes | str | Iterable[tuple[str, str]] = b"", *, max_params: int | None = None) -> None:
        if isinstance(query, bytes):
            # Clients should percent-encode, but some send raw UTF-8; decode it as such, and refuse
            # anything else rather than replace it.
            try:
                query = query.decode("utf-8")
            except UnicodeDecodeError:
                raise QueryError(
                    "The query string holds bytes that are not valid UTF-8; percent-encode it as UTF-8."
                ) from None
        if isinstance(query, str):
            super().__init__(parse_query(query, max_params=max_params))
        else:
            super().__init__(query)

    def __str__(self) -> str:
        return urlencode(self._items)

    def __getitem__(self, key: str) -> str:
        try:
            return self._dict[key]
        except KeyError:
            raise BadRequestKeyError(key, "query parameter") from None


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued request headers over the raw ASGI list.

    >>> h = Headers([(b"Accept", b"text/html"), (b"x-tag", b"a"), (b"X-Tag", b"b")])
    >>> h["accept"], h.getlist("x-tag")
    ('text/html', ['a', 'b'])
    """

    __slots__ = ("_dict", "raw")

    def __init__(self, raw: RawHeaders | None = None) -> None:
        self.raw: RawHeaders = raw if raw is not None else []
        self._dict: dict[str, str] | None = None

    @classmethod
    def from_scope(cls, scope: Scope) -> Headers:
        return cls(scope["headers"])

    def _lookup(self) -> dict[str, str]:
        # PERF: decoded lazily and once; most handlers never touch headers.
        if self._dict is None:
            self._dict = {}
            for key, value in self.raw:
                name = key.decode("latin-1").lower()
                prior = self._dict.get(name)
                text = value.decode("latin-1")
                self._dict[name] = text if prior is None else f"{prior}, {text}"
        return self._dict

    def get(self, key: str, default: Any = None) -> Any:
        return self._lookup().get(key.lower(), default)

    def getlist(self, key: str) -> list[str]:
        """Every value sent under ``key``, in order."""
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.raw if k.lower() == name]

    def __getitem__(self, key: str) -> str:
        return self._lookup()[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lookup()

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup())

    def __len__(self) -> int:
        return len(self._lookup())

    def __repr__(self) -> str:
        return f"Headers({self.raw!r})"


class MutableHeaders(Headers):
    """Response headers: set, append and delete, refusing values that could split the response.

    >>> h = MutableHeaders()
    >>> h["Content-Type"] = "text/plain"
    >>> h.append("Vary", "Accept")
    >>> h.raw
    [(b'content-type', b'text/plain'), (b'vary', b'Accept')]
    """

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        name = check_header_name(key).lower().encode("latin-1")
        encoded = encode_header_value(key, value)
        self.raw[:] = [(k, v) for k, v in self.raw if k.lower() != name]
        self.raw.append((name, encoded))
        self._dict = None

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        self.raw[:] = [(k, v) for k, v in self.raw if k.lower() != name]
        self._dict = None

    def changed(self) -> None:
        """Forget the decoded view after ``raw`` was edited directly (Plait's own trusted fast paths)."""
        self._dict = None

    def append(self, key: str, value: str) -> None:
        """Add a value without removing earlier ones (``Set-Cookie``, ``Vary``)."""
        name = check_header_name(key).lower().encode("latin-1")
        self.raw.append((name, encode_header_value(key, value)))
        self._dict = None

    def setdefault(self, key: str, value: str) -> str:
        if key in self:
            return self[key]
        self[key] = value
        return value

    def update(self, other: Mapping[str, str]) -> None:
        for key, value in other.items():
            self[key] = value


class URL:
    """The request URL, assembled from the ASGI scope.

    >>> URL.from_scope({"scheme": "https", "server": ("example.com", 443), "path": "/a",
    ...                 "query_string": b"x=1", "headers": [], "root_path": ""}).__str__()
    'https://example.com/a?x=1'
    """

    __slots__ = ("netloc", "path", "query", "scheme")

    def __init__(self, scheme: str, netloc: str, path: str, query: str = "") -> None:
        self.scheme = scheme
        self.netloc = netloc
        self.path = path
        self.query = query

    @classmethod
    def from_scope(cls, scope: Scope) -> URL:
        scheme = scope.get("scheme", "http")
        host = None
        for key, value in scope.get("headers", ()):
            if key == b"host":
                host = value.decode("latin-1")
                break
        if host is None:
            server = scope.get("server")
            if server:
                name, port = server
                default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
                host = name if port == default or port is None else f"{name}:{port}"
            else:
                host = "testserver"
        root, path = scope.get("root_path", ""), scope["path"]
        if root and not (path == root or path.startswith(root + "/")):
            path = root + path  # a server that sends the path without the prefix (the older convention)
        return cls(scheme, host, path, scope.get("query_string", b"").decode("latin-1"))

    def replace(self, **changes: str) -> URL:
        values = {"scheme": self.scheme, "netloc": self.netloc, "path": self.path, "query": self.query}
        values.update(changes)
        return URL(**values)

    def __str__(self) -> str:
        tail = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.netloc}{self.path}{tail}"

    def __repr__(self) -> str:
        return f"URL({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def route_path(scope: Scope) -> str:
    """The part of the path an app routes on: ``path`` without the ``root_path`` prefix.

    ASGI servers send ``path`` in full and the mount prefix in ``root_path`` (uvicorn's
    ``--root-path``, Plait's own mounts); a path that does not start with the prefix is used as is.

    >>> route_path({"path": "/api/users", "root_path": "/api"})
    '/users'
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


class State:
    """An attribute bag for app-wide or request-wide values.

    >>> s = State(); s.db = "pool"; s.db
    'pool'
    """

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self.__dict__.update(values or {})

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"State has no attribute {name!r}; set it first (for app state, in a startup hook or the lifespan)."
        )

    def __setattr__(self, name: str, value: Any) -> None:
        # Declared so type checkers accept ``state.anything = value``.
        self.__dict__[name] = value

    def __contains__(self, name: str) -> bool:
        return name in self.__dict__


MAX_FILENAME_BYTES = 255
"""Longest ``UploadFile.filename``, in UTF-8 bytes (what most file systems allow for one name)."""
# Bidirectional controls let "report\u202egpj.exe" display as "reportexe.jpg".
_BIDI = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_CONTROLS = dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0)]) | _BIDI


def safe_filename(name: str | None) -> str | None:
    r"""A client-supplied file name reduced to a plain name that is safe to join to a directory.

    Keeps only the part after the last ``/`` or ``\``, drops a Windows drive letter, control and
    bidirectional-override characters (NUL included), surrounding spaces and leading or trailing
    dots, and caps the length at :data:`MAX_FILENAME_BYTES` (keeping the extension). None when
    nothing usable is left.

    >>> safe_filename(r"C:\Users\ada\report.pdf"), safe_filename("../../etc/passwd"), safe_filename("..")
    ('report.pdf', 'passwd', None)
    """
    if name is None:
        return None
    base = name.translate(_CONTROLS).replace("\\", "/").rpartition("/")[2]
    if len(base) >= 2 and base[1] == ":" and base[0].isascii() and base[0].isalpha():
        base = base[2:]
    base = base.strip().strip(".").strip()
    if len(base.encode("utf-8")) > MAX_FILENAME_BYTES:
        base = _shorten(base)
    return base or None


def _shorten(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:  # no extension worth keeping
        stem, dot, ext = name, "", ""
    room = MAX_FILENAME_BYTES - len((dot + ext).encode("utf-8"))
    # Cut on a character boundary: a stem cut mid-character would not be valid UTF-8.
    return stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .") + dot + ext


class UploadFile:
    """An uploaded file: kept in memory while small, spooled to a temporary file above a threshold.

    Reads and writes that touch the disk run in a worker thread, so a large upload never
    blocks the event loop.

    >>> import anyio
    >>> f = UploadFile("a.txt", content_type="text/plain")
    >>> anyio.run(f.write, b"hi"); anyio.run(f.seek, 0); anyio.run(f.read); anyio.run(f.close)
    2
    0
    b'hi'
    """

    def __init__(
        self,
        filename: str | None,
        *,
        content_type: str = "application/octet-stream",
        headers: Headers | None = None,
        spool_max_size: int = 1024 * 1024,
    ) -> None:
        self.raw_filename = filename
        """The name exactly as the client sent it. Never use it as a path."""
        self.filename = safe_filename(filename)
        """A plain name made from ``raw_filename`` (see :func:`safe_filename`); None when nothing usable is left."""
        self.content_type = content_type
        self.headers = headers if headers is not None else Headers()
        self.size = 0
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=spool_max_size)  # noqa: SIM115

    @property
    def in_memory(self) -> bool:
        """True while the content still sits in memory."""
        return not getattr(self.file, "_rolled", True)

    async def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.in_memory and self.size <= getattr(self.file, "_max_size", 0):
            return self.file.write(data)
        return await anyio.to_thread.run_sync(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        if self.in_memory:
            return self.file.read(size)
        return await anyio.to_thread.run_sync(self.file.read, size)

    async def seek(self, offset: int) -> int:
        if self.in_memory:
            return self.file.seek(offset)
        return await anyio.to_thread.run_sync(self.file.seek, offset)

    async def save(self, destination: str | os.PathLike[str] | IO[bytes], *, chunk_size: int = 1 << 20) -> int:
        """Write the whole content to a path (created or replaced) or a binary file object; returns the size.

        The copy runs in a worker thread, ``chunk_size`` bytes at a time, so a large upload never blocks
        the event loop nor sits in memory whole. Use ``filename`` (already reduced to a safe plain name),
        never ``raw_filename``, when you build the path.

        >>> import anyio, io
        >>> f = UploadFile("a.txt"); _ = anyio.run(f.write, b"hello")
        >>> out = io.BytesIO(); anyio.run(f.save, out), out.getvalue()
        (5, b'hello')
        >>> anyio.run(f.close)
        """
        return await anyio.to_thread.run_sync(self._copy_to, destination, chunk_size)

    def _copy_to(self, destination: str | os.PathLike[str] | IO[bytes], chunk_size: int) -> int:
        self.file.seek(0)
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as target:
                return self._copy_chunks(target, chunk_size)
        return self._copy_chunks(destination, chunk_size)

    def _copy_chunks(self, target: IO[bytes], chunk_size: int) -> int:
        written = 0
        while chunk := self.file.read(chunk_size):
            target.write(chunk)
            written += len(chunk)
        return written

    async def close(self) -> None:
        if self.in_memory:
            self.file.close()
        else:
            await anyio.to_thread.run_sync(self.file.close)

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, size={self.size}, content_type={self.content_type!r})"


FormValue = str | UploadFile


class FormData(Mapping[str, FormValue]):
    """Parsed form fields and files; repeated names keep every value (see ``getlist``)."""

    __slots__ = ("_dict", "_items")

    def __init__(self, items: Iterable[tuple[str, FormValue]] = ()) -> None:
        self._items = list(items)
        self._dict = dict(self._items)

    @overload
    def getlist(self, key: str) -> list[FormValue]: ...
    @overload
    def getlist(self, key: str, kind: type[T]) -> list[T]: ...
    def getlist(self, key: str, kind: type[Any] | None = None) -> list[Any]:
        """All values under ``key``; with ``kind``, only those of that type (``str`` or ``UploadFile``)."""
        return [v for k, v in self._items if k == key and (kind is None or isinstance(v, kind))]

    def multi_items(self) -> list[tuple[str, FormValue]]:
        return list(self._items)

    async def close(self) -> None:
        """Close every uploaded file (Plait does this after the response)."""
        for _, value in self._items:
            if isinstance(value, UploadFile):
                await value.close()

    def __getitem__(self, key: str) -> FormValue:
        try:
            return self._dict[key]
        except KeyError:
            raise BadRequestKeyError(key, "form field") from None

    def get(self, key: str, default: Any = None) -> Any:
        # PERF: Mapping.get would go through __getitem__ and build a BadRequestKeyError per miss.
        return self._dict.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __repr__(self) -> str:
        return f"FormData({self._items!r})"
