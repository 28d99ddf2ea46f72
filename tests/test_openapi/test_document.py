"""The OpenAPI document built from routes: operations, parameters, bodies, forms, responses."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

import msgspec
import pydantic
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from plait.app import Plait
from plait.datastructures import UploadFile
from plait.di import Depends
from plait.exceptions import ConfigurationError
from plait.openapi import OPENAPI_VERSION, build_openapi, openapi_path
from plait.params import Body, Cookie, File, Form, Header, Path, Query
from plait.routing import Router
from plait.routing.paths import parse_path

JSON = dict[str, Any]


class Item(msgspec.Struct):
    """Something for sale."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    price: float = 0.0


class Filters(msgspec.Struct):
    color: str | None = None
    sizes: list[int] = []
    min_price: Annotated[float, msgspec.Meta(ge=0, description="Lowest price.")] = 0


class Person(pydantic.BaseModel):
    name: str


@dataclasses.dataclass
class Signup:
    email: str
    age: int = 18


class Opaque:
    """A type Plait cannot describe."""


def current_user(x_user: Annotated[str, Header()]) -> str:
    return x_user


def paging(user: Annotated[str, Depends(current_user)], page: int = 1) -> int:
    return page


def app_settings() -> int:
    return 1


def audited(x_trace: Annotated[str | None, Header()] = None) -> None: ...


def item_body(data: Item) -> Item:
    return data


def document(app: Plait[Any], **options: Any) -> JSON:
    """Build the document and check it is valid OpenAPI 3.1 on the way."""
    built = build_openapi(app, **options)
    validate(built, cls=OpenAPIV31SpecValidator)
    return built


def operation(app: Plait[Any], path: str, method: str = "get") -> JSON:
    found: JSON = document(app)["paths"][path][method]
    return found


def params(op: JSON) -> dict[str, JSON]:
    return {f"{p['in']}:{p['name']}": p for p in op.get("parameters", [])}


@pytest.fixture
def app() -> Plait[Any]:
    return Plait(title="Test", version="2.0")


# -- the document -----------------------------------------------------------------------------------


def test_empty_app(app: Plait[Any]) -> None:
    assert document(app) == {"openapi": OPENAPI_VERSION, "info": {"title": "Test", "version": "2.0"}, "paths": {}}


def test_info_and_servers(app: Plait[Any]) -> None:
    built = document(
        app, title="Other", version="3", description="About.", servers=["https://api.example", {"url": "/v1"}]
    )
    assert built["info"] == {"title": "Other", "version": "3", "description": "About."}
    assert built["servers"] == [{"url": "https://api.example"}, {"url": "/v1"}]


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/", "/"), ("/a/{id:int}/b", "/a/{id}/b"), ("/files/{rest:path}", "/files/{rest}"), ("/x/", "/x/")],
)
def test_openapi_path(path: str, expected: str) -> None:
    assert openapi_path(parse_path(path)) == expected


def test_hidden_routes_websockets_and_mounts_are_left_out(app: Plait[Any]) -> None:
    @app.get("/hidden", include_in_schema=False)
    def hidden() -> None: ...

    @app.websocket("/ws")
    async def socket() -> None: ...

    app.mount("/legacy", Plait())
    assert document(app)["paths"] == {}


# -- operations -------------------------------------------------------------------------------------


def test_docstring_gives_summary_and_description(app: Plait[Any]) -> None:
    @app.get("/a")
    def a() -> None:
        """Fetch an A.

        With all its details.
        """

    @app.get("/b", summary="Bee", description="Buzz.")
    def b() -> None:
        """Ignored."""

    @app.get("/c")
    def list_all_things() -> None: ...

    built = document(app)["paths"]
    assert (built["/a"]["get"]["summary"], built["/a"]["get"]["description"]) == (
        "Fetch an A.",
        "With all its details.",
    )
    assert (built["/b"]["get"]["summary"], built["/b"]["get"]["description"]) == ("Bee", "Buzz.")
    assert built["/c"]["get"]["summary"] == "List All Things"
    assert "description" not in built["/c"]["get"]


