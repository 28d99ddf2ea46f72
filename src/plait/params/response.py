"""The ``response: Response`` parameter: headers, cookies and a status to merge into the real response.

A handler that returns data but also needs to set a cookie or a header asks for it::

    @app.post("/login")
    def login(response: Response) -> dict[str, bool]:
        response.set_cookie("session", "abc")
        return {"ok": True}

The parameter is a temporary :class:`~plait.responses.Response` made once per request (a
provider asking for it gets the same one). Its ``status_code`` reads ``0`` until you set it.
"""

from __future__ import annotations

from typing import Any

from plait._types import Scope
from plait.requests import Request
from plait.responses import Response

SCOPE_KEY = "plait.response"
UNSET_STATUS = 0


def temporary_response(scope: Scope) -> Response:
    """The request's temporary response, made on first use."""
    response: Response | None = scope.get(SCOPE_KEY)
    if response is None:
        # Status 0 means "not set": Response adds no Content-Length below 200, so no headers at all.
        response = scope[SCOPE_KEY] = Response(status_code=UNSET_STATUS)
    return response


class ResponseExtractor:
    """The request's temporary response (see the module documentation)."""

    __slots__ = ()

    def extract(self, request: Request) -> Any:
        return temporary_response(request.scope)
