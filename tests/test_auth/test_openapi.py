"""Auth in the OpenAPI document: security schemes, per-operation security, 401/403 responses."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate

from plait import Plait
from plait.auth import Auth, AuthSettings, CurrentUser, OptionalUser, User
from plait.auth.openapi import SCHEME_NAMES, security_schemes
from plait.auth.permissions import requires, requires_group, requires_scope
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import FAST, make_app

pytestmark = pytest.mark.anyio
ALL: list[dict[str, list[str]]] = [{name: []} for name in SCHEME_NAMES]


def documented(app: Plait[Any]) -> Plait[Any]:
    @app.get("/open")
    async def open_() -> str:
        return "hi"

    @app.get("/mine")
    async def mine(user: CurrentUser) -> str:
        return user.username

    @app.get("/maybe")
    async def maybe(user: OptionalUser) -> str:
        return "x"

    @app.put("/edit", dependencies=[requires("articles.change")])
    async def edit() -> None:
        return None

    @app.get("/desk")
    async def desk(user: Annotated[User, requires_group("editors")]) -> None:
        return None

    @app.post("/write", dependencies=[requires_scope("articles:write")])
    async def write() -> None:
        return None

    return app


async def document(app: Plait[Any]) -> dict[str, Any]:
    async with AsyncTestClient(app) as client:
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        found: dict[str, Any] = response.json()
        return found


async def test_schemes_and_operations(tmp_path: Any) -> None:
    doc = await document(documented(make_app(f"sqlite:///{tmp_path / 'a.db'}")))
    validate(doc)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == "auth/token"
    assert schemes["BearerToken"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key"
    paths = doc["paths"]
    assert "security" not in paths["/open"]["get"]
    assert paths["/mine"]["get"]["security"] == ALL
    assert set(paths["/mine"]["get"]["responses"]) == {"200", "401"}
    assert paths["/maybe"]["get"]["security"] == [*ALL, {}]
    for path, method in (("/edit", "put"), ("/desk", "get"), ("/write", "post")):
        operation = paths[path][method]
        assert operation["security"] == ALL
        assert {"401", "403"} <= set(operation["responses"])
        assert "application/problem+json" in operation["responses"]["403"]["content"]
    token = paths["/auth/token"]["post"]
    assert "security" not in token
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"grant_type", "username", "password", "refresh_token"} <= set(form["properties"])
    assert paths["/auth/me"]["get"]["security"] == ALL


async def test_token_scheme_without_bearer(tmp_path: Any) -> None:
    auth = Auth(settings=FAST, token_scheme="Token")
    doc = await document(documented(make_app(f"sqlite:///{tmp_path / 'a.db'}", auth=auth)))
    validate(doc)
    schemes = doc["components"]["securitySchemes"]
    assert "OAuth2Password" not in schemes  # the docs would send "Bearer", which this app does not read
    assert schemes["BearerToken"]["name"] == "Authorization"
    assert "Token eyJ" in schemes["BearerToken"]["description"]
    assert doc["paths"]["/mine"]["get"]["security"] == [{"BearerToken": []}, {"APIKeyHeader": []}, {"APIKeyQuery": []}]


async def test_the_api_key_query_parameter_is_a_scheme_unless_turned_off(tmp_path: Any) -> None:
    doc = await document(documented(make_app(f"sqlite:///{tmp_path / 'a.db'}")))
    assert doc["components"]["securitySchemes"]["APIKeyQuery"]["in"] == "query"
    assert doc["components"]["securitySchemes"]["APIKeyQuery"]["name"] == "api_key"
    assert {"APIKeyQuery": []} in doc["paths"]["/mine"]["get"]["security"]
    header_only = Auth(settings=AuthSettings(argon2_time_cost=1, argon2_memory_cost=8, api_key_query=None))
    doc = await document(documented(make_app(f"sqlite:///{tmp_path / 'b.db'}", auth=header_only)))
    validate(doc)
    assert "APIKeyQuery" not in doc["components"]["securitySchemes"]
    # A requirement naming a scheme the document does not define is dropped, not left dangling.
    assert doc["paths"]["/mine"]["get"]["security"] == [
        {"OAuth2Password": []},
        {"BearerToken": []},
        {"APIKeyHeader": []},
    ]


def test_token_url_can_be_moved() -> None:
    auth = SimpleNamespace(token_scheme="bearer", token_url="api/token", settings=SimpleNamespace(api_key_header="K"))
    schemes = security_schemes(auth)["securitySchemes"]
    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == "api/token"
    assert schemes["APIKeyHeader"]["name"] == "K"
