"""Forms in Jinja2 pages through plait.templates: no |safe, the shipped macros, and a macro override."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest

from plait import Plait, Response
from plait.csrf import CSRF
from plait.forms import TEMPLATES, Field, Form, Submitted
from plait.sessions import Sessions
from plait.settings import Settings
from plait.templates import Templates, render
from plait.testing import TestClient

PAGE = """{% import "forms/macros.html" as forms -%}
{% for message in get_flashed_messages() %}<p class="flash">{{ message }}</p>{% endfor %}
{{ forms.form(form, submit="Publish") }}
<hr>{{ forms.field(form["title"], class_="wide") }}<hr>{{ form["title"] }}"""


class NoteForm(Form):
    title: Annotated[str, msgspec.Meta(max_length=20)]
    secret: Annotated[str, Field(widget="hidden")] = ""
    level: Annotated[int, Field(widget="radios", choices=[(1, "Low"), (2, "High")])] = 1
    pinned: bool = False


def make_app(folder: Path) -> Plait[Any]:
    templates = Templates([str(folder), TEMPLATES], static=None)
    app = Plait(settings=Settings(secret_key="x" * 40), extensions=[Sessions(), CSRF(), templates])

    @app.route("/notes/new", methods=["GET", "POST"])
    async def new_note(form: Submitted[NoteForm]) -> Response:
        if form.is_valid:
            return form.redirect("/notes/new", flash=f"Saved {form.data.title}")
        return render("new.html", {"form": form}, status_code=form.status_code)

    return app


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "new.html").write_text(PAGE)
    return tmp_path


def test_a_page_with_the_shipped_macros(folder: Path) -> None:
    with TestClient(make_app(folder)) as client:
        page = client.get("/notes/new").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        assert '<div class="field field-text required"><label for="id_title">Title</label>' in page
        assert 'class="wide"' in page
        assert '<fieldset id="id_level"' in page
        assert '<input type="hidden" name="secret" id="id_secret" value="">' in page
        assert '<input type="checkbox" name="pinned" id="id_pinned" value="on"> <label for="id_pinned">' in page

        bad = client.post("/notes/new", data={"title": "<script>x</script>" * 2, "csrf_token": token.group(1)})
        assert bad.status_code == 422
        assert "<script>" not in bad.text
        assert "&lt;script&gt;" in bad.text
        assert "&amp;lt;" not in bad.text
        assert 'aria-invalid="true"' in bad.text
        assert "Use at most 20 characters." in bad.text

        done = client.post("/notes/new", data={"title": "<b>hi</b>", "csrf_token": token.group(1)})
        assert done.status_code == 200  # the 303 was followed back to the form
        assert '<p class="flash">Saved &lt;b&gt;hi&lt;/b&gt;</p>' in done.text


def test_the_apps_own_macros_win(folder: Path) -> None:
    (folder / "forms").mkdir()
    (folder / "forms" / "macros.html").write_text(
        "{% macro field(f) %}<p>{{ f.label }}{{ f.control(**kwargs) }}</p>{% endmacro %}"
        "{% macro form(form, submit) %}<form>{{ form.csrf_input }}{% for f in form %}{{ field(f) }}{% endfor %}"
        "</form>{% endmacro %}"
    )
    with TestClient(make_app(folder)) as client:
        page = client.get("/notes/new").text
        assert '<form><input type="hidden" name="csrf_token"' in page
        own = '<p><label for="id_title">Title</label><input type="text" name="title" id="id_title" required'
        assert own + ' maxlength="20" class="wide" value=""></p>' in page
