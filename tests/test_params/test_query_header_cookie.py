"""Path, query, header and cookie parameters decided from annotations."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec
import pytest

from plait import ConfigurationError, Cookie, Header, Path, Plait, Query, Settings
from tests.support import call


def make_app() -> Plait:
    return Plait(settings=Settings())


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def test_scalars_defaults_and_optionals() -> None:
    app = make_app()

    @app.get("/search")
    def search(
        q: str, page: int = 1, ratio: float = 0.5, exact: bool = False, tag: str | None = None
    ) -> dict[str, object]:
        return {"q": q, "page": page, "ratio": ratio, "exact": exact, "tag": tag}

    assert call(app, "GET", "/search?q=x&page=3&ratio=2.5&exact=true").json() == {
        "q": "x",
        "page": 3,
        "ratio": 2.5,
        "exact": True,
        "tag": None,
    }
    assert call(app, "GET", "/search?q=x&tag=t").json()["tag"] == "t"


def test_missing_and_invalid_are_reported_together() -> None:
    app = make_app()

    @app.get("/search")
    def search(q: str, page: int = 1, limit: Annotated[int, Query(le=100)] = 10) -> dict[str, int]:
        return {"page": page}

    response = call(app, "GET", "/search?page=abc&limit=500")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["loc"] for e in errors] == [["query", "q"], ["query", "page"], ["query", "limit"]]
    assert errors[0]["type"] == "missing"
    assert "int" in errors[1]["msg"]
    assert "<= 100" in errors[2]["msg"]


def test_lists_enums_and_literals() -> None:
    app = make_app()

    @app.get("/filter")
    def filt(
        tag: Annotated[list[str], Query()] = [],  # noqa: B006 - never mutated; mirrors what users write
        ids: Annotated[list[int], Query()] = [],  # noqa: B006
        color: Color = Color.RED,
        order: Literal["asc", "desc"] = "asc",
    ) -> dict[str, object]:
        return {"tag": tag, "ids": ids, "color": color.value, "order": order}

    body = call(app, "GET", "/filter?tag=a&tag=b&ids=1&ids=2&color=blue&order=desc").json()
    assert body == {"tag": ["a", "b"], "ids": [1, 2], "color": "blue", "order": "desc"}
    bad = call(app, "GET", "/filter?color=green&order=up&ids=x").json()["errors"]
    assert {tuple(e["loc"]) for e in bad} == {("query", "color"), ("query", "order"), ("query", "ids", 0)}


def test_constraints_from_marker_as_default() -> None:
    app = make_app()

    @app.get("/items")
    def items(name: str = Query("anon", min_length=2, max_length=5, pattern="^[a-z]+$")) -> dict[str, str]:
        return {"name": name}

    assert call(app, "GET", "/items").json() == {"name": "anon"}
    assert call(app, "GET", "/items?name=bob").json() == {"name": "bob"}
    assert call(app, "GET", "/items?name=b").status_code == 422
    assert call(app, "GET", "/items?name=BOBBY").status_code == 422


def test_query_alias() -> None:
    app = make_app()

    @app.get("/")
    def handler(item_id: Annotated[int, Query(alias="item-id")]) -> dict[str, int]:
        return {"id": item_id}

    assert call(app, "GET", "/?item-id=4").json() == {"id": 4}


def test_optional_int_with_constraint() -> None:
    app = make_app()

    @app.get("/")
    def handler(n: Annotated[int | None, Query(ge=0)] = None) -> dict[str, int | None]:
        return {"n": n}

    assert call(app, "GET", "/").json() == {"n": None}
    assert call(app, "GET", "/?n=2").json() == {"n": 2}
    assert call(app, "GET", "/?n=-2").status_code == 422


def test_headers_convert_underscores_and_repeat() -> None:
    app = make_app()

    @app.get("/")
    def handler(
        user_agent: Annotated[str, Header()],
        x_tags: Annotated[list[str], Header()] = [],  # noqa: B006
        raw_name: Annotated[str | None, Header(convert_underscores=False)] = None,
    ) -> dict[str, object]:
        return {"ua": user_agent, "tags": x_tags, "raw": raw_name}

    headers = [("User-Agent", "tests"), ("X-Tags", "a"), ("X-Tags", "b"), ("raw_name", "r")]
    assert call(app, "GET", "/", headers=headers).json() == {"ua": "tests", "tags": ["a", "b"], "raw": "r"}


def test_missing_header_is_422_with_header_location() -> None:
    app = make_app()

    @app.get("/")
    def handler(x_token: Annotated[str, Header()]) -> str:
        return x_token

    response = call(app, "GET", "/")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "x-token"]


def test_cookies() -> None:
    app = make_app()

    @app.get("/")
    def handler(session: Annotated[str, Cookie()], visits: Annotated[int, Cookie()] = 0) -> dict[str, object]:
        return {"session": session, "visits": visits}

    assert call(app, "GET", "/", headers={"cookie": "session=abc; visits=3"}).json() == {"session": "abc", "visits": 3}
    assert call(app, "GET", "/").json()["errors"][0]["loc"] == ["cookie", "session"]


def test_explicit_path_marker_with_constraint() -> None:
    app = make_app()

    @app.get("/items/{id}")
    def item(id: Annotated[int, Path(ge=1)]) -> dict[str, int]:
        return {"id": id}

    assert call(app, "GET", "/items/2").json() == {"id": 2}
    assert call(app, "GET", "/items/0").status_code == 422


def test_path_marker_without_segment_fails_at_startup() -> None:
    app = make_app()

    @app.get("/items")
    def item(id: Annotated[int, Path()]) -> dict[str, int]:
        return {"id": id}

    with pytest.raises(ConfigurationError, match=r"marked Path\(\) but the route has no \{id\}"):
        app.build()


class Filters(msgspec.Struct):
    q: str = ""
    page: Annotated[int, msgspec.Meta(ge=1)] = 1
    tags: list[str] = []


@dataclass
class Client:
    x_request_id: str
    accept_language: str = "en"


def test_query_and_header_parameter_models() -> None:
    app = make_app()

    @app.get("/")
    def handler(filters: Annotated[Filters, Query()], client: Annotated[Client, Header()]) -> dict[str, object]:
        return {"q": filters.q, "page": filters.page, "tags": filters.tags, "rid": client.x_request_id}

    response = call(app, "GET", "/?q=x&page=2&tags=a&tags=b", headers={"x-request-id": "r1"})
    assert response.json() == {"q": "x", "page": 2, "tags": ["a", "b"], "rid": "r1"}
    bad = call(app, "GET", "/?page=0", headers={"x-request-id": "r1"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "page"]


def test_unsupported_query_type_fails_at_startup() -> None:
    app = make_app()

    @app.get("/")
    def handler(data: Annotated[dict[str, int], Query()]) -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="cannot come from the query"):
        app.build()


def test_unannotated_parameter_is_a_string_query() -> None:
    app = make_app()

    def handler(q):  # type: ignore[no-untyped-def]
        return {"q": q}

    app.get("/")(handler)
    assert call(app, "GET", "/?q=1").json() == {"q": "1"}


def test_huge_integer_is_422_not_500() -> None:
    app = make_app()

    @app.get("/")
    def handler(i: int) -> int:
        return i

    response = call(app, "GET", "/?i=" + "9" * 5000)
    assert response.status_code == 422
    assert call(app, "GET", "/?i=123456789012345678").json() == 123456789012345678


def test_bool_words() -> None:
    app = make_app()

    @app.get("/")
    def handler(flag: bool) -> bool:
        return flag

    for word, expected in [("yes", True), ("on", True), ("1", True), ("off", False), ("No", False), ("f", False)]:
        assert call(app, "GET", f"/?flag={word}").json() is expected
    assert call(app, "GET", "/?flag=maybe").status_code == 422


def test_cookies_from_several_cookie_headers() -> None:
    app = make_app()

    @app.get("/")
    def handler(sid: Annotated[str, Cookie()], a: Annotated[int, Cookie()]) -> dict[str, object]:
        return {"sid": sid, "a": a}

    headers = [("cookie", "sid=abc"), ("cookie", "a=1")]
    assert call(app, "GET", "/", headers=headers).json() == {"sid": "abc", "a": 1}


Positive = Annotated[int, msgspec.Meta(ge=1)]


def test_meta_constraints_in_annotated_aliases_apply() -> None:
    app = make_app()

    @app.get("/plain")
    def plain(n: Positive) -> int:
        return n

    @app.get("/marked")
    def marked(n: Annotated[Positive, Query(le=10)]) -> int:
        return n

    assert call(app, "GET", "/plain?n=3").json() == 3
    assert call(app, "GET", "/plain?n=-5").status_code == 422
    assert call(app, "GET", "/marked?n=5").json() == 5
    assert call(app, "GET", "/marked?n=0").status_code == 422
    assert call(app, "GET", "/marked?n=11").status_code == 422
