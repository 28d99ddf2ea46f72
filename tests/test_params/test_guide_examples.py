"""The "Coming from FastAPI" examples for parameters, as written in the guide."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import AfterValidator, BaseModel

from plait import Depends, Plait, Query, WebSocket, WebSocketException, status
from plait.testing import TestClient, WebSocketDenied

app = Plait()


@app.get("/items")
def items(q: str = Query(...), tags: list[str] = []) -> dict[str, object]:  # noqa: B006
    return {"q": q, "tags": tags}  # GET /items?q=x&tags=a&tags=b


def even(value: int) -> int:
    if value % 2:
        raise ValueError("must be even")
    return value


@app.get("/n")
def n(n: Annotated[int, AfterValidator(even)] = 0) -> int:
    return n  # ?n=3 -> 422 at ["query", "n"]


class FilterParams(BaseModel):
    model_config = {"extra": "forbid"}
    limit: int = 100
    tags: list[str] = []


@app.get("/filtered")
def filtered(filters: Annotated[FilterParams, Query()]) -> dict[str, object]:
    return filters.model_dump()  # ?tool=x -> 422 at ["query", "tool"]


class CommonParams:
    def __init__(self, q: str | None = None, skip: int = 0, limit: int = 100) -> None:
        self.q, self.skip, self.limit = q, skip, limit


@app.get("/common")
def common(commons: Annotated[CommonParams, Depends()]) -> int:
    return commons.limit


def check_token(token: str = "") -> str:
    if token != "secret":
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "bad token")
    return token


@app.websocket("/ws")
async def ws(ws: WebSocket, token: Annotated[str, Depends(check_token)]) -> None:
    await ws.accept()
    await ws.send_text(f"hello {token}")


def test_the_guide_examples() -> None:
    with TestClient(app) as client:
        assert client.get("/items?q=x&tags=a&tags=b").json() == {"q": "x", "tags": ["a", "b"]}
        assert client.get("/items").status_code == 422
        assert client.get("/n?n=3").json()["errors"][0]["loc"] == ["query", "n"]
        assert client.get("/filtered?tool=x").json()["errors"][0]["loc"] == ["query", "tool"]
        assert client.get("/common?limit=5").json() == 5
        with pytest.raises(WebSocketDenied) as denied:
            client.websocket_connect("/ws?token=guess")
        assert (denied.value.code, denied.value.reason) == (1008, "bad token")
        with client.websocket_connect("/ws?token=secret") as conn:
            assert conn.receive_text() == "hello secret"
