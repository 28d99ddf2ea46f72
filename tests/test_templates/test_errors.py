"""Template failures: named precisely for the developer, a bare 500 for the public, config errors at startup."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import jinja2
import pytest

from plait import Plait
from plait.exceptions import ConfigurationError, HTTPException
from plait.requests import Request
from plait.responses import PlainTextResponse, Response
from plait.templates import TemplateError, TemplateNotFound, Templates, render
from plait.templates.extension import templates_of
from plait.testing import TestClient
from tests.test_templates.conftest import write

GENERIC = "The server hit an error it did not expect. It has been logged."


def page_app(site: Path, template: str, *, debug: bool = False, **context: Any) -> Plait[Any]:
    app = Plait(debug=debug)
    app.install(Templates(site / "templates", static=None))

    @app.get("/")
    def page() -> object:
        return render(template, context)

    return app


def rendered(app: Plait[Any], name: str, context: dict[str, Any] | None = None) -> str:
    app.build()
    templates: Templates = app.extensions["templates"]
    return anyio.run(templates.render_string, name, context)


def test_a_missing_variable_names_template_line_and_variable(site: Path) -> None:
    with pytest.raises(TemplateError) as info:
        rendered(page_app(site, "x"), "missing_var.html")
    error = info.value
    assert (error.template, error.line) == ("missing_var.html", 2)
    assert str(error).startswith("Template 'missing_var.html', line 2: 'tilte' is undefined.")
    assert "{% if tilte is defined %}" in str(error)
    assert isinstance(error.__cause__, jinja2.UndefinedError)


def test_looping_over_a_missing_variable_is_an_error(site: Path) -> None:
    with pytest.raises(TemplateError, match=r"'loop\.html', line 1: 'artcles' is undefined"):
        rendered(page_app(site, "x"), "loop.html")


def test_measuring_or_iterating_a_missing_variable_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"templates/len.html": "{{ items | length }}", "templates/join.html": "{{ join(items) }}"})
    app = page_app(tmp_path, "x")
    templates: Templates = app.extensions["templates"]
    app.build()
    templates.environment.globals["join"] = ",".join  # Python code iterating what the template passed
    with pytest.raises(TemplateError, match="'items' is undefined"):
        rendered(app, "len.html")
    with pytest.raises(TemplateError, match="'items' is undefined"):
        rendered(app, "join.html")


def test_missing_variables_may_be_tested_and_defaulted(site: Path) -> None:
    app = page_app(site, "x")
    assert rendered(app, "guarded.html") == "|none|anonymous"
    assert rendered(app, "guarded.html", {"flash": "Saved", "subtitle": "s", "user": 1}) == "Saved|s|user"


def test_a_missing_attribute_is_named(tmp_path: Path) -> None:
    write(tmp_path, {"templates/a.html": "\n\n{{ article.titel }}"})
    with pytest.raises(TemplateError, match=r"'a.html', line 3: 'dict object' has no attribute 'titel'"):
        rendered(page_app(tmp_path, "x"), "a.html", {"article": {"title": "t"}})


def test_a_syntax_error_names_template_and_line(site: Path) -> None:
    with pytest.raises(TemplateError, match=r"'broken.html', line 2: Expected an expression") as info:
        rendered(page_app(site, "x"), "broken.html")
    assert info.value.line == 2


def test_a_missing_template_names_every_folder_searched(site: Path) -> None:
    with pytest.raises(TemplateNotFound) as info:
        rendered(page_app(site, "x"), "nope.html")
    assert info.value.folders == [str((site / "templates").resolve())]
    assert f"Template 'nope.html' not found; searched {(site / 'templates').resolve()}" in str(info.value)
    assert isinstance(info.value, jinja2.TemplateNotFound)  # code catching Jinja's error still does
    with pytest.raises(TemplateNotFound, match=r"'partials/gone\.html' not found"):
        rendered(page_app(site, "x"), "includes_missing.html")


@pytest.mark.parametrize("template", ["missing_var.html", "broken.html", "nope.html"])
def test_in_production_a_failed_render_is_a_bare_500(
    site: Path, template: str, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(page_app(site, template)) as client, caplog.at_level(logging.ERROR, "plait.error"):
        response = client.get("/")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == GENERIC
    assert template not in response.text  # nothing about the template leaks
    assert any(template in (record.exc_text or "") for record in caplog.records)  # it is all in the log


def test_in_debug_the_error_page_names_template_line_and_variable(site: Path) -> None:
    with TestClient(page_app(site, "missing_var.html", debug=True)) as client:
        page = client.get("/", headers={"accept": "text/html"})
        problem = client.get("/")
    assert page.status_code == problem.status_code == 500
    assert "Template &#x27;missing_var.html&#x27;, line 2: &#x27;tilte&#x27; is undefined" in page.text
    assert "line 2: 'tilte' is undefined" in problem.json()["detail"]


def test_an_http_error_raised_while_rendering_is_answered_as_such(tmp_path: Path) -> None:
    write(tmp_path, {"templates/p.html": "{{ load() }}"})

    def load() -> str:
        raise HTTPException(404, "No such article")

    app = Plait()
    app.install(Templates(tmp_path / "templates", static=None, globals={"load": load}))

    @app.get("/")
    def page() -> object:
        return render("p.html")

    with TestClient(app) as client:
        response = client.get("/")
    assert (response.status_code, response.json()["detail"]) == (404, "No such article")


def test_the_apps_500_handler_answers_a_failed_render(site: Path) -> None:
    def sorry(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"sorry ({type(exc).__name__})", status_code=500)

    app = page_app(site, "missing_var.html")
    app.exception_handlers[500] = sorry
    with TestClient(app) as client:
        assert client.get("/").text == "sorry (TemplateError)"


def test_a_failing_500_handler_falls_back_to_the_bare_500(site: Path) -> None:
    def broken(request: Request, exc: Exception) -> Response:
        raise RuntimeError("handler bug")

    app = page_app(site, "missing_var.html")
    app.exception_handlers[500] = broken
    with TestClient(app) as client:
        assert client.get("/").json()["detail"] == GENERIC


def test_render_without_the_extension_says_how_to_install_it() -> None:
    app = Plait(debug=True)

    @app.get("/")
    def page() -> object:
        return render("page.html")

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert "app.install(Templates())" in response.json()["detail"]
    with pytest.raises(ConfigurationError, match=r"app\.install"):
        templates_of(Plait())


def test_a_folder_you_named_must_exist(tmp_path: Path) -> None:
    app = Plait()
    app.install(Templates(tmp_path / "nowhere"))
    with pytest.raises(ConfigurationError, match=r"templates folder .*nowhere' does not exist"):
        app.build()
    other = Plait()
    (tmp_path / "templates").mkdir()
    other.install(Templates(tmp_path / "templates", static=tmp_path / "no-static"))
    with pytest.raises(ConfigurationError, match=r"static folder .*no-static' does not exist"):
        other.build()


def test_no_templates_folder_at_all_is_a_startup_error() -> None:
    app = Plait()
    app.install(Templates())  # ./templates next to this test module: there is none
    with pytest.raises(ConfigurationError, match="found no templates folder"):
        app.build()


def test_the_environment_exists_once_the_app_starts(site: Path) -> None:
    templates = Templates(site / "templates")
    with pytest.raises(ConfigurationError, match=r"app.build\(\)"):
        templates.get_template("base.html")
    app = Plait()
    app.install(templates)
    app.build()
    assert templates.get_template("base.html") is templates.get_template("base.html")  # compiled once
