"""The GraphQL battery: a Strawberry schema served by Plait, with Plait's DI, auth and models.

::

    import strawberry

    from plait import Plait
    from plait.db import Database
    from plait.graphql import GraphQL, crud

    articles = crud(Article, filters=("title",), order=("created_at",))
    schema = strawberry.Schema(query=articles.Query, mutation=articles.Mutation)
    app = Plait(extensions=[Database(), GraphQL(schema)])

Resolvers of your own take Plait dependencies with :func:`inject`. Several models, or your own
resolvers, join with ``strawberry.tools.merge_types("Query",
(articles.Query, comments.Query, MyQuery))``.

Install the dependencies with ``pip install 'plait[graphql]'``.
"""

try:
    import strawberry  # noqa: F401 - checked here so the message can say what to install
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        f"plait.graphql needs strawberry-graphql ({exc}); install it with: pip install 'plait[graphql]'"
    ) from exc

from typing import Any

from plait.graphql.context import GraphQLContext, inject
from plait.graphql.errors import bad_input, coded_error
from plait.graphql.extension import GraphQL

# The model bridge needs plait.db (SQLAlchemy); it is imported when first used, so a schema
# without models runs without SQLAlchemy installed.
_MODEL_NAMES = {
    "crud": "plait.graphql.generate",
    "model_type": "plait.graphql.models",
    "input_types": "plait.graphql.models",
}


def __getattr__(name: str) -> Any:
    if name in _MODEL_NAMES:
        import importlib

        return getattr(importlib.import_module(_MODEL_NAMES[name]), name)
    raise AttributeError(f"module 'plait.graphql' has no attribute {name!r}")


__all__ = ["GraphQL", "GraphQLContext", "bad_input", "coded_error", "crud", "inject", "input_types", "model_type"]
