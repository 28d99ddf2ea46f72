"""GraphiQL, served offline from installed packages: no CDN, so it works on a closed network.

The built GraphiQL, React and ``graphql-ws`` files come from the ``graphene-django-graphiql-static``
package (static files only: it needs neither Django nor Graphene at run time; ``pip install
'plait[graphql]'`` brings it). Plait serves them, with its own small start-up script, under
``<path>/graphiql/``; the page itself is served at the GraphQL path to a browser (a GET that
accepts HTML and carries no ``query``).
"""

from __future__ import annotations

import html
import importlib.util
from pathlib import Path

from plait.exceptions import ConfigurationError, HTTPException
from plait.responses import Response

ASSETS_PACKAGE = "graphene_django_graphiql_static"
_VENDORED = {
    "graphiql.min.css": "text/css",
    "graphiql.min.js": "text/javascript",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "graphql-ws.min.js": "text/javascript",
}
_OWN = {"graphiql-boot.js": "text/javascript"}


def assets_folder() -> Path:
    """The folder holding GraphiQL's built files; a ConfigurationError says what to install when missing."""
    spec = importlib.util.find_spec(ASSETS_PACKAGE)  # finds the package without importing it
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    for location in locations:
        folder = Path(location) / "static" / ASSETS_PACKAGE
        if all((folder / name).is_file() for name in _VENDORED):
            return folder
    raise ConfigurationError(
        "GraphiQL is served from the installed package graphene-django-graphiql-static, which is missing: "
        "pip install 'plait[graphql]' (or turn it off: GraphQL(schema, graphiql=False))."
    )


class GraphiQLAssets:
    """The page and its files, read once (a few MB) and served from memory."""

    def __init__(self, path: str, *, subscriptions: bool) -> None:
        self.path = path
        folder = assets_folder()
        own = Path(__file__).parent / "static"
        self.files: dict[str, tuple[bytes, str]] = {
            name: ((folder / name).read_bytes(), kind) for name, kind in _VENDORED.items()
        }
        self.files.update({name: ((own / name).read_bytes(), kind) for name, kind in _OWN.items()})
        self.page = _page(path, subscriptions=subscriptions)

    def asset(self, name: str) -> Response:
        # Only the names above are served: a request never reaches the file system.
        found = self.files.get(name)
        if found is None:
            raise HTTPException(404, f"No GraphiQL file named {name[:60]!r}.")
        body, kind = found
        return Response(body, headers={"Cache-Control": "public, max-age=86400"}, media_type=kind)


def _page(path: str, *, subscriptions: bool) -> str:
    assets = html.escape(f"{path.rstrip('/')}/graphiql", quote=True)
    endpoint = html.escape(path, quote=True)
    scripts = "".join(
        f'<script src="{assets}/{name}"></script>'
        for name in ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "graphql-ws.min.js")
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>GraphiQL</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="stylesheet" href="{assets}/graphiql.min.css">'
        "<style>html,body,#graphiql{height:100%;margin:0;overflow:hidden}</style></head><body>"
        f'<div id="graphiql" data-endpoint="{endpoint}" data-subscriptions="{str(subscriptions).lower()}">'
        f"Loading GraphiQL...</div>{scripts}"
        f'<script src="{assets}/graphiql-boot.js"></script></body></html>'
    )
