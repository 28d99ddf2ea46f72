"""Plait's exceptions.

The tree::

    PlaitError                  base of everything Plait raises on purpose
    ├── ConfigurationError      the app is set up wrongly; raised at startup, names the fix
    │   └── DependencyError     a dependency cycle or a parameter nothing can provide
    ├── HTTPException           becomes an HTTP error response (problem details)
    │   ├── RequestValidationError   422 listing every bad field with its location
    │   └── BadRequestKeyError       400: request.form["x"] / query_params["x"] missing (also a KeyError)
    ├── WebSocketException      closes a WebSocket with a code and a reason
    └── ClientDisconnect        the client went away while its body was read (never answered)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import msgspec

from plait.http.headers import check_header_name, check_header_value


class PlaitError(Exception):
    """Base class for every error Plait raises on purpose."""


class ConfigurationError(PlaitError):
    """The application is configured wrongly. Raised at startup with the fix in the message."""


class DependencyError(ConfigurationError):
    """A dependency graph cannot be built: a cycle, or a parameter no provider can fill."""


class HTTPException(PlaitError):
    """Stop handling the request and answer with an HTTP error.

    >>> raise HTTPException(404, "No article with id 7")  # doctest: +SKIP

    ``detail`` becomes the problem document's ``detail``; ``headers`` are sent with it;
    ``extra`` members are merged into the problem document.
    """

    def __init__(
        self,
        status_code: int,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        type: str = "about:blank",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.status_code = status_code
        self.title = status_phrase(status_code)
        self.detail = detail if detail is not None else self.title
        # Checked here, where they are set: a bad value found later, while the error page is sent, is a 500.
        self.headers = {check_header_name(k): check_header_value(k, v) for k, v in (headers or {}).items()}
        self.type = type
        self.extra = dict(extra or {})
        super().__init__(f"{status_code} {self.title}: {self.detail}")


class ErrorDetail(msgspec.Struct, frozen=True):
    """One validation error: where it is, what is wrong, and a machine-readable kind."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "invalid"


class RequestValidationError(HTTPException):
    """The request did not match the handler's declared parameters (HTTP 422).

    ``details`` holds every :class:`ErrorDetail`; ``errors()`` gives them as plain dicts (the shape
    FastAPI users know, ``loc`` a tuple); ``body`` is the received body when there was one: the parsed
    JSON when it parses, the ``FormData`` of a form, else the raw bytes (None when no body was read).

    >>> exc = RequestValidationError([ErrorDetail(("query", "page"), "Expected 'int', got 'str'", "type_error")])
    >>> exc.errors()
    [{'loc': ('query', 'page'), 'msg': "Expected 'int', got 'str'", 'type': 'type_error'}]
    """

    def __init__(self, details: Sequence[ErrorDetail], status_code: int = 422, *, body: Any = None) -> None:
        self.details = list(details)
        self.body = body
        count = len(self.details)
        detail = "1 field is invalid" if count == 1 else f"{count} fields are invalid"
        super().__init__(status_code, detail)

    def errors(self) -> list[dict[str, Any]]:
        """Every error as ``{"loc": (...), "msg": ..., "type": ...}``, in the order found."""
        return [{"loc": e.loc, "msg": e.msg, "type": e.type} for e in self.details]


class BadRequestKeyError(HTTPException, KeyError):
    """A key missing from the request's form or query string, read with ``[...]``: a 400 naming it.

    It is also a ``KeyError``, so ``except KeyError`` still catches it; ``.get(key)`` returns None instead.

    >>> exc = BadRequestKeyError("email", "form field")
    >>> exc.status_code, exc.detail, isinstance(exc, KeyError)
    (400, "The request has no form field 'email'; send it, or read it with .get('email') if it is optional.", True)
    """

    def __init__(self, key: str, where: str) -> None:
        self.key = key
        super().__init__(
            400, f"The request has no {where} {key!r}; send it, or read it with .get({key!r}) if it is optional."
        )
        self.args = (key,)  # as for any KeyError: code that reads exc.args[0] gets the key

    def __str__(self) -> str:
        return self.detail


class WebSocketException(PlaitError):
    """Close the WebSocket with ``code`` (a ``status.WS_*`` constant) and ``reason``.

    Raise it in a WebSocket handler or in one of its dependencies; before ``accept()`` the
    handshake is refused.

    >>> exc = WebSocketException(1008, "token expired")
    >>> exc.code, exc.reason
    (1008, 'token expired')
    """

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(f"WebSocket closed with {code}: {self.reason}".rstrip(": "))


class ClientDisconnect(PlaitError):
    """The client closed the connection before its request body was read."""


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def status_phrase(status_code: int) -> str:
    """The reason phrase for a status code (``404`` -> ``Not Found``)."""
    return _PHRASES.get(status_code, "Error")


__all__ = [
    "BadRequestKeyError",
    "ClientDisconnect",
    "ConfigurationError",
    "DependencyError",
    "ErrorDetail",
    "HTTPException",
    "PlaitError",
    "RequestValidationError",
    "WebSocketException",
]
