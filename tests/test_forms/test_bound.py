"""Forms bound to real requests: urlencoded and multipart bodies, errors kept, PRG, flash and CSRF."""

from __future__ import annotations

import datetime
import enum
import re
from typing import Annotated, Any

import msgspec
import pytest

from plait import HTMLResponse, Plait, Request, Response, UploadFile
from plait.csrf import CSRF
from plait.exceptions import ConfigurationError
from plait.forms import BoundForm, Form, InvalidFormError, Submitted, Textarea, bind
from plait.sessions import Sessions, get_flashed_messages
from plait.settings import Settings
from plait.testing import TestClient

SECRET = "forms-test-secret-key-0123456789abcdef"


class Kind(enum.Enum):
    NEWS = "news"
    OPINION = "opinion"


class ArticleForm(Form):
    title: Annotated[str, msgspec.Meta(max_length=40)]
    body: Annotated[str, Textarea]
    kind: Kind = Kind.NEWS
    published: bool = False
    day: datetime.date | None = None
    tags: list[str] = []
    cover: UploadFile | None = None
    photos: list[UploadFile] = []


saved: list[dict[str, Any]] = []


async def describe(data: ArticleForm) -> dict[str, Any]:
    found = {name: getattr(data, name) for name in data.__struct_fields__}
    found["cover"] = None if data.cover is None else (data.cover.filename, await data.cover.read())
    found["photos"] = [(photo.filename, await photo.read()) for photo in data.photos]
    return found


def make_app(*extensions: Any) -> Plait[Any]:
    app = Plait(settings=Settings(secret_key=SECRET), extensions=list(extensions))

    @app.route("/articles/new", methods=["GET", "HEAD", "POST"])
    async def new_article(form: Submitted[ArticleForm]) -> Response:
        if form.is_valid:
            saved.append(await describe(form.data))
            flash = "Saved" if any(ext.name == "sessions" for ext in app.extensions) else None
            return form.redirect("/articles", flash=flash)
        return HTMLResponse(form.render(submit="Publish"), status_code=form.status_code)

    @app.get("/articles")
    async def articles(request: Request) -> HTMLResponse:
        session = request.scope.get("session")
        messages = get_flashed_messages(await session.load()) if session is not None else []
        return HTMLResponse(" | ".join(messages) or "no messages")

    return app


@pytest.fixture
def client() -> Any:
    saved.clear()
    with TestClient(make_app()) as client:
        yield client


def test_get_draws_a_blank_form(client: TestClient) -> None:
    page = client.get("/articles/new")
    assert page.status_code == 200
    assert page.text.startswith('<form action="" method="post" enctype="multipart/form-data">')
    assert '<option value="news" selected>' in page.text
    assert "csrf" not in page.text  # no CSRF extension installed: no hidden field
    assert client.head("/articles/new").status_code == 200


