"""FastAPI tutorial programs (dependencies, middleware, routers, response classes, OpenAPI) moved to Plait."""

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from plait import (
    BackgroundTasks,
    Cookie,
    Depends,
    Header,
    HTTPException,
    Plait,
    Request,
    Response,
    Router,
    WebSocket,
    WebSocketException,
    status,
)
from plait.middleware import CORSMiddleware
from plait.openapi import get_openapi
from plait.responses import FileResponse, HTMLResponse, RedirectResponse, StreamingResponse
from plait.routing import CallNext
from plait.testing import TestClient
from plait.websockets import WebSocketDisconnect


class CommonQueryParams:
    def __init__(self, q: str | None = None, skip: int = 0, limit: int = 100) -> None:
        self.q = q
        self.skip = skip
        self.limit = limit


async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100) -> dict[str, Any]:
    return {"q": q, "skip": skip, "limit": limit}


def query_extractor(q: str | None = None) -> str | None:
    return q


def query_or_cookie_extractor(
    q: Annotated[str | None, Depends(query_extractor)], last_query: Annotated[str | None, Cookie()] = None
) -> str | None:
    return q or last_query


async def verify_token(x_token: Annotated[str, Header()]) -> None:
    if x_token != "fake-super-secret-token":
        raise HTTPException(status_code=400, detail="X-Token header invalid")


async def verify_key(x_key: Annotated[str, Header()]) -> str:
    if x_key != "fake-super-secret-key":
        raise HTTPException(status_code=400, detail="X-Key header invalid")
    return x_key


def test_function_class_and_sub_dependencies() -> None:
    app = Plait()

    @app.get("/items/")
    async def read_items(commons: Annotated[dict[str, Any], Depends(common_parameters)]) -> dict[str, Any]:
        return commons

    @app.get("/class/")
    async def read_class(commons: Annotated[CommonQueryParams, Depends()]) -> dict[str, Any]:
        return {"q": commons.q, "skip": commons.skip, "limit": commons.limit}

    @app.get("/class-explicit/")
    async def read_explicit(commons: Annotated[CommonQueryParams, Depends(CommonQueryParams)]) -> int:
        return commons.limit

    @app.get("/sub/")
    async def read_query(query_or_default: Annotated[str | None, Depends(query_or_cookie_extractor)]) -> Any:
        return {"q_or_cookie": query_or_default}

    with TestClient(app) as client:
        assert client.get("/items/?q=x&skip=1").json() == {"q": "x", "skip": 1, "limit": 100}
        assert client.get("/class/?limit=5").json() == {"q": None, "skip": 0, "limit": 5}
        assert client.get("/class/?limit=x").status_code == 422
        assert client.get("/class-explicit/?limit=7").json() == 7
        assert client.get("/sub/?q=a").json() == {"q_or_cookie": "a"}
        client.cookies.set("last_query", "from-cookie")
        assert client.get("/sub/").json() == {"q_or_cookie": "from-cookie"}
        document = client.get("/openapi.json").json()
    names = {p["name"] for p in document["paths"]["/class/"]["get"]["parameters"]}
    assert names == {"q", "skip", "limit"}
    sub_names = {(p["name"], p["in"]) for p in document["paths"]["/sub/"]["get"]["parameters"]}
    assert sub_names == {("q", "query"), ("last_query", "cookie")}


def test_dependencies_in_decorators_and_global_dependencies() -> None:
    app = Plait(dependencies=[Depends(verify_token)])

    @app.get("/items/", dependencies=[Depends(verify_key)])
    async def read_items() -> list[dict[str, str]]:
        return [{"item": "Foo"}, {"item": "Bar"}]

    good = {"x-token": "fake-super-secret-token", "x-key": "fake-super-secret-key"}
    with TestClient(app) as client:
        assert client.get("/items/", headers=good).json() == [{"item": "Foo"}, {"item": "Bar"}]
        bad_key = client.get("/items/", headers={**good, "x-key": "nope"})
        assert bad_key.status_code == 400
        assert bad_key.json()["detail"] == "X-Key header invalid"
        missing = client.get("/items/", headers={"x-key": "fake-super-secret-key"})
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["loc"] == ["header", "x-token"]
        # The OpenAPI document and the docs pages stay open.
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 200
        document = client.get("/openapi.json").json()
    names = {p["name"] for p in document["paths"]["/items/"]["get"]["parameters"]}
    assert names == {"x-token", "x-key"}


