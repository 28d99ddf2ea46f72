"""Plait's exceptions.

The tree::

    PlaitError                  base of everything Plait raises on purpose
    ├── ConfigurationError      the app is set up wrongly; raised at startup, names the fix
    │   └── DependencyError     a dependency cycle or a parameter nothing can provide
    ├── HTTPException           becomes an HTTP error response (problem details)
    │   └── RequestValidationError   422 listing every bad field with its location
    └── ClientDisconnect        the client went away while its body was read (never answered)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import msgspec


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
        self.headers = dict(headers or {})
        self.type = type
        self.extra = dict(extra or {})
        super().__init__(f"{status_code} {self.title}: {self.detail}")


class ErrorDetail(msgspec.Struct, frozen=True):
    """One validation error: where it is, what is wrong, and a machine-readable kind."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "invalid"


class RequestValidationError(HTTPException):
    """The request did not match the handler's declared parameters (HTTP 422)."""

    def __init__(self, errors: Sequence[ErrorDetail], status_code: int = 422) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        detail = "1 field is invalid" if count == 1 else f"{count} fields are invalid"
        super().__init__(status_code, detail)


class ClientDisconnect(PlaitError):
    """The client closed the connection before its request body was read."""


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def status_phrase(status_code: int) -> str:
    """The reason phrase for a status code (``404`` -> ``Not Found``)."""
    return _PHRASES.get(status_code, "Error")


__all__ = [
    "ClientDisconnect",
    "ConfigurationError",
    "DependencyError",
    "ErrorDetail",
    "HTTPException",
    "PlaitError",
    "RequestValidationError",
]
