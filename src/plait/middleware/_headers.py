"""Helpers the middleware share: reading raw ASGI headers and adding to a response's headers.

Middleware never change a header list they were given: a response object reused across
requests would otherwise grow a header on every request. They build a new list instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from plait._types import Message, RawHeaders

__all__ = ["add_vary", "get_header", "get_headers", "has_header", "with_headers"]


def get_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of ``name`` (lower-case bytes), or None.

    >>> get_header([(b"Host", b"example.com")], b"host")
    b'example.com'
    """
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def get_headers(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """Every value of ``name`` (lower-case bytes), in order."""
    return [value for key, value in headers if key.lower() == name]


def has_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(key.lower() == name for key, _ in headers)


def with_headers(message: Message, extra: Iterable[tuple[bytes, bytes]]) -> Message:
    """A copy of a ``http.response.start`` message with ``extra`` headers appended."""
    headers: RawHeaders = [*message.get("headers", ()), *extra]
    return {**message, "headers": headers}


def add_vary(headers: RawHeaders, token: bytes) -> RawHeaders:
    """``headers`` with ``token`` listed in ``Vary`` (a new list; unchanged if already covered).

    >>> add_vary([(b"vary", b"Accept")], b"Origin")
    [(b'vary', b'Accept'), (b'vary', b'Origin')]
    >>> add_vary([(b"vary", b"*")], b"Origin")
    [(b'vary', b'*')]
    """
    wanted = token.lower()
    for value in get_headers(headers, b"vary"):
        listed = {item.strip().lower() for item in value.split(b",")}
        if wanted in listed or b"*" in listed:
            return list(headers)
    return [*headers, (b"vary", token)]
