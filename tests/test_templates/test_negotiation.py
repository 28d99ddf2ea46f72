"""One route answers HTML to a browser and JSON to an API client, by the Accept header's q-values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from plait import Plait
from plait.requests import Request
from plait.responses import JSONResponse, Response
from plait.templates import Templates, negotiate, preferred_type, render, wants_html
from plait.testing import TestClient
from tests.test_templates.conftest import write

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Article(msgspec.Struct):
    id: int
    title: str


def request(accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request({"type": "http", "headers": headers})


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (FIREFOX, True),
        ("text/html", True),
        ("text/*", True),
        ("application/json", False),
        ("*/*", False),  # curl, httpx and most API clients
        (None, False),
        ("", False),
        ("application/json;q=0.5, text/html;q=0.9", True),
        ("application/json;q=0.9, text/html;q=0.5", False),
        ("text/html;q=0, */*", False),  # the most specific range wins: HTML is refused outright
        ("text/html;q=bad, application/json;q=0.1", False),  # an unreadable q drops its range
        ("TEXT/HTML", True),
        ("text/html;q=1.5, application/json", False),  # q is clamped to 1, and JSON wins the tie
        ("image/png, nonsense", False),
    ],
)
def test_wants_html_reads_q_values(accept: str | None, html: bool) -> None:
    assert wants_html(request(accept)) is html


def test_preferred_type_refuses_what_is_rated_zero() -> None:
    assert preferred_type("text/html;q=0, application/json;q=0", ["application/json", "text/html"]) is None
    assert preferred_type("application/*;q=0.2, text/html;q=0.1", ["text/html", "application/json"]) == (
        "application/json"
    )


def make_app(tmp_path: Path) -> Plait[Any]:
    write(tmp_path, {"templates/article.html": "<h1>{{ article.title }}</h1>"})
    app = Plait()
    app.install(Templates(tmp_path / "templates", static=None))

    @app.get("/articles/{id}")
    def article(id: int, request: Request) -> Response:
        found = Article(id, "<Plait>")
        return negotiate(request, html=render("article.html", {"article": found}), data=found)

    return app


def test_one_route_serves_a_browser_and_an_api_client(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        page = client.get("/articles/3", headers={"accept": FIREFOX})
        data = client.get("/articles/3")
        refused = client.get("/articles/3", headers={"accept": "image/png"})
    assert (page.text, page.headers["content-type"]) == ("<h1>&lt;Plait&gt;</h1>", "text/html; charset=utf-8")
    assert (data.json(), data.headers["content-type"]) == ({"id": 3, "title": "<Plait>"}, "application/json")
    assert page.headers["vary"] == data.headers["vary"] == "Accept"
    assert refused.status_code == 406
    assert "application/json or text/html" in refused.json()["detail"]


def test_status_headers_and_lazy_html() -> None:
    made: list[str] = []

    def page() -> Response:
        made.append("page")
        return JSONResponse("unused")

    response = negotiate(request("application/json"), html=page, data={"ok": True}, status_code=201, headers={"x": "1"})
    assert (response.status_code, response.headers["x"], made) == (201, "1", [])
    html = negotiate(request("text/html"), html=page, data=None)
    assert made == ["page"]
    assert html.headers.getlist("vary") == ["Accept"]


def test_data_may_already_be_a_response() -> None:
    given = JSONResponse({"a": 1}, headers={"vary": "Cookie"})
    response = negotiate(request("application/json"), html=lambda: Response(), data=given)
    assert response is given
    assert response.headers.getlist("vary") == ["Cookie", "Accept"]
