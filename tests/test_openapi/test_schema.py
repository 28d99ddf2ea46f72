"""Types as JSON Schema: msgspec-known types, pydantic models, shared components and name clashes."""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import msgspec
import pydantic
import pytest

from plait.datastructures import UploadFile
from plait.exceptions import ConfigurationError
from plait.openapi.schema import REF_PREFIX, SchemaRegistry, binary_schema, drop_null, is_json, json_value


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Node(msgspec.Struct):
    """A tree."""

    name: Annotated[str, msgspec.Meta(min_length=1, description="Shown to people.")]
    children: list[Node] = []
    color: Color | None = None


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Options(TypedDict):
    verbose: bool
    level: NotRequired[Literal["low", "high"]]


class Circle(msgspec.Struct, tag="circle"):
    radius: float


class Square(msgspec.Struct, tag="square"):
    side: float


class Owner(pydantic.BaseModel):
    name: str = pydantic.Field(min_length=1)


class Account(pydantic.BaseModel):
    id: int
    owner: Owner
    nickname: str | None = None


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF_PREFIX + name}


@pytest.fixture
def registry() -> SchemaRegistry:
    return SchemaRegistry()


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (int, {"type": "integer"}),
        (str, {"type": "string"}),
        (list[float], {"type": "array", "items": {"type": "number"}}),
        (Literal["a", "b"], {"enum": ["a", "b"]}),
        (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (Annotated[int, msgspec.Meta(ge=1, le=9)], {"type": "integer", "minimum": 1, "maximum": 9}),
        (Any, {}),
        (type(None), {"type": "null"}),
    ],
)
def test_plain_types_are_inline(registry: SchemaRegistry, tp: Any, expected: dict[str, Any]) -> None:
    assert registry.schema(tp) == expected
    assert registry.components == {}


def test_a_struct_becomes_a_component_with_its_docstring(registry: SchemaRegistry) -> None:
    assert registry.schema(Node) == ref("Node")
    node = registry.components["Node"]
    assert node["description"] == "A tree."
    assert node["required"] == ["name"]
    assert node["properties"]["name"] == {"description": "Shown to people.", "type": "string", "minLength": 1}
    assert node["properties"]["children"]["items"] == ref("Node")  # recursive
    assert registry.components["Color"] == {"title": "Color", "enum": ["red", "blue"]}  # declaration order


class Size(enum.IntEnum):
    LARGE = 3
    SMALL = 1
    MEDIUM = 2


class Shirt(msgspec.Struct):
    size: Size
    fit: Literal["slim", "regular", "loose"]
    mixed: Literal["z", 9, "a", 1] = "z"
    sizes: dict[str, list[Size]] = {}


@dataclasses.dataclass
class Order:
    shirts: list[Shirt]
    wrap: Literal["yes", "no"] = "no"


class Labels(TypedDict):
    colour: Color


def test_enum_and_literal_members_keep_their_declaration_order(registry: SchemaRegistry) -> None:
    assert registry.schema(Order) == ref("Order")
    assert registry.components["Size"]["enum"] == [3, 1, 2]
    shirt = registry.components["Shirt"]["properties"]
    assert shirt["fit"]["enum"] == ["slim", "regular", "loose"]
    assert shirt["mixed"]["enum"] == ["z", 9, "a", 1]
    assert registry.components["Order"]["properties"]["wrap"]["enum"] == ["yes", "no"]
    assert registry.schema(Literal["b", "a"] | None) == {"anyOf": [{"enum": ["b", "a"]}, {"type": "null"}]}
    two = registry.schema(Literal["b", "a"] | Literal["c", 2])
    assert two == {"anyOf": [{"enum": ["b", "a"]}, {"enum": ["c", 2]}]}
    assert registry.schema(Annotated[Literal["y", "x"], msgspec.Meta(description="Two.")])["enum"] == ["y", "x"]
    assert registry.schema(Labels) == ref("Labels")
    assert registry.components["Color"]["enum"] == ["red", "blue"]


