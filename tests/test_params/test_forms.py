"""Form fields, form models and uploaded files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pytest

from plait import ConfigurationError, File, Form, Plait, Request, Settings, UploadFile
from tests.support import call


def make_app(**settings: int) -> Plait:
    return Plait(settings=Settings(**settings))  # type: ignore[arg-type]


@dataclass
class Login:
    username: str
    remember: bool = False


def test_urlencoded_fields_with_types_and_lists() -> None:
    app = make_app()

    @app.post("/")
    def submit(
        name: Annotated[str, Form()],
        age: Annotated[int, Form(ge=0)],
        tags: Annotated[list[str], Form()] = [],  # noqa: B006 - never mutated
    ) -> dict[str, object]:
        return {"name": name, "age": age, "tags": tags}

    response = call(app, "POST", "/", data={"name": "ann", "age": "30", "tags": ["a", "b"]})
    assert response.json() == {"name": "ann", "age": 30, "tags": ["a", "b"]}
    errors = call(app, "POST", "/", data={"age": "-1"}).json()["errors"]
    assert {tuple(e["loc"]) for e in errors} == {("body", "name"), ("body", "age")}


def test_form_model() -> None:
    app = make_app()

    @app.post("/login")
    def login(form: Annotated[Login, Form()]) -> dict[str, object]:
        return {"user": form.username, "remember": form.remember}

    assert call(app, "POST", "/login", data={"username": "u", "remember": "true"}).json() == {
        "user": "u",
        "remember": True,
    }
    assert call(app, "POST", "/login", data={}).status_code == 422


def test_upload_files_single_and_many() -> None:
    app = make_app()

    @app.post("/upload")
    async def upload(
        doc: UploadFile,
        title: Annotated[str, Form()],
        extra: Annotated[list[UploadFile], File()] = [],  # noqa: B006
    ) -> dict[str, object]:
        content = await doc.read()
        return {"name": doc.filename, "size": len(content), "title": title, "extra": [f.filename for f in extra]}

    files = [
        ("doc", ("a.txt", b"hello", "text/plain")),
        ("extra", ("b.bin", b"1", "application/octet-stream")),
        ("extra", ("c.bin", b"2", "application/octet-stream")),
    ]
    response = call(app, "POST", "/upload", files=files, data={"title": "t"})
    assert response.json() == {"name": "a.txt", "size": 5, "title": "t", "extra": ["b.bin", "c.bin"]}


def test_large_upload_is_spooled_and_closed_after_response() -> None:
    app = make_app(upload_spool_size=16)
    seen: list[UploadFile] = []

    @app.post("/")
    async def upload(doc: UploadFile) -> dict[str, object]:
        seen.append(doc)
        return {"in_memory": doc.in_memory, "size": doc.size}

    response = call(app, "POST", "/", files={"doc": ("big.bin", b"x" * 1000)})
    assert response.json() == {"in_memory": False, "size": 1000}
    assert seen[0].file.closed


def test_text_where_file_expected_and_file_where_text_expected() -> None:
    app = make_app()

    @app.post("/file")
    def needs_file(doc: UploadFile) -> str:
        return "x"

    @app.post("/text")
    def needs_text(doc: Annotated[str, Form()]) -> str:
        return doc

    wrong = call(app, "POST", "/file", data={"doc": "text"}, files={"other": ("a", b"1")})
    assert wrong.json()["errors"][0]["type"] == "file_expected"
    other = call(app, "POST", "/text", files={"doc": ("a.txt", b"1")})
    assert other.json()["errors"][0]["msg"] == "Expected a text field, got a file"


def test_form_limits_give_413() -> None:
    app = make_app(max_form_fields=2)

    @app.post("/")
    def submit(a: Annotated[str, Form()]) -> str:
        return a

    response = call(app, "POST", "/", data={"a": "1", "b": "2", "c": "3"})
    assert response.status_code == 413
    assert "max_form_fields" in response.json()["detail"]


def test_json_to_form_endpoint_is_415() -> None:
    app = make_app()

    @app.post("/")
    def submit(a: Annotated[str, Form()]) -> str:
        return a

    assert call(app, "POST", "/", json={"a": "1"}).status_code == 415


def test_body_and_form_together_refused() -> None:
    app = make_app()

    @app.post("/")
    def submit(a: Annotated[str, Form()], data: Login) -> str:
        return a

    with pytest.raises(ConfigurationError, match="both a JSON body and form fields"):
        app.build()


def test_unsupported_form_type_refused() -> None:
    app = make_app()

    @app.post("/")
    def submit(a: Annotated[dict[str, int], Form()]) -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="form parameter 'a'"):
        app.build()


def test_raw_body_still_readable_after_urlencoded_form() -> None:
    app = make_app()

    @app.post("/hook")
    async def hook(request: Request, event: Annotated[str, Form()]) -> dict[str, str]:
        raw = await request.body()
        return {"event": event, "raw": raw.decode()}

    assert call(app, "POST", "/hook", data={"event": "push"}).json() == {"event": "push", "raw": "event=push"}
