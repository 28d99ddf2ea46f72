"""Plait's generated OpenAPI document against RealWorld's own (a copy kept here as realworld-openapi.yml).

Every path and operation of the spec must be in the document, under ``/api``, with the same
operationId, the same parameters, the same request body fields and the same response fields (names,
which are required, types, nested objects and arrays), and every status code the spec documents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from plait.testing import TestClient
from tests.test_conduit.conftest import FAST_HASHING, SECRET, conduit_module

SPEC = yaml.safe_load((Path(__file__).parent / "realworld-openapi.yml").read_text(encoding="utf-8"))
METHODS = ("get", "post", "put", "delete")
OPERATIONS = [(path, method) for path, item in SPEC["paths"].items() for method in METHODS if method in item]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from plait.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.sqlite3'}"
    app = conduit_module("app").create_app(url, settings=Settings(secret_key=SECRET), auth=FAST_HASHING)
    with TestClient(app) as client:
        found: dict[str, Any] = client.get("/openapi.json").json()
    return found


def resolve(root: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def shape(root: dict[str, Any], node: Any) -> Any:
    """What a schema says about the data: property names, required ones, types; nothing else."""
    node = resolve(root, node)
    options = node.get("anyOf") or node.get("oneOf")
    if options:  # ``T | None`` (a nullable field) has the shape of T
        kept = [option for option in options if resolve(root, option).get("type") != "null"]
        assert len(kept) == 1, node
        return shape(root, kept[0])
    if node.get("type") == "array":
        return ["array", shape(root, node["items"])]
    if node.get("type") == "object" or "properties" in node:
        properties = node.get("properties", {})
        return {
            "required": sorted(node.get("required", [])),
            "properties": {name: shape(root, value) for name, value in properties.items()},
        }
    return node.get("type"), node.get("format")


def json_schema(root: dict[str, Any], holder: Any) -> Any:
    holder = resolve(root, holder)
    return holder["content"]["application/json"]["schema"]


def test_every_spec_operation_is_generated_with_its_operation_id(document: dict[str, Any]) -> None:
    assert len(OPERATIONS) == 19
    for path, method in OPERATIONS:
        ours = document["paths"].get(f"/api{path}", {}).get(method)
        assert ours is not None, f"{method.upper()} /api{path} is missing"
        assert ours["operationId"] == SPEC["paths"][path][method]["operationId"]
        assert set(ours["tags"]) == set(SPEC["paths"][path][method]["tags"])


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_parameters_bodies_and_responses_match(document: dict[str, Any], path: str, method: str) -> None:
    theirs, ours = SPEC["paths"][path][method], document["paths"][f"/api{path}"][method]
    resolved = [resolve(SPEC, p) for p in theirs.get("parameters", [])]
    their_params = {(p["in"], p["name"]): p for p in resolved}
    our_params = {(p["in"], p["name"]): p for p in ours.get("parameters", [])}
    assert set(our_params) == set(their_params)
    for key, param in their_params.items():
        assert shape(document, our_params[key]["schema"]) == shape(SPEC, param["schema"]), key
        assert our_params[key].get("required", False) == param.get("required", False), key
    if "requestBody" in theirs:
        assert ours["requestBody"]["required"] is True
        assert shape(document, json_schema(document, ours["requestBody"])) == shape(
            SPEC, json_schema(SPEC, theirs["requestBody"])
        )
    else:
        assert "requestBody" not in ours
    for status, response in theirs["responses"].items():
        assert status in ours["responses"], f"{method.upper()} {path} does not document {status}"
        their_response = resolve(SPEC, response)
        if their_response.get("content"):
            assert shape(document, json_schema(document, ours["responses"][status])) == shape(
                SPEC, json_schema(SPEC, their_response)
            ), status


def test_protected_operations_declare_the_token(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    token = next(name for name, scheme in schemes.items() if scheme.get("name") == "Authorization")
    assert schemes[token]["type"] == "apiKey"
    assert schemes[token]["in"] == "header"
    for path, method in OPERATIONS:
        if "security" in SPEC["paths"][path][method]:
            requirements = document["paths"][f"/api{path}"][method]["security"]
            assert {token: []} in requirements
            assert {} not in requirements, f"{method.upper()} {path} requires the token"


def test_errors_are_documented_in_the_format_they_are_answered(document: dict[str, Any]) -> None:
    for path, method in OPERATIONS:
        responses = document["paths"][f"/api{path}"][method]["responses"]
        for status in ("401", "422"):
            if status in responses:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/GenericErrorModel"}, (method, path, status)