def test_a_given_summary_leaves_the_whole_docstring_as_description(app: Plait[Any]) -> None:
    @app.get("/a", summary="Read an A")
    def a() -> None:
        """Fetch an A.

        With all its details.
        """

    @app.get("/b", summary="Read a B")
    def b() -> None: ...

    built = document(app)["paths"]
    assert built["/a"]["get"]["summary"] == "Read an A"
    assert built["/a"]["get"]["description"] == "Fetch an A.\n\nWith all its details."
    assert "description" not in built["/b"]["get"]


def test_callable_objects_have_no_docstring_summary(app: Plait[Any]) -> None:
    class Handler:
        """Not about the route."""

        __name__ = "handler"

        def __call__(self) -> None: ...

    app.add_route("/h", Handler())
    assert operation(app, "/h")["summary"] == "Handler"


def test_tags_from_routers_and_routes(app: Plait[Any]) -> None:
    api = Router(prefix="/api", tags=["api"])

    @api.get("/x", tags=["x"])
    def x() -> None: ...

    @app.get("/y", tags=["y", "api"])
    def y() -> None: ...

    app.include_router(api)
    built = document(app)
    assert built["paths"]["/api/x"]["get"]["tags"] == ["api", "x"]
    assert built["tags"] == [{"name": "y"}, {"name": "api"}, {"name": "x"}]


def test_deprecated_route(app: Plait[Any]) -> None:
    @app.get("/old", deprecated=True)
    def old() -> None: ...

    assert operation(app, "/old")["deprecated"] is True


def test_operation_ids_are_unique(app: Plait[Any]) -> None:
    api = Router(prefix="/api", name="api")

    @api.get("/me")
    def me() -> None: ...

    def twice() -> None: ...

    app.add_route("/one", twice)
    app.add_route("/two", twice)
    app.add_route("/both", twice, methods=["GET", "POST"])

    @app.get("/named", operation_id="twice")
    def named() -> None: ...

    app.include_router(api)
    paths = document(app)["paths"]
    assert paths["/api/me"]["get"]["operationId"] == "api_me"
    assert paths["/named"]["get"]["operationId"] == "twice"  # explicit ids win
    assert paths["/one"]["get"]["operationId"] == "twice_2"
    assert paths["/two"]["get"]["operationId"] == "twice_3"
    assert paths["/both"]["get"]["operationId"] == "twice_get"
    assert paths["/both"]["post"]["operationId"] == "twice_post"


def test_duplicate_explicit_operation_ids_are_refused(app: Plait[Any]) -> None:
    @app.get("/a", operation_id="same")
    def a() -> None: ...

    @app.get("/b", operation_id="same")
    def b() -> None: ...

    with pytest.raises(ConfigurationError, match="operation_id='same'"):
        build_openapi(app)


def test_undescribable_types_name_the_route(app: Plait[Any]) -> None:
    @app.get("/opaque")
    def opaque() -> Opaque:
        return Opaque()

    with pytest.raises(ConfigurationError, match=r"GET /opaque \(.*opaque\): Plait cannot describe the type Opaque"):
        build_openapi(app)


# -- parameters -------------------------------------------------------------------------------------


def test_path_parameters_follow_their_converters(app: Plait[Any]) -> None:
    @app.get("/a/{id:int}/{slug}/{price:float}/{key:uuid}/{rest:path}")
    def a(id: int, slug: str, price: float, key: str, rest: str) -> None: ...

    found = params(operation(app, "/a/{id}/{slug}/{price}/{key}/{rest}"))
    assert found["path:id"] == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
    assert found["path:slug"]["schema"] == {"type": "string", "pattern": "^(?:[^/]+)$"}
    assert found["path:price"]["schema"] == {"type": "number", "minimum": 0}
    assert found["path:key"]["schema"]["pattern"].startswith("^(?:[0-9a-fA-F]{8}")
    assert found["path:rest"]["schema"] == {"type": "string"}


