"""Tests for ``plait.codec.types``."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import sys
import uuid
from typing import Annotated, Any, Literal, NamedTuple, Optional, TypedDict, Union

import msgspec
import pydantic
import pytest

from plait.codec import types as codec_types
from plait.codec.types import (
    describe,
    is_model_type,
    is_pydantic_model,
    is_pydantic_type,
    is_scalar_type,
    is_sequence_type,
    is_typeddict,
    is_union,
    strip_optional,
    unwrap_annotated,
)


class Item(msgspec.Struct):
    name: str


@dataclasses.dataclass
class Point:
    x: int


class Movie(TypedDict):
    title: str


class User(pydantic.BaseModel):
    id: int


class Pair(NamedTuple):
    a: int


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    LOW = 1


class Plain:
    pass


# --- unwrap_annotated / strip_optional / is_union ---------------------------------------------


def test_unwrap_annotated_splits_metadata() -> None:
    assert unwrap_annotated(Annotated[int, "a", 2]) == (int, ("a", 2))


def test_unwrap_annotated_flattens_nested() -> None:
    assert unwrap_annotated(Annotated[Annotated[int, "a"], "b"]) == (int, ("a", "b"))


@pytest.mark.parametrize("tp", [int, list[int], Optional[int], None, "int"])  # noqa: UP045
def test_unwrap_annotated_leaves_other_types(tp: Any) -> None:
    assert unwrap_annotated(tp) == (tp, ())


def test_unwrap_annotated_keeps_inner_generic() -> None:
    inner, meta = unwrap_annotated(Annotated[list[int], msgspec.Meta(min_length=1)])
    assert inner == list[int]
    assert meta == (msgspec.Meta(min_length=1),)


@pytest.mark.parametrize("tp", [int | str, Union[int, str], Optional[int], int | None])  # noqa: UP007, UP045
def test_is_union_true(tp: Any) -> None:
    assert is_union(tp)


@pytest.mark.parametrize("tp", [int, list[int], Literal["a", "b"], Annotated[int, "x"], None])
def test_is_union_false(tp: Any) -> None:
    assert not is_union(tp)


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (int | None, int),
        (Optional[str], str),  # noqa: UP045
        (Union[None, bytes], bytes),  # noqa: UP007
        (int | str | None, Union[int, str]),  # noqa: UP007
        (Optional[int | str], Union[int, str]),  # noqa: UP007, UP045
    ],
)
def test_strip_optional_removes_none(tp: Any, expected: Any) -> None:
    assert strip_optional(tp) == (expected, True)


@pytest.mark.parametrize("tp", [int, int | str, list[int | None], None, Annotated[int | None, "x"]])
def test_strip_optional_leaves_non_optional(tp: Any) -> None:
    assert strip_optional(tp) == (tp, False)


# --- model detection --------------------------------------------------------------------------


def test_is_typeddict() -> None:
    assert is_typeddict(Movie)
    assert not is_typeddict(dict)
    assert not is_typeddict(Point)
    assert not is_typeddict(Movie | None)


def test_is_pydantic_model() -> None:
    assert is_pydantic_model(User)
    assert not is_pydantic_model(User(id=1))
    assert not is_pydantic_model(Item)
    assert not is_pydantic_model(list[User])


@pytest.mark.parametrize("tp", [Item, Point, Movie, User, Annotated[Item, "meta"], Annotated[User, "meta"]])
def test_is_model_type_true(tp: Any) -> None:
    assert is_model_type(tp)


@pytest.mark.parametrize(
    "tp", [int, str, dict, dict[str, int], list[Item], Item | None, Pair, Plain, Point(1), None, Any, "Item"]
)
def test_is_model_type_false(tp: Any) -> None:
    assert not is_model_type(tp)


@pytest.mark.parametrize(
    "tp",
    [
        User,
        User | None,
        list[User],
        dict[str, User],
        tuple[int, User],
        Annotated[User, "meta"],
        list[Annotated[User | None, "meta"]],
        Union[int, list[User]],  # noqa: UP007
    ],
)
def test_is_pydantic_type_finds_models_anywhere(tp: Any) -> None:
    assert is_pydantic_type(tp)


@pytest.mark.parametrize(
    "tp", [int, Item, list[Item], dict[str, int], Literal["User", 1], tuple[int, ...], Annotated[int, User], Any]
)
def test_is_pydantic_type_false(tp: Any) -> None:
    assert not is_pydantic_type(tp)


def test_without_pydantic_nothing_is_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "pydantic")
    assert not is_pydantic_model(User)
    assert not codec_types.is_pydantic_type(list[User])
    assert is_model_type(Item)
    assert not is_model_type(User)


def test_plait_does_not_import_pydantic_itself() -> None:
    import subprocess

    code = "import plait, sys; print('pydantic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- scalars and sequences --------------------------------------------------------------------


@pytest.mark.parametrize(
    "tp",
    [
        str,
        int,
        float,
        bool,
        bytes,
        Colour,
        Level,
        uuid.UUID,
        decimal.Decimal,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        Any,
        Literal["a", "b"],
        Literal[1] | None,
        int | None,
        int | str,
        Optional[uuid.UUID],  # noqa: UP045
        Annotated[int, msgspec.Meta(ge=0)],
        Annotated[int | None, "x"],
    ],
)
def test_is_scalar_type_true(tp: Any) -> None:
    assert is_scalar_type(tp)


@pytest.mark.parametrize(
    "tp",
    [
        list[int],
        dict[str, int],
        Item,
        Point,
        User,
        Plain,
        type(None),
        int | list[int],
        int | Item,
        "int",
        None,
        object,
    ],
)
def test_is_scalar_type_false(tp: Any) -> None:
    assert not is_scalar_type(tp)


@pytest.mark.parametrize(
    "tp",
    [
        list[int],
        set[str],
        frozenset[uuid.UUID],
        tuple[int, ...],
        list[int] | None,
        Annotated[list[Colour], "x"],
        list[Literal["a", "b"]],
        list[Any],
    ],
)
def test_is_sequence_type_true(tp: Any) -> None:
    assert is_sequence_type(tp)


@pytest.mark.parametrize(
    "tp",
    [
        list,
        int,
        str,
        tuple[int, str],
        tuple[int],
        tuple[()],
        list[Item],
        list[list[int]],
        dict[str, int],
        Literal["a"],
        Item,
    ],
)
def test_is_sequence_type_false(tp: Any) -> None:
    assert not is_sequence_type(tp)


# --- describe ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tp", "text"),
    [
        (int, "int"),
        (Item, "Item"),
        (Annotated[User, "x"], "User"),
        (list[int], "list[int]"),
        (int | None, "int | None"),
        (Optional[int], "Optional[int]"),  # noqa: UP045
        (Literal["a"], "Literal['a']"),
        (Any, "Any"),
        (dict[str, Item], "dict[str, tests.test_codec.test_types.Item]"),
    ],
)
def test_describe(tp: Any, text: str) -> None:
    assert describe(tp) == text


class _Leaf(msgspec.Struct):
    price: int


class _Order(msgspec.Struct):
    items: list[_Leaf]
    note: str | None = None


class _Tree(msgspec.Struct):
    children: list[_Tree]


def test_static_depth_of_fixed_and_open_types() -> None:
    from plait.codec.types import static_depth

    assert static_depth(int) == 0
    assert static_depth(list[int]) == 1
    assert static_depth(_Order) == 3
    assert static_depth(_Order | None) == 3
    assert static_depth(dict[str, list[int]]) == 2
    assert static_depth(_Tree) is None
    assert static_depth(dict[str, Any]) is None
    assert static_depth(list) is None
