"""RequestIDMiddleware: trusted and refused incoming ids, where handlers find the id, the echo."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from plait import ConfigurationError, PlainTextResponse, Plait, Request, Response, Settings
from plait.middleware import RequestIDMiddleware, current_request_id
from plait.middleware.request_id import SCOPE_KEY
from plait.testing import TestClient
from tests.test_middleware.helpers import Recorder, run, websocket_scope

HEX32 = re.compile(r"[0-9a-f]{32}")


def make_app(**options: Any) -> Plait:
    app = Plait(settings=Settings())
    app.add_middleware(RequestIDMiddleware, **options)

    @app.get("/async")
    async def from_async(request: Request) -> dict[str, Any]:
        return {"state": request.state.request_id, "scope": request.scope[SCOPE_KEY], "var": current_request_id()}

    @app.get("/sync")
    def from_sync(request: Request) -> dict[str, Any]:
        return {"state": request.state.request_id, "scope": request.scope[SCOPE_KEY], "var": current_request_id()}

    @app.get("/own")
    def own() -> Response:
        return PlainTextResponse("x", headers={"X-Request-ID": "chosen-by-handler"})

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as client:
        yield client


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_a_new_id_is_generated_and_visible_everywhere(client: TestClient, path: str) -> None:
    response = client.get(path)
    request_id = response.headers["x-request-id"]
    assert HEX32.fullmatch(request_id)
    assert response.json() == {"state": request_id, "scope": request_id, "var": request_id}
    assert current_request_id() is None


def test_ids_differ_per_request(client: TestClient) -> None:
    assert client.get("/async").headers["x-request-id"] != client.get("/async").headers["x-request-id"]


@pytest.mark.parametrize("incoming", ["abc-123", "a" * 128, "Root=1-5759e988", "trace:x/y+z=@.7_"])
def test_a_well_formed_incoming_id_is_kept(client: TestClient, incoming: str) -> None:
    response = client.get("/async", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming
    assert response.json()["state"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "a" * 129,
        "two words",
        "<script>",
        "id\x1b[31m",
        "caf\xe9".encode("latin-1"),
        "a,b",
        "a;b",
        'q"uote',
        "line\tbreak",
    ],
)
def test_a_malformed_incoming_id_is_replaced(client: TestClient, incoming: str | bytes) -> None:
    value = incoming if isinstance(incoming, bytes) else incoming.encode()
    response = client.get("/async", headers=[(b"X-Request-ID", value)])
    assert HEX32.fullmatch(response.headers["x-request-id"])


def test_two_incoming_ids_are_replaced(client: TestClient) -> None:
    response = client.get("/async", headers=[("X-Request-ID", "one"), ("X-Request-ID", "two")])
    assert HEX32.fullmatch(response.headers["x-request-id"])


def test_incoming_ids_can_be_distrusted() -> None:
    with TestClient(make_app(trust_incoming=False)) as client:
        response = client.get("/async", headers={"X-Request-ID": "abc-123"})
    assert HEX32.fullmatch(response.headers["x-request-id"])


def test_custom_header_name() -> None:
    with TestClient(make_app(header_name="X-Correlation-ID")) as client:
        response = client.get("/async", headers={"X-Correlation-ID": "corr-1", "X-Request-ID": "ignored"})
    assert response.headers["x-correlation-id"] == "corr-1"
    assert "x-request-id" not in response.headers


def test_a_response_that_sets_the_header_keeps_it(client: TestClient) -> None:
    assert client.get("/own").headers.get_list("x-request-id") == ["chosen-by-handler"]


def test_bad_header_name_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a valid header name"):
        RequestIDMiddleware(Recorder(), header_name="X Request ID")


def test_websockets_get_an_id_but_no_header() -> None:
    inner = Recorder()
    scope = websocket_scope(headers=[(b"x-request-id", b"ws-1")])
    messages = run(RequestIDMiddleware(inner), scope)
    assert inner.scope[SCOPE_KEY] == "ws-1"
    assert inner.scope["plait.request_state"].request_id == "ws-1"
    assert messages == [{"type": "websocket.accept"}]


def test_lifespan_passes_through() -> None:
    inner = Recorder()
    scope = {"type": "lifespan"}
    run(RequestIDMiddleware(inner), scope)
    assert inner.scope is scope
    assert SCOPE_KEY not in scope
