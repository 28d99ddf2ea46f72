"""Tests for ``plait.codec.bodies``."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic
import pytest

import plait.codec
from plait.codec import bodies
from plait.codec.bodies import build_decoder, build_encoder, convert_value
from plait.exceptions import ErrorDetail, HTTPException, RequestValidationError


class Item(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(gt=0)]
    tags: list[str] = []


class Order(msgspec.Struct):
    id: int
    items: list[Item]


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class User(pydantic.BaseModel):
    id: int
    name: str


class Team(pydantic.BaseModel):
    members: list[User]


class Admin(User):
    password: str


class Row:
    """An ORM-like object: attributes, extra ones included."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


MALFORMED = "The request body is not valid JSON"


def validation_errors(call: Any, *args: Any) -> list[ErrorDetail]:
    with pytest.raises(RequestValidationError) as info:
        call(*args)
    assert info.value.status_code == 422
    return info.value.details


def test_package_exports() -> None:
    assert plait.codec.build_decoder is build_decoder
    assert plait.codec.build_encoder is build_encoder
    assert plait.codec.convert_value is convert_value
    assert set(plait.codec.__all__) >= {"build_decoder", "build_encoder", "check_depth", "convert_value"}


# --- build_decoder (msgspec) ------------------------------------------------------------------


def test_decodes_builtin_types() -> None:
    assert build_decoder(list[int])(b"[1, 2]") == [1, 2]
    assert build_decoder(dict[str, float])(b'{"a": 1.5}') == {"a": 1.5}
    assert build_decoder(Any)(b'{"a": [null, true]}') == {"a": [None, True]}


def test_decodes_models() -> None:
    order = build_decoder(Order)(b'{"id": 1, "items": [{"name": "pen", "price": 2.5}]}')
    assert order == Order(1, [Item("pen", 2.5)])
    assert build_decoder(Point)(b'{"x": 1, "y": 2}') == Point(1, 2)
    assert build_decoder(Movie)(b'{"title": "Up", "year": 2009}') == {"title": "Up", "year": 2009}


def test_decodes_rich_scalars_from_strings() -> None:
    class Event(msgspec.Struct):
        at: datetime.datetime
        key: uuid.UUID
        cost: decimal.Decimal

    event = build_decoder(Event)(
        b'{"at": "2024-01-02T03:04:05Z", "key": "%s", "cost": "1.10"}' % str(uuid.UUID(int=1)).encode()
    )
    assert event.at == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert event.key == uuid.UUID(int=1)
    assert event.cost == decimal.Decimal("1.10")


@pytest.mark.parametrize("data", [b"{", b'{"id": 1,', b"nope", b'{"id": 1}}', b"[1, 2", b"\xff"])
def test_malformed_json_is_400(data: bytes) -> None:
    with pytest.raises(HTTPException) as info:
        build_decoder(Order)(data)
    assert type(info.value) is HTTPException
    assert info.value.status_code == 400
    assert info.value.detail is not None
    assert info.value.detail.startswith(MALFORMED)


def test_wrong_type_then_malformed_is_still_400() -> None:
    # msgspec stops at the bad "id" first; the untyped re-read finds the broken tail.
    with pytest.raises(HTTPException) as info:
        build_decoder(Order)(b'{"id": "x", "items": [')
    assert type(info.value) is HTTPException
    assert info.value.status_code == 400


def test_unbalanced_closers_are_malformed_not_shallow() -> None:
    with pytest.raises(HTTPException) as info:
        build_decoder(Any, max_depth=3)(b"]" * 10 + b"[" * 10 + b"]" * 10)
    assert info.value.status_code == 400
    assert info.value.detail is not None
    assert info.value.detail.startswith(MALFORMED)


def test_too_deep_is_400_before_decoding() -> None:
    decode = build_decoder(Any, max_depth=3)
    assert decode(b"[[[1]]]") == [[[1]]]
    with pytest.raises(HTTPException, match="nested more than 3 levels deep") as info:
        decode(b"[[[[1]]]]")
    assert info.value.status_code == 400


def test_default_max_depth_is_64() -> None:
    decode = build_decoder(Any)
    assert decode(b"[" * 64 + b"]" * 64) is not None
    with pytest.raises(HTTPException, match="more than 64 levels"):
        decode(b"[" * 65 + b"]" * 65)


def test_every_error_reported_with_location() -> None:
    data = b'{"id": "one", "items": [{"name": "a", "price": 1}, {"name": 2, "price": 0}, {"price": 3}]}'
    assert validation_errors(build_decoder(Order), data) == [
        ErrorDetail(("body", "id"), "Expected 'int', got 'str'", "type_error"),
        ErrorDetail(("body", "items", 1, "name"), "Expected 'str', got 'int'", "type_error"),
        ErrorDetail(("body", "items", 1, "price"), "Expected 'float' > 0.0", "value_error"),
        ErrorDetail(("body", "items", 2, "name"), "Field required", "missing"),
    ]


