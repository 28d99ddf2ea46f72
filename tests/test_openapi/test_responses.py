"""The responses of an operation: return types, status codes, response classes, errors, declared extras."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Annotated, Any

import msgspec
import pydantic
import pytest

from plait.app import Plait
from plait.errors import ProblemResponse
from plait.exceptions import ConfigurationError
from plait.params import Form
from plait.responses import (
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from plait.routing import Router
from tests.test_openapi.test_document import JSON, Item, document, operation

PROBLEM = {"$ref": "#/components/schemas/Problem"}


class Missing(msgspec.Struct):
    reason: str


class CSV(Response):
    media_type = "text/csv"


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
    assert responses(app, "/undeclared") == {"200": {"description": "Successful Response"}}


def test_status_codes(app: Plait[Any]) -> None:
    @app.post("/items", status_code=201)
    def create() -> Item:
        return Item("x")

    @app.delete("/items/{id:int}", status_code=204)
    def remove(id: int) -> None: ...

    assert list(responses(app, "/items", "post")) == ["201"]
    assert responses(app, "/items", "post")["201"]["description"] == "Successful Response"
    assert responses(app, "/items/{id}", "delete")["204"] == {"description": "Successful Response"}


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
    assert responses(app, "/raw")["200"] == {"description": "Successful Response"}
    assert responses(app, "/returned")["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert responses(app, "/either")["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
    }
    assert responses(app, "/bare")["200"] == {"description": "Successful Response"}


def test_a_response_class_with_an_undescribed_body(app: Plait[Any]) -> None:
    @app.get("/page", response_class=HTMLResponse)
    def page() -> Item | HTMLResponse:
        return Item("x")

    @app.get("/only", response_class=JSONResponse)
    def only() -> JSONResponse:
        return JSONResponse({})

    assert responses(app, "/page")["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
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
            302: RedirectResponse,
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
    assert found["429"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert found["503"] == {"description": "Service Unavailable"}
    assert found["302"] == {"description": "Found"}


def test_unknown_status_codes_get_a_description(app: Plait[Any]) -> None:
    @app.get("/odd", status_code=299, responses={599: "Odd failure.", 298: None, "default": None})
    def odd() -> None: ...

    found = responses(app, "/odd")
    assert found["299"]["description"] == "Successful Response"
    assert found["298"]["description"] == "HTTP 298"
    assert found["599"]["description"] == "Odd failure."
    assert found["default"]["description"] == "Default Response"


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


# -- route options ----------------------------------------------------------------------------------


def test_response_description(app: Plait[Any]) -> None:
    @app.post("/items", status_code=201, response_description="The new item.")
    def create() -> Item:
        return Item("x")

    assert responses(app, "/items", "post")["201"]["description"] == "The new item."


def test_response_model_replaces_the_return_annotation(app: Plait[Any]) -> None:
    @app.get("/model", response_model=list[Item])
    def model() -> Any:
        return []

    @app.get("/anything", response_model=None)
    def anything() -> Item:
        return Item("x")

    @app.get("/page", response_model=None, response_class=HTMLResponse)
    def page() -> Item:
        return Item("x")

    assert responses(app, "/model")["200"]["content"] == {
        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}
    }
    assert responses(app, "/anything")["200"] == {"description": "Successful Response"}
    assert responses(app, "/page")["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}


def test_redirects_have_no_body(app: Plait[Any]) -> None:
    @app.get("/old", response_class=RedirectResponse)
    def old() -> str:
        return "/new"

    @app.get("/moved", response_class=RedirectResponse, status_code=301)
    def moved() -> str:
        return "/new"

    @app.get("/returned")
    def returned() -> RedirectResponse:
        return RedirectResponse("/new")

    @app.get("/maybe")
    def maybe() -> Item | RedirectResponse:
        return Item("x")

    assert responses(app, "/old") == {"307": {"description": "Successful Response"}}
    assert responses(app, "/moved") == {"301": {"description": "Successful Response"}}
    assert responses(app, "/returned") == {"307": {"description": "Successful Response"}}
    found = responses(app, "/maybe")
    assert list(found) == ["200", "307"]
    assert found["200"]["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
    assert found["307"] == {"description": "Temporary Redirect"}


def test_files_text_and_event_streams(app: Plait[Any]) -> None:
    @app.get("/file", response_class=FileResponse)
    def file() -> str:
        return "report.pdf"

    @app.get("/returned-file")
    def returned_file() -> FileResponse:
        return FileResponse("report.pdf")

    @app.get("/text", response_class=PlainTextResponse)
    def text() -> int:
        return 1

    @app.get("/events")
    def events() -> EventSourceResponse:
        raise NotImplementedError

    binary = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    assert responses(app, "/file")["200"]["content"] == binary
    assert responses(app, "/returned-file")["200"]["content"] == binary
    assert responses(app, "/text")["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert responses(app, "/events")["200"]["content"] == {"text/event-stream": {"schema": {"type": "string"}}}


def test_generators_are_documented_as_streams(app: Plait[Any]) -> None:
    @app.get("/lines")
    def lines() -> Iterator[Item]:
        yield Item("x")

    @app.get("/words")
    async def words() -> AsyncIterator[str]:
        yield "a"

    @app.get("/chunks")
    def chunks() -> Generator[bytes, None, None]:
        yield b""

    @app.get("/untyped")
    def untyped():  # type: ignore[no-untyped-def]
        yield 1

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncGenerator[Item, None]:
        yield Item("x")

    @app.get("/csv", response_class=CSV)
    def csv() -> Iterator[str]:
        yield "a,b\n"

    item = {"$ref": "#/components/schemas/Item"}
    assert responses(app, "/lines")["200"]["content"] == {
        "application/jsonl": {"schema": {"type": "string"}, "x-itemSchema": item}
    }
    assert responses(app, "/words")["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert responses(app, "/chunks")["200"]["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }
    assert responses(app, "/untyped")["200"]["content"] == {"application/jsonl": {"schema": {"type": "string"}}}
    assert responses(app, "/events")["200"]["content"] == {"text/event-stream": {"schema": {"type": "string"}}}
    assert responses(app, "/csv")["200"]["content"] == {"text/csv": {"schema": {"type": "string"}}}
    assert "Item" in document(app)["components"]["schemas"]  # referred to by the item schema only


def test_fastapi_style_declared_responses(app: Plait[Any]) -> None:
    @app.get(
        "/r/{id:int}",
        responses={
            404: {"model": Missing, "description": "No such item."},
            200: {
                "content": {"image/png": {}},
                "description": "The item, or its picture.",
                "headers": {"X-Rate": {"schema": {"type": "integer"}}},
            },
            202: {"model": Item, "content": {"application/json": {"example": {"name": "x"}}}},
            "5XX": "The server failed.",
        },
    )
    def r(id: int) -> Item:
        return Item("x")

    found = responses(app, "/r/{id}")
    assert found["404"] == {
        "description": "No such item.",
        "content": {
            "application/problem+json": {"schema": PROBLEM},
            "application/json": {"schema": {"$ref": "#/components/schemas/Missing"}},
        },
    }
    assert found["200"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
        "image/png": {},
    }
    assert found["200"]["description"] == "The item, or its picture."
    assert found["200"]["headers"] == {"X-Rate": {"schema": {"type": "integer"}}}
    assert found["202"] == {
        "description": "Accepted",
        "content": {"application/json": {"example": {"name": "x"}, "schema": {"$ref": "#/components/schemas/Item"}}},
    }
    assert found["5XX"]["content"] == {"application/problem+json": {"schema": PROBLEM}}


def test_unknown_keys_in_a_declared_response_name_the_fix(app: Plait[Any]) -> None:
    # Refused where the route is declared, not when the document is first served.
    with pytest.raises(ConfigurationError, match=r"GET /r .*responses\[404\] has no key 'descripton' \(did you mean"):

        @app.get("/r", responses={404: {"descripton": "Gone."}})
        def r() -> None: ...


def test_responses_from_routers_and_include_router(app: Plait[Any]) -> None:
    router = Router(prefix="/items", responses={401: "Log in first."})

    @router.get("/{id:int}", responses={404: "No such item."})
    def item(id: int) -> Item:
        return Item("x")

    app.include_router(router, responses={503: Missing, 401: "Sign in."})
    found = responses(app, "/items/{id}")
    assert found["401"]["description"] == "Log in first."  # the inner declaration wins
    assert found["404"]["description"] == "No such item."
    assert found["503"]["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Missing"}}}
