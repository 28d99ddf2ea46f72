"""One model -> read, create and update schemas; ORM objects returned through them, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import decimal
import enum
import logging
import os
import re
import uuid
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
import pytest
from openapi_spec_validator import validate
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    PickleType,
    SmallInteger,
    String,
    Text,
    Time,
    Uuid,
    func,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship, selectinload
from sqlalchemy.types import TypeDecorator, UserDefinedType

from plait import HTTPException, Plait
from plait.db import Database, UTCDateTime, get_or_404
from plait.db.schemas import (
    GuardedSession,
    ModelSchemas,
    NotLoadedError,
    apply,
    create_schema,
    explain_not_loaded,
    read_schema,
    schemas,
    update_schema,
    values,
)
from plait.exceptions import ConfigurationError
from plait.testing import AsyncTestClient

PID = os.getpid()  # one set of tables per test process: runs may share the PostgreSQL database


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    draft = "draft"
    published = "published"


class Author(Base):
    __tablename__ = f"plait_k_authors_{PID}"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    articles: Mapped[list[Article]] = relationship(back_populates="author", order_by="Article.id")


class Article(Base):
    __tablename__ = f"plait_k_articles_{PID}"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80), comment="The headline.")
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[Status] = mapped_column(Enum(Status, name=f"plait_k_status_{PID}"), default=Status.draft)
    views: Mapped[int] = mapped_column(SmallInteger, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey(f"{Author.__tablename__}.id"))
    author: Mapped[Author | None] = relationship(back_populates="articles")
    comments: Mapped[list[Comment]] = relationship(back_populates="article")
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Comment(Base):
    __tablename__ = f"plait_k_comments_{PID}"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    article_id: Mapped[int] = mapped_column(ForeignKey(f"{Article.__tablename__}.id"))
    article: Mapped[Article] = relationship(back_populates="comments")


class Point(UserDefinedType[Any]):
    """A column type that does not say which Python type it holds (as SQLAlchemy 2.0 says it)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "POINT"

    @property
    def python_type(self) -> type[Any]:
        raise NotImplementedError


class Cents(TypeDecorator[decimal.Decimal]):
    """Stored as an integer, read as a Decimal: the type it declares wins over the one it wraps."""

    impl = Integer
    cache_ok = True

    @property
    def python_type(self) -> type[Any]:
        return decimal.Decimal


class Other(DeclarativeBase):  # never created: these columns are only read for their schemas
    pass


class Everything(Other):
    """Every column type the schemas map, and every way a column can be filled in for the client."""

    __tablename__ = f"plait_k_everything_{PID}"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flag: Mapped[bool] = mapped_column(Boolean)
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    ratio: Mapped[float] = mapped_column(Float)
    day: Mapped[datetime.date] = mapped_column(Date)
    at: Mapped[datetime.time] = mapped_column(Time)
    uid: Mapped[uuid.UUID] = mapped_column(Uuid)
    data: Mapped[Any] = mapped_column(JSON)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(Enum("small", "large", name=f"plait_k_kind_{PID}"))
    code: Mapped[str | None] = mapped_column(String(3))
    tags: Mapped[list[str]] = mapped_column(JSON, default=["new"])
    token: Mapped[str] = mapped_column(String, default=lambda: "generated")
    counter: Mapped[int] = mapped_column(Integer, server_default="0")
    touched: Mapped[int] = mapped_column(Integer, onupdate=1)
    double: Mapped[int] = mapped_column(Integer, Computed("counter * 2"))
    label: Mapped[str] = column_property(literal_column("'fixed'", String))
    numbers: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    stamp: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    spot: Mapped[Any] = mapped_column(Point)
    pickled: Mapped[Any] = mapped_column(PickleType)
    cents: Mapped[decimal.Decimal] = mapped_column(Cents)


class Pair(Other):
    """A composite key is the client's to give; an explicit autoincrement=True is not."""

    __tablename__ = f"plait_k_pairs_{PID}"

    left: Mapped[int] = mapped_column(primary_key=True)
    right: Mapped[int] = mapped_column(primary_key=True)


class Counted(Other):
    __tablename__ = f"plait_k_counted_{PID}"

    number: Mapped[str] = mapped_column(String(10), primary_key=True, autoincrement=True)
    name: Mapped[str]