def test_error_count_in_detail() -> None:
    with pytest.raises(RequestValidationError) as info:
        build_decoder(Point)(b'{"x": "a", "y": "b"}')
    assert info.value.detail == "2 fields are invalid"
    with pytest.raises(RequestValidationError) as info:
        build_decoder(Point)(b'{"x": 1}')
    assert info.value.detail == "1 field is invalid"
    assert info.value.details == [ErrorDetail(("body", "y"), "Field required", "missing")]


def test_custom_location_prefix() -> None:
    errors = validation_errors(build_decoder(list[int], loc=("body", "ids")), b'[1, "x"]')
    assert errors == [ErrorDetail(("body", "ids", 1), "Expected 'int', got 'str'", "type_error")]


def test_scalar_body_error_at_body() -> None:
    assert validation_errors(build_decoder(int), b'"x"') == [
        ErrorDetail(("body",), "Expected 'int', got 'str'", "type_error")
    ]


def test_falls_back_to_the_first_message_when_the_walk_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def nothing(value: Any, tp: Any, prefix: tuple[str | int, ...]) -> list[ErrorDetail]:
        return []

    monkeypatch.setattr(bodies, "collect_errors", nothing)
    assert validation_errors(build_decoder(Order), b'{"id": 1, "items": [{"name": "a", "price": -1}]}') == [
        ErrorDetail(("body", "items", 0, "price"), "Expected 'float' > 0.0", "value_error")
    ]


# --- build_decoder (pydantic) -----------------------------------------------------------------


def test_pydantic_decodes() -> None:
    assert build_decoder(User)(b'{"id": 1, "name": "Ann"}') == User(id=1, name="Ann")
    assert build_decoder(list[User])(b'[{"id": "2", "name": "Bob"}]') == [User(id=2, name="Bob")]
    assert build_decoder(User | None)(b"null") is None


def test_pydantic_errors_all_reported() -> None:
    errors = validation_errors(build_decoder(Team), b'{"members": [{"id": "x", "name": "a"}, {"id": 2}]}')
    assert [(e.loc, e.type) for e in errors] == [
        (("body", "members", 0, "id"), "int_parsing"),
        (("body", "members", 1, "name"), "missing"),
    ]
    assert errors[1].msg == "Field required"


def test_pydantic_custom_location() -> None:
    errors = validation_errors(build_decoder(User, loc=("payload",)), b'{"id": 1}')
    assert errors == [ErrorDetail(("payload", "name"), "Field required", "missing")]


@pytest.mark.parametrize("data", [b"{", b'{"id": 1', b"nope"])
def test_pydantic_malformed_is_400(data: bytes) -> None:
    with pytest.raises(HTTPException) as info:
        build_decoder(User)(data)
    assert type(info.value) is HTTPException
    assert info.value.status_code == 400
    assert info.value.detail is not None
    assert info.value.detail.startswith(MALFORMED)


def test_pydantic_depth_checked() -> None:
    class Tree(pydantic.BaseModel):
        data: Any

    decode = build_decoder(Tree, max_depth=2)
    assert decode(b'{"data": [1]}') == Tree(data=[1])
    with pytest.raises(HTTPException, match="more than 2 levels"):
        decode(b'{"data": [[1]]}')


# --- convert_value ----------------------------------------------------------------------------


def test_convert_value_is_lax_about_strings() -> None:
    class Query(msgspec.Struct):
        page: int
        active: bool
        since: datetime.date | None = None

    assert convert_value({"page": "2", "active": "true"}, Query, ("query",)) == Query(2, True)
    assert convert_value({"page": "1", "active": "0", "since": "2024-05-01"}, Query, ("query",)) == Query(
        1, False, datetime.date(2024, 5, 1)
    )


def test_convert_value_scalar() -> None:
    assert convert_value("7", int, ("query", "n")) == 7


def test_convert_value_reports_every_error() -> None:
    errors = validation_errors(convert_value, {"x": "a"}, Point, ("query",))
    assert errors == [
        ErrorDetail(("query", "x"), "Expected 'int', got 'str'", "type_error"),
        ErrorDetail(("query", "y"), "Field required", "missing"),
    ]


def test_convert_value_nested_errors() -> None:
    errors = validation_errors(convert_value, {"id": "1", "items": [{"name": "a", "price": "-1"}]}, Order, ("body",))
    assert errors == [ErrorDetail(("body", "items", 0, "price"), "Expected 'float' > 0.0", "value_error")]


def test_convert_value_scalar_error_at_location() -> None:
    assert validation_errors(convert_value, "x", int, ("query", "n")) == [
        ErrorDetail(("query", "n"), "Expected 'int', got 'str'", "type_error")
    ]


def test_convert_value_falls_back_to_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def nothing(value: Any, tp: Any, prefix: tuple[str | int, ...], *, strict: bool = True) -> list[ErrorDetail]:
        return []

    monkeypatch.setattr(bodies, "collect_errors", nothing)
    assert validation_errors(convert_value, {"x": "a", "y": 1}, Point, ("form",)) == [
        ErrorDetail(("form", "x"), "Expected 'int', got 'str'", "type_error")
    ]


