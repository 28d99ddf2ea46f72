"""HTML forms: declared once as a Struct, bound to a request, drawn as accessible HTML, then Post/Redirect/Get.

::

    from typing import Annotated

    from msgspec import Meta

    from plait import HTMLResponse, Plait, UploadFile
    from plait.forms import Form, Submitted, Textarea

    class ArticleForm(Form):
        title: Annotated[str, Meta(max_length=120)]
        body: Annotated[str, Textarea]
        published: bool = False
        cover: UploadFile | None = None

    app = Plait()

    @app.route("/articles/new", methods=["GET", "POST"])
    async def new_article(form: Submitted[ArticleForm]) -> HTMLResponse:
        if form.is_valid:
            save(form.data)                      # an ArticleForm instance
            return form.redirect("/articles", flash="Saved")   # 303; flash needs Sessions()
        return HTMLResponse(form.render(submit="Publish"), status_code=form.status_code)

On GET the form is blank; on POST it holds the values (urlencoded or multipart, read with Plait's
own parser and its limits) converted like a JSON body, or errors per field in words for people:
invalid input never raises. ``{{ form }}`` draws the whole form in a template, ``{{ form["title"] }}``
one field, ``form["title"].control()`` only the control; the CSRF field is added when ``plait.csrf``
is installed. ``form_for(Article)`` derives a form from a model, with foreign keys as selects of
rows loaded through the request's session. No third-party package is needed; with Jinja2 installed
the HTML is MarkupSafe's ``Markup``.
"""

from pathlib import Path

from plait.forms.bound import BoundForm, InvalidFormError, Submitted, bind
from plait.forms.fields import URL, WIDGETS, Email, Field, Form, Hidden, Password, Relation, Textarea, form_spec
from plait.forms.models import form_for
from plait.forms.widgets import BoundField

TEMPLATES = str(Path(__file__).resolve().parent / "templates")
"""The folder holding ``forms/macros.html``: ``Templates(["templates", plait.forms.TEMPLATES])``."""

__all__ = [
    "TEMPLATES",
    "URL",
    "WIDGETS",
    "BoundField",
    "BoundForm",
    "Email",
    "Field",
    "Form",
    "Hidden",
    "InvalidFormError",
    "Password",
    "Relation",
    "Submitted",
    "Textarea",
    "bind",
    "form_for",
    "form_spec",
]
