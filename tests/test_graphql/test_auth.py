"""Auth on fields and mutations: CurrentUser, OptionalUser and requires() give coded GraphQL errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import strawberry

from plait import Plait
from plait.auth import CurrentUser, OptionalUser
from plait.auth.identity import issue_tokens
from plait.auth.permissions import requires
from plait.graphql import GraphQL, inject
from plait.testing import TestClient
from tests.test_auth.conftest import add_user, make_app


@strawberry.type
class Query:
    @strawberry.field
    @inject
    async def me(self, user: CurrentUser) -> str:
        return str(user.username)

    @strawberry.field
    @inject
    async def visitor(self, user: OptionalUser) -> str:
        return "anonymous" if user is None else str(user.username)


@strawberry.type
class Mutation:
    @strawberry.mutation
    @inject(dependencies=[requires("articles.delete")])
    async def purge(self) -> bool:
        return True


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app: Plait[Any] = make_app(database_url, extensions=[GraphQL(strawberry.Schema(query=Query, mutation=Mutation))])
    with TestClient(app) as test_client:
        yield test_client


def token(client: TestClient, username: str, **fields: Any) -> str:
    portal = client._portal
    assert portal is not None
    app: Any = client.app

    async def create() -> Any:
        return await add_user(app, username, f"{username}@example.com", **fields)

    user = portal.call(create)
    return "Bearer " + issue_tokens(app.extensions["auth"], user).access_token


def ask(client: TestClient, query: str, auth: str | None = None) -> Any:
    headers = {"Authorization": auth} if auth else {}
    response = client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200
    return response.json()


def test_current_user_and_permissions_on_fields(client: TestClient) -> None:
    anonymous = ask(client, "{ visitor me }")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert ask(client, "{ visitor }") == {"data": {"visitor": "anonymous"}}
    refused = ask(client, "mutation { purge }")
    assert refused["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    ada = token(client, "ada")
    assert ask(client, "{ visitor me }", ada) == {"data": {"visitor": "ada", "me": "ada"}}
    forbidden = ask(client, "mutation { purge }", ada)
    assert forbidden["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert "articles.delete" in forbidden["errors"][0]["message"]
    root = token(client, "root", is_superuser=True)
    assert ask(client, "mutation { purge }", root) == {"data": {"purge": True}}
    bad = ask(client, "{ me }", "Bearer not-a-token")
    assert bad["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
