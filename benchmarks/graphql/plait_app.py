"""Plait: the model-derived GraphQL set (``plait.graphql.crud``), DataLoaders and the request's session."""

from __future__ import annotations

import strawberry
from blog import POOL, Article, Author, Base, Tag, url

from plait import Plait
from plait.db import Database, DatabaseSettings
from plait.graphql import GraphQL, crud, model_type

articles = crud(
    Article,
    relations={"author": model_type(Author), "tags": model_type(Tag)},
    operations=("list",),
    max_limit=100,
)
settings = DatabaseSettings(database_pool_size=POOL, database_max_overflow=0)
app = Plait(extensions=[Database(url(), metadata=Base.metadata, settings=settings)])
app.install(GraphQL(strawberry.Schema(query=articles.Query)))
