"""The spec's error format, ``{"errors": {"body": [...]}}``, for every error raised under ``/api``.

Plait answers errors with RFC 9457 problem documents. An app that must speak another format does
not rewrite them one by one: it gives its router an exception handler for :class:`HTTPException`
(validation errors are HTTP exceptions too), and every route of the router, its dependencies
(``CurrentUser``'s 401) and body decoding included, answers in that format. The status code and
headers (``WWW-Authenticate``) are kept.
"""

from __future__ import annotations

from plait.exceptions import ErrorDetail, HTTPException, RequestValidationError
from plait.requests import Request
from plait.responses import JSONResponse, Response

__all__ = ["conduit_errors", "describe"]


def describe(error: ErrorDetail) -> str:
    """One validation error in words, naming the field without the ``body.`` prefix of its location.

    >>> describe(ErrorDetail(("body", "user", "email"), "Object missing required field `email`", "missing"))
    'user.email: Object missing required field `email`'
    >>> describe(ErrorDetail(("query", "limit"), "Expected `int` >= 1", "invalid"))
    'limit: Expected `int` >= 1'
    >>> describe(ErrorDetail((), "Expected a JSON body"))
    'Expected a JSON body'
    """
    path = ".".join(str(part) for part in error.loc[1:])
    return f"{path}: {error.msg}" if path else error.msg


async def conduit_errors(request: Request, exc: HTTPException) -> Response:
    """``{"errors": {"body": [...]}}`` with the exception's status and headers."""
    if isinstance(exc, RequestValidationError) and exc.details:
        messages = [describe(error) for error in exc.details]
    else:
        messages = [exc.detail]
    return JSONResponse({"errors": {"body": messages}}, status_code=exc.status_code, headers=exc.headers)
