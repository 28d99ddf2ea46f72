"""The CRUD router on SQLite and PostgreSQL: status codes, Location, 404/409, dependencies, OpenAPI."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait import Depends, Header, HTTPException, Plait
from plait.db.crud import crud_router, page_type
from plait.db.schemas import schemas
from plait.exceptions import ConfigurationError
from plait.openapi import build_openapi
from plait.testing import AsyncTestClient
from tests.test_db.listing import Article, Author, Tag, build, seed

pytestmark = pytest.mark.anyio


def admin(x_role: str = Header("")) -> None:
    if x_role != "admin":
        raise HTTPException(403, "Admins only.")


def api(app: Plait[Any]) -> None:
    app.include_router(crud_router(Author, schemas=schemas(Author, exclude=("password",)), prefix="/authors"))
    app.include_router(
        crud_router(
            Article,
            prefix="/articles",
            filters=("title", "author_id", "score"),
            order=("created_at", "title"),
            default_order=("-created_at",),
            page_size=2,
            max_page_size=3,
            put=True,
            operation_dependencies={"delete": [Depends(admin)]},
        )
    )


async def new_author(client: AsyncTestClient, name: str = "Ann") -> int:
    response = await client.post("/authors", json={"name": name})
    assert response.status_code == 201, response.text
    ident: int = response.json()["id"]
    return ident


async def test_the_whole_life_of_a_row(database_url: str) -> None:
    app, _ = build(database_url, api)
    async with AsyncTestClient(app) as client:
        author = await new_author(client)
        created = await client.post("/articles", json={"title": "Hello", "author_id": author})
        assert created.status_code == 201
        body = created.json()
        assert (body["title"], body["score"], body["published"], body["kind"]) == ("Hello", 0, False, "news")
        assert body["created_at"]
        assert body["updated_at"]
        location = created.headers["location"]
        assert location.startswith("http")
        assert location.endswith(f"/articles/{body['id']}")
        assert (await client.get(location)).json() == body

        changed = await client.patch(location, json={"score": 5})
        assert (changed.status_code, changed.json()["score"], changed.json()["title"]) == (200, 5, "Hello")
        replaced = await client.put(location, json={"title": "Bye", "author_id": author})
        assert (replaced.json()["title"], replaced.json()["score"]) == ("Bye", 0)  # every field replaced

        assert (await client.delete(location)).status_code == 403  # the delete operation's own dependency
        deleted = await client.delete(location, headers={"x-role": "admin"})
        assert (deleted.status_code, deleted.content) == (204, b"")
        missing = await client.get(location)
        assert missing.status_code == 404
        assert missing.json()["detail"] == f"No Article with id {body['id']}."


async def test_lists_are_paged_filtered_and_ordered(database_url: str) -> None:
    app, db = build(database_url, api)
    async with AsyncTestClient(app) as client:
        await seed(db, ["a", "b", "c", "d", "e"])
        page = (await client.get("/articles")).json()
        assert ([a["title"] for a in page["items"]], page["total"], page["limit"]) == (["e", "d"], 5, 2)
        page = (await client.get("/articles", params={"order": "title", "offset": 3, "limit": 50})).json()
        assert ([a["title"] for a in page["items"]], page["limit"]) == (["d", "e"], 3)
        page = (await client.get("/articles", params={"score": 1})).json()
        assert [a["title"] for a in page["items"]] == ["e", "b"]
        refused = await client.get("/articles", params={"password": "x"})
        assert refused.status_code == 400
        assert "Filters: title" in refused.json()["detail"]
        assert (await client.get("/articles", params={"limit": 0})).status_code == 422


async def test_a_unique_violation_is_a_409_naming_the_field(database_url: str) -> None:
    app, _ = build(database_url, api)
    async with AsyncTestClient(app) as client:
        author = await new_author(client)
        first = await client.post("/articles", json={"title": "Hello", "author_id": author})
        again = await client.post("/articles", json={"title": "Hello", "author_id": author})
        assert again.status_code == 409
        assert again.json()["detail"] == "Another Article already has this title; choose a different title."
        assert again.json()["fields"] == ["title"]
        other = await client.post("/articles", json={"title": "Other", "author_id": author})
        clash = await client.patch(f"/articles/{other.json()['id']}", json={"title": "Hello"})
        assert (clash.status_code, clash.json()["fields"]) == (409, ["title"])
        assert (await client.get(f"/articles/{other.json()['id']}")).json()["title"] == "Other"  # rolled back
        assert (await client.get(first.headers["location"])).status_code == 200


async def test_broken_references_are_409s(database_url: str) -> None:
    app, _ = build(database_url, api)
    async with AsyncTestClient(app) as client:
        dangling = await client.post("/articles", json={"title": "Orphan", "author_id": 999})
        assert dangling.status_code == 409
        assert dangling.json()["detail"] in (
            "author_id refers to a row that does not exist.",  # PostgreSQL names the column
            "A row this one refers to does not exist.",  # SQLite does not
        )
        author = await new_author(client)
        await client.post("/articles", json={"title": "Kept", "author_id": author})
        response = await client.delete(f"/authors/{author}")
        assert response.status_code == 409
        assert response.json()["detail"].startswith("This Author is still referenced by other rows")
        assert (await client.get(f"/authors/{author}")).status_code == 200


async def test_missing_rows_and_bad_bodies(database_url: str) -> None:
    app, _ = build(database_url, api)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/articles/12345")).status_code == 404
        assert (await client.get("/articles/99999999999999")).status_code == 404  # beyond any INTEGER
        assert (await client.patch("/articles/7", json={"score": 1})).status_code == 404
        assert (await client.delete("/articles/7", headers={"x-role": "admin"})).status_code == 404
        assert (await client.post("/articles", json={"title": "x"})).status_code == 422  # author_id missing
        assert (await client.post("/articles", json={"title": "x", "author_id": 1, "id": 4})).status_code == 422
        assert (await client.post("/authors", json={"name": "x" * 81})).status_code == 422
        assert "password" not in (await client.post("/authors", json={"name": "Bo"})).json()


async def test_cursor_pagination_and_relations(database_url: str) -> None:
    def cursor_api(app: Plait[Any]) -> None:
        read = schemas(Article, relations=("author",))
        app.include_router(
            crud_router(Article, schemas=read, order=("created_at",), pagination="cursor", page_size=2, name="feed")
        )

    app, db = build(database_url, cursor_api)
    async with AsyncTestClient(app) as client:
        await seed(db, ["a", "b", "c"])
        path = f"/{Article.__tablename__}"
        first = (await client.get(path, params={"order": "-created_at"})).json()
        assert [a["title"] for a in first["items"]] == ["c", "b"]
        assert first["items"][0]["author"]["name"] == "Ann"  # the relation is loaded with the rows
        second = (await client.get(path, params={"order": "-created_at", "cursor": first["next"]})).json()
        assert ([a["title"] for a in second["items"]], second["next"]) == (["a"], None)
        assert (await client.get(path, params={"cursor": first["next"]})).status_code == 400  # another ordering
        assert (await client.get(path, params={"offset": 1})).status_code == 400
        one = (await client.get(f"{path}/{first['items'][0]['id']}")).json()
        assert one["author"]["name"] == "Ann"
        created = await client.post(path, json={"title": "d", "author_id": one["author_id"]})
        assert created.json()["author"]["name"] == "Ann"
        assert created.headers["location"].endswith(f"{path}/{created.json()['id']}")


async def test_uuid_keys_and_routers_without_get(database_url: str) -> None:
    def tags(app: Plait[Any]) -> None:
        app.include_router(crud_router(Tag, prefix="/tags"))
        app.include_router(crud_router(Tag, prefix="/drafts", operations=("create", "list"), name="drafts"))

    app, _ = build(database_url, tags)
    async with AsyncTestClient(app) as client:
        created = await client.post("/tags", json={"label": "news"})
        ident = created.json()["id"]
        assert created.headers["location"].endswith(f"/tags/{ident}")
        assert (await client.get(f"/tags/{ident}")).json() == {"id": ident, "label": "news"}
        assert (await client.get(f"/tags/{uuid.uuid4()}")).status_code == 404
        assert (await client.get("/tags/not-a-uuid")).status_code in (404, 422)
        draft = await client.post("/drafts", json={"label": "draft"})
        assert draft.status_code == 201
        assert "location" not in draft.headers  # no get operation to point at


async def test_a_value_the_database_refuses_is_a_422(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(self: AsyncSession, objects: Any = None) -> None:
        raise sa_exc.DataError("INSERT ...", {}, Exception("value out of range"))

    app, _ = build(database_url, api)
    async with AsyncTestClient(app) as client:
        monkeypatch.setattr(AsyncSession, "flush", refuse)
        response = await client.post("/authors", json={"name": "Ann"})
        assert (response.status_code, response.json()["detail"]) == (422, "A value does not fit its Author column.")


def test_the_openapi_document() -> None:
    app, _ = build("sqlite://", api)
    document = build_openapi(app)
    components = document["components"]["schemas"]
    for name in ("ArticleRead", "ArticleCreate", "ArticleUpdate", "ArticleReadPage", "AuthorReadWithoutPassword"):
        assert name in components
    operations = document["paths"]["/articles"]
    assert operations["get"]["operationId"] == "listArticle"
    assert {p["name"] for p in operations["get"]["parameters"]} >= {"limit", "offset", "order", "title", "score__gte"}
    assert operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ArticleReadPage"
    )
    assert "400" in operations["get"]["responses"]
    post = operations["post"]["responses"]
    assert "Location" in post["201"]["headers"]
    assert "409" in post
    item = document["paths"]["/articles/{id}"]
    assert set(item) == {"get", "patch", "put", "delete"}
    assert item["delete"]["responses"].keys() >= {"204", "404", "409"}
    assert item["get"]["parameters"][0]["schema"]["type"] == "integer"
    assert item["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ArticleUpdate")


def test_operations_can_be_left_out() -> None:
    router = crud_router(Author, operations=("list", "get"), dependencies=[Depends(admin)], tags=["people"])
    table = Author.__tablename__
    assert sorted(route.name for route in router.routes) == [f"{table}.get", f"{table}.list"]
    assert sorted(route.endpoint.__name__ for route in router.routes) == [f"get_{table}", f"list_{table}"]
    assert router.tags == ["people"]
    assert router.prefix == f"/{Author.__tablename__}"
    create_only = crud_router(Author, operations=("create",), name="people")
    assert [route.options["name"] for route in create_only.routes] == ["people.create"]


class Base(DeclarativeBase):
    pass


class Pair(Base):
    __tablename__ = "crud_pair"
    __table_args__ = (PrimaryKeyConstraint("a", "b"),)
    a: Mapped[int]
    b: Mapped[int]


class Nullable(Base):
    __tablename__ = "crud_nullable"
    id: Mapped[int] = mapped_column(primary_key=True)
    rank: Mapped[int | None]


@pytest.mark.parametrize(
    ("model", "options", "message"),
    [
        (Pair, {}, "single-column primary key"),
        (dict, {}, "takes a SQLAlchemy model class"),
        (Author, {"operations": ("list", "explode")}, "operations names 'explode'"),
        (Author, {"operations": "list"}, "takes a sequence"),
        (Author, {"operation_dependencies": {"remove": []}}, "operation_dependencies names 'remove'"),
        (Author, {"pagination": "pages"}, "'offset' or 'cursor'"),
        (Author, {"page_size": 500}, "page_size=500 must be between 1 and max_page_size=100"),
        (Nullable, {"order": ("rank",), "pagination": "cursor"}, "'rank': it is nullable"),
    ],
)
def test_mistakes_are_found_when_the_router_is_made(model: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        crud_router(model, **options)


def test_page_types_are_named_and_shared() -> None:
    read = schemas(Article).read
    assert page_type(read).__name__ == "ArticleReadPage"
    assert page_type(read, cursor=True).__name__ == "ArticleReadCursorPage"
    assert page_type(read) is page_type(read)