def test_a_type_whose_annotations_cannot_be_resolved_is_still_described() -> None:
    from plait.openapi.schema import _field_types, _in_order

    assert _in_order(["b", "a"], [("x", "y")]) == ["b", "a"]  # no declaration found: left as it is

    class Broken(msgspec.Struct):
        x: int

    Broken.__annotations__["x"] = "Missing"  # as if declared under TYPE_CHECKING
    assert _field_types(Broken) == []
    assert _field_types(int) == []


def test_dataclasses_and_typeddicts(registry: SchemaRegistry) -> None:
    assert registry.schema(list[Point]) == {"type": "array", "items": ref("Point")}
    assert registry.components["Point"]["required"] == ["x"]
    assert registry.schema(Options) == ref("Options")
    assert registry.components["Options"]["required"] == ["verbose"]


def test_tagged_unions_carry_a_discriminator(registry: SchemaRegistry) -> None:
    schema = registry.schema(Circle | Square)
    assert schema["anyOf"] == [ref("Circle"), ref("Square")]
    assert schema["discriminator"]["propertyName"] == "type"


def test_pydantic_models_are_components_too(registry: SchemaRegistry) -> None:
    assert registry.schema(Account) == ref("Account")
    assert registry.components["Account"]["properties"]["owner"] == ref("Owner")
    assert registry.components["Owner"]["properties"]["name"]["minLength"] == 1


def test_pydantic_inside_a_container(registry: SchemaRegistry) -> None:
    assert registry.schema(list[Owner], "serialization") == {"type": "array", "items": ref("Owner")}
    assert "Owner" in registry.components


def test_uploaded_files_are_binary_strings(registry: SchemaRegistry) -> None:
    assert registry.schema(UploadFile) == binary_schema()
    assert registry.schema(list[UploadFile]) == {"type": "array", "items": binary_schema()}


def test_schemas_are_cached_but_handed_out_as_copies(registry: SchemaRegistry) -> None:
    first = registry.schema(list[int])
    first["mutated"] = True
    assert registry.schema(list[int]) == {"type": "array", "items": {"type": "integer"}}


def test_unhashable_metadata_is_not_cached(registry: SchemaRegistry) -> None:
    tp = Annotated[int, msgspec.Meta(ge=0), ["unhashable"]]
    assert registry.schema(tp) == {"type": "integer", "minimum": 0}
    assert registry.schema(tp) == {"type": "integer", "minimum": 0}


def test_types_plait_cannot_describe_say_so(registry: SchemaRegistry) -> None:
    class Opaque:
        pass

    with pytest.raises(ConfigurationError, match="cannot describe the type Opaque"):
        registry.schema(Opaque)


def _same_name_types() -> tuple[type[msgspec.Struct], type[msgspec.Struct]]:
    first = msgspec.defstruct("Item", [("name", str)])
    second = msgspec.defstruct("Item", [("price", float)])
    return first, second


def test_two_types_with_one_name_both_survive(registry: SchemaRegistry) -> None:
    first, second = _same_name_types()
    assert registry.schema(first) == ref("Item")
    assert registry.schema(second) == ref("Item2")
    assert registry.schema(list[second]) == {"type": "array", "items": ref("Item2")}  # type: ignore[valid-type]
    assert list(registry.components["Item"]["properties"]) == ["name"]
    assert list(registry.components["Item2"]["properties"]) == ["price"]


def test_a_third_type_with_the_name(registry: SchemaRegistry) -> None:
    first, second = _same_name_types()
    third = msgspec.defstruct("Item", [("sku", str)])
    registry.schema(first)
    registry.schema(second)
    assert registry.schema(third) == ref("Item3")


