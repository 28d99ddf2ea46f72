"""FastAPI tutorial programs (response models, status codes, forms, files, errors) moved to Plait."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from pydantic import BaseModel

from plait import (
    File,
    Form,
    HTTPException,
    Plait,
    Request,
    RequestValidationError,
    Response,
    UploadFile,
    http_exception_handler,
    request_validation_exception_handler,
    status,
)
from plait.responses import JSONResponse, PlainTextResponse
from plait.testing import TestClient


class UserIn(BaseModel):
    username: str
    password: str
    email: str
    full_name: str | None = None


class UserOut(BaseModel):
    username: str
    email: str
    full_name: str | None = None


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float = 10.5
    tags: list[str] = []


class LoginForm(BaseModel):
    model_config = {"extra": "forbid"}
    username: str
    password: str


class StructForm(msgspec.Struct, forbid_unknown_fields=True):
    username: str


class Message(BaseModel):
    message: str


items = {
    "foo": {"name": "Foo", "price": 50.2},
    "bar": {"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2},
}


def test_response_model_filters_the_password_out() -> None:
    app = Plait()

    @app.post("/user/", response_model=UserOut)
    async def create_user(user: UserIn) -> Any:
        return user

    @app.post("/user2/")
    async def create_user2(user: UserIn) -> UserOut:
        return user  # type: ignore[return-value]  # the FastAPI habit: the model filters a wider object

    with TestClient(app) as client:
        payload = {"username": "ann", "password": "secret", "email": "ann@example.com"}
        for path in ("/user/", "/user2/"):
            answer = client.post(path, json=payload)
            assert answer.status_code == 200
            assert answer.json() == {"username": "ann", "email": "ann@example.com", "full_name": None}
        bad_email = client.post("/user/", json={**payload, "email": 3})
        assert bad_email.status_code == 422
        assert bad_email.json()["errors"][0]["loc"] == ["body", "email"]
        document = client.get("/openapi.json").json()
    ok = document["paths"]["/user/"]["post"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/UserOut"}


def test_response_model_exclude_unset_include_and_exclude() -> None:
    app = Plait()

    @app.get("/items/{item_id}", response_model=Item, response_model_exclude_unset=True)
    async def read_item(item_id: str) -> Any:
        return items[item_id]

    @app.get("/items/{item_id}/name", response_model=Item, response_model_include={"name", "description"})
    async def read_item_name(item_id: str) -> Any:
        return items[item_id]

    @app.get("/items/{item_id}/public", response_model=Item, response_model_exclude={"tax"})
    async def read_item_public_data(item_id: str) -> Any:
        return items[item_id]

    @app.get("/items-list", response_model=list[Item])
    async def read_items() -> Any:
        return list(items.values())

    @app.get("/keyword-weights/", response_model=dict[str, float])
    async def read_keyword_weights() -> dict[str, float]:
        return {"foo": 2.3, "bar": 3.4}

    with TestClient(app) as client:
        assert client.get("/items/foo").json() == {"name": "Foo", "price": 50.2}
        assert client.get("/items/bar").json() == {
            "name": "Bar",
            "description": "The bartenders",
            "price": 62.0,
            "tax": 20.2,
        }
        assert client.get("/items/foo/name").json() == {"name": "Foo", "description": None}
        assert client.get("/items/bar/public").json() == {
            "name": "Bar",
            "description": "The bartenders",
            "price": 62.0,
            "tags": [],
        }
        assert [item["tax"] for item in client.get("/items-list").json()] == [10.5, 20.2]
        assert client.get("/keyword-weights/").json() == {"foo": 2.3, "bar": 3.4}


def test_response_model_union_and_none() -> None:
    app = Plait()

    class Plane(BaseModel):
        kind: str = "plane"
        size: int

    @app.get("/portal", response_model=None)
    async def get_portal(teleport: bool = False) -> Response | dict[str, str]:
        if teleport:
            return PlainTextResponse("teleported", status_code=200)
        return {"message": "Here's your interdimensional portal."}

    with TestClient(app) as client:
        assert client.get("/portal").json() == {"message": "Here's your interdimensional portal."}
        assert client.get("/portal?teleport=true").text == "teleported"
        document = client.get("/openapi.json").json()
    assert "content" not in document["paths"]["/portal"]["get"]["responses"]["200"]


def test_status_codes_and_additional_responses() -> None:
    app = Plait()

    @app.post("/items/", status_code=status.HTTP_201_CREATED)
    async def create_item(name: str) -> dict[str, str]:
        return {"name": name}

    @app.delete("/items/{item_id}", status_code=204)
    async def delete_item(item_id: int) -> None:
        return None

    @app.get("/items/{item_id}", response_model=Item, responses={404: {"model": Message}})
    async def read_item(item_id: str) -> Any:
        if item_id == "foo":
            return items["foo"]
        return JSONResponse(status_code=404, content={"message": "Item not found"})

    @app.get(
        "/image/{item_id}",
        response_model=Item,
        responses={
            200: {"content": {"image/png": {}}, "description": "Return the JSON item or an image."},
            404: {"description": "The item was not found"},
        },
    )
    async def read_image(item_id: str, img: bool | None = None) -> Any:
        return items["foo"]

    with TestClient(app) as client:
        created = client.post("/items/?name=foo")
        assert created.status_code == 201
        deleted = client.delete("/items/1")
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert client.get("/items/bar").json() == {"message": "Item not found"}
        assert client.get("/items/bar").status_code == 404
        document = client.get("/openapi.json").json()
    paths = document["paths"]
    assert "201" in paths["/items/"]["post"]["responses"]
    assert "content" not in paths["/items/{item_id}"]["delete"]["responses"]["204"]
    not_found = paths["/items/{item_id}"]["get"]["responses"]["404"]
    assert not_found["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Message"}
    image = paths["/image/{item_id}"]["get"]["responses"]
    assert set(image["200"]["content"]) == {"application/json", "image/png"}
    assert image["200"]["description"] == "Return the JSON item or an image."
    assert image["404"]["description"] == "The item was not found"


def test_form_data_and_file_uploads(tmp_path: Path) -> None:
    app = Plait()

    @app.post("/login/")
    async def login(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> dict[str, str]:
        return {"username": username}

    @app.post("/files/")
    async def create_file(file: Annotated[bytes, File()]) -> dict[str, int]:
        return {"file_size": len(file)}

    @app.post("/uploadfile/")
    async def create_upload_file(file: UploadFile) -> dict[str, str | None]:
        return {"filename": file.filename, "content_type": file.content_type}

    @app.post("/multi/")
    async def create_files(
        files: Annotated[list[bytes], File(description="Multiple files as bytes")],
        token: Annotated[str, Form()],
    ) -> dict[str, Any]:
        return {"file_sizes": [len(f) for f in files], "token": token}

    @app.post("/optional/")
    async def optional_file(file: Annotated[bytes | None, File()] = None) -> dict[str, Any]:
        return {"size": None if file is None else len(file)}

    @app.post("/save/")
    async def save(file: UploadFile) -> dict[str, str]:
        assert file.filename is not None
        await file.save(tmp_path / file.filename)
        return {"saved": file.filename}

    with TestClient(app) as client:
        assert client.post("/login/", data={"username": "ann", "password": "x"}).json() == {"username": "ann"}
        missing = client.post("/login/", data={"username": "ann"})
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["loc"] == ["body", "password"]
        assert client.post("/files/", files={"file": ("a.txt", b"hello")}).json() == {"file_size": 5}
        upload = client.post("/uploadfile/", files={"file": ("a.txt", b"hello", "text/plain")}).json()
        assert upload == {"filename": "a.txt", "content_type": "text/plain"}
        multi = client.post(
            "/multi/", files=[("files", ("a", b"12")), ("files", ("b", b"345"))], data={"token": "t"}
        ).json()
        assert multi == {"file_sizes": [2, 3], "token": "t"}
        assert client.post("/optional/", data={"x": "1"}).json() == {"size": None}
        assert client.post("/save/", files={"file": ("../../evil.txt", b"data")}).json() == {"saved": "evil.txt"}
    assert (tmp_path / "evil.txt").read_bytes() == b"data"


def test_form_models_forbid_extra_fields() -> None:
    app = Plait()

    @app.post("/login/")
    async def login(data: Annotated[LoginForm, Form()]) -> LoginForm:
        return data

    @app.post("/struct/")
    async def struct_login(data: Annotated[StructForm, Form()]) -> StructForm:
        return data

    with TestClient(app) as client:
        good = {"username": "ann", "password": "x"}
        assert client.post("/login/", data=good).json() == good
        extra = client.post("/login/", data={**good, "extra": "x"})
        assert extra.status_code == 422
        assert extra.json()["errors"][0]["loc"] == ["body", "extra"]
        assert extra.json()["errors"][0]["type"] == "extra_forbidden"
        assert client.post("/struct/", data={"username": "ann"}).json() == {"username": "ann"}
        refused = client.post("/struct/", data={"username": "ann", "role": "admin"})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["body", "role"]


def test_custom_handlers_delegate_to_the_default_ones() -> None:
    seen: list[str] = []

    async def custom_http_exception_handler(request: Request, exc: HTTPException) -> Response:
        seen.append(f"http {exc.status_code}")
        return await http_exception_handler(request, exc)

    async def validation_exception_handler(request: Request, exc: RequestValidationError) -> Response:
        seen.append(f"invalid {exc.errors()[0]['loc']}")
        return await request_validation_exception_handler(request, exc)

    class UnicornException(Exception):
        def __init__(self, name: str) -> None:
            self.name = name

    async def unicorn_exception_handler(request: Request, exc: UnicornException) -> Response:
        return JSONResponse(status_code=418, content={"message": f"Oops! {exc.name} did something."})

    app = Plait(
        exception_handlers={
            HTTPException: custom_http_exception_handler,
            RequestValidationError: validation_exception_handler,
            UnicornException: unicorn_exception_handler,
        }
    )

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        if item_id == 3:
            raise HTTPException(status_code=418, detail="Nope! I don't like 3.", headers={"X-Error": "There goes"})
        return {"item_id": item_id}

    @app.get("/unicorns/{name}")
    async def read_unicorn(name: str) -> dict[str, str]:
        if name == "yolo":
            raise UnicornException(name=name)
        return {"unicorn_name": name}

    with TestClient(app) as client:
        teapot = client.get("/items/3")
        assert teapot.status_code == 418
        assert teapot.headers["x-error"] == "There goes"
        assert teapot.headers["content-type"] == "application/problem+json"
        assert teapot.json()["detail"] == "Nope! I don't like 3."
        invalid = client.get("/items/foo")
        assert invalid.status_code == 422
        assert invalid.json()["errors"][0]["loc"] == ["path", "item_id"]
        assert client.get("/nowhere").status_code == 404
        assert client.get("/unicorns/yolo").json() == {"message": "Oops! yolo did something."}
    assert seen == ["http 418", "invalid ('path', 'item_id')", "http 404"]


def test_validation_error_body_is_available() -> None:
    async def handler(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"detail": exc.errors(), "body": exc.body}, status_code=422)

    app = Plait(exception_handlers={RequestValidationError: handler})

    @app.post("/items/")
    async def create_item(item: Item) -> Item:
        return item

    with TestClient(app) as client:
        answer = client.post("/items/", json={"title": "towel", "price": "large"})
    assert answer.status_code == 422
    assert answer.json()["body"] == {"title": "towel", "price": "large"}
    assert {tuple(e["loc"]) for e in answer.json()["detail"]} == {("body", "name"), ("body", "price")}
