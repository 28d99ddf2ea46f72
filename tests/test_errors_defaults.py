"""The public default exception handlers, for custom handlers to delegate to."""

from __future__ import annotations

import plait
from plait.app import Plait
from plait.errors import http_exception_handler, request_validation_exception_handler
from plait.exceptions import HTTPException, RequestValidationError
from plait.requests import Request
from plait.responses import Response
from plait.settings import Settings
from plait.testing import TestClient


def test_custom_handlers_log_then_delegate_to_the_defaults() -> None:
    logged: list[str] = []

    async def on_http(request: Request, exc: HTTPException) -> Response:
        logged.append(f"{request.path}: {exc.status_code}")
        return await http_exception_handler(request, exc)

    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        logged.append(f"{request.path}: {len(exc.errors())} invalid")
        return await request_validation_exception_handler(request, exc)

    app = Plait(
        settings=Settings(),
        exception_handlers={HTTPException: on_http, RequestValidationError: on_invalid},
    )

    @app.get("/items/{id:int}")
    def item(id: int, page: int = 1) -> dict[str, int]:
        if id == 0:
            raise HTTPException(404, "No item 0", headers={"x-hint": "ids start at 1"})
        return {"id": id, "page": page}

    with TestClient(app) as client:
        missing = client.get("/items/0")
        invalid = client.get("/items/1", params={"page": "two"})
    assert (missing.status_code, missing.json()["detail"], missing.headers["x-hint"]) == (
        404,
        "No item 0",
        "ids start at 1",
    )
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in invalid.json()["errors"]] == [["query", "page"]]
    assert logged == ["/items/0: 404", "/items/1: 1 invalid"]


def test_the_defaults_are_exported_from_plait() -> None:
    assert plait.http_exception_handler is http_exception_handler
    assert plait.request_validation_exception_handler is request_validation_exception_handler
