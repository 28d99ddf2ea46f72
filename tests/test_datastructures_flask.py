"""Flask habits on request data: a missing key is a 400 naming it; uploads save themselves."""

from __future__ import annotations

import io
from pathlib import Path

import anyio
import pytest

from plait.app import Plait
from plait.datastructures import FormData, QueryParams, UploadFile
from plait.exceptions import BadRequestKeyError, HTTPException
from plait.requests import Request
from plait.settings import Settings
from plait.testing import TestClient


def make_app() -> Plait:
    app = Plait(settings=Settings(), docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/signup")
    async def signup(request: Request) -> dict[str, str | None]:
        form = await request.form()
        return {"email": str(form["email"]), "nickname": form.get("nickname")}

    @app.get("/search")
    def search(request: Request) -> dict[str, str | None]:
        return {"q": request.query_params["q"], "page": request.query_params.get("page")}

    @app.post("/upload")
    async def upload(request: Request) -> str:
        form = await request.form()  # Plait closes the uploads after the response, even after an error
        avatar = form["avatar"]
        return avatar.filename or "" if isinstance(avatar, UploadFile) else "not a file"

    return app


def test_a_missing_form_field_is_a_400_naming_it() -> None:
    with TestClient(make_app()) as client:
        missing = client.post("/signup", data={"name": "ada"})
        assert missing.status_code == 400
        assert missing.json()["detail"] == (
            "The request has no form field 'email'; send it, or read it with .get('email') if it is optional."
        )
        assert client.post("/signup", data={"email": "a@b.c"}).json() == {"email": "a@b.c", "nickname": None}


def test_a_missing_file_is_a_400_naming_it() -> None:
    with TestClient(make_app()) as client:
        missing = client.post("/upload", files={"photo": ("me.png", b"png")})
        assert missing.status_code == 400
        assert "'avatar'" in missing.json()["detail"]
        assert client.post("/upload", files={"avatar": ("me.png", b"png")}).text == "me.png"


def test_a_missing_query_parameter_is_a_400_naming_it() -> None:
    with TestClient(make_app()) as client:
        missing = client.get("/search")
        assert (missing.status_code, missing.headers["content-type"]) == (400, "application/problem+json")
        assert "query parameter 'q'" in missing.json()["detail"]
        assert client.get("/search", params={"q": "tea"}).json() == {"q": "tea", "page": None}


def test_the_error_is_still_a_key_error() -> None:
    with pytest.raises(KeyError) as caught:
        FormData([("a", "1")])["b"]
    assert isinstance(caught.value, HTTPException)
    assert caught.value.args == ("b",)
    with pytest.raises(BadRequestKeyError, match="query parameter 'x'") as query:
        QueryParams(b"y=1")["x"]
    assert query.value.key == "x"
    assert "x" not in QueryParams(b"y=1")
    assert "a" in FormData([("a", "1")])


def test_upload_save_writes_to_a_path_and_to_a_file_object(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int, bytes]:
        upload = UploadFile("big.bin", spool_max_size=10)  # rolled over to disk: the copy runs in a thread
        data = bytes(range(256)) * 100
        await upload.write(data)
        assert not upload.in_memory
        written = await upload.save(tmp_path / "copy.bin", chunk_size=1000)
        buffer = io.BytesIO()
        again = await upload.save(buffer)  # from the start again, whatever was read before
        await upload.close()
        assert (tmp_path / "copy.bin").read_bytes() == data
        return written, again, buffer.getvalue()[:4]

    assert anyio.run(scenario) == (25600, 25600, b"\x00\x01\x02\x03")


def test_upload_save_from_a_handler(tmp_path: Path) -> None:
    app = make_app()

    @app.post("/avatar")
    async def avatar(request: Request) -> int:
        form = await request.form()
        upload = form["file"]
        assert isinstance(upload, UploadFile)
        return await upload.save(str(tmp_path / (upload.filename or "unnamed")))

    with TestClient(app) as client:
        assert client.post("/avatar", files={"file": ("../../me.png", b"\x89PNG")}).json() == 4
    assert (tmp_path / "me.png").read_bytes() == b"\x89PNG"
