"""``Annotated`` metadata Plait does not run itself: pydantic runs it, documentation is ignored, the rest refused."""

from __future__ import annotations

from typing import Annotated, Any

import annotated_types
import msgspec
import pydantic
import pytest
from pydantic import AfterValidator, BeforeValidator, Field
from typing_extensions import Doc

from plait import Body, ConfigurationError, Form, Header, Plait, Query
from plait.params import metadata
from tests.support import call


def even(value: int) -> int:
    if value % 2:
        raise ValueError("must be even")
    return value


def shout(value: str) -> str:
    return value.upper()


def test_after_validator_on_a_query_parameter_runs() -> None:
    app = Plait()

    @app.get("/")
    def items(n: Annotated[int, AfterValidator(even)] = 0) -> int:
        return n

    assert call(app, "GET", "/?n=4").json() == 4
    assert call(app, "GET", "/").json() == 0
    bad = call(app, "GET", "/?n=3")
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"loc": ["query", "n"], "msg": "Value error, must be even", "type": "value_error"}]
    wrong_type = call(app, "GET", "/?n=x").json()["errors"][0]
    assert (wrong_type["loc"], wrong_type["type"]) == (["query", "n"], "int_parsing")


def test_annotated_types_and_field_constraints_run_with_the_markers_own() -> None:
    app = Plait()

    @app.get("/")
    def items(
        a: Annotated[int, annotated_types.Gt(0)],
        b: Annotated[int, Query(le=10), Field(ge=5)] = 5,
        c: Annotated[str | None, msgspec.Meta(max_length=3), BeforeValidator(shout)] = None,
    ) -> list[Any]:
        return [a, b, c]

    assert call(app, "GET", "/?a=1&b=7&c=abc").json() == [1, 7, "ABC"]
    errors = call(app, "GET", "/?a=0&b=11&c=abcd").json()["errors"]
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["query", "a"], "greater_than"),
        (["query", "b"], "less_than_equal"),
        (["query", "c"], "string_too_long"),
    ]
    assert call(app, "GET", "/?a=1&b=4").json()["errors"][0]["type"] == "greater_than_equal"


def test_lists_headers_forms_and_bodies_run_pydantic_metadata_too() -> None:
    app = Plait()

    @app.get("/tags")
    def tags(
        t: Annotated[list[str], Query(), annotated_types.Len(1, 2)], x_n: Annotated[int, Header(), Field(gt=0)]
    ) -> Any:
        return [t, x_n]

    @app.post("/form")
    def form(name: Annotated[str, Form(), AfterValidator(shout)]) -> str:
        return name

    @app.post("/body")
    def body(n: Annotated[int, Body(embed=True), AfterValidator(even)], m: Annotated[int, Body()] = 0) -> list[int]:
        return [n, m]

    @app.post("/single")
    def single(values: Annotated[list[int], annotated_types.MinLen(1)]) -> list[int]:
        return values

    assert call(app, "GET", "/tags?t=a", headers={"x-n": "2"}).json() == [["a"], 2]
    errors = call(app, "GET", "/tags?t=a&t=b&t=c", headers={"x-n": "0"}).json()["errors"]
    assert [e["loc"] for e in errors] == [["query", "t"], ["header", "x-n"]]
    assert call(app, "POST", "/form", data={"name": "hi"}).text == "HI"
    assert call(app, "POST", "/body", json={"n": 2}).json() == [2, 0]
    assert call(app, "POST", "/body", json={"n": 3}).json()["errors"][0]["loc"] == ["body", "n"]
    assert call(app, "POST", "/single", json=[1]).json() == [1]
    assert call(app, "POST", "/single", json=[]).json()["errors"][0]["type"] == "too_short"


def test_nested_pydantic_metadata_runs() -> None:
    app = Plait()

    @app.post("/")
    def create(values: list[Annotated[int, annotated_types.Gt(0)]]) -> list[int]:
        return values

    assert call(app, "POST", "/", json=[1, 2]).json() == [1, 2]
    assert call(app, "POST", "/", json=[1, 0]).json()["errors"][0]["loc"] == ["body", 1]


def test_documentation_metadata_is_ignored() -> None:
    app = Plait()

    @app.get("/")
    def items(q: Annotated[str, "the search text", Doc("what to look for")] = "") -> str:
        return q

    assert call(app, "GET", "/?q=x").text == "x"


def test_a_bare_function_in_annotated_is_refused_at_startup() -> None:
    app = Plait()

    @app.get("/")
    def items(n: Annotated[int, even] = 0) -> int:
        return n

    with pytest.raises(
        ConfigurationError, match=r"Plait does not run <function even.*wrap it as pydantic's AfterValidator"
    ):
        app.build()


def test_a_pydantic_field_as_default_is_refused_at_startup() -> None:
    app = Plait()

    @app.get("/")
    def items(n: int = Field(default=1, gt=0)) -> int:
        return n

    with pytest.raises(ConfigurationError, match=r"write Annotated\[T, Field\(...\)\] = default"):
        app.build()


def test_without_pydantic_installed_its_metadata_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata, "pydantic_installed", lambda: False)
    app = Plait()

    @app.get("/")
    def items(n: Annotated[int, annotated_types.Gt(0)] = 1) -> int:
        return n

    with pytest.raises(ConfigurationError, match=r"pip install 'plait\[pydantic\]'"):
        app.build()


def test_the_metadata_split_keeps_only_what_pydantic_runs() -> None:
    gt = annotated_types.Gt(0)
    assert metadata.pydantic_metadata("f", "n", int, (Query(), msgspec.Meta(ge=0), "doc", gt), 1) == (gt,)
    assert metadata.pydantic_metadata("f", "n", int, (), 1) == ()
    assert isinstance(pydantic.TypeAdapter(metadata.pydantic_annotated(int, (), (gt,))).validate_python(1), int)


def test_openapi_documents_a_pydantic_constrained_parameter() -> None:
    app = Plait()

    @app.get("/")
    def items(n: Annotated[int, annotated_types.Gt(0)] = 1) -> int:
        return n

    document = call(app, "GET", "/openapi.json").json()
    (parameter,) = document["paths"]["/"]["get"]["parameters"]
    assert parameter["name"] == "n"
    assert parameter["schema"]["exclusiveMinimum"] == 0
