"""Model-derived types and the DataLoaders: 50 articles with authors and tags in a bounded number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.exceptions import ConfigurationError
from plait.graphql.generate import crud
from plait.graphql.models import input_types, model_type
from plait.testing import TestClient
from tests.test_graphql.app import Article, Author, Tag
from tests.test_graphql.conftest import call

NESTED = "{ articles(limit: 50) { total items { title author { name articles { title } } tags { label } } } }"


async def seed(app: Plait[Any]) -> None:
    async with AsyncSession(app.extensions["database"].engine) as db:
        authors = [Author(name=f"author {i}") for i in range(5)]
        tags = [Tag(label=f"tag {i}") for i in range(7)]
        db.add_all([*authors, *tags])
        for i in range(50):
            db.add(Article(title=f"article {i:02}", author=authors[i % 5], tags=[tags[i % 7], tags[(i + 1) % 7]]))
        await db.commit()


@pytest.fixture
def statements(client: TestClient) -> Iterator[list[str]]:
    app: Any = client.app
    engine = app.extensions["database"].engine.sync_engine
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", count)


def test_fifty_articles_with_authors_and_tags_in_a_bounded_number_of_queries(
    client: TestClient, statements: list[str]
) -> None:
    call(client, seed, cast(Plait[Any], client.app))
    statements.clear()
    body = client.post("/graphql", json={"query": NESTED}).json()
    items = body["data"]["articles"]["items"]
    assert body["data"]["articles"]["total"] == 50
    assert len(items) == 50
    assert items[0] == {
        "title": "article 00",
        "author": {"name": "author 0", "articles": [{"title": f"article {i:02}"} for i in range(0, 50, 5)]},
        "tags": [{"label": "tag 0"}, {"label": "tag 1"}],
    }
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # count + page, authors (one IN), tags (parents + selectin), the authors' articles (parents + selectin).
    assert len(queries) <= 7, queries
    assert len(statements) <= 10  # plus BEGIN/COMMIT-like statements some drivers send
    statements.clear()
    page = client.post("/graphql", json={"query": "{ articles(limit: 2) { items { title } } }"}).json()
    assert page["data"]["articles"]["items"] == [{"title": "article 00"}, {"title": "article 01"}]
    assert not any("count(" in s.lower() for s in statements)  # no COUNT when `total` is not asked for
    fragment = "{ articles(limit: 1) { ...Page } } fragment Page on ArticlePage { total }"
    assert client.post("/graphql", json={"query": fragment}).json()["data"]["articles"]["total"] == 50


def test_types_hide_excluded_columns_and_relations_are_checked() -> None:
    author = model_type(Author, exclude=("secret",), relations=("articles",))
    assert [f.name for f in author.__strawberry_definition__.fields] == ["id", "name", "articles"]
    assert model_type(Author, exclude=("secret",), relations=("articles",)) is author
    with pytest.raises(ConfigurationError, match="not a relationship of Author"):
        model_type(Author, relations=("friends",))
    with pytest.raises(ConfigurationError, match="not a string"):
        model_type(Author, relations="articles")
    inputs = input_types(Article, exclude=("views",))
    assert [f.name for f in inputs.create.__strawberry_definition__.fields] == ["title", "body", "status", "author_id"]
    with pytest.raises(ConfigurationError, match="unknown operation"):
        crud(Article, operations=("list", "explode"))
