"""Pages of results: limit/offset with totals, keyset cursors, and what a bad cursor gets, on both backends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import pytest
from sqlalchemy import Column, Integer, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from plait import Plait
from plait.db import UTCDateTime
from plait.db.pagination import (
    CursorPage,
    OrderKey,
    Page,
    decode_cursor,
    encode_cursor,
    order_keys,
    paginate,
    paginate_cursor,
    python_type,
)
from plait.db.schemas import schemas
from plait.exceptions import ConfigurationError, HTTPException, RequestValidationError
from plait.testing import AsyncTestClient
from tests.test_db.listing import Article, build, seed

pytestmark = pytest.mark.anyio
ArticleRead = schemas(Article).read
TITLES = [f"t{i:02}" for i in range(7)]


def routes(app: Plait[Any]) -> None:
    @app.get("/offset")
    async def by_offset(db: AsyncSession, limit: int = 3, offset: int = 0) -> Page[ArticleRead]:  # type: ignore[valid-type]
        stmt = select(Article).order_by(Article.id)
        return await paginate(db, stmt, limit=limit, offset=offset, max_limit=5, schema=ArticleRead)

    @app.get("/cursor")
    async def by_cursor(db: AsyncSession, cursor: str | None = None, limit: int = 3) -> CursorPage[ArticleRead]:  # type: ignore[valid-type]
        order = (Article.score.desc(), Article.created_at)
        return await paginate_cursor(
            db, select(Article), order=order, cursor=cursor, limit=limit, key="k", schema=ArticleRead
        )

    @app.get("/orm")
    async def orm_rows(db: AsyncSession) -> Page[ArticleRead]:  # type: ignore[valid-type]
        return await paginate(db, select(Article).order_by(Article.id), limit=2)  # ORM objects, read by the schema

    @app.get("/cursor/titles")
    async def titles(db: AsyncSession, cursor: str | None = None) -> CursorPage[str]:
        return await paginate_cursor(db, select(Article.title), order=(Article.title,), cursor=cursor, limit=2)


async def test_offset_pages_count_the_rows(database_url: str) -> None:
    app, db = build(database_url, routes)
    async with AsyncTestClient(app) as client:
        await seed(db, TITLES)
        first = (await client.get("/offset")).json()
        assert [a["title"] for a in first["items"]] == ["t00", "t01", "t02"]
        assert (first["total"], first["limit"], first["offset"]) == (7, 3, 0)
        last = (await client.get("/offset", params={"offset": 6})).json()
        assert ([a["title"] for a in last["items"]], last["total"]) == (["t06"], 7)  # counted without a query
        beyond = (await client.get("/offset", params={"offset": 50})).json()
        assert (beyond["items"], beyond["total"]) == ([], 7)
        capped = (await client.get("/offset", params={"limit": 1000})).json()
        assert (capped["limit"], len(capped["items"])) == (5, 5)
        rows = (await client.get("/orm")).json()
        assert ([a["title"] for a in rows["items"]], rows["total"]) == (["t00", "t01"], 7)


async def test_offset_pages_of_an_empty_list(database_url: str) -> None:
    app, _ = build(database_url, routes)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/offset")).json() == {"items": [], "total": 0, "limit": 3, "offset": 0}


async def test_a_bad_window_is_a_422_naming_the_parameter(database_url: str) -> None:
    app, _ = build(database_url, routes)
    async with AsyncTestClient(app) as client:
        for params, name in (({"limit": 0}, "limit"), ({"offset": -1}, "offset"), ({"offset": 2**40}, "offset")):
            response = await client.get("/offset", params=params)
            assert response.status_code == 422
            assert response.json()["errors"][0]["loc"] == ["query", name]


async def test_paginate_gives_objects_values_or_dicts(database_url: str) -> None:
    app, db = build(database_url, routes)
    async with AsyncTestClient(app):
        await seed(db, TITLES[:3])
        async with AsyncSession(db.engine) as session:
            objects = await paginate(session, select(Article).order_by(Article.id), limit=2)
            assert [a.title for a in objects.items] == ["t00", "t01"]
            assert objects.total == 3
            values = await paginate(session, select(Article.title).order_by(Article.title.desc()), limit=5)
            assert values.items == ["t02", "t01", "t00"]
            rows = await paginate(session, select(Article.id, Article.title).order_by(Article.id), limit=1, offset=2)
            assert [row["title"] for row in rows.items] == ["t02"]
            with pytest.raises(ConfigurationError, match="does not select"):
                await paginate_cursor(session, select(Article.id), order=(Article.title,), limit=1)


async def test_cursor_pages_walk_every_row_once(database_url: str) -> None:
    app, db = build(database_url, routes)
    async with AsyncTestClient(app) as client:
        await seed(db, TITLES)
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            page = (await client.get("/cursor", params={"cursor": cursor} if cursor else {})).json()
            seen += [a["title"] for a in page["items"]]
            cursor = page["next"]
            if cursor is None:
                break
        # score descending (2, 1, 0), then created_at ascending, id last
        assert seen == ["t02", "t05", "t01", "t04", "t00", "t03", "t06"]


async def test_cursor_pages_of_plain_values(database_url: str) -> None:
    app, db = build(database_url, routes)
    async with AsyncTestClient(app) as client:
        await seed(db, TITLES[:3])
        first = (await client.get("/cursor/titles")).json()
        assert first["items"] == ["t00", "t01"]
        second = (await client.get("/cursor/titles", params={"cursor": first["next"]})).json()
        assert (second["items"], second["next"]) == (["t02"], None)


async def test_a_bad_cursor_is_a_400(database_url: str) -> None:
    app, db = build(database_url, routes)
    async with AsyncTestClient(app) as client:
        await seed(db, TITLES)
        good = (await client.get("/cursor")).json()["next"]
        payload, _, signature = good.partition(".")
        other = (await client.get("/cursor/titles")).json()["next"]
        forged = encode_cursor(order_keys((Article.score.desc(), Article.created_at), select(Article)), ["x", 1], "k")
        bad = {
            "garbage": "not a cursor",
            "unsigned": payload,
            "tampered": payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature,
            "not base64": "%%%." + signature,
            "other ordering": other,
            "wrong types": forged,
            "too long": "a" * 3000,
        }
        for reason, cursor in bad.items():
            response = await client.get("/cursor", params={"cursor": cursor})
            assert response.status_code == 400, reason
            assert "The cursor is not valid" in response.json()["detail"], reason


class Opaque(TypeEngine[Any]):
    """A column type with no Python type."""


class Refusing(TypeEngine[Any]):
    @property
    def python_type(self) -> type[Any]:
        raise NotImplementedError


def test_cursors_round_trip_and_are_checked() -> None:
    keys = (OrderKey(Column("id", Integer), "id", False, int),)
    assert decode_cursor(encode_cursor(keys, [5]), keys) == (5,)
    with pytest.raises(HTTPException, match="signature does not match"):
        decode_cursor(encode_cursor(keys, [5]), keys, key="k")
    with pytest.raises(HTTPException, match="does not hold a position"):
        decode_cursor(encode_cursor(keys, ["five"]), keys)
    with pytest.raises(HTTPException, match="not base64"):
        decode_cursor("a", keys)
    other = (OrderKey(Column("rank", Integer), "rank", True, int),)
    with pytest.raises(HTTPException, match="made for another ordering"):
        decode_cursor(encode_cursor(keys, [5]), other)
    assert python_type(Opaque()) is None
    assert python_type(Refusing()) is None
    assert python_type(UTCDateTime()) is datetime


def test_cursor_orderings_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="nullable"):
        order_keys((Article.body,))
    with pytest.raises(ConfigurationError, match="needs an order"):
        order_keys((), select(Article.title))
    with pytest.raises(ConfigurationError, match="Cannot order a cursor"):
        order_keys(("title",))
    keys = order_keys((Article.created_at.desc(),), select(Article))
    assert [(k.name, k.descending) for k in keys] == [("created_at", True), ("id", False)]
    assert order_keys((Article.body,), allow_nullable=True)[0].name == "body"


async def test_paginate_refuses_a_bad_window_directly() -> None:
    with pytest.raises(RequestValidationError):
        await paginate(None, select(Article), limit=0)  # type: ignore[call-overload]


def test_pages_encode_as_documented() -> None:
    page = Page(items=[1], total=1, limit=10, offset=0)
    assert msgspec.json.decode(msgspec.json.encode(page)) == {"items": [1], "total": 1, "limit": 10, "offset": 0}
