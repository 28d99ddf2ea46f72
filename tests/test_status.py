"""``plait.status``: named HTTP and WebSocket codes, typed as ints."""

from __future__ import annotations

from http import HTTPStatus

from plait import Plait, status
from tests.support import call


def test_every_http_status_has_its_constant() -> None:
    for code in HTTPStatus:
        assert getattr(status, f"HTTP_{code.value}_{code.name}") == code.value


def test_both_spellings_of_renamed_codes() -> None:
    assert status.HTTP_422_UNPROCESSABLE_ENTITY == status.HTTP_422_UNPROCESSABLE_CONTENT == 422
    assert status.HTTP_413_REQUEST_ENTITY_TOO_LARGE == status.HTTP_413_CONTENT_TOO_LARGE == 413


def test_websocket_codes() -> None:
    assert (status.WS_1000_NORMAL_CLOSURE, status.WS_1008_POLICY_VIOLATION, status.WS_1011_INTERNAL_ERROR) == (
        1000,
        1008,
        1011,
    )


def test_all_lists_every_constant_and_they_are_ints() -> None:
    names = [n for n in dir(status) if n.startswith(("HTTP_", "WS_"))]
    assert sorted(status.__all__) == sorted(names)
    assert all(type(getattr(status, n)) is int for n in names)


def test_used_as_a_route_status_code() -> None:
    app = Plait()

    @app.post("/", status_code=status.HTTP_201_CREATED)
    def create() -> dict[str, int]:
        code: int = status.HTTP_201_CREATED  # mypy sees an int
        return {"code": code}

    response = call(app, "POST", "/")
    assert (response.status_code, response.json()) == (201, {"code": 201})
