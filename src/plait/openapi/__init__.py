"""OpenAPI 3.1 for Plait apps: the document, built from the routes alone, and offline interactive docs.

>>> from plait.app import Plait
>>> from plait.openapi import build_openapi, docs_router
>>> app = Plait(title="Shop", version="1.0", openapi_url=None, docs_url=None, redoc_url=None)
>>> app.include_router(docs_router(app), prefix="/api")  # /api/openapi.json, /api/docs, /api/redoc
>>> @app.get("/ping")
... def ping() -> str:
...     return "pong"
>>> build_openapi(app)["paths"]["/ping"]["get"]["responses"]["200"]["content"]
{'text/plain': {'schema': {'type': 'string'}}}

``Plait()`` serves the same pages itself, at ``openapi_url``, ``docs_url`` and ``redoc_url``, through the
:class:`OpenAPI` extension it installs when it starts (install a subclass to change it).

The app serves ``app.openapi()``: the document, built once and kept in ``app.openapi_schema``.
Assign ``app.openapi`` a function returning a dict (from :func:`get_openapi`, or the original
``app.openapi()`` edited) to change what /openapi.json and the docs pages show.
"""

from plait.openapi.docs import docs_router
from plait.openapi.document import OPENAPI_VERSION, build_openapi, get_openapi, openapi_path
from plait.openapi.extension import OpenAPI
from plait.openapi.schema import SchemaRegistry

__all__ = [
    "OPENAPI_VERSION",
    "OpenAPI",
    "SchemaRegistry",
    "build_openapi",
    "docs_router",
    "get_openapi",
    "openapi_path",
]
