"""The hello example (examples/hello/app.py), driven through TestClient as a user would."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from plait.testing import TestClient

HELLO = Path(__file__).resolve().parent.parent / "examples" / "hello" / "app.py"


@pytest.fixture(scope="module")
def hello() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("plait_example_hello", HELLO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # msgspec resolves the Item annotations through sys.modules
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.fixture
def client(hello: ModuleType) -> Iterator[TestClient]:
    with TestClient(hello.app) as test_client:
        yield test_client


def test_index(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, world!"}


def test_path_parameter(client: TestClient) -> None:
    assert client.get("/hello/Ada").json() == {"message": "Hello, Ada!"}


def test_query_parameters(client: TestClient) -> None:
    assert client.get("/search", params={"q": "tea", "limit": 5}).json() == {"q": "tea", "limit": 5}
    assert client.get("/search", params={"q": "tea"}).json() == {"q": "tea", "limit": 10}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"q": "tea", "limit": 0}, "limit"), ({"q": "tea", "limit": "many"}, "limit"), ({}, "q"), ({"q": ""}, "q")],
)
def test_query_constraints(client: TestClient, params: dict[str, str | int], field: str) -> None:
    response = client.get("/search", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["loc"] for error in response.json()["errors"]] == [["query", field]]


def test_json_body_creates_an_item(client: TestClient) -> None:
    response = client.post("/items", json={"name": "tea", "price": 3.5})
    assert response.status_code == 201
    assert response.json() == {"name": "tea", "price": 3.5, "tags": []}


def test_invalid_body_is_rejected_field_by_field(client: TestClient) -> None:
    response = client.post("/items", json={"name": "", "price": -1})
    assert response.status_code == 422
    locations = sorted(tuple(error["loc"]) for error in response.json()["errors"])
    assert locations == [("body", "name"), ("body", "price")]


def test_dependency_reads_the_user(client: TestClient) -> None:
    assert client.get("/api/me", headers={"X-User": "ada"}).json() == {"user": "ada"}


def test_dependency_refuses_anonymous_requests(client: TestClient) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Say who you are with an X-User header."


def test_dependency_can_be_overridden(hello: ModuleType) -> None:
    with TestClient(hello.app, dependency_overrides={hello.current_user: lambda: "tester"}) as client:
        assert client.get("/api/me").json() == {"user": "tester"}


def test_routes_are_named(hello: ModuleType) -> None:
    assert hello.app.url_for("hello", name="Bob") == "/hello/Bob"
    assert hello.app.url_for("api.me") == "/api/me"