def test_path_constraints_are_kept(app: Plait[Any]) -> None:
    @app.get("/a/{id:int}/{code}")
    def a(id: Annotated[int, Path(ge=5)], code: Annotated[str, Path(pattern="^[A-Z]+$")]) -> None: ...

    found = params(operation(app, "/a/{id}/{code}"))
    assert found["path:id"]["schema"] == {"type": "integer", "minimum": 5}
    assert found["path:code"]["schema"] == {"type": "string", "pattern": "^[A-Z]+$"}


def test_query_header_and_cookie_parameters(app: Plait[Any]) -> None:
    @app.get("/s")
    def s(
        q: str,
        page: Annotated[int, Query(ge=1)] = 1,
        sort: Literal["asc", "desc"] | None = None,
        tags: Annotated[list[str], Query()] = [],  # noqa: B006
        user_agent: Annotated[str | None, Header()] = None,
        trace: Annotated[str, Header(alias="X-Trace")] = "none",
        session: Annotated[str | None, Cookie()] = None,
    ) -> None: ...

    found = params(operation(app, "/s"))
    assert list(found) == [
        "query:q",
        "query:page",
        "query:sort",
        "query:tags",
        "header:user-agent",
        "header:X-Trace",
        "cookie:session",
    ]
    assert found["query:q"] == {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
    assert found["query:page"]["schema"] == {"type": "integer", "minimum": 1, "default": 1}
    assert found["query:page"]["required"] is False
    assert found["query:sort"]["schema"] == {"enum": ["asc", "desc"]}  # absent or a value: never null
    assert found["query:tags"]["schema"] == {"type": "array", "items": {"type": "string"}, "default": []}
    assert found["header:X-Trace"]["schema"] == {"type": "string", "default": "none"}
    assert found["cookie:session"]["schema"] == {"type": "string"}


def test_marker_documentation(app: Plait[Any]) -> None:
    @app.get("/m")
    def m(
        a: Annotated[int, Query(description="An A.", title="Alpha", examples=[1, 2], deprecated=True)] = 0,
        b: Annotated[str, Query(extra={"x-internal": True})] = "",
        hidden: Annotated[str, Query(include_in_schema=False)] = "",
    ) -> None: ...

    found = params(operation(app, "/m"))
    assert found["query:a"]["description"] == "An A."
    assert found["query:a"]["deprecated"] is True
    assert found["query:a"]["examples"] == {"example1": {"value": 1}, "example2": {"value": 2}}
    assert found["query:a"]["schema"]["title"] == "Alpha"
    assert found["query:b"]["schema"]["x-internal"] is True
    assert "query:hidden" not in found


def test_parameter_models_are_spread_into_parameters(app: Plait[Any]) -> None:
    @app.get("/f")
    def f(filters: Annotated[Filters, Query()], head: Annotated[Filters | None, Header()] = None) -> None: ...

    op = operation(app, "/f")
    found = params(op)
    assert found["query:color"] == {"name": "color", "in": "query", "required": False, "schema": {"type": "string"}}
    assert found["query:sizes"]["schema"] == {"type": "array", "items": {"type": "integer"}, "default": []}
    assert found["query:min_price"]["description"] == "Lowest price."
    assert "header:min-price" in found
    assert "Filters" not in document(app).get("components", {}).get("schemas", {})  # spread, so unused


def test_parameters_of_providers_and_guards(app: Plait[Any]) -> None:
    api = Router(dependencies=[Depends(audited)])

    @api.get("/p")
    def p(
        page: Annotated[int, Depends(paging)],
        who: Annotated[str, Depends(current_user)],
        config: Annotated[int, Depends(app_settings, scope="app")],
    ) -> None: ...

    app.include_router(api)
    found = params(operation(app, "/p"))
    assert sorted(found) == ["header:x-trace", "header:x-user", "query:page"]  # x-user once


# -- request bodies ---------------------------------------------------------------------------------


def test_json_body(app: Plait[Any]) -> None:
    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    built = document(app)
    body = built["paths"]["/items"]["post"]["requestBody"]
    assert body == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
    }
    assert built["components"]["schemas"]["Item"]["description"] == "Something for sale."


