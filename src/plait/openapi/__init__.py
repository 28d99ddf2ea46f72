"""OpenAPI 3.1 for Plait apps: the document, built from the routes alone, and offline interactive docs.

>>> from plait.app import Plait
>>> from plait.openapi import build_openapi, docs_router
>>> app = Plait(title="Shop", version="1.0")
>>> @app.get("/ping")
... def ping() -> str:
...     return "pong"
>>> build_openapi(app)["paths"]["/ping"]["get"]["responses"]["200"]["content"]
{'text/plain': {'schema': {'type': 'string'}}}
>>> app.include_router(docs_router(app))  # /openapi.json, /docs (Swagger UI), /redoc (ReDoc)
"""

from plait.openapi.docs import docs_router
from plait.openapi.document import OPENAPI_VERSION, build_openapi, openapi_path
from plait.openapi.schema import SchemaRegistry

__all__ = ["OPENAPI_VERSION", "SchemaRegistry", "build_openapi", "docs_router", "openapi_path"]
