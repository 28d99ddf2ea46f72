"""response_model=: results validated and filtered to the declared type; a mismatch is a 500 naming the handler."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pydantic
import pytest

from plait import JSONResponse, Plait, Settings
from plait.response_model import ResponseValidationError, model_encoder
from tests.support import call


def make_app() -> Plait:
    return Plait(settings=Settings())


class UserOut(msgspec.Struct):
    id: int
    name: str


class UserIn(msgspec.Struct):
    id: int
    name: str
    password: str


@dataclasses.dataclass
class UserRecord:
    id: int
    name: str
    password: str


class Row:
    """An ORM-like object: attributes, no mapping interface."""

    def __init__(self) -> None:
        self.id = 7
        self.name = "row"
        self.password = "hash"


class PUser(pydantic.BaseModel):
    id: int
    name: str
    nickname: str | None = None


@pytest.mark.parametrize(
    "value",
    [
        {"id": 1, "name": "ann", "password": "secret"},
        UserIn(1, "ann", "secret"),
        UserRecord(1, "ann", "secret"),
    ],
    ids=["dict", "struct", "dataclass"],
)
def test_the_result_is_filtered_to_the_model(value: Any) -> None:
    app = make_app()

    @app.get("/me", response_model=UserOut)
    def me() -> Any:
        return value

    response = call(app, "GET", "/me")
    assert response.status_code == 200
    assert response.json() == {"id": 1, "name": "ann"}


def test_an_orm_like_object_is_read_by_attribute() -> None:
    app = make_app()

    @app.get("/row", response_model=UserOut)
    def row() -> Any:
        return Row()

    assert call(app, "GET", "/row").json() == {"id": 7, "name": "row"}


def test_the_model_replaces_the_return_annotation() -> None:
    app = make_app()

    @app.get("/me", response_model=UserOut)
    def me() -> UserIn:
        return UserIn(1, "ann", "secret")

    assert call(app, "GET", "/me").json() == {"id": 1, "name": "ann"}


def test_a_list_model_filters_each_item() -> None:
    app = make_app()

    @app.get("/users", response_model=list[UserOut])
    def users() -> Any:
        return [{"id": 1, "name": "a", "password": "x"}, UserIn(2, "b", "y")]

    assert call(app, "GET", "/users").json() == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def test_a_pydantic_model_filters_too() -> None:
    app = make_app()

    @app.get("/p", response_model=PUser)
    def p() -> Any:
        return {"id": 3, "name": "pat", "password": "x"}

    assert call(app, "GET", "/p").json() == {"id": 3, "name": "pat", "nickname": None}


def test_a_mismatch_is_a_500_naming_the_handler(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.get("/bad", response_model=UserOut)
    def bad_handler() -> Any:
        return {"id": "not a number", "name": "x"}

    response = call(app, "GET", "/bad", raise_app_exceptions=False)
    assert response.status_code == 500
    assert "not a number" not in response.text  # nothing of the bad value leaks to the client
    assert "bad_handler" in caplog.text
    assert "does not match its response model" in caplog.text


def test_a_str_result_is_validated_against_the_model() -> None:
    app = make_app()

    @app.get("/s", response_model=UserOut)
    def s() -> Any:
        return "plain text"

    assert call(app, "GET", "/s", raise_app_exceptions=False).status_code == 500


def test_response_model_none_encodes_whatever_is_returned() -> None:
    app = make_app()

    @app.get("/any", response_model=None)
    def anything() -> UserOut:
        return {"free": "form"}  # type: ignore[return-value]

    assert call(app, "GET", "/any").json() == {"free": "form"}


def test_include_and_exclude_pick_top_level_fields() -> None:
    app = make_app()

    @app.get("/inc", response_model=UserIn, response_model_include={"id"})
    def inc() -> Any:
        return UserIn(1, "a", "pw")

    @app.get("/exc", response_model=list[UserIn], response_model_exclude={"password"})
    def exc() -> Any:
        return [UserIn(1, "a", "pw")]

    assert call(app, "GET", "/inc").json() == {"id": 1}
    assert call(app, "GET", "/exc").json() == [{"id": 1, "name": "a"}]


class Settings_(msgspec.Struct):
    theme: str = "light"
    lang: str = "en"


def test_exclude_unset_leaves_out_what_a_dict_did_not_give() -> None:
    app = make_app()

    @app.get("/prefs", response_model=Settings_, response_model_exclude_unset=True)
    def prefs() -> Any:
        return {"theme": "dark"}

    @app.get("/prefs-list", response_model=list[Settings_], response_model_exclude_unset=True)
    def prefs_list() -> Any:
        return [{"lang": "fr"}, Settings_()]  # a Struct does not record what was set: all of it is sent

    assert call(app, "GET", "/prefs").json() == {"theme": "dark"}
    assert call(app, "GET", "/prefs-list").json() == [{"lang": "fr"}, {"theme": "light", "lang": "en"}]


def test_exclude_unset_with_a_pydantic_model() -> None:
    app = make_app()

    @app.get("/p", response_model=PUser, response_model_exclude_unset=True)
    def p() -> Any:
        return PUser(id=1, name="x")

    assert call(app, "GET", "/p").json() == {"id": 1, "name": "x"}


def test_model_encoder_directly() -> None:
    encode = model_encoder("show", UserOut, {"response_model_exclude": {"name"}})
    assert encode(UserIn(1, "a", "b")) == b'{"id":1}'
    assert model_encoder("show", None, {})({"x": 1}) == b'{"x":1}'
    scalar = model_encoder("show", int, {"response_model_exclude_unset": True})
    assert scalar(5) == b"5"
    with pytest.raises(ResponseValidationError, match="show returned a dict"):
        encode({"id": "x"})


def test_an_exception_handler_can_answer_a_mismatch() -> None:
    app = make_app()

    @app.exception_handler(ResponseValidationError)
    def explain(request: Any, exc: ResponseValidationError) -> JSONResponse:
        return JSONResponse({"server_bug": True}, status_code=500)

    @app.get("/bad", response_model=UserOut)
    def bad() -> Any:
        return {"id": "x"}

    @app.get("/bad-tuple")
    async def bad_tuple() -> tuple[str, int]:
        return ("x", 1, 2)  # type: ignore[return-value]

    for url in ("/bad", "/bad-tuple"):
        response = call(app, "GET", url)
        assert (response.status_code, response.json()) == (500, {"server_bug": True})
