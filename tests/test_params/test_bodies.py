"""JSON bodies decoded straight into annotated types, with every error reported."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, TypedDict

import msgspec
import pydantic
import pytest

from plait import Body, ConfigurationError, Plait, Request, Settings
from tests.support import call


def make_app(**settings: int) -> Plait:
    return Plait(settings=Settings(**settings))  # type: ignore[arg-type]


class Item(msgspec.Struct):
    name: str
    price: Annotated[int, msgspec.Meta(ge=0)]


class Order(msgspec.Struct):
    items: list[Item]
    note: str = ""


@dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class User(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)


def test_struct_body_roundtrip_and_status() -> None:
    app = make_app()

    @app.post("/orders", status_code=201)
    def create(order: Order) -> Order:
        return order

    response = call(app, "POST", "/orders", json={"items": [{"name": "a", "price": 1}]})
    assert response.status_code == 201
    assert response.json() == {"items": [{"name": "a", "price": 1}], "note": ""}


def test_every_body_error_with_its_location() -> None:
    app = make_app()

    @app.post("/orders")
    def create(order: Order) -> Order:
        return order

    payload = {"items": [{"name": "ok", "price": 1}, {"name": "neg", "price": -1}, {"price": "x"}]}
    errors = call(app, "POST", "/orders", json=payload).json()["errors"]
    locs = [tuple(e["loc"]) for e in errors]
    assert ("body", "items", 1, "price") in locs
    assert ("body", "items", 2, "name") in locs
    assert ("body", "items", 2, "price") in locs
    assert len(errors) == 3


def test_dataclass_typeddict_list_and_dict_bodies() -> None:
    app = make_app()
    app.post("/point")(lambda p: {"sum": p.x + p.y})
    app.routes[-1].endpoint.__annotations__.update({"p": Point, "return": dict[str, int]})

    @app.post("/movie")
    def movie(m: Movie) -> Movie:
        return m

    @app.post("/numbers")
    def numbers(values: list[int]) -> dict[str, int]:
        return {"total": sum(values)}

    @app.post("/scores")
    def scores(data: dict[str, float]) -> dict[str, float]:
        return {"max": max(data.values())}

    assert call(app, "POST", "/point", json={"x": 1, "y": 2}).json() == {"sum": 3}
    assert call(app, "POST", "/movie", json={"title": "M", "year": 1999}).json() == {"title": "M", "year": 1999}
    assert call(app, "POST", "/numbers", json=[1, 2, 3]).json() == {"total": 6}
    assert call(app, "POST", "/scores", json={"a": 1.5, "b": 2}).json() == {"max": 2.0}
    assert call(app, "POST", "/movie", json={"title": 1}).json()["errors"][0]["loc"] == ["body", "title"]


def test_pydantic_body_and_errors() -> None:
    app = make_app()

    @app.post("/users")
    def create(user: User) -> User:
        return user

    assert call(app, "POST", "/users", json={"name": "a", "age": 3}).json() == {"name": "a", "age": 3}
    errors = call(app, "POST", "/users", json={"age": -1}).json()["errors"]
    assert {tuple(e["loc"]) for e in errors} == {("body", "name"), ("body", "age")}
    bad = call(app, "POST", "/users", content=b"{", headers={"content-type": "application/json"})
    assert bad.status_code == 400


def test_malformed_json_is_400_and_wrong_type_415() -> None:
    app = make_app()

    @app.post("/")
    def create(order: Order) -> Order:
        return order

    malformed = call(app, "POST", "/", content=b'{"items": [', headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert "not valid JSON" in malformed.json()["detail"]
    plain = call(app, "POST", "/", content=b'{"items": []}', headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    missing_type = call(app, "POST", "/", content=b'{"items": []}')
    assert missing_type.status_code == 415
    vendor = call(app, "POST", "/", content=b'{"items": []}', headers={"content-type": "application/vnd.a+json"})
    assert vendor.status_code == 200


def test_missing_body_required_and_optional() -> None:
    app = make_app()

    @app.post("/required")
    def required(order: Order) -> Order:
        return order

    @app.post("/optional")
    def optional(order: Order | None = None) -> dict[str, bool]:
        return {"given": order is not None}

    response = call(app, "POST", "/required")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body"]
    assert call(app, "POST", "/optional").json() == {"given": False}


def test_several_body_parameters_are_members_of_one_object() -> None:
    app = make_app()

    @app.post("/")
    def create(item: Item, point: Point, note: Annotated[str, Body()] = "none") -> dict[str, object]:
        return {"item": item.name, "x": point.x, "note": note}

    payload = {"item": {"name": "a", "price": 1}, "point": {"x": 1, "y": 2}}
    assert call(app, "POST", "/", json=payload).json() == {"item": "a", "x": 1, "note": "none"}
    errors = call(app, "POST", "/", json={"item": {"name": "a", "price": -5}}).json()["errors"]
    assert {tuple(e["loc"]) for e in errors} == {("body", "item", "price"), ("body", "point")}


def test_embed_single_body_and_alias() -> None:
    app = make_app()

    @app.post("/")
    def create(item: Annotated[Item, Body(embed=True, alias="the-item")]) -> dict[str, str]:
        return {"name": item.name}

    assert call(app, "POST", "/", json={"the-item": {"name": "z", "price": 0}}).json() == {"name": "z"}


def test_pydantic_and_struct_cannot_share_a_body() -> None:
    app = make_app()

    @app.post("/")
    def create(a: User, b: Item) -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="make them all pydantic models"):
        app.build()


def test_body_limit_by_content_length_and_stream() -> None:
    app = make_app(max_body_size=10)

    @app.post("/")
    def create(values: list[int]) -> int:
        return len(values)

    declared = call(app, "POST", "/", content=b"[1,2,3,4,5,6,7]", headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert "max_body_size" in declared.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:
        yield b"[1,2,3,"
        yield b"4,5,6,7]"

    streamed = call(app, "POST", "/", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_json_depth_limit() -> None:
    app = make_app(max_json_depth=5)

    @app.post("/")
    def create(data: list[object]) -> int:
        return 1

    deep = b"[" * 50 + b"]" * 50
    response = call(app, "POST", "/", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    strings = b'["[[[[[[[[[[[[[[[["]'
    assert call(app, "POST", "/", content=strings, headers={"content-type": "application/json"}).status_code == 200


class Public(msgspec.Struct):
    name: str


class Account:
    def __init__(self) -> None:
        self.name = "ann"
        self.password = "secret"


def test_output_is_filtered_to_declared_type() -> None:
    app = make_app()

    @app.get("/me")
    def me() -> Public:
        return Account()  # type: ignore[return-value]

    @app.get("/dict")
    def as_dict() -> Public:
        return {"name": "bo", "password": "x"}  # type: ignore[return-value]

    assert call(app, "GET", "/me").json() == {"name": "ann"}
    assert call(app, "GET", "/dict").json() == {"name": "bo"}


def test_pydantic_return_is_serialised() -> None:
    app = make_app()

    @app.get("/")
    def get() -> list[User]:
        return [User(name="a", age=1)]

    @app.get("/untyped")
    def untyped():  # type: ignore[no-untyped-def]
        return {"user": User(name="b", age=2)}

    assert call(app, "GET", "/").json() == [{"name": "a", "age": 1}]
    assert call(app, "GET", "/untyped").json() == {"user": {"name": "b", "age": 2}}


class Names(msgspec.Struct):
    names: list[str]


def test_error_list_is_capped() -> None:
    app = make_app()

    @app.post("/")
    def create(data: Names) -> int:
        return len(data.names)

    response = call(app, "POST", "/", json={"names": [1] * 10_000})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert len(errors) == 50
    assert errors[0]["loc"] == ["body", "names", 0]


def test_invalid_utf8_inside_json_is_400() -> None:
    app = make_app()

    @app.post("/typed")
    def typed(item: Item) -> Item:
        return item

    @app.post("/raw")
    async def raw(request: Request) -> object:
        return await request.json()

    headers = {"content-type": "application/json"}
    assert call(app, "POST", "/typed", content=b'{"name":"\xff","price":1}', headers=headers).status_code == 400
    assert call(app, "POST", "/typed", content=b'{"name":1,"price":1,"x":"\xff"}', headers=headers).status_code == 400
    assert call(app, "POST", "/raw", content=b'{"a":"\xff"}', headers=headers).status_code == 400


class Circle(msgspec.Struct, tag="circle"):
    radius: float


class Square(msgspec.Struct, tag="square"):
    side: float


def test_union_of_models_is_a_body() -> None:
    app = make_app()

    @app.post("/area")
    def area(shape: Circle | Square) -> dict[str, float]:
        return {"area": 3.0 * shape.radius**2 if isinstance(shape, Circle) else shape.side**2}

    assert call(app, "POST", "/area", json={"type": "square", "side": 2}).json() == {"area": 4.0}
    assert call(app, "POST", "/area", json={"type": "circle", "radius": 1}).json() == {"area": 3.0}
    assert call(app, "POST", "/area", json={"type": "hexagon"}).status_code == 422