if TYPE_CHECKING:  # mypy sees derived types as values, not types: the guide shows this spelling
    ArticleRead = Any
    ArticleCreate = Any
    ArticleUpdate = Any
    AuthorWithArticles = Any
    CommentWithAuthor = Any
else:
    article = schemas(Article)
    ArticleRead, ArticleCreate, ArticleUpdate = article.read, article.create, article.update
    AuthorWithArticles = read_schema(Author, relations=("articles",))
    CommentWithAuthor = read_schema(Comment, relations=("article.author",))

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int


def schema_of(tp: Any) -> dict[str, Any]:
    _, components = msgspec.json.schema_components([tp])
    return components[tp.__name__]  # type: ignore[no-any-return]


# ---- the derived types --------------------------------------------------------------------------


def test_the_read_schema_has_every_column_and_the_names_are_readable() -> None:
    article = schemas(Article)
    assert isinstance(article, ModelSchemas)
    assert (article.read.__name__, article.create.__name__, article.update.__name__) == (
        "ArticleRead",
        "ArticleCreate",
        "ArticleUpdate",
    )
    assert article.read.__struct_fields__ == ("id", "title", "body", "status", "views", "author_id", "created_at")
    schema = schema_of(article.read)
    assert schema["required"] == list(article.read.__struct_fields__)
    assert schema["properties"]["title"] == {"type": "string", "maxLength": 80, "description": "The headline."}
    assert schema["properties"]["body"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert schema["properties"]["status"] == {"$ref": "#/$defs/Status"}
    assert schema["properties"]["views"] == {"type": "integer", "minimum": -32768, "maximum": 32767}
    assert schema["properties"]["created_at"] == {"type": "string"}  # "date-time" would demand an offset


def test_the_create_schema_leaves_out_what_the_database_or_the_model_fills_in() -> None:
    create = schemas(Article).create
    assert create.__struct_fields__ == ("title", "body", "status", "views", "author_id")
    made = msgspec.convert({"title": "Hello"}, create)
    assert values(made) == {"title": "Hello", "body": None, "status": Status.draft, "views": 0, "author_id": None}
    with pytest.raises(msgspec.ValidationError, match="Object missing required field `title`"):
        msgspec.convert({}, create)
    with pytest.raises(msgspec.ValidationError, match="length <= 80"):
        msgspec.convert({"title": "x" * 81}, create)
    with pytest.raises(msgspec.ValidationError, match="unknown field `id`"):
        msgspec.convert({"title": "Hello", "id": 7}, create)  # a client cannot choose the key


def test_column_types_and_generated_columns() -> None:
    everything = schemas(Everything)
    assert everything.read.__struct_fields__ == (
        *("key", "flag", "price", "ratio", "day", "at", "uid", "data", "blob", "kind", "code", "tags", "token"),
        *("counter", "touched", "double", "numbers", "stamp", "spot", "pickled", "cents", "label"),
    )
    # The only integer key is the database's to number; a callable default, a server default, onupdate and a
    # computed column are filled in for the client too. A plain default ("tags") stays, optional.
    assert everything.create.__struct_fields__ == (
        *("flag", "price", "ratio", "day", "at", "uid", "data", "blob", "kind", "code", "tags", "numbers", "stamp"),
        *("spot", "pickled", "cents"),
    )
    props = schema_of(everything.read)["properties"]
    assert props["key"]["maximum"] == 2**63 - 1
    assert props["flag"] == {"type": "boolean"}
    assert props["price"] == {"type": "string", "format": "decimal"}
    assert props["ratio"] == {"type": "number"}
    assert props["day"] == {"type": "string", "format": "date"}
    assert props["at"] == {"type": "string"}
    assert props["uid"] == {"type": "string", "format": "uuid"}
    assert props["data"] == {}
    assert props["blob"] == {"type": "string", "contentEncoding": "base64"}
    assert props["kind"] == {"enum": ["large", "small"]}
    assert props["code"] == {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]}
    assert props["numbers"] == {"type": "array", "items": props["counter"]}
    assert props["counter"] == {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
    assert props["stamp"] == {"type": "string"}  # a TypeDecorator: the type it wraps
    assert props["spot"] == props["pickled"] == {}  # no Python type known: anything
    assert props["cents"] == props["price"]
    assert props["label"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}  # an expression may be NULL
    created = msgspec.convert(
        {"flag": True, "price": "1.50", "ratio": 0.5, "day": "2024-01-02", "at": "10:00:00"}
        | {"uid": str(uuid.UUID(int=1)), "data": [1, {"a": 2}], "blob": "AAE=", "kind": "small"}
        | {"numbers": [1], "stamp": "2024-01-02T03:04:05Z", "spot": "(1,2)", "pickled": {"any": 1}, "cents": "0.10"},
        everything.create,
    )
    assert values(created)["price"] == decimal.Decimal("1.50")
    assert values(created)["tags"] == ["new"]
    with pytest.raises(msgspec.ValidationError, match="Expected `str` of length <= 3"):
        msgspec.convert({**msgspec.structs.asdict(created), "code": "abcd"}, everything.create)
    with pytest.raises(msgspec.ValidationError, match="Invalid enum value 'medium'"):
        msgspec.convert({**msgspec.structs.asdict(created), "kind": "medium"}, everything.create)


def test_keys_the_client_gives_and_keys_it_does_not() -> None:
    assert schemas(Pair).create.__struct_fields__ == ("left", "right")
    assert schemas(Counted).create.__struct_fields__ == ("name",)


def test_a_mutable_default_is_copied_for_each_body() -> None:
    create = schemas(Everything).create
    fields = {f.name: f for f in msgspec.structs.fields(create)}
    assert fields["tags"].default_factory is not msgspec.NODEFAULT
    assert fields["tags"].default_factory() == ["new"]
    assert fields["tags"].default_factory() is not fields["tags"].default_factory()


def test_the_update_schema_makes_every_field_optional() -> None:
    update = schemas(Article).update
    assert update.__struct_fields__ == schemas(Article).create.__struct_fields__
    patch = msgspec.json.decode(b'{"body": null}', type=update)
    assert values(patch) == {"body": None}  # null is a value (clear the body); a missing field is left alone
    article = Article(title="Old", body="text", views=3)
    assert apply(article, patch) is article
    assert (article.title, article.body, article.views) == ("Old", None, 3)
    with pytest.raises(msgspec.ValidationError, match="length <= 80"):
        msgspec.convert({"title": "x" * 81}, update)
    assert schema_of(update)["required"] == []


def test_include_and_exclude_name_the_variant() -> None:
    slim = schemas(Article, include=["title", "id"])
    assert slim.read.__name__ == "ArticleReadOnlyIdTitle"
    assert slim.read.__struct_fields__ == ("id", "title")
    assert slim.create.__struct_fields__ == ("title",)
    without = schemas(Article, exclude=("body", "created_at"))
    assert without.read.__name__ == "ArticleReadWithoutBodyCreatedAt"
    assert "body" not in without.create.__struct_fields__
    named = schemas(Article, include=("id", "title"), name="Headline")
    assert (named.read.__name__, named.update.__name__) == ("HeadlineReadOnlyIdTitle", "HeadlineUpdateOnlyIdTitle")
    assert schemas(Article).read.__name__ == "ArticleRead"  # the default keeps the plain name


def test_schemas_are_cached_per_model_and_options() -> None:
    assert schemas(Article) is schemas(Article)
    assert schemas(Article, exclude=["body"]) is schemas(Article, exclude=("body",))
    assert schemas(Article, include=("id", "title")).read is read_schema(Article, include=("title", "id"))
    assert create_schema(Article) is ArticleCreate
    assert update_schema(Article) is ArticleUpdate
    assert schemas(Article, exclude=("body",)).read is not ArticleRead


def test_relations_are_nested_read_schemas() -> None:
    assert AuthorWithArticles.__name__ == "AuthorReadWithArticles"
    assert AuthorWithArticles.__struct_fields__ == ("id", "name", "articles")
    props = schema_of(AuthorWithArticles)["properties"]
    assert props["articles"] == {"type": "array", "items": {"$ref": "#/$defs/ArticleRead"}}
    nested = schema_of(CommentWithAuthor)["properties"]
    assert CommentWithAuthor.__name__ == "CommentReadWithArticleAuthor"
    assert nested["article"] == {"$ref": "#/$defs/ArticleReadWithAuthor"}  # a required many-to-one
    author = schema_of(read_schema(Article, relations=("author",)))["properties"]["author"]
    assert author == {"anyOf": [{"$ref": "#/$defs/AuthorRead"}, {"type": "null"}]}  # a nullable foreign key
    assert "articles" not in schemas(Author).read.__struct_fields__  # relations only when asked for
    assert "comments" not in read_schema(Article, relations=("author",)).__struct_fields__


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include": ("title", "headline")}, "include= names 'headline', which Article has no column for; its columns"),
        ({"exclude": ("author",)}, "exclude= names 'author', which Article has no column for"),
        ({"relations": ("writer",)}, "relations= names 'writer', which is not a relationship of Article; its rel"),
        ({"exclude": "body"}, "exclude= takes a sequence of names; write exclude=('body',)"),
        ({"include": ()}, "include=() leaves no column"),
    ],
)
def test_bad_options_say_what_exists(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        schemas(Article, **options)


def test_only_a_model_has_schemas() -> None:
    with pytest.raises(ConfigurationError, match="schemas\\(\\) takes a SQLAlchemy model class"):
        schemas(Status)


def test_the_schemas_are_openapi_components_under_their_names() -> None:
    app = Plait()

    @app.post("/articles", status_code=201)
    async def create(data: ArticleCreate) -> ArticleRead:
        raise HTTPException(501)

    @app.patch("/articles/{id}")
    async def update(id: int, data: ArticleUpdate) -> AuthorWithArticles:
        raise HTTPException(501)

    document = app.openapi()
    validate(document)
    components = document["components"]["schemas"]
    assert {"ArticleCreate", "ArticleRead", "ArticleUpdate", "AuthorReadWithArticles", "Status"} <= set(components)
    assert components["ArticleCreate"]["description"] == "What a client sends to create one Article."
    body = document["paths"]["/articles"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ArticleCreate"}


def test_explain_without_an_attribute_gives_the_general_fix() -> None:
    assert "selectinload(Model.relation)" in explain_not_loaded(None)


@pytest.mark.anyio
async def test_a_query_outside_an_await_is_refused_before_it_starts() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    session = AsyncSession(engine, sync_session_class=GuardedSession)
    with pytest.raises(NotLoadedError, match="A database query was needed outside an `await`"):
        session.sync_session.execute(select(Article))  # what a lazy load does, minus the attribute
    assert (await session.scalar(select(literal_column("1")))) == 1  # inside an await: runs as usual
    await session.close()
    await engine.dispose()


# ---- ORM objects returned through the schemas, on each backend ------------------------------------


def build(url: str) -> Plait[Any]:
    database = Database(url)
    app = Plait(extensions=[database])

    @app.on_startup
    async def fresh_tables() -> None:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.run_sync(Base.metadata.create_all)

    @app.on_shutdown
    async def drop_tables() -> None:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)

    @app.post("/articles", status_code=201)
    async def create(data: ArticleCreate, db: AsyncSession) -> ArticleRead:
        article = Article(**values(data))
        db.add(article)
        await db.flush()  # the key and the server's created_at come back with the INSERT
        return article

    @app.get("/articles")
    async def index(db: AsyncSession) -> list[ArticleRead]:
        return list((await db.scalars(select(Article).order_by(Article.id))).all())

    @app.get("/page")
    async def page(db: AsyncSession) -> Page[ArticleRead]:
        rows = list((await db.scalars(select(Article).order_by(Article.id))).all())
        return Page(items=rows, total=len(rows))

    @app.patch("/articles/{id}")
    async def update(id: int, data: ArticleUpdate, db: AsyncSession) -> ArticleRead:
        row = await get_or_404(db, Article, id)
        return apply(row, data)  # only the fields the client sent; committed before the response

    @app.post("/authors", status_code=201)
    async def author(name: str, db: AsyncSession) -> dict[str, int]:
        writer = Author(name=name, articles=[Article(title="First"), Article(title="Second")])
        db.add(writer)
        await db.flush()
        return {"id": writer.id}

    @app.get("/authors/{id}")
    async def show_author(id: int, db: AsyncSession) -> AuthorWithArticles:
        query = select(Author).where(Author.id == id).options(selectinload(Author.articles))
        return (await db.scalars(query)).one()

    @app.get("/authors/{id}/lazy")
    async def lazy_author(id: int, db: AsyncSession) -> AuthorWithArticles:
        return await db.get_one(Author, id)  # articles not loaded: reading them needs a query

    @app.get("/articles/{id}/expired")
    async def expired(id: int, db: AsyncSession) -> ArticleRead:
        article = await db.get_one(Article, id)
        db.expire(article)  # every column must be loaded again
        return article

    @app.get("/authors/{id}/awaited")
    async def awaited(id: int, db: AsyncSession) -> list[str]:
        writer = await db.get_one(Author, id)
        await db.refresh(writer, ["articles"])  # a load inside an await is fine
        return [article.title for article in writer.articles]

    return app


@pytest.mark.anyio
async def test_orm_objects_are_returned_through_the_read_schema(database_url: str) -> None:
    async with AsyncTestClient(build(database_url)) as client:
        created = await client.post("/articles", json={"title": "Hello", "status": "published"})
        assert created.status_code == 201, created.text
        body = created.json()
        assert {k: body[k] for k in ("id", "title", "body", "status", "views", "author_id")} == {
            "id": 1,
            "title": "Hello",
            "body": None,
            "status": "published",
            "views": 0,
            "author_id": None,
        }
        assert datetime.datetime.fromisoformat(body["created_at"]).year >= 2024
        await client.post("/articles", json={"title": "Again", "body": "text"})
        listed = (await client.get("/articles")).json()
        assert [a["title"] for a in listed] == ["Hello", "Again"]
        assert set(listed[0]) == set(ArticleRead.__struct_fields__)
        page = (await client.get("/page")).json()
        assert (page["total"], [a["body"] for a in page["items"]]) == (2, [None, "text"])


@pytest.mark.anyio
async def test_patch_changes_only_the_fields_given(database_url: str) -> None:
    async with AsyncTestClient(build(database_url)) as client:
        await client.post("/articles", json={"title": "Hello", "body": "text", "views": 5})
        patched = await client.patch("/articles/1", json={"body": None})
        assert patched.status_code == 200, patched.text
        assert {k: patched.json()[k] for k in ("title", "body", "views")} == {
            "title": "Hello",
            "body": None,
            "views": 5,
        }
        assert (await client.get("/articles")).json()[0]["body"] is None
        assert (await client.patch("/articles/2", json={})).status_code == 404
        refused = await client.patch("/articles/1", json={"views": 40000})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["body", "views"]


@pytest.mark.anyio
async def test_bad_bodies_are_422_naming_the_field(database_url: str) -> None:
    async with AsyncTestClient(build(database_url)) as client:
        long = await client.post("/articles", json={"title": "x" * 81})
        assert long.status_code == 422
        assert long.json()["errors"][0]["loc"] == ["body", "title"]
        chosen = await client.post("/articles", json={"title": "Hi", "id": 9})
        assert chosen.status_code == 422
        assert "id" in str(chosen.json()["errors"])
        assert (await client.get("/articles")).json() == []


@pytest.mark.anyio
async def test_loaded_relations_are_nested(database_url: str) -> None:
    async with AsyncTestClient(build(database_url)) as client:
        author_id = (await client.post("/authors", params={"name": "Ann"})).json()["id"]
        shown = (await client.get(f"/authors/{author_id}")).json()
        assert shown["name"] == "Ann"
        assert [a["title"] for a in shown["articles"]] == ["First", "Second"]
        assert shown["articles"][0]["author_id"] == author_id


@pytest.mark.anyio
async def test_a_relation_that_was_not_loaded_names_the_fix(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with AsyncTestClient(build(database_url)) as client:
        author_id = (await client.post("/authors", params={"name": "Ann"})).json()["id"]
        assert (await client.get(f"/authors/{author_id}/awaited")).json() == ["First", "Second"]
        with caplog.at_level(logging.ERROR, logger="plait.error"):
            response = await client.get(f"/authors/{author_id}/lazy")
            expired = await client.get("/articles/1/expired")
    assert (response.status_code, expired.status_code) == (500, 500)
    assert response.json()["detail"] == "The server hit an error it did not expect. It has been logged."
    assert "NotLoadedError: Author.articles was not loaded" in caplog.text
    assert "select(Author).options(selectinload(Author.articles))" in caplog.text
    assert "MissingGreenlet" not in caplog.text  # refused before any query started
    assert "Article.id was not loaded" in caplog.text
    assert "await db.refresh(obj, ['id'])" in caplog.text
