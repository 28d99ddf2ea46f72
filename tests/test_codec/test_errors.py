"""Tests for ``plait.codec.errors``."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Annotated, Any, NotRequired, Required, TypedDict

import msgspec
import pytest

from plait.codec.errors import _fields, collect_errors, error_from_message, parse_message
from plait.exceptions import ErrorDetail

Positive = Annotated[float, msgspec.Meta(gt=0)]


class Price(msgspec.Struct):
    amount: Positive
    currency: str = "EUR"


class LineItem(msgspec.Struct):
    sku: str
    price: Positive
    quantity: int = 1


class Order(msgspec.Struct):
    id: int
    items: list[LineItem]
    note: str | None = None


class Renamed(msgspec.Struct, rename="camel"):
    first_name: str
    last_name: str


@dataclasses.dataclass
class Address:
    street: str
    number: int
    tags: list[str] = dataclasses.field(default_factory=list)
    floor: int | None = None


@dataclasses.dataclass
class Person:
    name: str
    address: Address


class Movie(TypedDict):
    title: str
    year: int


# The functional form evaluates Required/NotRequired now; in the class form this module's
# postponed annotations would hide them from Python's TypedDict machinery.
Draft = TypedDict("Draft", {"title": Required[str], "pages": int}, total=False)  # noqa: UP013
Poster = TypedDict("Poster", {"title": str, "width": NotRequired[Annotated[int, msgspec.Meta(ge=1)]]})  # noqa: UP013


def errors(value: Any, tp: Any, prefix: tuple[str | int, ...] = ("body",)) -> list[ErrorDetail]:
    return collect_errors(value, tp, prefix)


# --- parse_message ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "text", "loc"),
    [
        ("Expected `int`, got `str`", "Expected `int`, got `str`", ()),
        ("Expected `int`, got `str` - at `$`", "Expected `int`, got `str`", ()),
        ("Expected `int`, got `str` - at `$.a`", "Expected `int`, got `str`", ("a",)),
        ("Expected `int`, got `str` - at `$[3]`", "Expected `int`, got `str`", (3,)),
        ("Expected `int`, got `str` - at `$.items[2].price`", "Expected `int`, got `str`", ("items", 2, "price")),
        ("Expected `int`, got `str` - at `$[0][1].a_b`", "Expected `int`, got `str`", (0, 1, "a_b")),
        ("Expected `int`, got `str` - at `$.counts[...]`", "Expected `int`, got `str`", ("counts",)),
        ("Expected `int`, got `str` - at `key` in `$`", "Expected `int`, got `str`", ()),
        ("Object missing required field `x` - at `$.a`", "Object missing required field `x`", ("a",)),
    ],
)
def test_parse_message(message: str, text: str, loc: tuple[str | int, ...]) -> None:
    assert parse_message(message) == (text, loc)


def test_parse_message_uses_the_last_location_marker() -> None:
    text, loc = parse_message("Invalid value ' - at `x`' - at `$.a`")
    assert text == "Invalid value ' - at `x`'"
    assert loc == ("a",)


def test_parse_message_of_real_msgspec_error() -> None:
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.json.decode(b'{"id": 1, "items": [{"sku": "a", "price": 1}, {"sku": "b", "price": -2}]}', type=Order)
    assert parse_message(str(info.value)) == ("Expected `float` > 0.0", ("items", 1, "price"))


# --- error_from_message -----------------------------------------------------------------------


def test_error_from_message_type_error() -> None:
    detail = error_from_message("Expected `int`, got `str` - at `$.a[1]`", ("body",))
    assert detail == ErrorDetail(("body", "a", 1), "Expected 'int', got 'str'", "type_error")


def test_error_from_message_value_error() -> None:
    detail = error_from_message("Expected `int` >= 0 - at `$.n`", ("query",))
    assert detail == ErrorDetail(("query", "n"), "Expected 'int' >= 0", "value_error")


def test_error_from_message_missing_field_is_located_at_the_field() -> None:
    detail = error_from_message("Object missing required field `name` - at `$.user`", ("body",))
    assert detail == ErrorDetail(("body", "user", "name"), "Field required", "missing")


def test_error_from_message_without_prefix_or_location() -> None:
    assert error_from_message("Object missing required field `a`") == ErrorDetail(("a",), "Field required", "missing")
    assert error_from_message("Invalid UUID") == ErrorDetail((), "Invalid UUID", "value_error")


def test_error_from_message_expected_without_got_is_a_value_error() -> None:
    assert error_from_message("Expected `str` of length <= 3").type == "value_error"


# --- collect_errors: success ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "tp"),
    [
        ({"id": 1, "items": []}, Order),
        ({"street": "Main", "number": 1}, Address),
        ({"title": "Up", "year": 2009}, Movie),
        ({"title": "x"}, Draft),
        ([1, 2, 3], list[int]),
        ({"1": 2}, dict[int, int]),
        ("2024-01-02T03:04:05Z", datetime.datetime),
        ("12345678-1234-5678-1234-567812345678", uuid.UUID),
        (None, int | None),
    ],
)
def test_collect_errors_empty_when_value_converts(value: Any, tp: Any) -> None:
    assert errors(value, tp) == []


# --- collect_errors: every error with its location --------------------------------------------


def test_collects_every_error_in_a_struct() -> None:
    value = {
        "id": "seven",
        "items": [
            {"sku": "a", "price": 1.5},
            {"sku": 2, "price": 3},
            {"sku": "c", "price": -1, "quantity": "many"},
            {"price": 2},
        ],
    }
    assert errors(value, Order) == [
        ErrorDetail(("body", "id"), "Expected 'int', got 'str'", "type_error"),
        ErrorDetail(("body", "items", 1, "sku"), "Expected 'str', got 'int'", "type_error"),
        ErrorDetail(("body", "items", 2, "price"), "Expected 'float' > 0.0", "value_error"),
        ErrorDetail(("body", "items", 2, "quantity"), "Expected 'int', got 'str'", "type_error"),
        ErrorDetail(("body", "items", 3, "sku"), "Field required", "missing"),
    ]


def test_missing_required_fields_but_not_optional_ones() -> None:
    assert errors({}, Order) == [
        ErrorDetail(("body", "id"), "Field required", "missing"),
        ErrorDetail(("body", "items"), "Field required", "missing"),
    ]


def test_struct_fields_reported_by_their_encoded_names() -> None:
    assert errors({"firstName": 1}, Renamed) == [
        ErrorDetail(("body", "firstName"), "Expected 'str', got 'int'", "type_error"),
        ErrorDetail(("body", "lastName"), "Field required", "missing"),
    ]


def test_dataclasses_nested() -> None:
    value = {"name": 5, "address": {"street": "Main", "number": "x", "tags": ["a", 1], "floor": "2"}}
    assert errors(value, Person) == [
        ErrorDetail(("body", "name"), "Expected 'str', got 'int'", "type_error"),
        ErrorDetail(("body", "address", "number"), "Expected 'int', got 'str'", "type_error"),
        ErrorDetail(("body", "address", "tags", 1), "Expected 'str', got 'int'", "type_error"),
        ErrorDetail(("body", "address", "floor"), "Expected 'int | null', got 'str'", "type_error"),
    ]


def test_dataclass_missing_fields_respect_defaults_and_factories() -> None:
    assert errors({}, Address) == [
        ErrorDetail(("body", "street"), "Field required", "missing"),
        ErrorDetail(("body", "number"), "Field required", "missing"),
    ]


def test_typeddict_errors() -> None:
    assert errors({"year": "1999"}, Movie) == [
        ErrorDetail(("body", "title"), "Field required", "missing"),
        ErrorDetail(("body", "year"), "Expected 'int', got 'str'", "type_error"),
    ]


def test_typeddict_required_and_not_required_keys() -> None:
    assert errors({"pages": "ten"}, Draft) == [
        ErrorDetail(("body", "title"), "Field required", "missing"),
        ErrorDetail(("body", "pages"), "Expected 'int', got 'str'", "type_error"),
    ]
    assert errors({"title": 1, "width": 0}, Poster) == [
        ErrorDetail(("body", "title"), "Expected 'str', got 'int'", "type_error"),
        ErrorDetail(("body", "width"), "Expected 'int' >= 1", "value_error"),
    ]


def test_list_of_models_with_optional_wrapper() -> None:
    assert errors([{"amount": 1}, {"amount": 0}, None], list[Price] | None) == [
        ErrorDetail(("body", 1, "amount"), "Expected 'float' > 0.0", "value_error"),
        ErrorDetail(("body", 2), "Expected 'object', got 'null'", "type_error"),
    ]


def test_set_and_frozenset_items_located_by_index() -> None:
    assert errors([1, "b"], set[int]) == [ErrorDetail(("body", 1), "Expected 'int', got 'str'", "type_error")]
    assert errors(["a", 2], frozenset[str]) == [ErrorDetail(("body", 1), "Expected 'str', got 'int'", "type_error")]


def test_dict_values_located_by_key() -> None:
    value = {"a": {"amount": 1}, "b": {"amount": "x"}, "c": {}}
    assert errors(value, dict[str, Price]) == [
        ErrorDetail(("body", "b", "amount"), "Expected 'float', got 'str'", "type_error"),
        ErrorDetail(("body", "c", "amount"), "Field required", "missing"),
    ]


def test_dict_with_bad_key_reported_at_the_dict() -> None:
    assert errors({"x": 1}, dict[int, int]) == [ErrorDetail(("body",), "Expected 'int', got 'str'", "type_error")]


def test_string_keys_for_int_keyed_dicts_are_not_errors() -> None:
    class Counts(msgspec.Struct):
        counts: dict[int, int]
        name: str

    assert errors({"counts": {"1": 2}, "name": 5}, Counts) == [
        ErrorDetail(("body", "name"), "Expected 'str', got 'int'", "type_error")
    ]


def test_annotated_constraints_checked() -> None:
    assert errors([1, -1], list[Annotated[int, msgspec.Meta(ge=0)]]) == [
        ErrorDetail(("body", 1), "Expected 'int' >= 0", "value_error")
    ]


def test_wrong_container_kind_falls_back_to_the_message() -> None:
    assert errors("nope", Order) == [ErrorDetail(("body",), "Expected 'object', got 'str'", "type_error")]
    assert errors({"a": 1}, list[int]) == [ErrorDetail(("body",), "Expected 'array', got 'object'", "type_error")]
    assert errors([1], dict[str, int]) == [ErrorDetail(("body",), "Expected 'object', got 'array'", "type_error")]


def test_types_without_a_walk_fall_back_to_the_message() -> None:
    assert errors([1, "x"], tuple[int, ...]) == [ErrorDetail(("body", 1), "Expected 'int', got 'str'", "type_error")]
    assert errors("x", int) == [ErrorDetail(("body",), "Expected 'int', got 'str'", "type_error")]


def test_unknown_fields_reported_when_nothing_else_is_wrong() -> None:
    class Strict(msgspec.Struct, forbid_unknown_fields=True):
        a: int

    unknown = "Unknown field; remove it or check its spelling"
    assert errors({"a": 1, "b": 2}, Strict) == [ErrorDetail(("body", "b"), unknown, "extra_forbidden")]
    assert errors({"a": "x", "b": 2, "c": 3}, Strict) == [
        ErrorDetail(("body", "a"), "Expected 'int', got 'str'", "type_error"),
        ErrorDetail(("body", "b"), unknown, "extra_forbidden"),
        ErrorDetail(("body", "c"), unknown, "extra_forbidden"),
    ]


def test_strict_false_accepts_strings_for_numbers() -> None:
    class Query(msgspec.Struct):
        page: int
        active: bool
        size: int

    value = {"page": "2", "active": "true", "size": "big"}
    assert collect_errors(value, Query, ("query",), strict=False) == [
        ErrorDetail(("query", "size"), "Expected 'int', got 'str'", "type_error")
    ]
    assert len(collect_errors(value, Query, ("query",))) == 3


def test_empty_prefix() -> None:
    assert collect_errors({"id": 1}, Order, ()) == [ErrorDetail(("items",), "Field required", "missing")]


# --- _fields ----------------------------------------------------------------------------------


def test_fields_of_each_model_kind() -> None:
    assert _fields(Renamed) == {"firstName": (str, True), "lastName": (str, True)}
    assert _fields(Address) == {
        "street": (str, True),
        "number": (int, True),
        "tags": (list[str], False),
        "floor": (int | None, False),
    }
    assert _fields(Draft) == {"title": (str, True), "pages": (int, False)}
    assert _fields(Poster) == {"title": (str, True), "width": (Annotated[int, msgspec.Meta(ge=1)], False)}


@pytest.mark.parametrize("tp", [int, dict, list[int], Order | None, "Order", Any])
def test_fields_of_non_models_is_none(tp: Any) -> None:
    assert _fields(tp) is None
