"""ModelAdmin options: checked at registration, with errors that name what there is."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

import pytest
from markupsafe import Markup
from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait.admin import Admin, InlineAdmin, ModelAdmin, action
from plait.admin.history import describe
from plait.admin.models import LogEntry
from plait.admin.options import EMPTY, _text, kind_of, label_of
from plait.exceptions import ConfigurationError
from tests.test_admin.models import Article, Author, Comment, Tag


class Base(DeclarativeBase):
    pass


class Pair(Base):
    __tablename__ = "pair"
    left: Mapped[int] = mapped_column(primary_key=True)
    right: Mapped[int] = mapped_column(primary_key=True)


class Blob(Base):
    __tablename__ = "blob"
    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    code: Mapped[str] = mapped_column(String(10), primary_key=False)


class Parent(Base):
    __tablename__ = "parent"
    id: Mapped[int] = mapped_column(primary_key=True)


class Twice(Base):
    __tablename__ = "twice"
    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("parent.id"))
    second_id: Mapped[int] = mapped_column(ForeignKey("parent.id"))


def admin_for(model: type[Any], **options: Any) -> ModelAdmin:
    entry: ModelAdmin = type("Options", (ModelAdmin,), options)(model)
    return entry


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"list_display": ("nope",)}, "list_display names 'nope'"),
        ({"search_fields": ("status",)}, "search_fields names 'status'"),
        ({"search_fields": "title"}, r"takes a sequence; write \('title',\)"),
        ({"list_filter": ("title",)}, "list_filter names 'title'"),
        ({"ordering": ("-nope",)}, "ordering names 'nope'"),
        ({"date_hierarchy": "title"}, "date_hierarchy names 'title'"),
        ({"fields": ("title", "ghost")}, "fields names 'ghost'"),
        ({"exclude": ("ghost",)}, "exclude names 'ghost'"),
        ({"readonly_fields": ("ghost",)}, "readonly_fields names 'ghost'"),
        ({"fieldsets": [("A", ["ghost"])]}, "fieldsets names 'ghost'"),
        ({"prepopulated_fields": {"slug": ("ghost",)}}, "prepopulated_fields names 'ghost'"),
        ({"autocomplete_fields": ("title",)}, "autocomplete_fields names 'title'"),
        ({"list_display": ("title",), "list_display_links": ("body",)}, "list_display_links names 'body'"),
        ({"list_per_page": 0}, "list_per_page must be between 1 and 1000"),
        ({"actions": (lambda *a: None,)}, r"decorate .* with @action"),
        ({"extra_fields": {"title": str}}, "extra_fields names 'title', which are already Article's"),
    ],
)
def test_options_are_checked_at_registration(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        admin_for(Article, **options)


def test_defaults_list_every_drawable_column() -> None:
    entry = admin_for(Article)
    assert entry.list_columns == ["id", "title", "slug", "body", "status", "published", "published_at", "extra"]
    assert entry.search_columns == ["title", "slug", "body"]
    assert entry.links == ["id"]
    assert entry.form_fields == [
        "title", "slug", "body", "status", "published", "published_at", "extra", "author_id", "tags",
    ]  # fmt: skip
    assert entry.verbose_plural == "Articles"
    assert entry.layout == [(None, entry.form_fields)]


def test_models_the_admin_cannot_show() -> None:
    with pytest.raises(ConfigurationError, match="single-column primary key"):
        admin_for(Pair)
    with pytest.raises(ConfigurationError, match="takes a SQLAlchemy model class"):
        admin_for(int)
    blob = admin_for(Blob)
    assert "data" not in blob.form_fields
    assert "data" not in blob.list_columns


def test_inlines_find_their_foreign_key() -> None:
    class Comments(InlineAdmin):
        model = Comment

    assert Comments(Article).fk_name == "article_id"

    class Twins(InlineAdmin):
        model = Twice

    with pytest.raises(ConfigurationError, match="has 2 foreign keys to Parent"):
        Twins(Parent)

    class First(Twins):
        fk = "first_id"

    assert First(Parent).form_fields == ["second_id"]

    class Nothing(InlineAdmin):
        pass

    with pytest.raises(ConfigurationError, match="needs model = TheChildModel"):
        Nothing(Parent)


def test_registering() -> None:
    admin = Admin()
    admin.register(Tag)
    with pytest.raises(ConfigurationError, match="already registered"):
        admin.register(Tag)
    with pytest.raises(ConfigurationError, match="decorates a ModelAdmin subclass"):
        admin.register(Author)(object)
    with pytest.raises(ConfigurationError, match="start it with '/'"):
        Admin("admin/")
    codenames = [codename for codename, _ in admin.permission_codenames()]
    assert "adm_tag.view" in codenames
    assert "adm_author.delete" in codenames


def test_actions_and_their_permission() -> None:
    @action()
    async def archive_old(request: Any, db: Any, objects: Any) -> None: ...

    assert (archive_old.description, archive_old.permission) == ("Archive old", "change")
    with pytest.raises(ConfigurationError, match="use 'view', 'add', 'change' or 'delete'"):
        action(permission="own")


def test_labels_and_cells() -> None:
    assert label_of(Author(name="Ada")) == "Ada"
    assert label_of(Tag(name="web")) == "web"
    assert label_of(None) == EMPTY
    assert label_of(Parent()) == "Parent #new"

    class Color(enum.Enum):
        DARK_RED = "dr"

    assert _text(Color.DARK_RED) == "Dark red"
    assert _text(date(2026, 1, 2)) == "2026-01-02"
    assert _text(time(9, 5)) == "09:05:00"
    assert _text(datetime(2026, 1, 2, 3, 4)) == "2026-01-02 03:04"
    assert _text({"a": "x" * 100}).endswith("…")
    assert _text(Markup("<b>bold</b>")) == Markup("<b>bold</b>")  # only a ModelAdmin method can return HTML
    assert kind_of(Blob.__table__.c["data"]) == "other"  # type: ignore[arg-type]
    assert kind_of(Pair.__table__.c["left"]) == "int"  # type: ignore[arg-type]


def test_cells_from_methods_callables_and_relations() -> None:
    def shout(article: Article) -> str:
        return article.title.upper()

    shout.description = "Loud"  # type: ignore[attr-defined]

    class Options(ModelAdmin):
        list_display = ("title", shout, "tags", "author", "words")

        def words(self, article: Article) -> int:
            return len(article.body.split())

        words.description = "Words"  # type: ignore[attr-defined]

    entry = Options(Article)
    article = Article(title="hi", body="a b", author=Author(name="Ada"), tags=[Tag(name="x"), Tag(name="y")])
    assert [entry.display(article, name) for name in entry.list_columns] == ["hi", "HI", "x, y", "Ada", "2"]
    assert [entry.heading(name) for name in entry.list_columns] == ["Title", "Loud", "Tags", "Author", "Words"]
    assert entry.heading("author_id") == "Author"


def test_history_lines() -> None:
    assert describe(LogEntry(action="add", changes={})) == "Added."
    assert describe(LogEntry(action="delete", changes={})) == "Deleted."
    assert describe(LogEntry(action="change", changes={})) == "No fields changed."
