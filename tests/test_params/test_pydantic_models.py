"""A pydantic model works wherever a msgspec Struct works: merged bodies, embed, parameter models."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pydantic
from pydantic import BaseModel

from plait import Body, Cookie, Header, Plait, Query
from tests.support import call


class Item(BaseModel):
    name: str
    price: float


class User(BaseModel):
    username: str


class FilterParams(BaseModel):
    model_config = {"extra": "forbid"}

    limit: int = 100
    tags: list[str] = []


class LooseFilter(BaseModel):
    limit: int = 100


class StrictStruct(msgspec.Struct, forbid_unknown_fields=True):
    limit: int = 100
    order: str = "asc"


class Headers(BaseModel):
    model_config = {"extra": "forbid"}

    host: str
    x_token: str


class Cookies(BaseModel):
    session_id: str
    tracker: str | None = None


class AliasedFilter(BaseModel):
    page_size: int = pydantic.Field(10, alias="pageSize")


def test_several_pydantic_body_parameters_share_one_object() -> None:
    app = Plait()

    @app.put("/items/{item_id}")
    def update(item_id: int, item: Item, user: User, importance: Annotated[int, Body()] = 1) -> dict[str, Any]:
        return {"id": item_id, "item": item.name, "user": user.username, "importance": importance}

    body = {"item": {"name": "pen", "price": 1.5}, "user": {"username": "ann"}, "importance": 5}
    assert call(app, "PUT", "/items/1", json=body).json() == {"id": 1, "item": "pen", "user": "ann", "importance": 5}
    bad = call(app, "PUT", "/items/1", json={"item": {"name": "pen", "price": "x"}})
    assert bad.status_code == 422
    assert [(e["loc"], e["type"]) for e in bad.json()["errors"]] == [
        (["body", "item", "price"], "float_parsing"),
        (["body", "user"], "missing"),
    ]


def test_body_embed_wraps_a_single_pydantic_model() -> None:
    app = Plait()

    @app.post("/items")
    def create(item: Annotated[Item, Body(embed=True)]) -> str:
        return item.name

    assert call(app, "POST", "/items", json={"item": {"name": "pen", "price": 1}}).text == "pen"
    assert call(app, "POST", "/items", json={"name": "pen", "price": 1}).json()["errors"][0]["loc"] == ["body", "item"]


def test_merged_pydantic_bodies_with_defaults_accept_no_body() -> None:
    app = Plait()

    @app.post("/")
    def create(user: User | None = None, note: Annotated[str, Body()] = "none") -> list[Any]:
        return [user, note]

    assert call(app, "POST", "/").json() == [None, "none"]


def test_query_model_forbidding_extra_names_the_unknown_key() -> None:
    app = Plait()

    @app.get("/items")
    def items(filters: Annotated[FilterParams, Query()]) -> dict[str, Any]:
        return filters.model_dump()

    assert call(app, "GET", "/items?limit=5&tags=a&tags=b").json() == {"limit": 5, "tags": ["a", "b"]}
    bad = call(app, "GET", "/items?limit=5&tool=plumbus")
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"loc": ["query", "tool"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
    ]


def test_query_model_without_forbid_ignores_unknown_keys() -> None:
    app = Plait()

    @app.get("/items")
    def items(filters: Annotated[LooseFilter, Query()]) -> int:
        return filters.limit

    assert call(app, "GET", "/items?limit=5&tool=x").json() == 5


def test_struct_query_model_with_forbid_unknown_fields() -> None:
    app = Plait()

    @app.get("/items")
    def items(filters: Annotated[StrictStruct, Query()]) -> list[Any]:
        return [filters.limit, filters.order]

    assert call(app, "GET", "/items?limit=3").json() == [3, "asc"]
    errors = call(app, "GET", "/items?limit=x&tool=plumbus").json()["errors"]
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["query", "limit"], "type_error"),
        (["query", "tool"], "extra_forbidden"),
    ]


def test_header_model_forbidding_extra() -> None:
    app = Plait()

    @app.get("/")
    def read(headers: Annotated[Headers, Header()]) -> str:
        return headers.x_token

    # The test client sends its usual headers (accept, user-agent, ...): a forbidding model refuses them.
    refused = call(app, "GET", "/", headers={"x-token": "t"}).json()["errors"]
    assert ["header", "user-agent"] in [e["loc"] for e in refused]


def test_cookie_parameter_model() -> None:
    app = Plait()

    @app.get("/")
    def read(cookies: Annotated[Cookies, Cookie()]) -> list[Any]:
        return [cookies.session_id, cookies.tracker]

    assert call(app, "GET", "/", headers={"cookie": "session_id=s1; tracker=t"}).json() == ["s1", "t"]
    missing = call(app, "GET", "/").json()["errors"]
    assert missing[0]["loc"] == ["cookie", "session_id"]


def test_pydantic_aliases_name_the_query_keys() -> None:
    app = Plait()

    @app.get("/")
    def read(filters: Annotated[AliasedFilter, Query()]) -> int:
        return filters.page_size

    assert call(app, "GET", "/?pageSize=3").json() == 3


def test_openapi_documents_merged_pydantic_body_and_cookie_model() -> None:
    app = Plait()

    @app.post("/items")
    def create(item: Item, user: User) -> str:
        return item.name

    @app.get("/me")
    def me(cookies: Annotated[Cookies, Cookie()]) -> str:
        return cookies.session_id

    document = call(app, "GET", "/openapi.json").json()
    assert document["paths"]["/items"]["post"]["requestBody"]["required"] is True
    names = [(p["name"], p["in"]) for p in document["paths"]["/me"]["get"]["parameters"]]
    assert names == [("session_id", "cookie"), ("tracker", "cookie")]
