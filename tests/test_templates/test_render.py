"""render() end to end: autoescaping, the names every template gets, statuses, headers, extensions' names."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from markupsafe import Markup

from plait import Plait
from plait.extensions import Extension
from plait.requests import Request
from plait.responses import Response
from plait.templates import TemplateResponse, Templates, render
from plait.testing import TestClient
from tests.test_templates.conftest import write


def make_app(site: Path, **options: Any) -> Plait[Any]:
    app = Plait(**options)
    app.install(Templates(site / "templates", static=site / "static"))

    @app.get("/articles/{id}", name="article")
    def article(id: int) -> object:
        return render("article.html", {"title": f"Article {id}"})

    return app


def test_a_page_renders_with_request_url_for_and_static(site: Path) -> None:
    digest = hashlib.sha256((site / "static/css/site.css").read_bytes()).hexdigest()[:12]
    with TestClient(make_app(site)) as client:
        response = client.get("/articles/7")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert int(response.headers["content-length"]) == len(response.content)
        assert "<h1>Article 7</h1><p>/articles/7</p>" in response.text
        assert '<a href="/articles/7">again</a>' in response.text
        assert f'href="/static/css/site.css?v={digest}"' in response.text
        css = client.get(f"/static/css/site.css?v={digest}")
        assert css.status_code == 200
        assert css.text == "body { color: teal }\n"


def test_a_script_title_renders_inert(site: Path) -> None:
    write(site, {"templates/title.html": "<h1>{{ title }}</h1><a title='{{ title }}'>x</a>"})
    app = Plait()
    app.install(Templates(site / "templates", static=None))

    @app.get("/")
    def page(title: str) -> object:
        return render("title.html", {"title": title})

    with TestClient(app) as client:
        text = client.get("/", params={"title": "<script>alert('x')</script>"}).text
    assert "<script>" not in text
    assert text == (
        "<h1>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</h1>"
        "<a title='&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;'>x</a>"
    )


@pytest.mark.parametrize("name", ["page.html", "page.htm", "feed.xml", "page.jinja", "note.txt"])
def test_autoescape_is_on_for_every_template(tmp_path: Path, name: str) -> None:
    write(tmp_path, {f"templates/{name}": "{{ value }}"})
    app = Plait()
    templates = app.install(Templates(tmp_path / "templates", static=None))
    app.build()
    text = anyio.run(templates.render_string, name, {"value": "<b>&"})
    assert text == "&lt;b&gt;&amp;"
    assert anyio.run(templates.render_string, name, {"value": Markup("<b>ok</b>")}) == "<b>ok</b>"


def test_status_headers_and_media_type(site: Path) -> None:
    write(site, {"templates/feed.xml": "<feed>{{ n }}</feed>"})
    app = Plait()
    app.install(Templates(site / "templates", static=None))

    @app.get("/gone")
    def gone() -> object:
        return render("feed.xml", {"n": 1}, status_code=410, headers={"x-why": "moved"}, media_type="application/xml")

    @app.post("/made")
    def made() -> tuple[Response, int]:
        return render("feed.xml", {"n": 2}), 201

    with TestClient(app) as client:
        response = client.get("/gone")
        assert (response.status_code, response.text, response.headers["x-why"]) == (410, "<feed>1</feed>", "moved")
        assert response.headers["content-type"] == "application/xml"
        made_response = client.post("/made")
        assert (made_response.status_code, made_response.text) == (201, "<feed>2</feed>")
        head = client.head("/gone")
        assert head.content == b""
        assert head.headers["content-length"] == str(len(b"<feed>1</feed>"))


def test_a_not_modified_page_has_no_length(site: Path) -> None:
    write(site, {"templates/empty.html": ""})
    app = Plait()
    app.install(Templates(site / "templates", static=None))

    @app.get("/")
    def page() -> object:
        return render("empty.html", status_code=304)

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 304
    assert "content-length" not in response.headers


def test_the_response_parameter_adds_its_cookies(site: Path) -> None:
    write(site, {"templates/hi.html": "hi"})
    app = Plait()
    app.install(Templates(site / "templates", static=None))

    @app.get("/")
    def page(response: Response) -> object:
        response.set_cookie("seen", "1", secure=False)
        return render("hi.html")

    with TestClient(app) as client:
        answer = client.get("/")
        assert (answer.text, answer.headers["set-cookie"].startswith("seen=1")) == ("hi", True)


class Flashes(Extension):
    """A stand-in for the sessions battery: a global and a per-request name, as its hooks give them."""

    name = "flashes"

    def template_globals(self) -> Mapping[str, Any]:
        return {"site_name": "Plait News"}

    async def template_context(self, request: Request) -> Mapping[str, Any]:
        await anyio.sleep(0)  # an async hook, awaited for each render
        return {"flash": f"saved {request.query_params.get('what', 'nothing')}", "user": "ada"}


def test_extension_globals_and_contexts_reach_every_template(tmp_path: Path) -> None:
    write(tmp_path, {"templates/page.html": "{{ site_name }}|{{ flash }}|{{ user }}|{{ extra }}"})
    app = Plait()
    app.install(Templates(tmp_path / "templates", static=None))
    app.install(Flashes())  # installed after Templates: its names are still there

    @app.get("/")
    def page() -> object:
        return render("page.html", {"extra": "mine", "user": "grace"})  # the handler's own names win

    with TestClient(app) as client:
        assert client.get("/?what=draft").text == "Plait News|saved draft|grace|mine"


def test_user_globals_filters_and_tests(tmp_path: Path) -> None:
    write(tmp_path, {"templates/page.html": "{{ site.title | shout }} {{ 3 is odd_number }}"})
    app = Plait()
    templates = app.install(
        Templates(
            tmp_path / "templates",
            static=None,
            globals={"site": {"title": "news"}},
            filters={"shout": lambda text: text.upper() + "!"},
            tests={"odd_number": lambda n: n % 2 == 1},
        )
    )
    app.build()
    assert anyio.run(templates.render_string, "page.html") == "NEWS! True"


def test_async_globals_are_awaited(tmp_path: Path) -> None:
    write(tmp_path, {"templates/page.html": "{{ count() }}"})

    async def count() -> int:
        await anyio.sleep(0)
        return 42

    app = Plait()
    templates = app.install(Templates(tmp_path / "templates", static=None, globals={"count": count}))
    app.build()
    assert anyio.run(templates.render_string, "page.html") == "42"


def test_render_string_for_a_mail_without_a_request(site: Path) -> None:
    app = make_app(site)
    app.install(Flashes())
    app.build()
    templates: Templates = app.extensions["templates"]
    text = anyio.run(templates.render_string, "mail.txt", {"name": "Ada"})
    assert text == "Hello Ada, welcome to Plait News."


def test_templates_render_binds_one_templates(site: Path) -> None:
    app = Plait()
    templates = app.install(Templates(site / "templates", static=None))
    write(site, {"templates/hi.html": "hi {{ who }}"})

    @app.get("/")
    def page() -> TemplateResponse:
        return templates.render("hi.html", {"who": "there"})

    with TestClient(app) as client:
        assert client.get("/").text == "hi there"


def test_url_for_keeps_the_mount_prefix(site: Path) -> None:
    write(
        site, {"templates/links.html": '{{ url_for("article", id=3) }} {{ url_for("article", id=3, _external=True) }}'}
    )
    blog = Plait()
    blog.install(Templates(site / "templates", static=None))

    @blog.get("/articles/{id}", name="article")
    def article(id: int) -> object:
        return render("links.html")

    outer = Plait()
    outer.mount("/blog", blog)
    with TestClient(outer) as client:
        assert client.get("/blog/articles/3").text == "/blog/articles/3 http://testserver/blog/articles/3"


def test_url_for_outside_a_request_gives_the_apps_path(site: Path) -> None:
    write(site, {"templates/link.html": '{{ url_for("article", id=1) }}'})
    app = make_app(site)
    app.build()
    templates: Templates = app.extensions["templates"]
    assert anyio.run(templates.render_string, "link.html") == "/articles/1"