def test_optional_body_with_marker_documentation(app: Plait[Any]) -> None:
    @app.post("/items")
    def create(
        item: Annotated[Item | None, Body(description="The item.", examples=[{"name": "tea"}])] = None,
    ) -> None: ...

    body = operation(app, "/items", "post")["requestBody"]
    assert body["required"] is False
    assert body["description"] == "The item."
    assert body["content"]["application/json"]["examples"] == {"example1": {"value": {"name": "tea"}}}


def test_merged_body_members_are_documented(app: Plait[Any]) -> None:
    @app.post("/move")
    def move(
        to: Annotated[str, Body(description="Where.")], note: Annotated[str | None, Body(alias="Note")] = None
    ) -> None: ...

    built = document(app)
    ref = built["paths"]["/move"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    merged = built["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert merged["properties"]["to"]["description"] == "Where."
    assert merged["required"] == ["to"]
    assert set(merged["properties"]) == {"to", "Note"}


def test_pydantic_and_dataclass_bodies(app: Plait[Any]) -> None:
    @app.post("/people")
    def people(person: Person) -> Person:
        return person

    @app.post("/signup")
    def signup(data: Signup) -> None: ...

    built = document(app)
    assert built["components"]["schemas"]["Person"]["properties"]["name"]["type"] == "string"
    assert built["components"]["schemas"]["Signup"]["required"] == ["email"]


def test_body_from_a_provider(app: Plait[Any]) -> None:
    @app.post("/p")
    def p(found: Annotated[Item, Depends(item_body)]) -> None: ...

    assert "requestBody" in operation(app, "/p", "post")


def test_urlencoded_form(app: Plait[Any]) -> None:
    @app.post("/login")
    def login(
        user: Annotated[str, Form(min_length=1, description="Who.")],
        remember: Annotated[bool, Form()] = False,
        hidden: Annotated[str, Form(include_in_schema=False)] = "",
    ) -> None: ...

    body = operation(app, "/login", "post")["requestBody"]
    schema = body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert body["required"] is True
    assert schema["properties"] == {
        "user": {"type": "string", "minLength": 1, "description": "Who."},
        "remember": {"type": "boolean", "default": False},
    }
    assert schema["required"] == ["user"]


def test_form_field_documentation(app: Plait[Any]) -> None:
    @app.post("/f")
    def f(
        code: Annotated[str, Form(title="Code", deprecated=True, examples=["A1", object()], extra={"x-a": 1})],
    ) -> None: ...

    schema = operation(app, "/f", "post")["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema["properties"]["code"] == {
        "type": "string",
        "title": "Code",
        "deprecated": True,
        "examples": ["A1"],  # values with no JSON form are left out
        "x-a": 1,
    }


def test_form_model(app: Plait[Any]) -> None:
    @app.post("/signup")
    def signup(data: Annotated[Signup, Form()]) -> None: ...

    schema = operation(app, "/signup", "post")["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema["properties"] == {"email": {"type": "string"}, "age": {"type": "integer", "default": 18}}
    assert schema["required"] == ["email"]


def test_files_make_a_multipart_form(app: Plait[Any]) -> None:
    @app.post("/upload")
    async def upload(
        doc: UploadFile,
        more: Annotated[list[UploadFile], File(description="Extra pages.")],
        cover: Annotated[UploadFile | None, File()] = None,
    ) -> None: ...

    body = operation(app, "/upload", "post")["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["doc"]["format"] == "binary"
    assert schema["properties"]["more"]["items"]["format"] == "binary"
    assert schema["properties"]["more"]["description"] == "Extra pages."
    assert schema["required"] == ["doc", "more"]


def test_optional_form(app: Plait[Any]) -> None:
    @app.post("/opt")
    def opt(note: Annotated[str | None, Form()] = None) -> None: ...

    body = operation(app, "/opt", "post")["requestBody"]
    assert body["required"] is False
    assert "required" not in body["content"]["application/x-www-form-urlencoded"]["schema"]


def test_public_surface() -> None:
    import plait.openapi

    assert sorted(plait.openapi.__all__) == [
        "OPENAPI_VERSION",
        "OpenAPI",
        "SchemaRegistry",
        "build_openapi",
        "docs_router",
        "get_openapi",
        "openapi_path",
    ]