def test_convert_value_pydantic() -> None:
    assert convert_value({"id": "3", "name": "Cy"}, User, ("query",)) == User(id=3, name="Cy")
    errors = validation_errors(convert_value, {"id": "x"}, User, ("query",))
    assert [(e.loc, e.type) for e in errors] == [(("query", "id"), "int_parsing"), (("query", "name"), "missing")]


# --- build_encoder ----------------------------------------------------------------------------


@pytest.mark.parametrize("tp", [Any, None, int, dict[str, int], list[str], str | None, Annotated[dict[str, Any], "x"]])
def test_plain_types_use_the_shared_encoder(tp: Any) -> None:
    assert build_encoder(tp) is bodies._plain_encode


def test_plain_encoder_encodes_builtins_and_models() -> None:
    encode = build_encoder(Any)
    assert encode({"a": [1, None]}) == b'{"a":[1,null]}'
    assert encode(Item("pen", 1.5)) == b'{"name":"pen","price":1.5,"tags":[]}'
    assert encode(Point(1, 2)) == b'{"x":1,"y":2}'
    assert encode(uuid.UUID(int=0)) == b'"00000000-0000-0000-0000-000000000000"'


def test_plain_encoder_dumps_pydantic_models() -> None:
    assert build_encoder(Any)({"user": User(id=1, name="Ann")}) == b'{"user":{"id":1,"name":"Ann"}}'


def test_plain_encoder_explains_unencodable_values() -> None:
    class Opaque:
        pass

    with pytest.raises(NotImplementedError, match=r"Plait cannot encode a Opaque as JSON; .*declare the return type"):
        build_encoder(Any)(Opaque())


def test_struct_encoder_filters_extra_keys() -> None:
    encode = build_encoder(Item)
    assert encode({"name": "pen", "price": 2, "secret": "x"}) == b'{"name":"pen","price":2.0,"tags":[]}'


def test_struct_encoder_fast_path_for_exact_type() -> None:
    item = Item("pen", 2.0, ["a"])
    assert build_encoder(Item)(item) == msgspec.json.encode(item)


def test_encoder_reads_attributes() -> None:
    encode = build_encoder(Point)
    assert encode(Row(x=1, y=2, password="hunter2")) == b'{"x":1,"y":2}'


def test_encoder_filters_subclass_instances() -> None:
    @dataclasses.dataclass
    class Point3(Point):
        z: int

    assert build_encoder(Point)(Point3(1, 2, 3)) == b'{"x":1,"y":2}'


def test_encoder_shapes_containers_of_models() -> None:
    assert build_encoder(list[Point])([Row(x=1, y=2, extra=0), {"x": 3, "y": 4, "extra": 0}]) == (
        b'[{"x":1,"y":2},{"x":3,"y":4}]'
    )
    assert build_encoder(dict[str, Movie])({"a": {"title": "Up", "year": 2009, "rating": 5}}) == (
        b'{"a":{"title":"Up","year":2009}}'
    )
    assert build_encoder(Point | None)(None) == b"null"
    assert build_encoder(Annotated[Point, "x"])(Row(x=0, y=0)) == b'{"x":0,"y":0}'


def test_typeddict_encoder_filters_dict_keys() -> None:
    assert build_encoder(Movie)({"title": "Up", "year": 2009, "budget": 1}) == b'{"title":"Up","year":2009}'


def test_encoder_raises_when_the_value_does_not_fit() -> None:
    with pytest.raises(msgspec.ValidationError, match="missing required field `y`"):
        build_encoder(Point)({"x": 1})


def test_pydantic_encoder_exact_instance() -> None:
    assert build_encoder(User)(User(id=1, name="Ann")) == b'{"id":1,"name":"Ann"}'


def test_pydantic_encoder_filters_subclass_instances() -> None:
    assert build_encoder(User)(Admin(id=1, name="Ann", password="pw")) == b'{"id":1,"name":"Ann"}'


def test_pydantic_encoder_filters_dicts() -> None:
    assert build_encoder(User)({"id": 1, "name": "Ann", "password": "pw"}) == b'{"id":1,"name":"Ann"}'


def test_pydantic_encoder_reads_attributes() -> None:
    assert build_encoder(User)(Row(id=2, name="Bob", password="pw")) == b'{"id":2,"name":"Bob"}'


def test_pydantic_encoder_for_containers() -> None:
    encode = build_encoder(list[User])
    assert encode([{"id": 1, "name": "a", "x": 0}, Admin(id=2, name="b", password="pw")]) == (
        b'[{"id":1,"name":"a"},{"id":2,"name":"b"}]'
    )
    assert build_encoder(User | None)(None) == b"null"


def test_pydantic_encoder_raises_when_the_value_does_not_fit() -> None:
    with pytest.raises(pydantic.ValidationError):
        build_encoder(User)({"id": "x"})