def test_yield_dependencies_clean_up_after_the_response() -> None:
    events: list[str] = []

    class OwnerError(Exception):
        pass

    def get_db() -> Iterator[str]:
        events.append("open")
        try:
            yield "db"
        except OwnerError:
            events.append("rollback")
            raise
        finally:
            events.append("close")

    def get_username() -> Iterator[str]:
        try:
            yield "Rick"
        except OwnerError as e:
            raise HTTPException(status_code=400, detail=f"Owner error: {e}") from e

    app = Plait()

    @app.get("/items/{item_id}")
    def get_item(item_id: str, db: Annotated[str, Depends(get_db)], username: Annotated[str, Depends(get_username)]):  # type: ignore[no-untyped-def]
        if item_id == "plumbus" and username == "Rick":
            raise OwnerError(username)
        events.append(f"handler {db}")
        return {"item": item_id}

    with TestClient(app) as client:
        assert client.get("/items/portal-gun").json() == {"item": "portal-gun"}
        assert events == ["open", "handler db", "close"]
        events.clear()
        answer = client.get("/items/plumbus")
        assert answer.status_code == 400
        assert answer.json()["detail"] == "Owner error: Rick"
    assert "close" in events


def test_dependency_overrides() -> None:
    app = Plait()

    @app.get("/items/")
    async def read_items(commons: Annotated[dict[str, Any], Depends(common_parameters)]) -> dict[str, Any]:
        return commons

    async def override_dependency(q: str | None = None) -> dict[str, Any]:
        return {"q": q, "skip": 5, "limit": 10}

    app.dependency_overrides[common_parameters] = override_dependency
    with TestClient(app) as client:
        assert client.get("/items/?q=foo").json() == {"q": "foo", "skip": 5, "limit": 10}
        app.dependency_overrides = {}
        assert client.get("/items/?q=foo").json() == {"q": "foo", "skip": 0, "limit": 100}


