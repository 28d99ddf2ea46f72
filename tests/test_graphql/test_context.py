"""@inject in detail: what counts as a GraphQL argument, dependency errors as coded errors, cleanup failures."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
import pytest
import sqlalchemy as sa
import strawberry
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait import Plait
from plait.di import Depends
from plait.exceptions import ConfigurationError, HTTPException
from plait.graphql import GraphQL, inject
from plait.graphql.context import _is_graphql
from plait.graphql.generate import crud
from plait.graphql.models import model_type, python_to_graphql
from plait.params import Query as QueryParam
from plait.requests import Request
from plait.settings import Settings
from plait.testing import TestClient
from plait.websockets import WebSocketDisconnect

pytestmark = pytest.mark.anyio


class Colour(enum.Enum):
    red = "red"


@strawberry.input
class Point:
    x: int


async def page_number(page: Annotated[int, QueryParam(ge=1)] = 1) -> int:
    return page


async def flaky_cleanup() -> AsyncIterator[int]:
    yield 1
    raise RuntimeError("commit failed: connection reset")


async def app_settings(request: Request) -> Settings:
    return request.settings


async def gone() -> int:
    raise HTTPException(503, "database down: host 10.0.0.7")


@strawberry.type
class Query:
    @strawberry.field
    @inject
    async def page(self, number: Annotated[int, Depends(page_number)]) -> int:
        return number

    @strawberry.field
    @inject
    async def flaky(self, value: Annotated[int, Depends(flaky_cleanup)]) -> int:
        return value

    @strawberry.field
    @inject
    async def debug(self, settings: Annotated[Settings, Depends(app_settings)]) -> bool:
        return settings.debug

    @strawberry.field
    @inject
    async def outage(self, value: Annotated[int, Depends(gone)]) -> int:
        return value

    @strawberry.field
    @inject
    async def later(self, point: Later | None = None) -> str:  # a forward reference stays a GraphQL argument
        return "later"


@strawberry.input
class Later:
    y: int


@strawberry.type
class Subscription:
    @strawberry.subscription
    @inject
    async def refused(self, value: Annotated[int, Depends(page_number)]) -> AsyncIterator[int]:
        yield value
        raise HTTPException(403, "No more for you.")


@pytest.fixture
def client() -> Any:
    app = Plait()
    app.install(GraphQL(strawberry.Schema(query=Query, subscription=Subscription)))
    with TestClient(app) as test_client:
        yield test_client


def test_what_stays_a_graphql_argument() -> None:
    for annotation in (int, list[int], int | None, Colour, Point, "Later", Annotated[int, strawberry.argument()]):
        assert _is_graphql(annotation), annotation
    injected: tuple[Any, ...] = (Plait, Annotated[int, Depends(page_number)], list[Plait], dict[str, int])
    for other in injected:
        assert not _is_graphql(other), other
    with pytest.raises(ConfigurationError, match="async def"):
        inject(lambda: 1)


def test_dependency_errors_become_coded_errors(client: TestClient) -> None:
    assert client.get("/graphql", params={"query": "{ page debug }", "page": "3"}).json() == {
        "data": {"page": 3, "debug": False}
    }
    refused = client.get("/graphql", params={"query": "{ page }", "page": "zero"}).json()["errors"][0]
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert refused["extensions"]["fields"][0]["loc"] == ["query", "page"]
    outage = client.post("/graphql", json={"query": "{ outage }"}).json()["errors"][0]
    assert outage["message"] == "The service is unavailable; try again later."
    assert "10.0.0.7" not in str(outage)
    assert client.post("/graphql", json={"query": "{ later }"}).json() == {"data": {"later": "later"}}


def test_a_failed_cleanup_is_reported_not_raised(client: TestClient) -> None:
    body = client.post("/graphql", json={"query": "{ flaky }"}).json()
    assert body == {"data": None, "errors": [{"message": "The changes could not be saved.",
                                              "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}  # fmt: skip


def test_a_refusal_inside_a_subscription(client: TestClient) -> None:
    with client.websocket_connect("/graphql?page=2", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init"})
        ws.receive_json()
        ws.send_json({"type": "subscribe", "id": "s", "payload": {"query": "subscription { refused }"}})
        assert ws.receive_json()["payload"] == {"data": {"refused": 2}}
        error = ws.receive_json()["payload"]["errors"][0]
        assert error["extensions"] == {"code": "FORBIDDEN"}
        assert ws.receive_json() == {"type": "complete", "id": "s"}
        big = "{ page }" + " " * 100_000
        ws.send_json({"type": "subscribe", "id": "big", "payload": {"query": big}})
        assert ws.receive_json()["type"] == "error"


def test_a_silent_client_is_closed() -> None:
    app = Plait()
    app.install(GraphQL(strawberry.Schema(query=Query), connection_init_wait=0.05))
    protocol = ["graphql-transport-ws"]
    with (
        TestClient(app) as client,
        client.websocket_connect("/graphql", subprotocols=protocol) as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 4408


async def test_resolvers_need_the_graphql_extension() -> None:
    schema = strawberry.Schema(query=Query)
    result = await schema.execute("{ later }", context_value={})
    assert result.errors
    assert "info.context" in result.errors[0].message


class Base(DeclarativeBase):
    pass


class Pair(Base):
    __tablename__ = "gql_context_pair"
    a: Mapped[int] = mapped_column(primary_key=True)
    b: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class Plain(Base):
    __tablename__ = "gql_context_plain"
    id: Mapped[int] = mapped_column(primary_key=True)
    mood: Mapped[str] = mapped_column(sa.Enum("calm", "busy", name="mood"))


def test_model_corner_cases() -> None:
    with pytest.raises(ConfigurationError, match="single-column primary key"):
        crud(Pair)
    plain = crud(Plain)  # no filters: the list takes no `where`
    fields = {f.name: f for f in plain.Query.__strawberry_definition__.fields}
    assert [a.python_name for a in fields["plains"].arguments] == ["order", "limit", "offset"]
    assert {f.name for f in model_type(Pair).__strawberry_definition__.fields} == {"a", "b", "data"}
    assert python_to_graphql(int | str | None) is not None
    assert python_to_graphql(msgspec.UnsetType | int) is int


def test_the_package_surface() -> None:
    import plait.graphql

    assert plait.graphql.crud is crud
    assert set(plait.graphql.__all__) >= {"GraphQL", "inject", "crud", "model_type", "input_types"}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        plait.graphql.nope  # noqa: B018
