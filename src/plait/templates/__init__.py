"""The templates battery: Jinja2 pages with autoescaping, returned from handlers like any result.

::

    from plait import Plait
    from plait.templates import Templates, render

    app = Plait(extensions=[Templates()])   # ./templates and ./static next to this module

    @app.get("/articles")
    async def articles() -> object:
        return render("articles/list.html", {"articles": await load_articles()})

Templates see ``request``, ``url_for``, ``static("css/site.css")`` (cache-busted) and whatever the
installed extensions add (the CSRF field, the current user, flash messages). ``negotiate()``
answers HTML to a browser and JSON to an API client from one route; redirects and ``next=``
handling live in :mod:`plait.redirects`. Install the dependency with ``pip install 'plait[templates]'``.
"""

try:
    import jinja2  # noqa: F401 - checked here so the message can say what to install
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(f"plait.templates needs Jinja2 ({exc}); install it with: pip install 'plait[templates]'") from exc

from plait.templates.extension import Templates
from plait.templates.loader import TemplateError, TemplateNotFound, add_router_folders
from plait.templates.negotiation import negotiate, preferred_type, wants_html
from plait.templates.responses import TemplateResponse, render
from plait.templates.settings import TemplatesSettings

__all__ = [
    "TemplateError",
    "TemplateNotFound",
    "TemplateResponse",
    "Templates",
    "TemplatesSettings",
    "add_router_folders",
    "negotiate",
    "preferred_type",
    "render",
    "wants_html",
]
