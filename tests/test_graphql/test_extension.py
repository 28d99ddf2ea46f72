"""Limits, introspection, debug errors, GraphiQL's page and files, configuration mistakes."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from plait import Plait
from plait.exceptions import ConfigurationError
from plait.graphql import GraphQL
from plait.settings import Settings
from plait.testing import TestClient


@strawberry.type
class Node:
    @strawberry.field
    def child(self) -> Node:
        return Node()

    @strawberry.field
    def name(self) -> str:
        return "node"


@strawberry.type
class Query:
    @strawberry.field
    def root(self) -> Node:
        return Node()

    @strawberry.field
    def fail(self) -> str:
        raise ValueError("password=hunter2 in /srv/app/settings.py")


def client_for(*, debug: bool = False, **options: Any) -> TestClient:
    app = Plait(settings=Settings(debug=debug))
    app.install(GraphQL(strawberry.Schema(query=Query), **options))
    return TestClient(app)


def post(client: TestClient, query: str) -> Any:
    return client.post("/graphql", json={"query": query}).json()


def nested(depth: int) -> str:
    return "{ root { " + "child { " * (depth - 2) + "name" + " }" * (depth - 1) + " }"


def test_depth_aliases_tokens_and_size_have_limits() -> None:
    with client_for(max_depth=5, max_aliases=3, max_tokens=60, max_document_size=400, cache_size=0) as client:
        assert post(client, nested(6))["data"] is not None  # root, four children, name: depth 5 below root
        deep = post(client, nested(7))
        assert "exceeds maximum operation depth" in deep["errors"][0]["message"]
        aliases = post(client, "{ a: root { name } b: root { name } c: root { name } d: root { name } }")
        assert "aliases" in aliases["errors"][0]["message"]
        tokens = post(client, "{ root { " + "name " * 60 + "} }")
        assert "token" in tokens["errors"][0]["message"].lower()
        big = client.post("/graphql", json={"query": "{ root { name } }" + " " * 400})
        assert big.status_code == 413


def test_production_hides_introspection_graphiql_and_details() -> None:
    with client_for() as client:
        assert "errors" in post(client, "{ __schema { types { name } } }")
        assert post(client, "{ root { __typename } }") == {"data": {"root": {"__typename": "Node"}}}
        assert client.get("/graphql", headers={"accept": "text/html"}).status_code == 400
        assert client.get("/graphql/graphiql/graphiql.min.js").status_code == 404
        failed = post(client, "{ fail }")
        assert failed["errors"][0]["message"] == "Internal server error"
        assert "hunter2" not in str(failed)


def test_debug_shows_introspection_graphiql_and_the_exception() -> None:
    with client_for(debug=True) as client:
        assert post(client, "{ __schema { queryType { name } } }") == {
            "data": {"__schema": {"queryType": {"name": "Query"}}}
        }
        failed = post(client, "{ fail }")["errors"][0]
        assert failed["extensions"]["exception"]["type"] == "ValueError"
        assert any("raise ValueError" in line for line in failed["extensions"]["exception"]["traceback"])
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql-boot.js" in page.text
        assert "cdn" not in page.text.lower()
        assert "https://" not in page.text
        script = client.get("/graphql/graphiql/graphiql.min.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert client.get("/graphql/graphiql/..%2Fextension.py").status_code == 404


def test_graphiql_and_introspection_can_be_asked_for_in_production() -> None:
    with client_for(graphiql=True) as client:
        assert client.get("/graphql", headers={"accept": "text/html"}).status_code == 200
        assert post(client, '{ __type(name: "Node") { name } }') == {"data": {"__type": {"name": "Node"}}}
    with client_for(debug=True, introspection=False) as client:
        assert "errors" in post(client, "{ __schema { types { name } } }")


def test_mistakes_are_configuration_errors() -> None:
    schema = strawberry.Schema(query=Query)
    with pytest.raises(ConfigurationError, match=r"strawberry\.Schema"):
        GraphQL(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="starts with '/'"):
        GraphQL(schema, path="graphql")
    with pytest.raises(ConfigurationError, match="max_depth"):
        GraphQL(schema, max_depth=0)


def test_uploads_can_be_turned_off_and_bad_forms_are_400s() -> None:
    preflight = {"GraphQL-Require-Preflight": "1"}
    files = {"0": ("a.txt", b"x", "text/plain")}
    with client_for(uploads=False) as client:
        assert client.post("/graphql", data={"operations": "{}"}, files=files, headers=preflight).status_code == 415
    with client_for() as client:
        for form in ({"map": "{}"}, {"operations": "{nope", "map": "{}"}, {"operations": "[]", "map": "{}"}):
            assert client.post("/graphql", data=form, files=files, headers=preflight).status_code == 400, form
        nested = {
            "operations": '{"query": "{ root { name } }", "variables": {"a": [{"b": null}]}}',
            "map": '{"0": ["variables.a.0.b"]}',
        }
        assert client.post("/graphql", data=nested, files=files, headers=preflight).json()["data"] == {
            "root": {"name": "node"}
        }
        deep = {**nested, "map": '{"0": ["variables.a.5.b"]}'}
        assert client.post("/graphql", data=deep, files=files, headers=preflight).status_code == 400


def test_graphiql_needs_its_assets_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from plait.graphql import graphiql

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match="graphene-django-graphiql-static"):
        graphiql.assets_folder()


def test_csrf_protection_leaves_the_endpoint_to_its_own_guards() -> None:
    from plait.csrf import CSRF

    app = Plait(settings=Settings(secret_key="graphql-csrf-test"))
    app.install(CSRF())
    app.install(GraphQL(strawberry.Schema(query=Query)))
    with TestClient(app, cookies={"plait_session": "from-a-browser"}) as client:
        answer = client.post("/graphql", json={"query": "{ root { name } }"})
        assert answer.json() == {"data": {"root": {"name": "node"}}}
        form = client.post("/graphql", data={"operations": "{}", "map": "{}"}, files={"0": ("a", b"x")})
        assert form.status_code == 400  # no preflight header: refused by the endpoint itself
