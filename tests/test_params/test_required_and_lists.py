"""FastAPI spellings: ``Query(...)`` means required, lists of scalars on GET come from the query."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest

from plait import (
    Body,
    ConfigurationError,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    Plait,
    Query,
    UploadFile,
    WebSocket,
)
from plait.params.markers import REQUIRED, QueryParam
from plait.testing import TestClient
from tests.support import call


def test_ellipsis_default_means_required_for_every_marker() -> None:
    app = Plait()

    @app.get("/q")
    def q(a: str = Query(...), b: str = Query(default=...), c: Annotated[str, Query(...)] = "x") -> list[str]:
        return [a, b, c]

    @app.get("/h")
    def h(token: str = Header(...), session: str = Cookie(...)) -> list[str]:
        return [token, session]

    @app.get("/p/{id}")
    def p(id: int = Path(...)) -> int:
        return id

    @app.post("/b")
    def b(name: str = Body(..., embed=True)) -> str:
        return name

    @app.post("/f")
    def f(name: str = Form(...), upload: UploadFile = File(...)) -> str:
        return name

    missing = call(app, "GET", "/q")
    assert missing.status_code == 422
    assert [e["loc"] for e in missing.json()["errors"]] == [["query", "a"], ["query", "b"]]
    assert call(app, "GET", "/q?a=1&b=2").json() == ["1", "2", "x"]
    assert [e["loc"] for e in call(app, "GET", "/h").json()["errors"]] == [["header", "token"], ["cookie", "session"]]
    assert call(app, "GET", "/p/3").json() == 3
    assert call(app, "POST", "/b", json={}).json()["errors"][0]["loc"] == ["body", "name"]
    assert call(app, "POST", "/b", json={"name": "n"}).text == "n"
    form_errors = call(app, "POST", "/f", data={"other": "x"}).json()["errors"]
    assert [e["loc"] for e in form_errors] == [["body", "name"], ["body", "upload"]]


def test_plain_ellipsis_default_is_required_too() -> None:
    app = Plait()

    @app.get("/")
    def search(q: str = ...) -> str:  # type: ignore[assignment]
        return q

    assert call(app, "GET", "/").status_code == 422
    assert call(app, "GET", "/?q=a").text == "a"


def test_marker_built_directly_with_ellipsis_is_required() -> None:
    assert QueryParam(default=...).default is REQUIRED


@pytest.mark.parametrize(
    ("options", "hint"),
    [({"regex": "^a"}, "use pattern= instead"), ({"descripton": "x"}, "use description= instead")],
)
def test_unknown_marker_options_name_the_fix(options: dict[str, Any], hint: str) -> None:
    with pytest.raises(ConfigurationError, match=hint):
        Query(None, **options)


def test_unknown_marker_option_without_a_near_match_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError, match="valid options are alias, "):
        Header(None, zzz=1)


@pytest.mark.parametrize("method", ["GET", "DELETE", "OPTIONS", "HEAD"])
def test_unmarked_lists_come_from_the_query_on_bodyless_methods(method: str) -> None:
    app = Plait()

    @app.route("/items", methods=[method])
    def items(tags: list[str] = [], ids: list[int] | None = None) -> dict[str, Any]:  # noqa: B006
        return {"tags": tags, "ids": ids}

    response = call(app, method, "/items?tags=a&tags=b&ids=1&ids=2")
    assert response.status_code == 200
    if method != "HEAD":
        assert response.json() == {"tags": ["a", "b"], "ids": [1, 2]}
        assert call(app, method, "/items").json() == {"tags": [], "ids": None}
        assert call(app, method, "/items?ids=x").json()["errors"][0]["loc"] == ["query", "ids", 0]


def test_a_mutable_default_is_fresh_for_each_request() -> None:
    app = Plait()

    @app.get("/")
    def items(tags: list[str] = []) -> list[str]:  # noqa: B006
        tags.append("added")
        return tags

    assert call(app, "GET", "/").json() == ["added"]
    assert call(app, "GET", "/").json() == ["added"]


def test_unmarked_lists_stay_the_json_body_on_post() -> None:
    app = Plait()

    @app.route("/items", methods=["POST", "PUT", "PATCH"])
    def items(tags: list[str]) -> list[str]:
        return tags

    for method in ("POST", "PUT", "PATCH"):
        assert call(app, method, "/items?tags=q", json=["a", "b"]).json() == ["a", "b"]


def test_a_route_with_get_and_post_keeps_lists_in_the_body() -> None:
    app = Plait()

    @app.route("/items", methods=["GET", "POST"])
    def items(tags: list[str] = []) -> list[str]:  # noqa: B006
        return tags

    assert call(app, "POST", "/items", json=["a"]).json() == ["a"]


class Filters(msgspec.Struct):
    limit: int = 10


def tag_filter(tags: list[str] = []) -> list[str]:  # noqa: B006
    return [t.upper() for t in tags]


def real_tags(tags: list[str] = []) -> list[str]:  # noqa: B006
    return tags


def fake_tags(tags: list[str] = []) -> list[str]:  # noqa: B006
    return ["fake", *tags]


def test_providers_of_a_get_route_read_lists_from_the_query_too() -> None:
    app = Plait()

    @app.get("/items")
    def items(tags: Annotated[list[str], Depends(tag_filter)]) -> list[str]:
        return tags

    @app.post("/items")
    def create(tags: Annotated[list[str], Depends(tag_filter)]) -> list[str]:
        return tags

    assert call(app, "GET", "/items?tags=a&tags=b").json() == ["A", "B"]
    assert call(app, "POST", "/items", json=["c"]).json() == ["C"]


def test_an_override_reads_lists_where_the_provider_it_replaces_did() -> None:
    app = Plait()

    @app.get("/items", dependencies=[Depends(real_tags)])
    def items(tags: Annotated[list[str], Depends(real_tags)]) -> list[str]:
        return tags

    app.dependency_overrides[real_tags] = fake_tags
    assert call(app, "GET", "/items?tags=a").json() == ["fake", "a"]


def test_file_on_bytes_reads_the_uploaded_content() -> None:
    app = Plait()

    @app.post("/one")
    def one(data: bytes = File(...)) -> int:
        return len(data)

    @app.post("/many")
    def many(parts: Annotated[list[bytes], File()]) -> list[int]:
        return [len(p) for p in parts]

    @app.post("/maybe")
    def maybe(data: bytes | None = File(None)) -> int | None:
        return None if data is None else len(data)

    assert call(app, "POST", "/one", files={"data": ("a.txt", b"hello")}).json() == 5
    files = [("parts", ("a", b"12")), ("parts", ("b", b"123"))]
    assert call(app, "POST", "/many", files=files).json() == [2, 3]
    assert call(app, "POST", "/maybe", files={"other": ("x", b"1")}).json() is None
    assert call(app, "POST", "/maybe", files={"data": ("x", b"1")}).json() == 1
    text = call(app, "POST", "/one", data={"data": "not a file"})
    assert text.status_code == 422
    assert text.json()["errors"][0]["type"] == "file_expected"


def test_file_on_a_text_type_is_refused_at_startup() -> None:
    app = Plait()

    @app.post("/")
    def upload(name: str = File(...)) -> str:
        return name

    with pytest.raises(ConfigurationError, match="marked File\\(\\) but has type str; annotate it UploadFile, bytes"):
        app.build()


def test_websocket_routes_read_lists_from_the_query() -> None:
    app = Plait()

    @app.websocket("/ws")
    async def feed(ws: WebSocket, topics: list[str] = []) -> None:  # noqa: B006
        await ws.accept()
        await ws.send_json(topics)

    with TestClient(app) as client, client.websocket_connect("/ws?topics=a&topics=b") as ws:
        assert ws.receive_json() == ["a", "b"]
