"""Forms derived from models, with foreign keys drawn as selects of rows loaded on bind (SQLite and PostgreSQL)."""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait import HTMLResponse, Plait, Request, Response
from plait.db import Database, values
from plait.exceptions import ConfigurationError
from plait.forms import Field, Form, Relation, Submitted, bind, form_for, form_spec
from plait.testing import TestClient

SUFFIX = os.getpid()  # tables of this process only: several test runs may share a server


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    DRAFT = "draft"
    LIVE = "live"


class Author(Base):
    __tablename__ = f"forms_author_{SUFFIX}"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(default=True)


class Tag(Base):
    __tablename__ = f"forms_tag_{SUFFIX}"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(20))

    def __str__(self) -> str:
        return f"#{self.title}"


class Article(Base):
    __tablename__ = f"forms_article_{SUFFIX}"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[Status] = mapped_column(default=Status.DRAFT)
    published: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int] = mapped_column(ForeignKey(Author.id))
    editor_id: Mapped[int | None] = mapped_column(ForeignKey(Author.id))


class Pair(Base):
    __tablename__ = f"forms_pair_{SUFFIX}"
    left: Mapped[int] = mapped_column(primary_key=True)
    right: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10))


ArticleForm = form_for(Article, exclude=("id",))


outside = sa.Table(f"forms_outside_{SUFFIX}", Base.metadata, sa.Column("id", sa.Integer, primary_key=True))


class Listing(Base):
    __tablename__ = f"forms_listing_{SUFFIX}"
    id: Mapped[int] = mapped_column(primary_key=True)
    outside_id: Mapped[int] = mapped_column(ForeignKey(outside.c.id))
    codes: Mapped[list[str]] = mapped_column(sa.JSON, default=["a"])


def test_unmapped_targets_and_mutable_defaults() -> None:
    form = form_for(Listing, exclude=("id",), fields={"codes": Field(widget="hidden")})
    spec = {f.key: f for f in form_spec(form).fields}
    assert spec["outside_id"].relation is None
    assert spec["outside_id"].widget == "number"
    first, second = form(outside_id=1), form(outside_id=2)
    assert getattr(first, "codes") == ["a"]  # noqa: B009 - the class is made at run time: mypy cannot see it
    assert getattr(first, "codes") is not getattr(second, "codes")  # noqa: B009


class TaggedForm(Form):
    tag_ids: Annotated[list[int], Relation(Tag)] = []
    active_author: Annotated[int | None, Relation(Author, label="name", where=Author.active.is_(True))] = None
    by_label: Annotated[int | None, Relation(Author, label=lambda a: a.name.upper(), limit=1)] = None
    first_active: Annotated[int | None, Relation(Author, where=Author.active.is_(True), limit=1)] = None


def test_form_for_derives_fields_widgets_and_relations() -> None:
    spec = {f.key: f for f in form_spec(ArticleForm).fields}
    assert list(spec) == ["title", "body", "status", "published", "author_id", "editor_id"]
    assert ArticleForm.__name__ == "ArticleForm"
    assert form_for(Article, exclude=("id",)) is ArticleForm
    assert (spec["title"].widget, spec["title"].constraints) == ("text", {"max_length": 120})
    assert spec["body"].widget == "textarea"
    assert spec["status"].widget == "select"
    assert spec["status"].has_default
    assert spec["published"].widget == "checkbox"
    relation = spec["author_id"].relation
    assert relation is not None
    assert (relation.model, relation.value) == (Author, "id")
    assert spec["author_id"].required
    assert spec["editor_id"].nullable
    assert spec["author_id"].label == "Author"


def test_form_for_takes_field_options() -> None:
    by_name = Relation(Author, value="name")
    fields: dict[str, Field | Relation] = {"body": Field(label="Story"), "author_id": by_name}
    custom = form_for(Article, include=("body", "author_id"), fields=fields)
    spec = {f.key: f for f in form_spec(custom).fields}
    assert (spec["body"].label, spec["body"].widget) == ("Story", "textarea")  # added to the column's own
    assert spec["author_id"].relation is by_name  # replaces the foreign key's
    with pytest.raises(ConfigurationError, match="'nope', which the form does not have"):
        form_for(Article, fields={"nope": Field()})


def test_a_composite_key_needs_a_value_column() -> None:
    class PairForm(Form):
        pair: Annotated[int, Relation(Pair)]

    from plait.forms.models import _value_attribute

    with pytest.raises(ConfigurationError, match="value='column'"):
        _value_attribute(form_spec(PairForm).fields[0].relation)  # type: ignore[arg-type]
    assert _value_attribute(Relation(Pair, value="code")) == "code"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'forms.db'}"
    else:
        yield request.getfixturevalue("fresh_postgres_database")