def test_urlencoded_post_redirects_with_303(client: TestClient) -> None:
    sent = {"title": "Hello", "body": "Text", "kind": "opinion", "published": "on", "day": "2024-05-01"}
    answer = client.post("/articles/new", data={**sent, "tags": "a\nb"}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/articles")
    assert saved == [
        {
            "title": "Hello",
            "body": "Text",
            "kind": Kind.OPINION,
            "published": True,
            "day": datetime.date(2024, 5, 1),
            "tags": ["a", "b"],
            "cover": None,
            "photos": [],
        }
    ]


def test_multipart_post_with_files(client: TestClient) -> None:
    files = [
        ("cover", ("cover.png", b"png-bytes", "image/png")),
        ("photos", ("one.jpg", b"1", "image/jpeg")),
        ("photos", ("two.jpg", b"22", "image/jpeg")),
    ]
    answer = client.post(
        "/articles/new", data={"title": "Hi", "body": "B", "tags": ["x", "y"]}, files=files, follow_redirects=False
    )
    assert answer.status_code == 303
    (found,) = saved
    assert found["cover"] == ("cover.png", b"png-bytes")
    assert found["photos"] == [("one.jpg", b"1"), ("two.jpg", b"22")]
    assert found["tags"] == ["x", "y"]
    assert found["published"] is False


@pytest.mark.parametrize("multipart", [False, True])
def test_errors_keep_the_values_and_render_inert(client: TestClient, multipart: bool) -> None:
    sent = {"title": "<script>alert(1)</script>" * 2, "body": "", "kind": "opinion", "day": "31/12/2024"}
    files = {"cover": ("c.txt", b"c", "text/plain")} if multipart else None
    page = client.post("/articles/new", data=sent, files=files)
    assert page.status_code == 422
    assert "<script>" not in page.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page.text
    assert "Use at most 40 characters." in page.text
    assert "This field is required." in page.text
    assert "Enter a valid date." in page.text
    assert '<option value="opinion" selected>' in page.text
    assert 'value="31/12/2024"' in page.text
    assert saved == []


def test_body_problems_are_still_4xx(client: TestClient) -> None:
    assert client.post("/articles/new", json={"title": "x"}).status_code == 415


def test_openapi_still_builds(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 200


def test_flash_message_after_the_redirect() -> None:
    saved.clear()
    with TestClient(make_app(Sessions())) as client:
        answer = client.post("/articles/new", data={"title": "T", "body": "B"})
        assert answer.status_code == 200
        assert answer.text == "Saved"
        assert client.get("/articles").text == "no messages"  # shown once


def test_next_url_is_followed_only_on_this_site() -> None:
    app = Plait()

    @app.post("/go")
    async def go(form: Submitted[Small], request: Request) -> Response:
        return form.redirect("/home", next_url=request.query_params.get("next"))

    with TestClient(app) as client:
        for target, expected in [("/cart", "/cart"), ("//evil.example", "/home"), ("https:evil", "/home")]:
            answer = client.post("/go", params={"next": target}, data={"name": "x"}, follow_redirects=False)
            assert (answer.status_code, answer.headers["location"]) == (303, expected)


def test_flash_without_sessions_names_the_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"app.install\(Sessions\(\)\)"):
        BoundForm(ArticleForm).redirect("/", flash="Saved")
    assert BoundForm(ArticleForm).redirect("/x", status_code=302).status_code == 302


def test_csrf_field_is_added_and_checked() -> None:
    saved.clear()
    with TestClient(make_app(Sessions(), CSRF())) as client:
        page = client.get("/articles/new").text
        token = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)">', page)
        assert token is not None
        assert page.index("csrf_token") < page.index("<div")
        # A forged post (no token) is refused before the handler runs.
        assert client.post("/articles/new", data={"title": "T", "body": "B"}).status_code == 403
        answer = client.post("/articles/new", data={"title": "T", "body": "B", "csrf_token": token.group(1)})
        assert answer.status_code == 200
        assert answer.text == "Saved"
        # A failed submission draws the form again with a token that still works.
        again = client.post("/articles/new", data={"title": "", "body": "B", "csrf_token": token.group(1)})
        assert again.status_code == 422
        assert 'name="csrf_token"' in again.text


def test_csrf_with_the_cookie_secret_and_multipart() -> None:
    saved.clear()
    with TestClient(make_app(CSRF())) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/articles/new").text)
        assert token is not None
        files = {"cover": ("c.txt", b"c", "text/plain")}
        data = {"title": "T", "body": "B", "csrf_token": token.group(1)}
        assert client.post("/articles/new", data=data, files=files, follow_redirects=False).status_code == 303
        assert saved[0]["cover"] == ("c.txt", b"c")


class Small(Form):
    name: str
    age: int = 0


def test_the_outcome_api() -> None:
    app = Plait()
    seen: list[BoundForm[Small]] = []

    @app.post("/small")
    async def small(request: Request) -> str:
        form = await bind(Small, request, prefix="p-")
        seen.append(form)
        if form.is_valid and form.data.name == "taken":
            form.add_error("name", "That name is taken.")
            form.add_error(None, "Please look again.")
        return str(form.status_code)

    with TestClient(app) as client:
        assert client.post("/small", data={"p-name": "Ada", "p-age": "3"}).text == "200"
        assert client.post("/small", data={"p-name": "taken"}).text == "422"
        assert client.post("/small", data={"name": "no prefix"}).text == "422"
    good, taken, unprefixed = seen
    assert good.is_valid
    assert good.data == Small(name="Ada", age=3)
    assert good.submitted
    assert repr(good) == "<BoundForm Small valid>"
    assert repr(taken) == "<BoundForm Small invalid>"
    assert taken.errors == {"name": ["That name is taken."]}
    assert taken.non_field_errors == ["Please look again."]
    assert '<div class="errors form-errors" role="alert"><p>Please look again.</p></div>' in taken.render()
    assert unprefixed.errors == {"name": ["This field is required."]}
    with pytest.raises(InvalidFormError, match="has errors"):
        _ = taken.data
    with pytest.raises(InvalidFormError, match="was not submitted"):
        _ = BoundForm(Small).data
    with pytest.raises(ConfigurationError, match="its fields are name, age"):
        taken.add_error("nope", "x")
    assert repr(BoundForm(Small)) == "<BoundForm Small blank>"


class Row:
    name = "Grace"
    age = 85


def test_fill_shows_an_object_but_never_hides_what_was_submitted() -> None:
    blank = BoundForm(Small).fill(Row())
    assert blank.values == {"name": "Grace", "age": "85"}
    assert BoundForm(Small).fill({"age": 7}).values == {"name": "", "age": "7"}
    from plait.forms.binding import convert_form
    from plait.forms.fields import form_spec

    posted = BoundForm(Small, converted=convert_form(form_spec(Small), {"name": ["Ada"]}))
    assert posted.fill(Row()).values == {"name": "Ada", "age": ""}
