"""The OpenAPI document and the docs pages as an extension: what ``Plait()`` installs for its docs.

The app installs :class:`OpenAPI` itself when it starts with any of ``openapi_url``, ``docs_url``
or ``redoc_url`` set (see :data:`plait.extensions.DEFAULT_EXTENSIONS`), and asks it for
``app.openapi()``. Its pages are served beside the API, so app-wide ``dependencies`` (an auth
check, typically) do not guard them; to guard them, turn them off and include
:func:`~plait.openapi.docs.docs_router` in a guarded router.

>>> from plait.app import Plait
>>> app = Plait(title="Shop")
>>> _ = app.build()
>>> type(app.extensions["openapi"]).__name__, app.openapi()["info"]["title"]
('OpenAPI', 'Shop')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from plait.extensions import Extension
from plait.openapi.docs import docs_router
from plait.openapi.document import build_openapi
from plait.routing.router import Router

if TYPE_CHECKING:
    from plait.app import Plait

__all__ = ["OpenAPI"]


class OpenAPI(Extension):
    """Serves ``app.openapi()`` at ``app``'s ``openapi_url`` and Swagger UI and ReDoc at ``docs_url``/``redoc_url``."""

    name: ClassVar[str] = "openapi"

    def __init__(self) -> None:
        self._pages: tuple[Router, ...] = ()

    def setup(self, app: Plait[Any]) -> None:
        openapi_url, docs_url, redoc_url = app.docs_urls
        if openapi_url is not None or docs_url is not None or redoc_url is not None:
            self._pages = (docs_router(app, openapi_url=openapi_url, docs_url=docs_url, redoc_url=redoc_url),)

    def pages(self) -> Sequence[Router]:
        return self._pages

    def document(self, app: Plait[Any]) -> dict[str, Any]:
        """A new OpenAPI document for ``app``; ``app.openapi()`` builds it once and keeps it."""
        return build_openapi(app)
