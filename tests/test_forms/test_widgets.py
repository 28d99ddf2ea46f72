"""Drawing fields: the right control, its constraints, ARIA links, escaping and overrides."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Any, Literal

import jinja2
import msgspec
import pytest

from plait import UploadFile
from plait.forms import BoundField, BoundForm, Email, Field, Form, Hidden, Password, Textarea
from plait.forms.binding import convert_form
from plait.forms.fields import form_spec
from plait.forms.html import Markup, SafeText, attributes, escape_text


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Article(Form):
    title: Annotated[str, msgspec.Meta(min_length=3, max_length=120), Field(help="Keep it short.")]
    body: Annotated[str, Textarea]
    code: Annotated[str, msgspec.Meta(pattern="^[a-z]+$")] = "abc"
    loose: Annotated[str, msgspec.Meta(pattern="[a-z]")] = "a"
    email: Annotated[str, Email] = ""
    secret: Annotated[str, Password] = ""
    ident: Annotated[int, Hidden] = 0
    count: Annotated[int, msgspec.Meta(gt=0, lt=10)] = 1
    ratio: Annotated[float, msgspec.Meta(ge=0.5, lt=2.0)] = 1.0
    share: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.5
    even: Annotated[int, msgspec.Meta(multiple_of=2)] = 2
    published: bool = False
    day: datetime.date | None = None
    at: datetime.datetime | None = None
    alarm: datetime.time | None = None
    colour: Colour | None = None
    size: Literal["s", "m"] = "s"
    colours: list[Colour] = []
    tags: list[str] = []
    cover: UploadFile | None = None
    photos: list[UploadFile] = []
    level: Annotated[int, Field(widget="radios", choices=[(1, "Low"), (2, "High")])] = 1
    toppings: Annotated[list[str], Field(widget="checkboxes", choices=[("ham", "Ham"), ("egg", "Egg")])] = []
    shade: Annotated[str, Field(widget="color", attrs={"class": "picker"})] = "#000000"


def control(form: BoundForm[Any], key: str, **extra: Any) -> str:
    return str(form[key].control(**extra))


def test_text_input_with_constraints_and_help() -> None:
    form = BoundForm(Article)
    assert control(form, "title") == (
        '<input type="text" name="title" id="id_title" required minlength="3" maxlength="120" '
        'aria-describedby="id_title-help" value="">'
    )
    assert str(form["title"]) == (
        '<div class="field field-text required"><label for="id_title">Title</label>'
        + control(form, "title")
        + '<p id="id_title-help" class="help">Keep it short.</p></div>'
    )


def test_patterns_reach_the_browser_only_when_anchored() -> None:
    # msgspec searches anywhere in the value; the browser matches the whole of it.
    form = BoundForm(Article)
    assert 'pattern="[a-z]+"' in control(form, "code")
    assert "pattern" not in control(form, "loose")


def test_each_widget() -> None:
    form = BoundForm(Article).fill({"tags": ["a", "b"], "colours": [Colour.BLUE], "published": True})
    assert control(form, "body") == '<textarea name="body" id="id_body" required>\n</textarea>'
    assert control(form, "email") == '<input type="email" name="email" id="id_email" value="">'
    assert control(form, "secret") == '<input type="password" name="secret" id="id_secret">'
    assert control(form, "ident") == '<input type="hidden" name="ident" id="id_ident" value="0">'
    assert str(form["ident"]) == control(form, "ident")  # a hidden field has no label or row
    assert control(form, "count") == (
        '<input type="number" name="count" id="id_count" step="1" min="1" max="9" value="1">'
    )
    assert control(form, "ratio") == (
        '<input type="number" name="ratio" id="id_ratio" step="any" min="0.5" value="1.0">'
    )
    assert control(form, "share") == (
        '<input type="number" name="share" id="id_share" step="any" max="1.0" value="0.5">'
    )  # an exclusive bound on a float has no HTML spelling: the server alone checks it
    assert 'step="2"' in control(form, "even")
    assert control(form, "published") == (
        '<input type="checkbox" name="published" id="id_published" value="on" checked>'
    )
    assert control(form, "day") == '<input type="date" name="day" id="id_day" value="">'
    assert control(form, "at") == '<input type="datetime-local" name="at" id="id_at" value="">'
    assert control(form, "alarm") == '<input type="time" name="alarm" id="id_alarm" value="">'
    assert control(form, "colour") == (
        '<select name="colour" id="id_colour"><option value="">---------</option>'
        '<option value="red">Red</option><option value="blue">Blue</option></select>'
    )
    assert control(form, "size") == (
        '<select name="size" id="id_size"><option value="s" selected>s</option><option value="m">m</option></select>'
    )
    assert control(form, "colours") == (
        '<select name="colours" id="id_colours" multiple><option value="red">Red</option>'
        '<option value="blue" selected>Blue</option></select>'
    )
    assert control(form, "tags") == '<textarea name="tags" id="id_tags">\na\nb</textarea>'
    assert control(form, "cover") == '<input type="file" name="cover" id="id_cover">'
    assert control(form, "photos") == '<input type="file" name="photos" id="id_photos" multiple>'
    assert control(form, "shade") == '<input type="color" name="shade" id="id_shade" class="picker" value="#000000">'


def test_radio_and_checkbox_groups_are_fieldsets_with_a_legend() -> None:
    form = BoundForm(Article).fill({"toppings": ["egg"]})
    assert str(form["level"]) == (
        '<fieldset id="id_level" class="field field-radios">'
        "<legend>Level</legend>"
        '<span class="choice"><input type="radio" name="level" id="id_level_0" value="1" checked> '
        '<label for="id_level_0">Low</label><br>'
        '<input type="radio" name="level" id="id_level_1" value="2"> <label for="id_level_1">High</label></span>'
        "</fieldset>"
    )
    assert 'value="egg" checked' in str(form["toppings"])
    assert 'value="ham">' in str(form["toppings"])


def test_errors_are_linked_and_values_escaped() -> None:
    converted = convert_form(form_spec(Article), {"title": ['"><script>alert(1)</script>' * 5], "body": [""]})
    form = BoundForm(Article, converted=converted)
    row = str(form["title"])
    assert "<script>" not in row
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;' in row
    assert 'aria-describedby="id_title-help id_title-error" aria-invalid="true"' in row
    assert '<div id="id_title-error" class="errors"><p>Use at most 120 characters.</p></div>' in row
    assert 'class="field field-textarea required invalid"' in str(form["body"])
    group = BoundForm(Article, converted=convert_form(form_spec(Article), {"level": ["7"]}))
    assert 'aria-describedby="id_level-error" aria-invalid="true"' in str(group["level"])


def test_overrides_at_render_time() -> None:
    form = BoundForm(Article)
    html = control(form, "title", class_="wide", data_role="x", required=False)
    assert 'class="wide"' in html
    assert 'data-role="x"' in html
    assert "required" not in html
    assert 'class="wide"' in str(form["title"].row(class_="wide"))


def custom_widget(field: BoundField) -> str:
    return Markup(f'<input type="range" name="{field.name}" value="{field.value}">')


class Custom(Form):
    volume: Annotated[int, Field(widget=custom_widget)] = 5
    note: Annotated[str, Field(widget=lambda field: "<b>not html</b>")] = ""


def test_a_callable_widget_draws_the_control() -> None:
    form = BoundForm(Custom)
    assert str(form["volume"]) == (
        '<div class="field field-custom"><label for="id_volume">Volume</label>'
        '<input type="range" name="volume" value="5"></div>'
    )
    # A plain string from a widget is text, not HTML: it is escaped.
    assert "&lt;b&gt;" in str(form["note"])


def test_a_whole_form() -> None:
    form = BoundForm(Article)
    html = form.render("/articles", submit="Publish", class_="stacked")
    assert html.startswith('<form action="/articles" method="post" enctype="multipart/form-data" class="stacked">')
    assert html.endswith('<button type="submit">Publish</button></form>')
    assert str(form.__html__()) == str(form.render())
    assert [field.name for field in form][:2] == ["title", "body"]
    assert "title" in form
    assert "nope" not in form
    assert repr(form["title"]) == "<BoundField title 'text'>"


class Small(Form):
    text: str = ""


def test_urlencoded_forms_leave_the_enctype_out_and_prefixes_rename_fields() -> None:
    form = BoundForm(Small, prefix="left-")
    assert form.enctype == "application/x-www-form-urlencoded"
    assert form.render() == (
        '<form action="" method="post"><div class="field field-text"><label for="id_left-text">Text</label>'
        '<input type="text" name="left-text" id="id_left-text" value=""></div>'
        '<button type="submit">Save</button></form>'
    )


def test_fields_work_in_jinja_templates_without_safe() -> None:
    env = jinja2.Environment(autoescape=True)
    converted = convert_form(form_spec(Small), {"text": ["<script>x</script>"]})
    form = BoundForm(Small, converted=converted)
    page = env.from_string('{{ form["text"] }}|{{ form }}|{{ form.fields.text.control(class_="c") }}').render(form=form)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert '<input type="text" name="text" id="id_text" class="c" value="&lt;script&gt;x&lt;/script&gt;">' in page
    assert "&amp;lt;" not in page  # never escaped twice


def test_safe_text_without_markupsafe() -> None:
    assert escape_text('<a title="x">') == "&lt;a title=&#34;x&#34;&gt;"
    assert escape_text(SafeText("<br>")) == "<br>"
    assert isinstance(escape_text("x"), SafeText)
    assert attributes({"a": None, "b": False, "c": True}) == " c"


@pytest.mark.parametrize("key", ["nope"])
def test_unknown_field_names_the_known_ones(key: str) -> None:
    with pytest.raises(KeyError, match="its fields are text"):
        BoundForm(Small)[key]
