"""The OpenAPI document and docs pages as an extension: installed by the app itself, replaceable, and layered."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import pytest

from plait.app import Plait
from plait.di import Depends
from plait.exceptions import ConfigurationError, HTTPException
from plait.extensions import DEFAULT_EXTENSIONS, Extension, default_extension
from plait.openapi.extension import OpenAPI
from plait.routing import Router
from plait.testing import TestClient


class Item(msgspec.Struct):
    name: str


def deny() -> None:
    raise HTTPException(401, "Sign in first.")


def test_the_app_installs_the_docs_extension_when_it_starts() -> None:
    app = Plait(title="Shop")
    assert [ext.name for ext in app.extensions] == []  # nothing is installed (or imported) before startup
    app.build()
    assert isinstance(app.extensions["openapi"], OpenAPI)
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "Shop"
        assert client.get("/docs").status_code == 200


def test_with_the_docs_off_nothing_is_installed_but_the_document_is_built() -> None:
    app = Plait(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    app.build()
    assert [ext.name for ext in app.extensions] == []
    assert list(app.openapi()["paths"]) == ["/ping"]
    assert app.openapi() is app.openapi_schema
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404


def test_an_installed_openapi_extension_replaces_the_default() -> None:
    class Versioned(OpenAPI):
        def document(self, app: Plait[Any]) -> dict[str, Any]:
            document = super().document(app)
            document["info"]["x-build"] = "42"
            return document

    app = Plait(extensions=[Versioned()])
    app.build()
    assert [type(ext) for ext in app.extensions] == [Versioned]
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["info"]["x-build"] == "42"
    quiet = Plait(extensions=[Versioned()], openapi_url=None, docs_url=None, redoc_url=None)
    quiet.build()
    assert quiet.extensions["openapi"].pages() == ()  # installed by hand with the docs off: no pages
    assert quiet.openapi()["info"]["x-build"] == "42"


def test_the_default_extension_is_named_by_path_not_imported() -> None:
    assert DEFAULT_EXTENSIONS == {"openapi": "plait.openapi.extension:OpenAPI"}
    assert isinstance(default_extension("openapi"), OpenAPI)
    assert default_extension("openapi") is not default_extension("openapi")  # a new one for each app


def test_the_core_does_not_import_the_openapi_layer() -> None:
    # A fresh interpreter: importing the app and building one with the docs off loads no OpenAPI module.
    code = (
        "import sys\n"
        "from plait.app import Plait\n"
        "Plait(openapi_url=None, docs_url=None, redoc_url=None, contact={'name': 'Team'}).build()\n"
        "print(sorted(name for name in sys.modules if name.startswith('plait.openapi')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


class Bearer(Extension):
    name = "bearer"

    def openapi_components(self) -> Mapping[str, Mapping[str, Any]]:
        return {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Item": {"type": "string"}, "Token": {"type": "string"}},
        }


def test_extension_components_join_the_document() -> None:
    app = Plait(extensions=[Bearer()])

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    components = app.openapi()["components"]
    assert components["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert components["schemas"]["Token"] == {"type": "string"}
    assert components["schemas"]["Item"]["type"] == "object"  # the routes' own schema is kept
    components["securitySchemes"]["bearer"]["scheme"] = "edited"  # the document is a copy
    assert app.extensions.openapi_components["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_extension_components_alone_make_the_components_section() -> None:
    app = Plait(extensions=[Bearer()], openapi_url=None, docs_url=None, redoc_url=None)
    assert set(app.openapi()["components"]) == {"securitySchemes", "schemas"}
    assert "components" not in Plait().openapi()


class Login(Extension):
    name = "login"

    def __init__(self) -> None:
        self.api = Router(prefix="/api")
        self.page = Router()

        @self.api.get("/me")
        def me() -> str:
            return "me"

        @self.page.get("/login")
        def login() -> str:
            return "form"

    def routers(self) -> Sequence[Router]:
        return (self.api,)

    def pages(self) -> Sequence[Router]:
        return (self.page,)


def test_app_dependencies_guard_extension_routers_but_not_its_pages() -> None:
    app = Plait(dependencies=[Depends(deny)], extensions=[Login()])
    with TestClient(app) as client:
        assert client.get("/api/me").status_code == 401
        assert client.get("/login").text == "form"


def test_the_docs_urls_still_configure_the_pages() -> None:
    app = Plait(openapi_url="/spec.json", docs_url=None, redoc_url=None)
    with TestClient(app) as client:
        assert client.get("/spec.json").status_code == 200
        assert client.get("/docs").status_code == 404
    with pytest.raises(ConfigurationError, match="keep openapi_url"):
        Plait(openapi_url=None, docs_url="/docs").build()
