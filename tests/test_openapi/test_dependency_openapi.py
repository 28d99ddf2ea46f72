"""Dependencies that document themselves: ``__plait_openapi__`` adds security and responses to operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate

from plait.app import Plait
from plait.di import Depends
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.openapi import build_openapi
from plait.routing import Router

BEARER: dict[str, list[str]] = {"bearer": []}
KEY: dict[str, list[str]] = {"apiKey": []}


def authenticated() -> str:
    return "someone"


authenticated.__plait_openapi__ = {  # type: ignore[attr-defined]
    "security": [BEARER, KEY],
    "responses": {401: {"description": "Not authenticated."}},
}


class Limiter:
    """An object dependency: the attribute may live on the class."""

    __plait_openapi__ = {"responses": {"429": {"description": "Too many requests."}}}

    def __call__(self) -> None:
        return None


def nested(user: Annotated[str, Depends(authenticated)]) -> str:
    return user


class Schemes(Extension):
    """Defines the schemes the hints name (requirements naming undefined schemes are dropped)."""

    name = "schemes"

    def openapi_components(self) -> Mapping[str, Mapping[str, Any]]:
        return {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
        }


def components_app() -> Plait[Any]:
    return Plait(title="Shop", extensions=[Schemes()])


def test_route_dependency_adds_security_and_problem_response() -> None:
    app = components_app()

    @app.get("/me", dependencies=[Depends(authenticated)])
    def me() -> dict[str, str]:
        return {}

    operation = build_openapi(app)["paths"]["/me"]["get"]
    assert operation["security"] == [BEARER, KEY]
    assert operation["responses"]["401"]["description"] == "Not authenticated."
    # A description-only response gets the problem body every Plait error has.
    assert "application/problem+json" in operation["responses"]["401"]["content"]
    assert list(operation["responses"]) == sorted(operation["responses"])


def test_nested_provider_router_and_object_dependencies_are_found_once() -> None:
    app = components_app()
    router = Router(dependencies=[Depends(Limiter())])

    @router.get("/items")
    def items(user: Annotated[str, Depends(nested)], again: Annotated[str, Depends(authenticated)]) -> list[str]:
        return [user, again]

    app.include_router(router)
    operation = build_openapi(app)["paths"]["/items"]["get"]
    assert operation["security"] == [BEARER, KEY]  # joined without repeats
    assert set(operation["responses"]) >= {"200", "401", "429"}
    assert operation["responses"]["429"]["description"] == "Too many requests."


def test_route_declared_response_wins_and_content_is_kept() -> None:
    app = components_app()

    def custom() -> None:
        return None

    custom.__plait_openapi__ = {  # type: ignore[attr-defined]
        "responses": {"403": {"description": "Hint.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
    }

    @app.get(
        "/x",
        dependencies=[Depends(authenticated), Depends(custom)],
        responses={401: {"description": "Declared by the route."}},
    )
    def x() -> None:
        return None

    document = build_openapi(app)
    responses = document["paths"]["/x"]["get"]["responses"]
    assert responses["401"]["description"] == "Declared by the route."
    assert responses["403"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    validate(document)


def test_operations_without_hints_have_no_security() -> None:
    app = components_app()

    @app.get("/open")
    def open_() -> None:
        return None

    assert "security" not in build_openapi(app)["paths"]["/open"]["get"]


def test_the_document_is_a_copy_of_the_hint() -> None:
    app = components_app()

    @app.get("/me", dependencies=[Depends(authenticated)])
    def me() -> None:
        return None

    build_openapi(app)["paths"]["/me"]["get"]["security"][0]["bearer"].append("changed")
    assert authenticated.__plait_openapi__["security"][0] == {"bearer": []}  # type: ignore[attr-defined]


@pytest.mark.parametrize("hint", [["security"], {"securty": []}])
def test_a_malformed_hint_names_the_fix(hint: Any) -> None:
    app = components_app()

    def bad() -> None:
        return None

    bad.__plait_openapi__ = hint  # type: ignore[attr-defined]

    @app.get("/bad", dependencies=[Depends(bad)])
    def handler() -> None:
        return None

    with pytest.raises(ConfigurationError, match="__plait_openapi__ must be a dict"):
        build_openapi(app)


def test_requirements_naming_undefined_schemes_are_dropped() -> None:
    app = Plait()  # no extension defines "bearer" or "apiKey"

    def optional() -> None:
        return None

    optional.__plait_openapi__ = {"security": [{"bearer": []}, {}]}  # type: ignore[attr-defined]

    @app.get("/me", dependencies=[Depends(authenticated)])
    def me() -> None:
        return None

    @app.get("/maybe", dependencies=[Depends(optional)])
    def maybe() -> None:
        return None

    paths = build_openapi(app)["paths"]
    assert "security" not in paths["/me"]["get"]
    assert "security" not in paths["/maybe"]["get"]  # only the empty requirement would be left
    assert "401" in paths["/me"]["get"]["responses"]
