"""Filtering and ordering on an allowlist: what is allowed works with bound values, everything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import pytest
from sqlalchemy import JSON, DateTime, Enum, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait import Depends, Plait
from plait.db.filters import FilterQuery, Filters
from plait.db.schemas import schemas
from plait.exceptions import ConfigurationError
from plait.openapi import build_openapi
from plait.testing import AsyncTestClient
from tests.test_db.listing import Article, Author, build, seed

pytestmark = pytest.mark.anyio
ArticleRead = schemas(Article).read
ArticleFilters = Filters(
    Article,
    fields=("title", "author_id", "created_at", "score", "published", "kind", "body"),
    order=("created_at", "title", "score"),
    default_order=("-created_at",),
)
AuthorFilters = Filters(Author, fields=("name",))
TITLES = ["alpha", "beta", "gamma 100%", "delta_x", "epsilon"]  # one order under every collation


def routes(app: Plait[Any]) -> None:
    @app.get("/articles")
    async def articles(db: AsyncSession, where: Annotated[FilterQuery, Depends(ArticleFilters)]) -> list[str]:
        return list(await db.scalars(where.apply(select(Article.title))))


async def titles(client: AsyncTestClient, query: str) -> list[str]:
    response = await client.get("/articles?" + query)
    assert response.status_code == 200, response.text
    result: list[str] = response.json()
    return result


async def test_allowed_filters_and_orders(database_url: str) -> None:
    app, db = build(database_url, routes)
    async with AsyncTestClient(app) as client:
        await seed(db, TITLES)
        assert await titles(client, "") == TITLES[::-1]  # the default order: newest first
        assert await titles(client, "title=beta") == ["beta"]
        assert await titles(client, "title__contains=ALPHA") == ["alpha"]
        assert await titles(client, "title__contains=100%25") == ["gamma 100%"]  # % is a character, not a wildcard
        assert await titles(client, "title__contains=a_x") == ["delta_x"]
        assert await titles(client, "title__in=beta&title__in=alpha&order=title") == ["alpha", "beta"]
        assert await titles(client, "score__gte=1&order=score,-title") == ["epsilon", "beta", "gamma 100%"]
        assert await titles(client, "score__lt=1&score__gt=-1&order=title") == ["alpha", "delta_x"]
        assert await titles(
            client, "created_at__gte=2024-01-01T02:00:00Z&created_at__lte=2024-01-01T03:00:00%2B00:00"
        ) == [
            "delta_x",
            "gamma 100%",
        ]
        assert await titles(client, "created_at__lt=2024-01-01T01:00:00&order=created_at") == ["alpha"]  # naive: UTC
        assert (await titles(client, "published=false&kind=news&author_id=1&order=-title,score"))[:2] == [
            "gamma 100%",
            "epsilon",
        ]
        assert await titles(client, "kind=essay") == []
        assert await titles(client, "body__isnull=true&order=") == TITLES[::-1]
        assert await titles(client, "body__isnull=false") == []
        assert await titles(client, "limit=5&offset=0&cursor=x") == TITLES[::-1]  # left for the handler


async def test_without_an_order_allowlist_order_is_refused_too(database_url: str) -> None:
    def configure(app: Plait[Any]) -> None:
        @app.get("/authors")
        async def authors(db: AsyncSession, where: Annotated[FilterQuery, Depends(AuthorFilters)]) -> list[str]:
            return list(await db.scalars(where.apply(select(Author.name))))

    app, _ = build(database_url, configure)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/authors", params={"name": "x"})).json() == []
        response = await client.get("/authors", params={"order": "name"})
        assert response.status_code == 400
        assert response.json()["detail"] == "Unknown query parameter 'order'. Filters: name, name__contains, name__in."


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("password=x", "'password'"),
        ("id%3BDROP=1", "'id;DROP'"),
        ("a__b=2", "'a__b'"),
        ("title__gt=a", "'title__gt'"),
        ("order=password", "Cannot order by 'password'"),
        ("order=title,-id%3BDROP", "Cannot order by 'id;DROP'"),
        ("x" * 100 + "=1", "'" + "x" * 40 + "...'"),
    ],
)
async def test_anything_else_is_a_400_naming_the_allowed_fields(database_url: str, query: str, named: str) -> None:
    app, _ = build(database_url, routes)
    async with AsyncTestClient(app) as client:
        response = await client.get("/articles?" + query)
        assert response.status_code == 400
        problem = response.json()
        assert named in problem["detail"]
        assert "Filters: title, title__contains, title__in, author_id" in problem["detail"]
        assert "order= takes created_at, title, score" in problem["detail"]
        assert problem["order"] == ["created_at", "title", "score"]
        assert "created_at__gte" in problem["filters"]


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("author_id=abc", "author_id"),
        ("author_id=99999999999", "author_id"),
        ("created_at__gte=yesterday", "created_at__gte"),
        ("kind=poem", "kind"),
        ("title=a%00b", "title"),
        ("title__contains=%00", "title__contains"),
        ("score__in=1&score__in=x", "score__in"),
    ],
)
async def test_a_value_of_the_wrong_type_is_a_422_naming_it(database_url: str, query: str, key: str) -> None:
    app, _ = build(database_url, routes)
    async with AsyncTestClient(app) as client:
        response = await client.get("/articles?" + query)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"][:2] == ["query", key]


def test_values_are_bound_never_spliced() -> None:
    where = FilterQuery([Article.title == "x'; DROP TABLE t; --"], ())
    sql = str(where.apply(select(Article.id)).compile(dialect=sqlite.dialect()))
    assert "DROP" not in sql
    assert "title = ?" in sql


def test_the_parameters_are_documented() -> None:
    app, _ = build("sqlite://", routes)
    document = build_openapi(app)
    parameters = {p["name"]: p for p in document["paths"]["/articles"]["get"]["parameters"]}
    assert parameters["author_id"]["schema"] == {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
    assert parameters["created_at__gte"]["schema"]["type"] == "string"
    assert parameters["title__in"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert parameters["kind"]["schema"] == {"$ref": "#/components/schemas/Kind"}
    assert document["components"]["schemas"]["Kind"]["enum"] == ["news", "essay"]
    assert "ignoring case" in parameters["title__contains"]["description"]
    assert "comma-separated" in parameters["order"]["description"]
    assert "password" not in parameters


def test_operators_follow_the_type() -> None:
    keys = [f.key for f in ArticleFilters.spec.filters]
    assert keys[:5] == ["title", "title__contains", "title__in", "author_id", "author_id__gt"]
    assert "published__gt" not in keys
    assert "published" in keys
    assert "body__isnull" in keys
    assert "title__isnull" not in keys
    assert "kind__in" in keys
    chosen = Filters(Article, fields={"score": ("gte", "lte")})
    assert [f.key for f in chosen.spec.filters] == ["score__gte", "score__lte"]
    assert chosen.__name__ == "ArticleFilters"
    assert Filters(Author, name="People").__name__ == "People"


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "filters_doc"
    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    order: Mapped[str]
    status: Mapped[str] = mapped_column(Enum("draft", "live", name="doc_status"))
    local: Mapped[datetime] = mapped_column(DateTime())
    instant: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def test_string_enums_and_plain_datetimes() -> None:
    spec = Filters(Doc, fields=("status", "local", "instant")).spec
    by_key = {f.key: f for f in spec.filters}
    assert list(by_key)[:3] == ["status", "status__contains", "status__in"]
    assert by_key["status"].annotation == Literal["draft", "live"] | None
    aware = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2024, 1, 1, 12)
    # a naive column compares with naive UTC, an aware one with an aware value (naive values are taken as UTC)
    assert by_key["local__gte"].condition(aware).right.value == datetime(2024, 1, 1, 10)
    assert by_key["local__gte"].condition(naive).right.value == naive
    assert by_key["instant"].condition(naive).right.value == naive.replace(tzinfo=UTC)
    assert by_key["instant"].condition(aware).right.value == aware


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fields": ("nope",)}, "'nope', which is not a column"),
        ({"fields": "title"}, "takes a sequence of names"),
        ({"fields": {"title": ("gt",)}}, "'title' cannot take the operator 'gt'; it takes eq, ne, contains, in"),
        ({"order": ("nope",)}, "order= names 'nope'"),
        ({"order": ("title",), "default_order": ("-score",)}, "default_order names 'score'"),
    ],
)
def test_mistakes_are_found_when_declared(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Filters(Article, **options)


def test_columns_without_a_query_form_and_clashes_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="cannot filter on 'data'"):
        Filters(Doc, fields=("data",))
    with pytest.raises(ConfigurationError, match="order_param='sort'"):
        Filters(Doc, fields=("order",), order=("id",))
    Filters(Doc, fields=("order",), order=("id",), order_param="sort")
    with pytest.raises(ConfigurationError, match="takes a SQLAlchemy model class"):
        Filters(dict)
