"""Results read "from attributes": ORM-like objects returned to a declared Struct, list or page envelope."""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypeVar

import msgspec
import pytest

from plait import Plait
from plait.codec.bodies import build_encoder, loosen
from plait.testing import TestClient

T = TypeVar("T")


class Item(msgspec.Struct):
    id: int
    name: str


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int


class CamelPage(msgspec.Struct, Generic[T], rename="camel"):
    page_items: list[T]


@dataclasses.dataclass
class Envelope(Generic[T]):
    data: T


class Loose(msgspec.Struct):
    anything: Any


class Row:
    """An ORM row: the declared attributes, and one that must never be sent."""

    def __init__(self, id: int, name: str) -> None:
        self.id = id
        self.name = name
        self.password_hash = "secret"


def test_a_page_envelope_of_rows_is_read_from_their_attributes() -> None:
    encode = build_encoder(Page[Item])
    assert encode(Page(items=[Row(1, "a"), Row(2, "b")], total=2)) == (
        b'{"items":[{"id":1,"name":"a"},{"id":2,"name":"b"}],"total":2}'
    )


def test_rows_in_lists_and_alone() -> None:
    assert build_encoder(list[Item])([Row(1, "a")]) == b'[{"id":1,"name":"a"}]'
    assert build_encoder(Item)(Row(1, "a")) == b'{"id":1,"name":"a"}'


def test_renamed_fields_and_dataclass_envelopes() -> None:
    assert build_encoder(CamelPage[Item])(CamelPage([Row(1, "a")])) == b'{"pageItems":[{"id":1,"name":"a"}]}'
    assert build_encoder(Envelope[Item])(Envelope(Row(3, "c"))) == b'{"data":{"id":3,"name":"c"}}'


def test_a_value_of_the_declared_type_skips_the_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    encode = build_encoder(Item)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("converted a value that was already an Item")

    monkeypatch.setattr(msgspec, "convert", refuse)
    assert encode(Item(1, "a")) == b'{"id":1,"name":"a"}'


def test_an_object_that_fits_nothing_keeps_the_explanation() -> None:
    with pytest.raises(NotImplementedError, match="Plait cannot encode a object as JSON"):
        build_encoder(Loose)(Loose(object()))


def test_a_row_missing_a_field_is_a_validation_error() -> None:
    class Half:
        id = 1

    with pytest.raises(msgspec.ValidationError, match="missing required field `name`"):
        build_encoder(Page[Item])(Page(items=[Half()], total=1))


def test_loosen_keeps_other_values() -> None:
    row = Row(1, "a")
    assert loosen({"rows": (row,)}) == {"rows": [row]}
    assert loosen(Item) is Item  # a class, not an instance


def test_handlers_return_rows_for_declared_envelopes() -> None:
    app = Plait()

    @app.get("/page")
    def page() -> Page[Item]:
        return Page(items=[Row(1, "a")], total=1)  # type: ignore[list-item]

    @app.get("/model", response_model=Page[Item])
    async def model() -> Any:
        return Page(items=[Row(2, "b")], total=1)

    with TestClient(app) as client:
        assert client.get("/page").json() == {"items": [{"id": 1, "name": "a"}], "total": 1}
        assert client.get("/model").json() == {"items": [{"id": 2, "name": "b"}], "total": 1}
