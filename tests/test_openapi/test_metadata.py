"""App metadata in the document: info, servers and tags, with FastAPI's argument names, checked at startup."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from plait.app import Plait
from plait.exceptions import ConfigurationError
from plait.openapi import build_openapi, get_openapi
from plait.routing import Router
from plait.testing import TestClient


def test_the_description_reaches_info() -> None:
    app = Plait(title="Shop", version="1.0", description="Things for **sale**.")
    assert build_openapi(app)["info"] == {"title": "Shop", "description": "Things for **sale**.", "version": "1.0"}
    served = TestClient(app).get("/openapi.json").json()
    assert served["info"]["description"] == "Things for **sale**."


def test_every_field_fastapi_users_give() -> None:
    app = Plait(
        title="Shop",
        version="1.0",
        summary="A small shop.",
        description="Things for sale.",
        terms_of_service="https://shop.example/terms",
        contact={"name": "Shop team", "url": "https://shop.example", "email": "team@shop.example"},
        license_info={"name": "MIT", "identifier": "MIT"},
        openapi_tags=[
            {"name": "users", "description": "People."},
            {
                "name": "items",
                "description": "Things.",
                "externalDocs": {"url": "https://shop.example/items", "description": "More"},
            },
            {"name": "unused", "x-display": "hidden"},
        ],
        servers=[
            {"url": "https://{region}.shop.example", "variables": {"region": {"default": "eu", "enum": ["eu", "us"]}}},
            "/",
        ],
    )
    items = Router(prefix="/items", tags=["items"])

    @items.get("")
    def list_items() -> list[str]:
        return []

    @app.get("/other", tags=["other", "users"])
    def other() -> None: ...

    app.include_router(items)
    built = build_openapi(app)
    validate(built, cls=OpenAPIV31SpecValidator)
    assert built["info"] == {
        "title": "Shop",
        "summary": "A small shop.",
        "description": "Things for sale.",
        "termsOfService": "https://shop.example/terms",
        "contact": {"name": "Shop team", "url": "https://shop.example", "email": "team@shop.example"},
        "license": {"name": "MIT", "identifier": "MIT"},
        "version": "1.0",
    }
    assert list(built["info"]) == ["title", "summary", "description", "termsOfService", "contact", "license", "version"]
    # Declared tags first, in their order; then the ones only routes use, in order of first use.
    assert [tag["name"] for tag in built["tags"]] == ["users", "items", "unused", "other"]
    assert built["tags"][1]["externalDocs"] == {"url": "https://shop.example/items", "description": "More"}
    assert built["servers"][0]["variables"]["region"]["default"] == "eu"
    assert built["servers"][1] == {"url": "/"}


def test_a_license_by_url() -> None:
    app = Plait(license_info={"name": "Apache 2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0.html"})
    built = build_openapi(app)
    validate(built, cls=OpenAPIV31SpecValidator)
    assert built["info"]["license"]["url"].startswith("https://www.apache.org/")


def test_build_openapi_arguments_replace_the_apps() -> None:
    app = Plait(description="Mine.", servers=["https://a.example"])
    built = build_openapi(app, description="Theirs.", servers=["https://b.example"])
    assert built["info"]["description"] == "Theirs."
    assert built["servers"] == [{"url": "https://b.example"}]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"summary": 3}, "summary must be a string; got int"),
        ({"terms_of_service": ["x"]}, "terms_of_service must be a string"),
        ({"contact": "team@shop.example"}, "contact must be a dict such as"),
        ({"contact": {"mail": "a@b.c"}}, "contact has no key 'mail' (did you mean 'email'?)"),
        ({"contact": {"name": 1}}, "contact['name'] must be a string; got int"),
        ({"license_info": "MIT"}, 'license_info must be a dict such as {"name": "MIT"'),
        ({"license_info": {"identifier": "MIT"}}, "license_info needs 'name'"),
        ({"license_info": {"name": "MIT", "identifier": "MIT", "url": "https://x"}}, "not both"),
        ({"openapi_tags": {"name": "items"}}, "openapi_tags must be a list of dicts"),
        ({"openapi_tags": ["items"]}, "openapi_tags[0] must be a dict"),
        ({"openapi_tags": [{"description": "x"}]}, "openapi_tags[0] needs 'name'"),
        ({"openapi_tags": [{"name": "a"}, {"name": "a"}]}, "openapi_tags[1]: the tag 'a' is listed twice"),
        ({"openapi_tags": [{"name": "a", "externalDocs": "https://x"}]}, "openapi_tags[0]['externalDocs'] must be"),
        ({"openapi_tags": [{"name": "a", "externalDocs": {}}]}, "openapi_tags[0]['externalDocs'] needs 'url'"),
        ({"openapi_tags": [{"name": "a", "docs": "x"}]}, "openapi_tags[0] has no key 'docs'; it takes"),
        ({"servers": "https://x"}, "servers must be a list of URLs or dicts"),
        ({"servers": [{"uri": "https://x"}]}, "servers[0] has no key 'uri' (did you mean 'url'?)"),
        ({"servers": [{"url": "/", "variables": {"v": {"enum": ["1"]}}}]}, "servers[0]['variables']['v'] needs"),
        ({"servers": [{"url": "/", "variables": []}]}, "servers[0]['variables'] must be a dict"),
    ],
)
def test_wrong_shapes_are_refused_when_the_app_is_created(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Plait(**options)
    assert message in str(caught.value)


def test_x_extensions_are_allowed() -> None:
    app = Plait(contact={"name": "Team", "x-slack": "#api"})
    assert build_openapi(app)["info"]["contact"] == {"name": "Team", "x-slack": "#api"}
    with pytest.raises(ConfigurationError, match="contact has no key 1"):
        Plait(contact={1: "Team"})  # type: ignore[dict-item]


def test_get_openapi_checks_what_it_is_given() -> None:
    app = Plait()

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    with pytest.raises(ConfigurationError, match=r"pass routes=app.compiled_routes\(\)"):
        get_openapi(title="Shop", version="1", routes=app.routes)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="contact must be a dict"):
        get_openapi(title="Shop", version="1", routes=[], contact="x")  # type: ignore[arg-type]
    built = get_openapi(title="Shop", version="1", routes=app.compiled_routes(), tags=[{"name": "a"}])
    validate(built, cls=OpenAPIV31SpecValidator)
    assert list(built["paths"]) == ["/ping"]
    assert built["tags"] == [{"name": "a"}]
