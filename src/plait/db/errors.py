"""Database failures that are the server's state, not the request's fault: 503 problem responses."""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc

from plait.errors import ProblemResponse
from plait.exceptions import HTTPException
from plait.requests import Request

logger = logging.getLogger("plait.error")
RETRY_AFTER = {"retry-after": "1"}


class DatabaseUnavailable(HTTPException):
    """The database could not be reached (a 503 problem response; the cause is chained)."""

    def __init__(self, reason: str) -> None:
        super().__init__(503, f"The database is unavailable: {reason}. Try again shortly.", RETRY_AFTER)


def pool_exhausted(request: Request, exc: sa_exc.TimeoutError) -> ProblemResponse:
    """Every pooled connection stayed busy for the pool timeout: shed load instead of queueing forever."""
    return ProblemResponse(
        503,
        detail="The database is busy (no free connection within the pool timeout). Try again shortly.",
        headers=RETRY_AFTER,
    )


def connection_lost(request: Request, exc: sa_exc.DBAPIError) -> ProblemResponse:
    """A connection died mid-request (server restart, network): 503; any other driver error is a 500.

    The pool has dropped the dead connection by then, so the next request reconnects by itself.
    A handler the app registers for a narrower class (``IntegrityError``) is chosen before this one.
    """
    if exc.connection_invalidated:
        return ProblemResponse(503, detail="The database connection was lost. Try again shortly.", headers=RETRY_AFTER)
    logger.error("Database error in %s %s", request.method, request.url.path, exc_info=exc)
    return ProblemResponse(500, detail="The server hit an error it did not expect. It has been logged.")
