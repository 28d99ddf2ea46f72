"""The docs router: the OpenAPI JSON, Swagger UI and ReDoc pages, and their assets, all served offline."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import anyio
import httpx
import msgspec
import openapi_ui_bundles.swagger_ui
import pytest

from plait.app import Plait
from plait.di import Depends
from plait.exceptions import ConfigurationError, HTTPException
from plait.openapi import build_openapi, docs, docs_router, get_openapi
from plait.openapi import extension as extension_module
from plait.params import Header
from plait.routing import Router
from plait.testing import TestClient

ASSET = re.compile(r'(?:src|href)="([^"]+)"')
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".png": "image/png"}


def make_app(title: str = "Docs test") -> Plait[Any]:
    # The built-in pages are off: these tests include docs_router() themselves.
    app = Plait(title=title, version="1.2.3", openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/items/{id:int}")
    def item(id: int) -> dict[str, int]:
        """Fetch an item."""
        return {"id": id}

    return app


@pytest.fixture
def app() -> Plait[Any]:
    app = make_app()
    app.include_router(docs_router(app))
    return app


@pytest.fixture
def client(app: Plait[Any]) -> TestClient:
    return TestClient(app)


def assets_of(page: str) -> list[str]:
    return ASSET.findall(page)


def test_the_document_is_served(app: Plait[Any], client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == build_openapi(app)
    assert "/openapi.json" not in response.json()["paths"]  # the docs routes are not documented


def test_the_document_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Plait[Any]] = []

    def counting(app: Plait[Any]) -> dict[str, Any]:
        calls.append(app)
        return build_openapi(app)

    monkeypatch.setattr(extension_module, "build_openapi", counting)
    app = make_app()
    app.include_router(docs_router(app))
    client = TestClient(app)
    assert client.get("/openapi.json").content == client.get("/openapi.json").content
    assert len(calls) == 1
    assert app.openapi() is app.openapi_schema
    assert len(calls) == 1


@pytest.mark.parametrize(("url", "bundle"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_pages_load_everything_from_the_app(client: TestClient, url: str, bundle: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "http://" not in page
    assert "https://" not in page
    assert "/openapi.json" in page
    found = assets_of(page)
    assert f"/_plait/docs/{bundle}" in found
    for asset in found:
        assert asset.startswith("/_plait/docs/")
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["content-type"] == MEDIA_TYPES[Path(asset).suffix]
        assert served.headers["x-content-type-options"] == "nosniff"
        assert len(served.content) > 100


def test_swagger_ui_is_told_not_to_call_the_online_validator(client: TestClient) -> None:
    page = client.get("/docs").text
    assert '"validatorUrl": null' in page
    assert '"url": "/openapi.json"' in page


def test_assets_are_revalidated_with_etags(client: TestClient) -> None:
    first = client.get("/_plait/docs/swagger-ui.css")
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/_plait/docs/swagger-ui.css", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert client.head("/_plait/docs/redoc.standalone.js").status_code == 200


@pytest.mark.parametrize("name", ["nope.js", "..", "index.html", "swagger-initializer.js"])
def test_only_listed_assets_are_served(client: TestClient, name: str) -> None:
    response = client.get(f"/_plait/docs/{name}")
    assert response.status_code == 404


def test_the_title_is_escaped() -> None:
    app = make_app(title="<Shop & Co>")
    app.include_router(docs_router(app))
    client = TestClient(app)
    for url in ("/docs", "/redoc"):
        page = client.get(url).text
        assert "<Shop" not in page
        assert "&lt;Shop &amp; Co&gt;" in page


def test_under_a_mount() -> None:
    inner = make_app()
    inner.include_router(docs_router(inner))
    outer = Plait()
    outer.mount("/api", inner)
    client = TestClient(outer)
    for url in ("/api/docs", "/api/redoc"):
        page = client.get(url).text
        assert "/api/openapi.json" in page
        for asset in assets_of(page):
            assert asset.startswith("/api/_plait/docs/")
            assert client.get(asset).status_code == 200
    served = client.get("/api/openapi.json").json()
    assert served["servers"] == [{"url": "/api"}]  # so "Try it out" calls /api/items/...
    assert list(served)[:4] == ["openapi", "info", "servers", "paths"]
    assert "/items/{id}" in served["paths"]


def test_under_a_router_prefix() -> None:
    app = make_app()
    app.include_router(docs_router(app), prefix="/meta")
    client = TestClient(app)
    page = client.get("/meta/docs").text
    assert '"url": "/meta/openapi.json"' in page
    assert all(asset.startswith("/meta/_plait/docs/") for asset in assets_of(page))
    assert "servers" not in client.get("/meta/openapi.json").json()


def test_under_a_server_root_path(app: Plait[Any]) -> None:
    async def get(url: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, root_path="/proxy")
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(url)

    page = anyio.run(get, "/redoc").text
    assert 'spec-url="/proxy/openapi.json"' in page
    assert 'src="/proxy/_plait/docs/redoc.standalone.js"' in page
    assert anyio.run(get, "/openapi.json").json()["servers"] == [{"url": "/proxy"}]


def test_a_document_with_servers_keeps_them(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    app.openapi = lambda: build_openapi(app, servers=["https://api.example"])
    document = docs._Document(app)
    assert msgspec.json.decode(document.encode("/mounted"))["servers"] == [{"url": "https://api.example"}]


def test_documents_kept_per_root_path_are_bounded() -> None:
    document = docs._Document(make_app())
    for number in range(40):
        document.encode(f"/mount{number}")
    assert len(document.encoded) == 16
    assert b'"url":"/mount39"' in document.encode("/mount39")


def test_custom_urls() -> None:
    app = make_app()
    app.include_router(
        docs_router(app, openapi_url="/spec.json", docs_url="/ui", redoc_url="/read", assets_url="/static/docs")
    )
    client = TestClient(app)
    assert client.get("/spec.json").status_code == 200
    assert client.get("/openapi.json").status_code == 404
    assert '"url": "/spec.json"' in client.get("/ui").text
    assert "/static/docs/redoc.standalone.js" in client.get("/read").text
    assert client.get("/static/docs/swagger-ui.css").status_code == 200


def test_pages_can_be_turned_off() -> None:
    app = make_app()
    app.include_router(docs_router(app, docs_url=None))
    client = TestClient(app)
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 200
    assert client.get("/_plait/docs/swagger-ui.css").status_code == 404  # only ReDoc's files are served
    assert client.get("/_plait/docs/redoc.standalone.js").status_code == 200


def test_only_the_document() -> None:
    app = make_app()
    router = docs_router(app, docs_url=None, redoc_url=None)
    assert [route.path for route in router.routes] == ["/openapi.json"]
    assert docs_router(app, openapi_url=None, docs_url=None, redoc_url=None).routes == []


def test_pages_need_the_document() -> None:
    with pytest.raises(ConfigurationError, match="keep openapi_url"):
        docs_router(make_app(), openapi_url=None)


@pytest.mark.parametrize("url", ["docs", "/docs/", ""])
def test_urls_are_checked(url: str) -> None:
    with pytest.raises(ConfigurationError, match="must start with '/'"):
        docs_router(make_app(), docs_url=url)


def test_assets_need_a_prefix_of_their_own() -> None:
    with pytest.raises(ConfigurationError, match="assets_url cannot be '/'"):
        docs_router(make_app(), assets_url="/")
    app = make_app()
    app.include_router(docs_router(app, docs_url="/", redoc_url=None))
    assert "/_plait/docs/swagger-ui-bundle.js" in TestClient(app).get("/").text


def test_a_missing_bundle_package_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openapi_ui_bundles", None)
    with pytest.raises(ConfigurationError, match="pip install openapi-ui-bundles"):
        docs_router(make_app())
    docs_router(make_app(), docs_url=None, redoc_url=None)  # the document alone needs no assets


def test_missing_asset_files_name_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(openapi_ui_bundles.swagger_ui, "static_path", tmp_path)
    with pytest.raises(ConfigurationError, match="reinstall openapi-ui-bundles"):
        docs_router(make_app())


def test_plait_serves_the_document_and_both_pages_by_default() -> None:
    app = Plait(title="Default docs")
    app.get("/ping")(lambda: "pong")
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "Default docs"
        for url in ("/docs", "/redoc"):
            page = client.get(url)
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            for asset in assets_of(page.text):
                assert client.get(asset).status_code == 200
    assert "/openapi.json" not in build_openapi(app)["paths"]


def test_plait_docs_can_be_turned_off_or_moved() -> None:
    app = Plait(openapi_url="/spec.json", docs_url=None, redoc_url=None)
    app.get("/ping")(lambda: "pong")
    with TestClient(app) as client:
        assert client.get("/spec.json").status_code == 200
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404


# -- guards and customisation -----------------------------------------------------------------------


def deny(authorization: Annotated[str | None, Header()] = None) -> None:
    if authorization != "Bearer secret":
        raise HTTPException(401, "Log in first.")


def test_app_and_router_dependencies_do_not_guard_the_docs() -> None:
    app = Plait(dependencies=[Depends(deny)])
    admin = Router(prefix="/admin", dependencies=[Depends(deny)])

    @app.get("/private")
    def private() -> str:
        return "secret"

    @admin.get("/stats")
    def stats() -> str:
        return "42"

    app.include_router(admin)
    with TestClient(app) as client:
        assert client.get("/private").status_code == 401
        assert client.get("/admin/stats").status_code == 401
        assert client.get("/private", headers={"authorization": "Bearer secret"}).text == "secret"
        document = client.get("/openapi.json")
        assert document.status_code == 200
        assert set(document.json()["paths"]) == {"/private", "/admin/stats"}
        for url in ("/docs", "/redoc"):
            page = client.get(url)
            assert page.status_code == 200
            for asset in assets_of(page.text):
                assert client.get(asset).status_code == 200


def test_docs_can_still_be_guarded_on_purpose() -> None:
    app = Plait(openapi_url=None, docs_url=None, redoc_url=None)
    guarded = Router(dependencies=[Depends(deny)])
    guarded.include_router(docs_router(app))
    app.include_router(guarded)
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 401
        assert client.get("/docs").status_code == 401
        assert client.get("/docs", headers={"authorization": "Bearer secret"}).status_code == 200


def test_a_customised_document_is_served() -> None:
    app = Plait(title="Shop", version="1.0")

    @app.get("/items")
    def items() -> list[str]:
        return []

    original = app.openapi

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = original()
            document["info"]["x-logo"] = {"url": "/logo.png"}
            document["paths"]["/items"]["get"]["summary"] = "Every item"
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = custom_openapi
    with TestClient(app) as client:
        served = client.get("/openapi.json").json()
        assert served["info"]["x-logo"] == {"url": "/logo.png"}
        assert served["paths"]["/items"]["get"]["summary"] == "Every item"
        assert client.get("/docs").status_code == 200
    assert app.openapi() is app.openapi_schema


def test_a_document_built_with_get_openapi_is_served() -> None:
    app = Plait()

    @app.get("/items")
    def items() -> list[str]:
        return []

    versions = iter(["1", "2"])

    def custom_openapi() -> dict[str, Any]:  # builds a new document each time: each one is served
        return get_openapi(title="Custom", version=next(versions), routes=app.compiled_routes())

    app.openapi = custom_openapi
    client = TestClient(app)
    assert client.get("/openapi.json").json()["info"] == {"title": "Custom", "version": "1"}
    assert client.get("/openapi.json").json()["info"] == {"title": "Custom", "version": "2"}


def test_a_customised_document_must_be_a_dict(caplog: pytest.LogCaptureFixture) -> None:
    app = Plait()
    app.openapi = lambda: "{}"  # type: ignore[assignment,return-value]
    assert TestClient(app).get("/openapi.json").status_code == 500
    assert "app.openapi() returned a str; it must return the document as a dict" in caplog.text


def test_rebuilding_after_a_change() -> None:
    app = Plait(title="Before")
    first = app.openapi()
    app.title, app.openapi_schema = "After", None
    assert app.openapi() is not first
    assert app.openapi()["info"]["title"] == "After"
