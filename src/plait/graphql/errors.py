"""GraphQL errors with codes, and what a client is shown of an error (masked in production).

A resolver (or a dependency it asks for) that raises Plait's ``HTTPException`` becomes a GraphQL
error whose ``extensions.code`` says what happened, as clients of other GraphQL servers expect:

======  =====================
status  ``extensions.code``
======  =====================
400     ``BAD_USER_INPUT`` (422 too, with the bad fields)
401     ``UNAUTHENTICATED``
403     ``FORBIDDEN``
404     ``NOT_FOUND``
409     ``CONFLICT``
429     ``RATE_LIMITED``
======  =====================

Any other exception is a bug or an outage: in production its message (which may name tables, SQL
or file paths) is replaced by ``Internal server error``; with ``debug`` on the response carries the
exception's type, message and traceback.

>>> from plait.exceptions import HTTPException
>>> error = coded_error(HTTPException(403, "Not yours."))
>>> error.message, error.extensions
('Not yours.', {'code': 'FORBIDDEN'})
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError

from plait.exceptions import HTTPException, RequestValidationError

CODES = {
    400: "BAD_USER_INPUT",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "BAD_USER_INPUT",
    429: "RATE_LIMITED",
}
INTERNAL = "INTERNAL_SERVER_ERROR"


def coded_error(exc: HTTPException) -> GraphQLError:
    """The GraphQL error for an ``HTTPException`` (a 422's field errors go in ``extensions.fields``)."""
    code = CODES.get(exc.status_code, INTERNAL if exc.status_code >= 500 else "BAD_REQUEST")
    extensions: dict[str, Any] = {"code": code}
    if isinstance(exc, RequestValidationError):
        extensions["fields"] = [
            {"loc": list(detail.loc), "msg": detail.msg, "type": detail.type} for detail in exc.details
        ]
        message = "; ".join(f"{'.'.join(map(str, d.loc))}: {d.msg}" for d in exc.details) or "Invalid input."
    else:
        message = str(exc.detail) if exc.detail else "Request refused."
    if exc.status_code >= 500:
        message = "The service is unavailable; try again later." if exc.status_code == 503 else "Internal server error"
    return GraphQLError(message, extensions=extensions, original_error=None)


def bad_input(message: str, fields: list[dict[str, Any]] | None = None) -> GraphQLError:
    """A ``BAD_USER_INPUT`` error (a mutation's data that does not validate)."""
    extensions: dict[str, Any] = {"code": "BAD_USER_INPUT"}
    if fields:
        extensions["fields"] = fields
    return GraphQLError(message, extensions=extensions)


def format_errors(errors: Iterable[GraphQLError], *, debug: bool) -> list[dict[str, Any]]:
    """The ``errors`` of a response: safe errors as they are, the others masked unless ``debug``."""
    return [format_error(error, debug=debug) for error in errors]


def format_error(error: GraphQLError, *, debug: bool) -> dict[str, Any]:
    original = error.original_error
    # Errors graphql-core made itself (syntax, validation, a missing variable) carry no original
    # error, and coded errors are made on purpose: both are written for the client.
    if original is None or isinstance(original, GraphQLError):
        formatted: dict[str, Any] = dict(error.formatted)
        if original is None and "extensions" not in formatted:
            formatted["extensions"] = {"code": "GRAPHQL_VALIDATION_FAILED" if not error.path else INTERNAL}
        return formatted
    # Strawberry has logged it already (the "strawberry.execution" logger), traceback included.
    # An unexpected exception's message may hold SQL, table names or paths: only debug shows it.
    shown: dict[str, Any] = dict(
        GraphQLError(
            str(original) if debug else "Internal server error",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": INTERNAL},
        ).formatted
    )
    if debug:
        shown["extensions"]["exception"] = {
            "type": type(original).__name__,
            "message": str(original),
            "traceback": traceback.format_exception(original),
        }
    return shown