def make_app(url: str) -> tuple[Plait[Any], Database]:
    database = Database(url, metadata=Base.metadata)
    app = Plait(extensions=[database])

    @app.on_startup
    async def tables() -> None:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.run_sync(Base.metadata.create_all)
            await connection.execute(
                sa.insert(Author),
                [{"name": "Ada", "active": True}, {"name": "<Bob>", "active": True}, {"name": "Cy", "active": False}],
            )
            await connection.execute(sa.insert(Tag), [{"title": "news"}, {"title": "tech"}])

    @app.on_shutdown
    async def drop() -> None:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)

    @app.route("/articles/new", methods=["GET", "POST"])
    async def new_article(form: Submitted[ArticleForm], db: AsyncSession) -> Response:  # type: ignore[valid-type]
        if form.is_valid:
            db.add(Article(**values(form.data)))
            return form.redirect("/done")
        return HTMLResponse(form.render(), status_code=form.status_code)

    @app.get("/articles")
    async def articles(db: AsyncSession) -> list[list[Any]]:
        rows = await db.scalars(select(Article).order_by(Article.id))
        return [[a.title, a.author_id, a.editor_id, a.status.value] for a in rows]

    @app.route("/tagged", methods=["GET", "POST"])
    async def tagged(form: Submitted[TaggedForm]) -> HTMLResponse:
        answer = repr(form.data) if form.is_valid else form.render()
        return HTMLResponse(answer, status_code=form.status_code)

    return app, database


def options(page: str, name: str) -> list[tuple[str, str]]:
    select_html = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page)
    assert select_html is not None
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select_html.group(1))


def test_relations_on_the_database(database_url: str) -> None:
    app, _ = make_app(database_url)
    with TestClient(app) as client:
        page = client.get("/articles/new").text
        assert options(page, "author_id") == [("", "---------"), ("1", "Ada"), ("2", "&lt;Bob&gt;"), ("3", "Cy")]
        sent = {"title": "Hello", "body": "Text", "status": "live", "author_id": "2", "editor_id": ""}
        assert client.post("/articles/new", data=sent, follow_redirects=False).status_code == 303
        bad = client.post("/articles/new", data={**sent, "author_id": "99", "editor_id": "nope"})
        assert bad.status_code == 422
        # editor_id is not even a number: for a select, that too is "choose one"; author_id is checked once
        # the values convert (below).
        assert bad.text.count("Choose one of the listed options.") == 1
        assert 'id="id_editor_id-error"' in bad.text
        forged = client.post("/articles/new", data={**sent, "author_id": "99"})
        assert forged.status_code == 422
        assert "Choose one of the listed options." in forged.text
        assert '<option value="2" selected>' in client.post("/articles/new", data={**sent, "title": ""}).text
        assert client.get("/articles").json() == [["Hello", 2, None, "live"]]


def test_many_filtered_and_truncated_relations(database_url: str) -> None:
    app, _ = make_app(database_url)
    with TestClient(app) as client:
        page = client.get("/tagged").text
        assert options(page, "tag_ids") == [("1", "#news"), ("2", "#tech")]  # the model's __str__
        assert "multiple" in re.search(r'<select name="tag_ids"[^>]*>', page).group(0)  # type: ignore[union-attr]
        assert options(page, "active_author") == [("", "---------"), ("1", "Ada"), ("2", "&lt;Bob&gt;")]
        assert options(page, "by_label") == [("", "---------"), ("1", "ADA")]  # limit=1: one row listed
        good = client.post("/tagged", data={"tag_ids": ["1", "2"], "active_author": "2", "by_label": "3"})
        # by_label=3 was not listed (limit=1) but exists: it is looked up and accepted.
        assert good.text == "TaggedForm(tag_ids=[1, 2], active_author=2, by_label=3, first_active=None)"
        inactive = client.post("/tagged", data={"active_author": "3"})  # filtered out by where=
        assert inactive.status_code == 422
        assert client.post("/tagged", data={"first_active": "2"}).status_code == 200  # not listed, allowed
        assert client.post("/tagged", data={"first_active": "3"}).status_code == 422  # exists, filtered out
        missing = client.post("/tagged", data={"by_label": "42", "tag_ids": ["1", "7"]})
        assert missing.status_code == 422
        assert missing.text.count("Choose one of the listed options.") == 2


@pytest.mark.anyio
async def test_binding_a_relation_form_needs_a_session() -> None:
    request = Request({"type": "http", "method": "GET", "headers": [], "path": "/"})
    with pytest.raises(ConfigurationError, match=r"install Database\(\)"):
        await bind(ArticleForm, request)


class Plain(Base):
    __tablename__ = f"forms_plain_{SUFFIX}"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(20))


class Bare(Base):
    __tablename__ = f"forms_bare_{SUFFIX}"
    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column()


def test_default_labels() -> None:
    from plait.forms.models import _labeller

    assert _labeller(Relation(Plain))(Plain(id=1, title="First")) == "First"
    assert _labeller(Relation(Bare))(Bare(id=4, size=9)) == "Bare 4"