def test_a_rename_reaches_the_types_that_use_it(registry: SchemaRegistry) -> None:
    first, second = _same_name_types()
    outer_a = msgspec.defstruct("Outer", [("item", first)])
    outer_b = msgspec.defstruct("Outer", [("item", second)])
    registry.schema(outer_a)
    # Outer's own text is the same for both, but it points at another Item: it is renamed too.
    assert registry.schema(outer_b) == ref("Outer2")
    assert registry.components["Outer2"]["properties"]["item"] == ref("Item2")
    assert registry.components["Outer"]["properties"]["item"] == ref("Item")


def test_component_names_are_made_safe(registry: SchemaRegistry) -> None:
    odd = msgspec.defstruct("<lambda>Body", [("x", int)])
    assert registry.schema(odd) == ref("_lambda_Body")


def test_data_values_are_not_rewritten(registry: SchemaRegistry) -> None:
    schema = registry.add(
        {"$ref": REF_PREFIX + "A", "default": {"$ref": REF_PREFIX + "A"}},
        {"A": {"type": "object"}},
    )
    registry.add({}, {"A": {"type": "string"}})  # forces nothing: only new definitions are renamed
    assert schema["default"] == {"$ref": REF_PREFIX + "A"}


def test_problem_components(registry: SchemaRegistry) -> None:
    assert registry.problem() == ref("Problem")
    assert registry.problem(validation=True) == ref("ValidationProblem")
    errors = registry.components["ValidationProblem"]["properties"]["errors"]
    assert errors == {"type": "array", "items": ref("ValidationError")}


def test_a_user_type_named_problem_does_not_clash(registry: SchemaRegistry) -> None:
    user_problem = msgspec.defstruct("Problem", [("oops", str)])
    assert registry.schema(user_problem) == ref("Problem")
    assert registry.problem() == ref("Problem2")
    assert "oops" in registry.components["Problem"]["properties"]


def test_resolve_follows_references(registry: SchemaRegistry) -> None:
    assert registry.resolve(registry.schema(Point))["title"] == "Point"
    assert registry.resolve({"type": "integer"}) == {"type": "integer"}
    assert registry.resolve(ref("Missing")) == ref("Missing")


def test_used_by_keeps_what_is_referenced(registry: SchemaRegistry) -> None:
    registry.schema(Node)
    registry.schema(Point)
    assert list(registry.used_by({"paths": {"x": [ref("Node")]}})) == ["Color", "Node"]
    assert registry.used_by({"default": ref("Point")}) == {}  # a value, not a schema


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}, {"type": "integer"}),
        (
            {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}], "description": "d"},
            {"anyOf": [{"type": "integer"}, {"type": "string"}], "description": "d"},
        ),
        ({"anyOf": [ref("A"), {"type": "null"}], "default": 3}, {**ref("A"), "default": 3}),
        ({"type": "integer"}, {"type": "integer"}),
    ],
)
def test_drop_null(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert drop_null(schema) == expected


def test_json_value() -> None:
    assert json_value(Color.RED) == "red"
    assert json_value(Point(1)) == {"x": 1, "y": 0}
    assert json_value(Owner(name="a")) == {"name": "a"}
    assert not is_json(json_value(object()))


def test_recursive_types_with_one_name_point_at_themselves(registry: SchemaRegistry) -> None:
    first = msgspec.defstruct("Tree", [("label", str), ("kids", "list[Tree]", [])])
    second = msgspec.defstruct("Tree", [("size", int), ("kids", "list[Tree]", [])])
    first.__annotations__["kids"] = list[first]  # type: ignore[valid-type]
    second.__annotations__["kids"] = list[second]  # type: ignore[valid-type]
    assert registry.schema(first) == ref("Tree")
    assert registry.schema(second) == ref("Tree2")
    assert registry.schema(list[second]) == {"type": "array", "items": ref("Tree2")}  # type: ignore[valid-type]
    assert registry.components["Tree2"]["properties"]["kids"]["items"] == ref("Tree2")
    assert registry.components["Tree"]["properties"]["kids"]["items"] == ref("Tree")
