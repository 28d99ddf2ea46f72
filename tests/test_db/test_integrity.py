"""Reading constraint violations from SQLite's messages and from PostgreSQL drivers (asyncpg, psycopg)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import String, UniqueConstraint
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait.db.integrity import integrity_problem


class Base(DeclarativeBase):
    pass


class Post(Base):
    __tablename__ = "integrity_posts"
    __table_args__ = (UniqueConstraint("site", "slug_text", name="uq_site_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str]
    slug: Mapped[str] = mapped_column("slug_text", String(50))
    owner_id: Mapped[int | None]


class AsyncpgLike(Exception):
    def __init__(self, sqlstate: str, detail: str = "", constraint_name: str | None = None, column_name: str = ""):
        super().__init__("violation")
        self.sqlstate, self.detail = sqlstate, detail
        self.constraint_name, self.column_name = constraint_name, column_name


class Adapted(Exception):
    """SQLAlchemy's asyncpg adapter: the driver's exception is the cause."""

    def __init__(self, cause: Exception) -> None:
        super().__init__("<class 'asyncpg.exceptions.SomeViolation'>")
        self.__cause__ = cause


class Diag:
    def __init__(self, message_detail: str, constraint_name: str | None, column_name: str | None) -> None:
        self.message_detail, self.constraint_name, self.column_name = message_detail, constraint_name, column_name


class PsycopgLike(Exception):
    def __init__(self, sqlstate: str, diag: Diag) -> None:
        super().__init__("violation")
        self.sqlstate, self.diag = sqlstate, diag


def problem(orig: Exception, **options: Any) -> tuple[int, str, list[str] | None]:
    found = integrity_problem(sa_exc.IntegrityError("SQL", {}, orig), Post, **options)
    return found.status_code, found.detail, found.extra.get("fields")


def test_sqlite_messages() -> None:
    assert problem(Exception("UNIQUE constraint failed: integrity_posts.site, integrity_posts.slug_text")) == (
        409,
        "Another Post already has this site and slug; choose a different site and slug.",
        ["site", "slug"],
    )
    assert problem(Exception("FOREIGN KEY constraint failed")) == (
        409,
        "A row this one refers to does not exist.",
        None,
    )
    assert problem(Exception("FOREIGN KEY constraint failed"), deleting=True)[1].startswith(
        "This Post is still referenced by other rows"
    )
    assert problem(Exception("NOT NULL constraint failed: integrity_posts.site")) == (
        422,
        "site must have a value.",
        ["site"],
    )
    assert problem(Exception("CHECK constraint failed: positive")) == (
        422,
        "The values break a rule of Post (positive).",
        None,
    )


def test_asyncpg_exceptions_behind_the_adapter() -> None:
    unique = AsyncpgLike("23505", "Key (site, slug_text)=(a, b) already exists.", "uq_site_slug")
    assert problem(Adapted(unique))[2] == ["site", "slug"]
    by_name_only = AsyncpgLike("23505", "", "uq_site_slug")
    assert problem(Adapted(by_name_only))[2] == ["site", "slug"]
    unknown = AsyncpgLike("23505", "", "somewhere_else")
    assert problem(Adapted(unknown)) == (
        409,
        "Another Post already has these values (a unique constraint refused them).",
        None,
    )
    missing = AsyncpgLike("23503", 'Key (owner_id)=(9) is not present in table "owners".')
    assert problem(Adapted(missing)) == (409, "owner_id refers to a row that does not exist.", ["owner_id"])
    assert problem(Adapted(AsyncpgLike("23502", column_name="site")))[:2] == (422, "site must have a value.")
    assert problem(Adapted(AsyncpgLike("23502")))[:2] == (422, "a required field must have a value.")
    assert problem(Adapted(AsyncpgLike("23514", constraint_name="ck_rule")))[1] == (
        "The values break a rule of Post (ck_rule)."
    )
    assert problem(Adapted(AsyncpgLike("23P01")))[:2] == (
        409,
        "The change conflicts with the data already stored for Post.",
    )


def test_psycopg_exceptions() -> None:
    unique = PsycopgLike("23505", Diag("Key (site, slug_text)=(a, b) already exists.", "uq_site_slug", None))
    assert problem(unique)[2] == ["site", "slug"]
    assert problem(PsycopgLike("23502", Diag("", None, "site")))[2] == ["site"]


@pytest.mark.parametrize("code", ["23505", "23503"])
def test_conflicts_are_409s(code: str) -> None:
    assert problem(Adapted(AsyncpgLike(code)))[0] == 409