def test_middleware_adds_process_time_and_cors() -> None:
    app = Plait()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["http://localhost:8080"],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )

    @app.middleware("http")
    async def add_process_time_header(request: Request, call_next: CallNext) -> Response:
        start_time = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Process-Time"] = str(time.perf_counter() - start_time)
        return response

    @app.get("/")
    async def main() -> dict[str, str]:
        return {"message": "Hello World"}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def numbers() -> AsyncIterator[bytes]:
            for n in range(3):
                yield f"{n}\n".encode()

        return StreamingResponse(numbers(), media_type="text/plain")

    with TestClient(app) as client:
        answer = client.get("/", headers={"origin": "http://localhost:8080"})
        assert answer.json() == {"message": "Hello World"}
        assert float(answer.headers["x-process-time"]) >= 0
        assert answer.headers["access-control-allow-origin"] == "http://localhost:8080"
        assert answer.headers["access-control-allow-credentials"] == "true"
        preflight = client.options(
            "/",
            headers={
                "origin": "http://localhost:8080",
                "access-control-request-method": "DELETE",
                "access-control-request-headers": "x-custom",
            },
        )
        assert preflight.status_code == 200
        assert "DELETE" in preflight.headers["access-control-allow-methods"]
        foreign = client.get("/", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers
        streamed = client.get("/stream")
        assert streamed.text == "0\n1\n2\n"
        assert "x-process-time" in streamed.headers


def test_background_tasks_run_after_the_response(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    app = Plait()

    def write_log(message: str) -> None:
        with log.open("a") as f:
            f.write(message)

    def get_query(background_tasks: BackgroundTasks, q: str | None = None) -> str | None:
        if q:
            background_tasks.add_task(write_log, f"found query: {q}\n")
        return q

    @app.post("/send-notification/{email}")
    async def send_notification(
        email: str, background_tasks: BackgroundTasks, q: Annotated[str | None, Depends(get_query)]
    ) -> dict[str, str]:
        background_tasks.add_task(write_log, f"message to {email}\n")
        return {"message": "Message sent"}

    with TestClient(app) as client:
        answer = client.post("/send-notification/a@example.com?q=hi")
    assert answer.json() == {"message": "Message sent"}
    assert log.read_text() == "found query: hi\nmessage to a@example.com\n"


def test_bigger_applications_with_routers() -> None:
    async def get_token_header(x_token: Annotated[str, Header()]) -> None:
        if x_token != "fake-super-secret-token":
            raise HTTPException(status_code=400, detail="X-Token header invalid")

    async def get_query_token(token: str) -> None:
        if token != "jessica":
            raise HTTPException(status_code=400, detail="No Jessica token provided")

    users = Router()

    @users.get("/users/", tags=["users"])
    async def read_users() -> list[dict[str, str]]:
        return [{"username": "Rick"}, {"username": "Morty"}]

    items_router = Router(prefix="/items", dependencies=[Depends(get_token_header)], responses={404: "Not found"})

    @items_router.get("/{item_id}", tags=["custom"], responses={403: {"description": "Operation forbidden"}})
    async def read_item(item_id: str) -> dict[str, str]:
        if item_id != "plumbus":
            raise HTTPException(status_code=404, detail="Item not found")
        return {"name": "Plumbus", "item_id": item_id}

    admin = Router()

    @admin.post("/")
    async def update_admin() -> dict[str, str]:
        return {"message": "Admin getting schwifty"}

    app = Plait(dependencies=[Depends(get_query_token)])
    app.include_router(users)
    app.include_router(items_router, tags=["items"])
    app.include_router(
        admin,
        prefix="/admin",
        tags=["admin"],
        dependencies=[Depends(get_token_header)],
        responses={418: {"description": "I'm a teapot"}},
    )

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"message": "Hello Bigger Applications!"}

    token = {"x-token": "fake-super-secret-token"}
    with TestClient(app) as client:
        assert client.get("/?token=jessica").json() == {"message": "Hello Bigger Applications!"}
        assert client.get("/").status_code == 422
        assert client.get("/users/?token=jessica").json()[0] == {"username": "Rick"}
        assert client.get("/items/plumbus?token=jessica", headers=token).json()["name"] == "Plumbus"
        assert client.get("/items/gun?token=jessica", headers=token).status_code == 404
        assert client.get("/items/plumbus?token=jessica").status_code == 422
        assert client.post("/admin/?token=jessica", headers=token).json() == {"message": "Admin getting schwifty"}
        # A router's "/" under a prefix is the prefix itself; the trailing-slash form redirects (308) to it.
        moved = client.post("/admin/?token=jessica", headers=token, follow_redirects=False)
        assert (moved.status_code, moved.headers["location"]) == (308, "/admin?token=jessica")
        document = client.get("/openapi.json").json()
    item_op = document["paths"]["/items/{item_id}"]["get"]
    assert item_op["tags"] == ["items", "custom"]
    assert set(item_op["responses"]) >= {"200", "403", "404"}
    admin_op = document["paths"]["/admin"]["post"]
    assert admin_op["tags"] == ["admin"]
    assert admin_op["responses"]["418"]["description"] == "I'm a teapot"


def test_response_classes(tmp_path: Path) -> None:
    some_file = tmp_path / "video.txt"
    some_file.write_text("frames")
    app = Plait()

    @app.get("/html/", response_class=HTMLResponse)
    async def read_html() -> str:
        return "<html><body><h1>Look ma! HTML!</h1></body></html>"

    @app.get("/typer", response_class=RedirectResponse)
    async def redirect_typer() -> str:
        return "https://typer.tiangolo.com"

    @app.get("/pydantic", response_class=RedirectResponse, status_code=302)
    async def redirect_pydantic() -> str:
        return "https://docs.pydantic.dev/"

    @app.get("/redirect")
    async def redirect_object() -> RedirectResponse:
        return RedirectResponse("https://typer.tiangolo.com")

    @app.get("/file", response_class=FileResponse)
    async def main_file() -> str:
        return str(some_file)

    @app.get("/file-object")
    async def file_object() -> FileResponse:
        return FileResponse(some_file, filename="video.txt")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def fake_video_streamer() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"some fake video bytes"

        return StreamingResponse(fake_video_streamer())

    @app.get("/legacy/")
    def get_legacy_data() -> Response:
        return Response(content="<shampoo/>", media_type="application/xml")

    with TestClient(app, follow_redirects=False) as client:
        html = client.get("/html/")
        assert html.headers["content-type"].startswith("text/html")
        assert "Look ma" in html.text
        typer = client.get("/typer")
        assert typer.status_code == 307
        assert typer.headers["location"] == "https://typer.tiangolo.com"
        assert client.get("/pydantic").status_code == 302
        assert client.get("/redirect").status_code == 307
        assert client.get("/file").text == "frames"
        assert 'filename="video.txt"' in client.get("/file-object").headers["content-disposition"]
        assert client.get("/stream").content == b"some fake video bytes" * 3
        legacy = client.get("/legacy/")
        assert legacy.headers["content-type"].startswith("application/xml")
        assert legacy.text == "<shampoo/>"
        document = client.get("/openapi.json").json()
    assert "text/html" in document["paths"]["/html/"]["get"]["responses"]["200"]["content"]
    assert "307" in document["paths"]["/typer"]["get"]["responses"]


def test_generator_handlers_stream() -> None:
    app = Plait()

    class Item(BaseModel):
        name: str

    @app.get("/items")
    async def items() -> AsyncIterator[dict[str, str]]:
        for name in ("a", "b"):
            yield {"name": name}

    @app.get("/lines", response_class=HTMLResponse)
    def lines() -> Iterator[str]:
        yield "<p>1</p>"
        yield "<p>2</p>"

    with TestClient(app) as client:
        answer = client.get("/items")
        assert answer.headers["content-type"].startswith("application/jsonl")
        assert answer.text.splitlines() == ['{"name":"a"}', '{"name":"b"}']
        html = client.get("/lines")
        assert html.headers["content-type"].startswith("text/html")
        assert html.text == "<p>1</p><p>2</p>"


def test_path_operation_configuration() -> None:
    app = Plait()

    @app.post(
        "/items/",
        status_code=status.HTTP_201_CREATED,
        tags=["items"],
        summary="Create an item",
        description="Create an item with all the information",
        response_description="The created item",
    )
    async def create_item(name: str) -> dict[str, str]:
        return {"name": name}

    @app.get("/elements/", tags=["items"], deprecated=True, operation_id="elements")
    async def read_elements() -> list[dict[str, str]]:
        return [{"item_id": "Foo"}]

    @app.get("/docstring/")
    async def documented() -> None:
        """Create an item.

        - **name**: each item must have a name
        """

    @app.get("/hidden/", include_in_schema=False)
    async def hidden() -> None:
        return None

    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    create = document["paths"]["/items/"]["post"]
    assert create["summary"] == "Create an item"
    assert create["description"] == "Create an item with all the information"
    assert create["responses"]["201"]["description"] == "The created item"
    assert create["tags"] == ["items"]
    elements = document["paths"]["/elements/"]["get"]
    assert elements["deprecated"] is True
    assert elements["operationId"] == "elements"
    assert document["paths"]["/docstring/"]["get"]["summary"] == "Create an item."
    assert "/hidden/" not in document["paths"]


def test_openapi_metadata_and_custom_openapi() -> None:
    app = Plait(
        title="ChimichangApp",
        description="ChimichangApp API helps you do awesome stuff.",
        summary="Deadpool's favorite app. Nuff said.",
        version="0.0.1",
        terms_of_service="http://example.com/terms/",
        contact={"name": "Deadpoolio", "url": "http://x-force.example.com/contact/", "email": "dp@x-force.example"},
        license_info={"name": "Apache 2.0", "identifier": "Apache-2.0"},
        openapi_tags=[
            {"name": "users", "description": "Operations with users."},
            {"name": "items", "description": "Manage items.", "externalDocs": {"url": "https://example.com/"}},
        ],
        servers=[{"url": "https://stag.example.com", "description": "Staging environment"}],
    )

    @app.get("/items/", tags=["items"])
    async def read_items() -> list[str]:
        return ["Katana"]

    @app.get("/users/", tags=["users"])
    async def read_users() -> list[str]:
        return ["Rick"]

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        openapi_schema = get_openapi(
            title="Custom title",
            version="2.5.0",
            summary="This is a very custom OpenAPI schema",
            description="Here's a longer description of the custom **OpenAPI** schema",
            routes=app.compiled_routes(),
        )
        openapi_schema["info"]["x-logo"] = {"url": "https://example.com/logo.png"}
        app.openapi_schema = openapi_schema
        return app.openapi_schema

    with TestClient(app) as client:
        info = client.get("/openapi.json").json()
        assert info["info"]["title"] == "ChimichangApp"
        assert info["info"]["summary"] == "Deadpool's favorite app. Nuff said."
        assert info["info"]["description"].startswith("ChimichangApp API")
        assert info["info"]["termsOfService"] == "http://example.com/terms/"
        assert info["info"]["contact"]["name"] == "Deadpoolio"
        assert info["info"]["license"] == {"name": "Apache 2.0", "identifier": "Apache-2.0"}
        assert [tag["name"] for tag in info["tags"]] == ["users", "items"]
        assert info["servers"] == [{"url": "https://stag.example.com", "description": "Staging environment"}]
    custom = Plait()

    @custom.get("/items/")
    async def custom_items() -> list[str]:
        return ["Foo"]

    app = custom
    app.openapi = custom_openapi
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "Custom title"
    assert document["info"]["x-logo"] == {"url": "https://example.com/logo.png"}
    assert "/items/" in document["paths"]


def test_websocket_exception_in_a_dependency() -> None:
    app = Plait()

    async def get_cookie_or_token(token: str | None = None) -> str:
        if token is None:
            raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
        return token

    @app.websocket("/items/{item_id}/ws")
    async def websocket_endpoint(
        websocket: WebSocket, item_id: str, token: Annotated[str, Depends(get_cookie_or_token)]
    ) -> None:
        await websocket.accept()
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(f"Session token value is: {token}; item {item_id}: {data}")

    with TestClient(app) as client:
        with client.websocket_connect("/items/foo/ws?token=some-token") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "Session token value is: some-token; item foo: hi"
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/items/foo/ws") as ws:
            ws.receive_text()
    assert refused.value.code == status.WS_1008_POLICY_VIOLATION
