"""Reading form classes: widgets, constraints and choices come from the annotations."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Annotated, Any, Literal

import msgspec
import pytest

from plait import UploadFile
from plait.exceptions import ConfigurationError
from plait.forms import Email, Field, Form, Relation, Textarea, form_spec
from plait.forms.fields import choice_value


class Colour(enum.Enum):
    DARK_RED = "dark-red"
    BLUE = "blue"


class Everything(Form):
    name: str
    long: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    short: Annotated[str, msgspec.Meta(max_length=20, min_length=2)] = ""
    email: Annotated[str, Email] = ""
    count: int = 0
    ratio: float = 0.5
    price: decimal.Decimal | None = None
    agree: bool = False
    day: datetime.date | None = None
    at: datetime.datetime | None = None
    time: datetime.time | None = None
    key: uuid.UUID | None = None
    colour: Colour = Colour.BLUE
    size: Literal["s", "m", "l"] = "m"
    colours: list[Colour] = []
    tags: list[str] = []
    upload: UploadFile | None = None
    uploads: list[UploadFile] = []
    story: Annotated[str | None, Textarea] = None


def widgets(form: type[msgspec.Struct]) -> dict[str, Any]:
    return {f.key: f.widget for f in form_spec(form).fields}


def test_each_annotation_has_its_widget() -> None:
    assert widgets(Everything) == {
        "name": "text",
        "long": "textarea",
        "short": "text",
        "email": "email",
        "count": "number",
        "ratio": "number",
        "price": "number",
        "agree": "checkbox",
        "day": "date",
        "at": "datetime-local",
        "time": "time",
        "key": "text",
        "colour": "select",
        "size": "select",
        "colours": "select",
        "tags": "textarea",
        "upload": "file",
        "uploads": "file",
        "story": "textarea",
    }


def test_required_nullable_default_and_many() -> None:
    fields = {f.key: f for f in form_spec(Everything).fields}
    assert fields["name"].required
    assert not fields["name"].has_default
    assert not fields["price"].required
    assert fields["price"].nullable
    assert fields["colours"].many
    assert fields["uploads"].many
    assert fields["uploads"].is_file
    assert fields["short"].constraints == {"max_length": 20, "min_length": 2}
    assert fields["story"].tp is str or "str" in repr(fields["story"].tp)  # `| None` is taken off for conversion
    assert form_spec(Everything).multipart


def test_choices_and_labels() -> None:
    fields = {f.key: f for f in form_spec(Everything).fields}
    assert fields["colour"].choices == (("dark-red", "Dark red"), ("blue", "Blue"))
    assert fields["size"].choices == (("s", "s"), ("m", "m"), ("l", "l"))
    assert fields["colours"].chosen
    assert not fields["tags"].chosen
    assert fields["email"].label == "Email"


def test_field_options_override_widget_label_and_choices() -> None:
    class Pick(Form):
        level: Annotated[int, Field(widget="radios", label="Your level", choices=[(1, "Low"), (2, "High")])]

    (field,) = form_spec(Pick).fields
    assert (field.widget, field.label, field.choices) == ("radios", "Your level", (("1", "Low"), ("2", "High")))


class Owner:
    pass


def test_relation_label_drops_the_id_suffix() -> None:
    class Pet(Form):
        owner_id: Annotated[int, Relation(Owner)]

    (field,) = form_spec(Pet).fields
    assert (field.widget, field.label) == ("select", "Owner")
    assert field.relation is not None
    assert field.relation.model is Owner


def test_form_base_makes_fields_keyword_only() -> None:
    class Later(Form):
        flag: bool = True
        text: str

    assert Later(text="x") == Later(flag=True, text="x")


def test_any_struct_is_a_form() -> None:
    class Plain(msgspec.Struct):
        text: str

    assert [f.key for f in form_spec(Plain).fields] == ["text"]


def test_encoded_names_are_the_html_names() -> None:
    class Renamed(msgspec.Struct, rename="camel"):
        first_name: str

    (field,) = form_spec(Renamed).fields
    assert (field.name, field.key) == ("first_name", "firstName")


@pytest.mark.parametrize(
    ("annotation", "words"),
    [
        (dict[str, int], "cannot draw a form field"),
        (list[bool], "list of bools"),
        (tuple[int, int], "fixed-length tuple"),
    ],
)
def test_unsupported_annotations_name_the_fix(annotation: Any, words: str) -> None:
    bad = msgspec.defstruct("Bad", [("field", annotation)])
    with pytest.raises(ConfigurationError, match=words):
        form_spec(bad)


def test_an_unresolvable_annotation_names_the_fix() -> None:
    class Lost(Form):
        thing: Missing  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(ConfigurationError, match="module level"):
        form_spec(Lost)


def test_not_a_struct_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a form class"):
        form_spec(dict)


def test_bad_options_are_refused_where_written() -> None:
    with pytest.raises(ConfigurationError, match="not a widget Plait draws"):
        Field(widget="slider")
    with pytest.raises(ConfigurationError, match="at least 1"):
        Relation(object, limit=0)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Colour.BLUE, "blue"),
        (True, "true"),
        (None, ""),
        (datetime.datetime(2024, 1, 2, 10, 30), "2024-01-02T10:30"),
        (datetime.datetime(2024, 1, 2, 10, 30, 5, tzinfo=datetime.UTC), "2024-01-02T10:30:05"),
        (datetime.time(9, 5), "09:05"),
        (datetime.time(9, 5, 7), "09:05:07"),
        (3, "3"),
    ],
)
def test_choice_value_writes_values_as_inputs_expect(value: Any, text: str) -> None:
    assert choice_value(value) == text
