"""The RealWorld API under ``/api``: every operation of the spec, answering errors in its format."""

from __future__ import annotations

from conduit.api import articles, comments, profiles, users
from conduit.api.errors import conduit_errors
from conduit.api.schemas import GenericErrorModel
from plait.exceptions import HTTPException
from plait.routing import Router

__all__ = ["api_router"]


def index() -> dict[str, str]:
    """``GET /api``: where the API's description is (for people who type the URL in)."""
    return {"docs": "/docs", "openapi": "/openapi.json", "articles": "/api/articles", "tags": "/api/tags"}


def api_router() -> Router:
    """``/api`` with the spec's routes; any HTTP error under it answers ``{"errors": {"body": [...]}}``."""
    api = Router(
        prefix="/api",
        exception_handlers={HTTPException: conduit_errors},
        responses={400: GenericErrorModel, 422: GenericErrorModel},
    )
    api.add_route("", index, include_in_schema=False, name="api_index")
    for child in (users.router, profiles.router, articles.router, articles.favorites, articles.tags, comments.router):
        api.include_router(child)
    return api
