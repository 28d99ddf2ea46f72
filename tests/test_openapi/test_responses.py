"""The responses of an operation: return types, status codes, response classes, errors, declared extras."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
import pytest

from plait.app import Plait
from plait.errors import ProblemResponse
from plait.params import Form
from plait.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from tests.test_openapi.test_document import JSON, Item, document, operation

PROBLEM = {"$ref": "#/components/schemas/Problem"}


class Priced(pydantic.BaseModel):
    amount: int

    @pydantic.computed_field  # type: ignore[prop-decorator]
    @property
    def doubled(self) -> int:
        return self.amount * 2


@pytest.fixture
def app() -> Plait[Any]:
    return Plait(title="Test", version="2.0")


# -- responses --------------------------------------------------------------------------------------


def responses(app: Plait[Any], path: str, method: str = "get") -> JSON:
    found: JSON = operation(app, path, method)["responses"]
    return found


def test_return_types(app: Plait[Any]) -> None:
    @app.get("/json")
    def json_() -> list[Item]:
        return []

    @app.get("/text")
    def text() -> str:
        return ""

    @app.get("/null")
    def null() -> None: ...

    @app.get("/undeclared")
    def undeclared():  # type: ignore[no-untyped-def]
        return {}

    item = {"$ref": "#/components/schemas/Item"}
    assert responses(app, "/json")["200"]["content"] == {
        "application/json": {"schema": {"type": "array", "items": item}}
    }
    assert responses(app, "/text")["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert responses(app, "/null")["200"]["content"] == {"application/json": {"schema": {"type": "null"}}}
    assert responses(app, "/undeclared") == {"200": {"description": "OK"}}


def test_status_codes(app: Plait[Any]) -> None:
    @app.post("/items", status_code=201)
    def create() -> Item:
        return Item("x")

    @app.delete("/items/{id:int}", status_code=204)
    def remove(id: int) -> None: ...

    assert list(responses(app, "/items", "post")) == ["201"]
    assert responses(app, "/items", "post")["201"]["description"] == "Created"
    assert responses(app, "/items/{id}", "delete")["204"] == {"description": "No Content"}


def test_response_classes(app: Plait[Any]) -> None:
    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return "<p>"

    @app.get("/data", response_class=JSONResponse)
    def data() -> list[int]:
        return []

    @app.get("/raw", response_class=Response)
    def raw() -> bytes:
        return b""

    @app.get("/returned")
    def returned() -> PlainTextResponse:
        return PlainTextResponse("x")

    @app.get("/either")
    def either() -> Item | HTMLResponse:
        return Item("x")

    @app.get("/bare")
    def bare() -> Response:
        return Response()

    assert responses(app, "/page")["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert responses(app, "/data")["200"]["content"]["application/json"]["schema"]["type"] == "array"
    assert responses(app, "/raw")["200"] == {"description": "OK"}
    assert responses(app, "/returned")["200"]["content"] == {"text/plain": {}}
    assert responses(app, "/either")["200"]["content"] == {
        "text/html": {},
        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
    }
    assert responses(app, "/bare")["200"] == {"description": "OK"}


def test_a_response_class_with_an_undescribed_body(app: Plait[Any]) -> None:
    @app.get("/page", response_class=HTMLResponse)
    def page() -> Item | HTMLResponse:
        return Item("x")

    @app.get("/only", response_class=JSONResponse)
    def only() -> JSONResponse:
        return JSONResponse({})

    assert responses(app, "/page")["200"]["content"] == {"text/html": {}}
    assert responses(app, "/only")["200"]["content"] == {"application/json": {}}


def test_unions_with_several_data_types(app: Plait[Any]) -> None:
    @app.get("/u")
    def u() -> Item | int | JSONResponse:
        return 1

    schema = responses(app, "/u")["200"]["content"]["application/json"]["schema"]
    assert schema == {"anyOf": [{"type": "integer"}, {"$ref": "#/components/schemas/Item"}]}


def test_error_responses_are_added_where_they_can_happen(app: Plait[Any]) -> None:
    @app.get("/plain")
    def plain() -> None: ...

    @app.get("/q")
    def q(n: int) -> None: ...

    @app.post("/items/{id:int}")
    def items(id: int, item: Item) -> None: ...

    @app.post("/form")
    def form(name: Annotated[str, Form()]) -> None: ...

    assert list(responses(app, "/plain")) == ["200"]
    assert list(responses(app, "/q")) == ["200", "422"]
    found = responses(app, "/items/{id}", "post")
    assert list(found) == ["200", "400", "404", "422"]
    assert found["422"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
    }
    assert found["400"]["description"] == "The JSON body is malformed and could not be read."
    assert responses(app, "/form", "post")["400"]["description"] == "The form body is malformed and could not be read."


def test_declared_responses(app: Plait[Any]) -> None:
    @app.get(
        "/r/{id:int}",
        responses={
            404: "No such thing.",
            409: Item,
            410: {"description": "Gone for good."},
            418: ProblemResponse,
            429: HTMLResponse,
            200: "The thing.",
            503: None,
        },
    )
    def r(id: int) -> Item:
        return Item("x")

    found = responses(app, "/r/{id}")
    assert found["200"]["description"] == "The thing."
    assert found["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}
    assert found["404"] == {
        "description": "No such thing.",
        "content": {"application/problem+json": {"schema": PROBLEM}},
    }
    assert found["409"]["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
    assert found["410"] == {"description": "Gone for good."}
    assert found["418"]["content"] == {"application/problem+json": {"schema": PROBLEM}}
    assert found["429"]["content"] == {"text/html": {}}
    assert found["503"] == {"description": "Service Unavailable"}


def test_unknown_status_codes_get_a_description(app: Plait[Any]) -> None:
    @app.get("/odd", status_code=299, responses={599: "Odd failure."})
    def odd() -> None: ...

    found = responses(app, "/odd")
    assert found["299"]["description"] == "HTTP 299"
    assert found["599"]["description"] == "Odd failure."


def test_response_schemas_use_serialization_mode(app: Plait[Any]) -> None:
    @app.post("/priced")
    def priced(data: Priced) -> Priced:
        return data

    built = document(app)
    schemas = built["components"]["schemas"]
    body_ref = built["paths"]["/priced"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    reply_ref = built["paths"]["/priced"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert "doubled" not in schemas[body_ref.rsplit("/", 1)[-1]]["properties"]
    assert "doubled" in schemas[reply_ref.rsplit("/", 1)[-1]]["properties"]
