"""Interactive API documentation that works offline: Swagger UI and ReDoc, served by the app itself.

The pages load their scripts and stylesheets from the app (under ``assets_url``), read from the
files the ``openapi-ui-bundles`` package installs, never from a CDN: the docs work on a laptop
on a plane and inside a network with no way out.

>>> from plait.app import Plait
>>> app = Plait(openapi_url=None, docs_url=None, redoc_url=None)  # Plait() would include them itself
>>> app.include_router(docs_router(app))  # /openapi.json, /docs, /redoc and their assets
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from plait.datastructures import route_path
from plait.exceptions import ConfigurationError, HTTPException
from plait.requests import Request
from plait.responses import FileResponse, HTMLResponse, Response
from plait.routing import Router

if TYPE_CHECKING:
    from plait.app import Plait

__all__ = ["REDOC_ASSETS", "SWAGGER_ASSETS", "docs_router"]

SWAGGER_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")
"""The Swagger UI files served under ``assets_url``."""
REDOC_ASSETS = ("redoc.standalone.js",)
"""The ReDoc files served under ``assets_url``."""

_MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".png": "image/png"}
_MAX_ROOTS = 16  # documents kept per root_path; a handful of mount points at most
_INSTALL = (
    "The interactive docs need the openapi-ui-bundles package, which ships Swagger UI and ReDoc for use "
    "without internet access: pip install openapi-ui-bundles. Or turn the pages off with docs_url=None "
    "and redoc_url=None."
)


def docs_router(
    app: Plait[Any],
    *,
    openapi_url: str | None = "/openapi.json",
    docs_url: str | None = "/docs",
    redoc_url: str | None = "/redoc",
    assets_url: str = "/_plait/docs",
) -> Router:
    """A router serving ``app``'s OpenAPI document, Swagger UI and ReDoc; pass None to leave one out.

    None of these routes appear in the document, which is ``app.openapi()`` (built on its first
    request and then kept; assign ``app.openapi`` to customise it). The pages work when the app is
    mounted under a prefix (``root_path``) too.
    """
    for url in (openapi_url, docs_url, redoc_url, assets_url):
        _check_url(url)
    if assets_url == "/":
        raise ConfigurationError("assets_url cannot be '/'; give the docs assets a prefix of their own, e.g. '/_docs'.")
    router = Router(name="plait_docs")
    if openapi_url is not None:
        router.add_route(openapi_url, _openapi_endpoint(_Document(app)), include_in_schema=False)
    if docs_url is None and redoc_url is None:
        return router
    if openapi_url is None:
        raise ConfigurationError(
            "The docs pages read the OpenAPI document; keep openapi_url, or also pass docs_url=None and redoc_url=None."
        )
    files = _asset_files(swagger=docs_url is not None, redoc=redoc_url is not None)
    router.add_route(assets_url + "/{name}", _asset_endpoint(files), include_in_schema=False)
    urls = _Urls(openapi_url, assets_url)
    if docs_url is not None:
        router.add_route(
            docs_url, _page_endpoint("swagger_ui", app, docs_url, urls, _swagger_html), include_in_schema=False
        )
    if redoc_url is not None:
        router.add_route(redoc_url, _page_endpoint("redoc", app, redoc_url, urls, _redoc_html), include_in_schema=False)
    return router


def _check_url(url: str | None) -> None:
    if url is not None and (not url.startswith("/") or (url.endswith("/") and url != "/")):
        raise ConfigurationError(f"Docs URL {url!r} must start with '/' and not end with one, e.g. '/docs'.")


class _Document:
    """The app's OpenAPI document (``app.openapi()``), encoded once per ``root_path`` it is served under.

    ``app.openapi()`` is asked on every request, so a customised ``app.openapi`` is served as it is;
    the encoding is kept for as long as it returns the same document (the default one is built once).
    """

    def __init__(self, app: Plait[Any]) -> None:
        self.app = app
        self.document: dict[str, Any] | None = None
        self.encoded: dict[str, bytes] = {}

    def encode(self, root_path: str) -> bytes:
        document = self.app.openapi()
        if document is not self.document:
            if not isinstance(document, dict):
                raise ConfigurationError(
                    f"app.openapi() returned a {type(document).__name__}; it must return the document as a dict "
                    "(build one with plait.openapi.get_openapi() or edit the one the original app.openapi() gives)."
                )
            self.document, self.encoded = document, {}
        found = self.encoded.get(root_path)
        if found is not None:
            return found
        if root_path and "servers" not in document:  # mounted: "Try it out" must call the prefixed paths
            document = {}
            for key, value in self.document.items():
                document[key] = value
                if key == "info":  # where the specification lists it
                    document["servers"] = [{"url": root_path}]
        found = msgspec.json.encode(document)
        if len(self.encoded) < _MAX_ROOTS:
            self.encoded[root_path] = found
        return found


def _openapi_endpoint(document: _Document) -> Any:
    def openapi(request: Request) -> Response:
        body = document.encode(request.scope.get("root_path", ""))
        return Response(body, media_type="application/json")

    return openapi


def _asset_files(*, swagger: bool, redoc: bool) -> dict[str, Path]:
    try:
        from openapi_ui_bundles import redoc as redoc_bundle
        from openapi_ui_bundles import swagger_ui as swagger_bundle
    except ImportError:
        raise ConfigurationError(_INSTALL) from None
    files: dict[str, Path] = {}
    if swagger:
        files.update((name, Path(swagger_bundle.static_path) / name) for name in SWAGGER_ASSETS)
    if redoc:
        files.update((name, Path(redoc_bundle.static_path) / name) for name in REDOC_ASSETS)
    missing = sorted(str(path) for path in files.values() if not path.is_file())
    if missing:
        raise ConfigurationError(
            f"The docs assets {', '.join(missing)} are missing; reinstall openapi-ui-bundles "
            "(pip install --force-reinstall openapi-ui-bundles)."
        )
    return files


def _asset_endpoint(files: dict[str, Path]) -> Any:
    # Only the names listed here are served: the request never picks a path on disk.
    def asset(name: str) -> Response:
        path = files.get(name)
        if path is None:
            raise HTTPException(404, f"No docs asset is called {name!r}.")
        headers = {"cache-control": "no-cache", "x-content-type-options": "nosniff"}  # revalidated by ETag
        return FileResponse(path, media_type=_MEDIA_TYPES.get(path.suffix), headers=headers)

    return asset


class _Urls:
    """Where a page finds the document and the assets, from where the page itself was served."""

    def __init__(self, openapi_url: str, assets_url: str) -> None:
        self.openapi_url = openapi_url
        self.assets_url = assets_url

    def base(self, request: Request, page_url: str) -> str:
        # root_path is the mount prefix; what precedes page_url in the rest is the router's prefix.
        path = route_path(request.scope)
        prefix = path[: -len(page_url)] if path.endswith(page_url) else ""
        return str(request.scope.get("root_path", "")) + prefix

    def openapi(self, base: str) -> str:
        return base + self.openapi_url

    def asset(self, base: str, name: str) -> str:
        return f"{base}{self.assets_url}/{name}"


def _page_endpoint(name: str, app: Plait[Any], page_url: str, urls: _Urls, render: Any) -> Any:
    async def page(request: Request) -> Response:
        return HTMLResponse(render(app.title, urls, urls.base(request, page_url)))

    page.__name__ = page.__qualname__ = name
    return page


def _script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>`` can end it early)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _swagger_html(title: str, urls: _Urls, base: str) -> str:
    config = {"url": urls.openapi(base), "dom_id": "#swagger-ui", "deepLinking": True, "validatorUrl": None}
    asset = urls.asset
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - Swagger UI</title>
<link rel="stylesheet" href="{html.escape(asset(base, "swagger-ui.css"))}">
<link rel="icon" type="image/png" href="{html.escape(asset(base, "favicon-32x32.png"))}" sizes="32x32">
<link rel="icon" type="image/png" href="{html.escape(asset(base, "favicon-16x16.png"))}" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{html.escape(asset(base, "swagger-ui-bundle.js"))}"></script>
<script>window.ui = SwaggerUIBundle({_script_json(config)});</script>
</body>
</html>
"""


def _redoc_html(title: str, urls: _Urls, base: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - ReDoc</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<redoc spec-url="{html.escape(urls.openapi(base))}"></redoc>
<script src="{html.escape(urls.asset(base, "redoc.standalone.js"))}"></script>
</body>
</html>
"""
