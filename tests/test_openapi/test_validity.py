"""The rich example's document is valid OpenAPI 3.1, and the app keeps every promise it makes.

Schemathesis generates requests from the document (valid ones, then invalid ones) and sends them
to examples/rich/app.py in-process. Every response must be no server error, with a documented
status code and media type, and a body that matches the documented schema. Runs are bounded
and deterministic: a fixed number of examples per operation, derandomized, no example database.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import hypothesis
import pytest
import schemathesis
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from plait.openapi import build_openapi
from plait.testing import TestClient

RICH = Path(__file__).resolve().parents[2] / "examples" / "rich" / "app.py"
MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def rich() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("plait_example_rich", RICH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # msgspec resolves the recursive Category through sys.modules
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.fixture(scope="module")
def document(rich: ModuleType) -> dict[str, Any]:
    built: dict[str, Any] = build_openapi(rich.app)
    return built


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document, cls=OpenAPIV31SpecValidator)
    assert document["openapi"] == "3.1.0"


def test_the_document_covers_every_feature(document: dict[str, Any]) -> None:
    paths = document["paths"]
    locations = {p["in"] for item in paths.values() for op in item.values() for p in op.get("parameters", [])}
    assert locations == {"path", "query", "header", "cookie"}
    media = {m for item in paths.values() for op in item.values() for m in op.get("requestBody", {}).get("content", {})}
    assert media == {"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}
    schemas = document["components"]["schemas"]
    assert {"PetIn", "Address", "Preferences", "UserIn", "Category", "Species", "Circle"} <= set(schemas)
    assert paths["/pets/legacy-search"]["get"]["deprecated"] is True
    assert {tag["name"] for tag in document["tags"]} == {"pets", "users", "forms", "meta"}


def _operations(document: dict[str, Any], mode: GenerationMode) -> list[Any]:
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    if mode is GenerationMode.NEGATIVE:  # an operation that reads nothing has no invalid request
        operations = [op for op in operations if op.definition.raw.get("parameters") or op.body]
    return operations


def _run(operation: Any, app: Any, mode: GenerationMode) -> str | None:
    """Schemathesis's report of the first broken promise of ``operation`` (shrunk), or None."""

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        case.validate_response(case.call(app=app), checks=CHECKS)

    try:
        check()
    except BaseException as exc:  # schemathesis raises a group of failures, with the request to reproduce it
        return f"{operation.label} [{mode.value}]: {exc}"
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_schemathesis_finds_no_broken_promise(rich: ModuleType, document: dict[str, Any], mode: GenerationMode) -> None:
    operations = _operations(document, mode)
    assert len(operations) >= 10
    failures = [found for found in (_run(op, rich.app, mode) for op in operations) if found is not None]
    assert failures == []


# -- the example behaves --------------------------------------------------------------------------------


@pytest.fixture
def client(rich: ModuleType) -> Iterator[TestClient]:
    with TestClient(rich.app) as test_client:
        yield test_client


def test_pets(client: TestClient) -> None:
    created = client.post("/pets", json={"name": "Tom", "species": "cat", "tags": ["grey"]})
    assert created.status_code == 201
    pet = created.json()
    assert client.get(f"/pets/{pet['id']}").json() == pet
    assert pet in client.get("/pets", params={"species": "cat", "tag": "grey", "q": "to"}).json()
    assert client.get("/pets", params={"limit": 1, "sort": "age"}).json()[0]["id"] >= 1
    assert "<h1>Tom</h1>" in client.get(f"/pets/{pet['id']}/card").text
    transfer = client.post(f"/pets/{pet['id']}/transfer", json={"owner": "Ada"})
    assert transfer.json() == {"pet": pet["id"], "owner": "Ada", "note": None}
    assert client.delete(f"/pets/{pet['id']}", headers={"x-api-key": "wrong"}).status_code == 401
    assert client.delete(f"/pets/{pet['id']}", headers={"x-api-key": "staff-secret"}).status_code == 204
    assert client.get(f"/pets/{pet['id']}").status_code == 404
    assert client.get("/pets/legacy-search", params={"name": "Rex"}).json()[0]["name"] == "Rex"


def test_users(client: TestClient) -> None:
    created = client.post("/users", json={"email": "bob@example.com", "name": "Bob"})
    assert created.status_code == 201
    assert created.json()["role"] == "customer"
    assert client.post("/users", json={"email": "ada@example.com", "name": "Ada"}).status_code == 409
    assert client.get("/users/1").json()["name"] == "Ada"
    assert client.get("/users/99").status_code == 404
    address = {"street": "1 Main St", "city": "Paris", "postcode": "75001"}
    assert client.put("/users/1/address", json=address).json() == address
    assert client.patch("/users/1/preferences", json={"newsletter": True}).json() == {"newsletter": True}


def test_forms(client: TestClient) -> None:
    login = client.post("/forms/login", data={"username": "ada", "password": "correct horse"})
    assert login.json() == {"user": "ada"}
    files = [("picture", ("me.png", b"\x89PNG", "image/png")), ("extras", ("a.txt", b"a", "text/plain"))]
    profile = client.post("/forms/profile", data={"name": "Ada", "public": "false"}, files=files)
    assert profile.json() == {"name": "Ada", "bytes": 4, "extras": 1, "public": False}


def test_the_rest(client: TestClient) -> None:
    assert client.get("/health").text == "ok"
    assert client.post("/shapes/area", json={"type": "square", "side": 3}).json() == {"area": 9.0}
    tree = {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}
    assert client.post("/categories/count", json=tree).json() == {"count": 3}
    assert client.post("/categories/count", json=tree, params={"depth": 2}).json() == {"count": 2}
    assert client.get("/lookup/k", params={"kind": 3}).json() == {"key": "k", "kind": 3}
    assert client.get("/lookup/k").json() == {"key": "k", "kind": "all"}


def test_a_broken_promise_is_caught(rich: ModuleType, document: dict[str, Any]) -> None:
    """The harness is not vacuous: drop the documented 422 and the invalid requests expose it."""
    broken = copy.deepcopy(document)
    del broken["paths"]["/lookup/{key}"]["get"]["responses"]["422"]
    (operation,) = [op for op in _operations(broken, GenerationMode.NEGATIVE) if op.path == "/lookup/{key}"]
    found = _run(operation, rich.app, GenerationMode.NEGATIVE)
    assert found is not None
    assert "Undocumented status code" in found
