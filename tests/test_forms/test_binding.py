"""Converting submitted values: HTML conventions first, then the rules typed JSON bodies follow."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
import pytest

from plait import UploadFile
from plait.forms import URL, Email, Field, Form, Password, form_spec
from plait.forms.binding import CHOICE_MESSAGE, REQUIRED_MESSAGE, Converted, convert_form


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Profile(Form):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=10)]
    age: Annotated[int, msgspec.Meta(ge=18, lt=130)] | None = None
    score: float = 0.0
    price: decimal.Decimal | None = None
    active: bool = True
    born: datetime.date | None = None
    meeting: datetime.datetime | None = None
    alarm: datetime.time | None = None
    token: uuid.UUID | None = None
    level: Level = Level.LOW
    colour: Colour | None = None
    size: Literal["s", "m"] = "s"
    colours: Annotated[list[Colour], msgspec.Meta(max_length=2)] = []
    tags: list[str] = []
    code: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")] = "ABC"
    even: Annotated[int, msgspec.Meta(multiple_of=2)] = 0


def bind(form: type[msgspec.Struct], **values: Any) -> Converted:
    submitted = {key: value if isinstance(value, list) else [value] for key, value in values.items()}
    return convert_form(form_spec(form), submitted)


def test_strings_become_typed_values() -> None:
    done = bind(
        Profile,
        name="Ada",
        age="36",
        score="2.5",
        price="9.99",
        active="on",
        born="1815-12-10",
        meeting="2024-01-02T10:30",
        alarm="07:15",
        token="12345678-1234-5678-1234-567812345678",
        level="2",
        colour="red",
        size="m",
        colours=["red", "blue"],
        tags="one\r\n two \n\nthree",
        even="4",
    )
    assert done.errors == {}
    assert done.data == Profile(
        name="Ada",
        age=36,
        score=2.5,
        price=decimal.Decimal("9.99"),
        active=True,
        born=datetime.date(1815, 12, 10),
        meeting=datetime.datetime(2024, 1, 2, 10, 30),
        alarm=datetime.time(7, 15),
        token=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        level=Level.HIGH,
        colour=Colour.RED,
        size="m",
        colours=[Colour.RED, Colour.BLUE],
        tags=["one", "two", "three"],
        even=4,
    )


def test_seconds_are_kept_when_sent() -> None:
    done = bind(Profile, name="Ada", meeting="2024-01-02T10:30:15", alarm="07:15:30")
    assert isinstance(done.data, Profile)
    assert (done.data.meeting, done.data.alarm) == (datetime.datetime(2024, 1, 2, 10, 30, 15), datetime.time(7, 15, 30))


def test_an_unchecked_checkbox_is_false_even_when_the_default_is_true() -> None:
    done = bind(Profile, name="Ada")
    assert isinstance(done.data, Profile)
    assert done.data.active is False


@pytest.mark.parametrize(("sent", "expected"), [(["false", "on"], True), (["on", "false"], False), (["0"], False)])
def test_checkbox_words_and_the_hidden_field_trick(sent: list[str], expected: bool) -> None:
    done = bind(Profile, name="Ada", active=sent)
    assert isinstance(done.data, Profile)
    assert done.data.active is expected


def test_empty_inputs_mean_none_or_the_default() -> None:
    done = bind(Profile, name="  Ada  ", age="", price=" ", born="", size="", colour="", tags="\n")
    assert done.data == Profile(name="Ada", active=False)


def test_every_bad_field_is_reported_at_once_in_plain_words() -> None:
    done = bind(
        Profile,
        name="A",
        age="ten",
        score="x",
        price="cheap",
        born="1815-13-10",
        meeting="soon",
        alarm="25:00",
        token="nope",
        level="9",
        colour="green",
        size="xl",
        colours=["red", "blue", "red"],
        code="abcd",
        even="3",
        active="maybe",
    )
    assert done.data is None
    assert done.errors == {
        "name": ["Use at least 2 characters."],
        "age": ["Enter a whole number."],
        "score": ["Enter a number."],
        "price": ["Enter a number."],
        "active": ["Choose yes or no."],
        "born": ["Enter a valid date."],
        "meeting": ["Enter a valid date and time."],
        "alarm": ["Enter a valid time."],
        "token": ["Enter a valid UUID."],
        "level": [CHOICE_MESSAGE],
        "colour": [CHOICE_MESSAGE],
        "size": [CHOICE_MESSAGE],
        "colours": ["Give at most 2."],
        "code": ["Enter a value in the requested format."],
        "even": ["Enter a multiple of 2."],
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [("12", "Enter a value of at least 18."), ("130", "Enter a value of at most 129.")],
)
def test_number_bounds(value: str, message: str) -> None:
    assert bind(Profile, name="Ada", age=value).errors == {"age": [message]}


def test_missing_required_field() -> None:
    assert bind(Profile).errors == {"name": [REQUIRED_MESSAGE]}
    assert bind(Profile, name="   ").errors == {"name": [REQUIRED_MESSAGE]}


def test_values_keep_what_was_typed_for_the_page() -> None:
    done = bind(Profile, name="<script>alert(1)</script>", age="ten", colours=["red", "green"])
    assert done.values["name"] == "<script>alert(1)</script>"
    assert done.values["age"] == "ten"
    assert done.values["colours"] == ["red", "green"]
    assert done.values["active"] == ""


def test_too_long_text() -> None:
    assert bind(Profile, name="x" * 11).errors == {"name": ["Use at most 10 characters."]}


class Account(Form):
    email: Annotated[str, Email]
    site: Annotated[str, URL] = "https://example.com"
    password: Annotated[str, Password] = ""
    nickname: Annotated[str, Field(strip=False)] = ""


@pytest.mark.parametrize("address", ["nobody", "a b@c", "@host"])
def test_email_must_look_like_an_address(address: str) -> None:
    assert bind(Account, email=address).errors == {"email": ["Enter a valid email address."]}


@pytest.mark.parametrize("site", ["javascript:alert(1)", "example.com", "ftp://example.com", "https://"])
def test_urls_must_be_web_addresses(site: str) -> None:
    # A stored javascript: URL would run in the browser of whoever later follows the link.
    assert bind(Account, email="a@b", site=site).errors == {
        "site": ["Enter a web address starting with http:// or https://."]
    }


def test_a_web_address_is_accepted() -> None:
    assert bind(Account, email="a@b", site="https://example.com/x").data == Account(
        email="a@b", site="https://example.com/x"
    )


def test_passwords_are_neither_stripped_nor_shown_again() -> None:
    done = bind(Account, email="nobody", password=" secret ", nickname=" me ")
    assert done.values["password"] == ""
    done = bind(Account, email="a@b", password=" secret ", nickname=" me ")
    assert done.data == Account(email="a@b", password=" secret ", nickname=" me ")


class Upload(Form):
    document: UploadFile
    extra: UploadFile | None = None
    photos: Annotated[list[UploadFile], msgspec.Meta(max_length=2)] = []
    title: str = ""


@pytest.fixture
async def upload() -> AsyncIterator[UploadFile]:
    file = UploadFile("a.txt")
    yield file
    await file.close()


@pytest.mark.anyio
async def test_files_are_passed_through_and_never_shown(upload: UploadFile) -> None:
    done = bind(Upload, document=upload, photos=[upload, upload])
    assert done.data == Upload(document=upload, photos=[upload, upload])
    assert done.values["document"] == ""
    assert done.values["photos"] == []


@pytest.mark.anyio
async def test_file_errors(upload: UploadFile) -> None:
    done = bind(Upload, extra="typed text", photos=[upload, upload, upload], title=upload)
    assert done.errors == {
        "document": [REQUIRED_MESSAGE],
        "extra": ["Choose a file to upload (the form must be sent as multipart/form-data)."],
        "photos": ["Give at most 2."],
        "title": ["Enter text here, not a file."],
    }


class Required(Form):
    picks: Annotated[list[Colour], msgspec.Meta(min_length=1)]
    chosen: Annotated[str, Field(choices=[("a", "A"), ("b", "B")])] = "a"


def test_lists_and_fixed_choices() -> None:
    assert bind(Required).errors == {"picks": [REQUIRED_MESSAGE]}
    assert bind(Required, picks=["red", "pink"], chosen="c").errors == {
        "picks": [CHOICE_MESSAGE],
        "chosen": [CHOICE_MESSAGE],
    }
    assert bind(Required, picks="blue", chosen="b").data == Required(picks=[Colour.BLUE], chosen="b")


class Checked(Form):
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("The end comes before the start.")


def test_the_forms_own_checks_become_form_errors() -> None:
    done = bind(Checked, start="5", end="1")
    assert (done.data, done.errors, done.non_field_errors) == (None, {}, ["The end comes before the start."])


class Odd(Form):
    answer: Annotated[bool, Field(widget="radios", choices=[(True, "Yes"), (False, "No")])] = False
    flag: Annotated[bool, Field(widget="text")] = False
    items: Annotated[list[int], msgspec.Meta(min_length=2)] = []


def test_remaining_messages_read_well() -> None:
    assert bind(Odd, items=["1"]).errors == {"items": ["Give at least 2."]}
    assert bind(Odd, items=["1", "x"]).errors == {"items": ["Enter a whole number."]}
    assert bind(Odd, answer="true").data == Odd(answer=True)
    # A message Plait has no words of its own for is passed on, made readable.
    assert bind(Odd, flag="maybe").errors == {"flag": ["Expected 'bool', got 'str'."]}
