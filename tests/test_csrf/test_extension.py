"""The CSRF check: missing, wrong and stale tokens, cross-origin and null origins, exemptions, rotation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from plait import Plait, Request, WebSocket
from plait._types import Message
from plait.csrf import CSRF, CSRFInput, csrf_token, rotate_csrf_token
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.sessions import Sessions
from plait.settings import Settings
from plait.testing import TestClient
from tests.test_csrf.helpers import MODES, SECRET, csrf_app

HTTPS = "https://testserver"


@contextlib.contextmanager
def client_for(mode: str = "session", base_url: str = "http://testserver", **options: Any) -> Iterator[TestClient]:
    with TestClient(csrf_app(mode, **options), base_url=base_url) as client:
        yield client


def refused(response: httpx.Response, code: str) -> str:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    return str(body["detail"])


# -- the token -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_form_post_without_a_token_is_refused_saying_what_is_missing(mode: str) -> None:
    with client_for(mode) as client:
        client.get("/form")
        detail = refused(client.post("/submit", data={"a": "1"}), "csrf_token_missing")
    assert "X-CSRF-Token" in detail
    assert "'csrf_token' form field" in detail


@pytest.mark.parametrize("mode", MODES)
def test_the_token_in_the_form_passes_and_the_handler_still_reads_the_body(mode: str) -> None:
    with client_for(mode) as client:
        token = client.get("/form").text
        response = client.post("/submit", data={"a": "1", "csrf_token": token})
    assert response.json() == {"a": "1", "csrf_token": token}


@pytest.mark.parametrize("mode", MODES)
def test_the_token_in_a_multipart_form_passes(mode: str) -> None:
    with client_for(mode) as client:
        token = client.get("/form").text
        response = client.post("/submit", data={"csrf_token": token}, files={"upload": ("a.txt", b"hello")})
    assert response.json() == {"csrf_token": token, "upload": "a.txt"}


@pytest.mark.parametrize("mode", MODES)
def test_the_token_in_the_header_passes(mode: str) -> None:
    with client_for(mode) as client:
        token = client.get("/form").text
        assert client.post("/json", json={"x": 1}, headers={"X-CSRF-Token": token}).json() == {"x": 1}
        assert client.delete("/thing", headers={"X-CSRF-Token": token}).text == "deleted"
        refused(client.delete("/thing"), "csrf_token_missing")


@pytest.mark.parametrize("mode", MODES)
def test_every_token_differs_and_each_passes(mode: str) -> None:
    with client_for(mode) as client:
        first, second = client.get("/form").text, client.get("/form").text
        assert first != second
        for token in (first, second):
            assert client.post("/submit", data={"csrf_token": token}).status_code == 200


@pytest.mark.parametrize("mode", MODES)
def test_a_wrong_token_is_refused(mode: str) -> None:
    with client_for(mode) as client, client_for(mode) as other:
        client.get("/form")
        theirs = other.get("/form").text  # a genuine token, for another visitor's secret
        for wrong in (theirs, "garbage", theirs[:-4]):
            detail = refused(client.post("/submit", data={"csrf_token": wrong}), "csrf_token_incorrect")
        assert "load the form again" in detail


@pytest.mark.parametrize("mode", MODES)
def test_a_token_without_a_stored_secret_is_refused(mode: str) -> None:
    with client_for(mode) as client, client_for(mode) as attacker:
        token = attacker.get("/form").text
        client.cookies.set("unrelated", "1")  # cookies, but no session or CSRF secret
        refused(client.post("/submit", data={"csrf_token": token}), "csrf_secret_missing")


def test_a_tampered_secret_cookie_is_no_secret() -> None:
    with client_for("cookie") as client:
        token = client.get("/form").text
        client.cookies.set("plait_csrf", client.cookies["plait_csrf"] + "x", domain="testserver.local")
        refused(client.post("/submit", data={"csrf_token": token}), "csrf_secret_missing")


def test_the_secret_cookie_is_httponly_lax_and_secure_over_https() -> None:
    with client_for("cookie", base_url=HTTPS) as client:
        header = client.get("/form").headers["set-cookie"]
        assert header.startswith("plait_csrf=")
        assert "; Secure; HttpOnly; SameSite=Lax" in header
        assert header.endswith("SameSite=Lax")
        again = client.get("/form")
        assert "set-cookie" not in again.headers  # the secret is made once, then reused
        assert again.headers["vary"] == "Cookie"  # the page carries a token made from the cookie
        assert "vary" not in client.get("/openapi.json").headers  # a response that used no token
    with client_for("cookie") as client:
        assert "Secure" not in client.get("/form").headers["set-cookie"]


def test_with_sessions_the_secret_lives_in_the_session() -> None:
    with client_for("session") as client:
        response = client.get("/form")
        assert [cookie.name for cookie in client.cookies.jar] == ["plait_session"]
        assert response.headers["vary"] == "Cookie"


# -- rotation ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_login_rotates_the_secret_so_older_tokens_stop_working(mode: str) -> None:
    with client_for(mode) as client:
        before = client.get("/form").text
        after = client.post("/login", headers={"X-CSRF-Token": before}).text
        refused(client.post("/submit", data={"csrf_token": before}), "csrf_token_incorrect")
        assert client.post("/submit", data={"csrf_token": after}).status_code == 200


def test_rotating_without_csrf_installed_does_nothing() -> None:
    rotate_csrf_token(Request({"type": "http", "headers": []}))
    with pytest.raises(RuntimeError, match=r"app.install\(CSRF\(\)\)"):
        csrf_token(Request({"type": "http", "headers": []}))


# -- where the request came from -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_null_origin_is_refused_even_with_a_good_token(mode: str) -> None:
    with client_for(mode) as client:
        token = client.get("/form").text
        detail = refused(
            client.post("/submit", data={"csrf_token": token}, headers={"Origin": "null"}), "csrf_origin_null"
        )
    assert "'null'" in detail


@pytest.mark.parametrize("mode", MODES)
def test_a_cross_origin_request_is_refused_even_with_a_good_token(mode: str) -> None:
    with client_for(mode) as client:
        token = client.get("/form").text
        response = client.post("/submit", data={"csrf_token": token}, headers={"Origin": "https://evil.example"})
        detail = refused(response, "csrf_origin_mismatch")
        assert "https://evil.example" in detail
        assert "trusted_origins" in detail
        same = client.post("/submit", data={"csrf_token": token}, headers={"Origin": "http://testserver"})
        assert same.status_code == 200


def test_a_trusted_origin_passes() -> None:
    with client_for(trusted_origins=["https://*.example.com"]) as client:
        token = client.get("/form").text
        headers = {"Origin": "https://app.example.com"}
        assert client.post("/submit", data={"csrf_token": token}, headers=headers).status_code == 200


def test_over_https_the_referer_must_be_this_site_when_there_is_no_origin() -> None:
    with client_for(base_url=HTTPS) as client:
        token = client.get("/form").text
        data = {"csrf_token": token}
        refused(client.post("/submit", data=data), "csrf_referer_missing")
        refused(
            client.post("/submit", data=data, headers={"Referer": "https://evil.example/x"}), "csrf_referer_mismatch"
        )
        refused(client.post("/submit", data=data, headers={"Referer": "http://testserver/x"}), "csrf_referer_insecure")
        assert client.post("/submit", data=data, headers={"Referer": f"{HTTPS}/form"}).status_code == 200
        assert client.post("/submit", data=data, headers={"Origin": HTTPS}).status_code == 200


def test_the_origin_is_checked_before_the_token() -> None:
    with client_for() as client:
        client.get("/form")
        refused(client.post("/submit", data={"a": "1"}, headers={"Origin": "null"}), "csrf_origin_null")


# -- what is checked and what is not -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_safe_methods_are_never_checked(mode: str) -> None:
    with client_for(mode) as client:
        client.get("/form")
        assert client.get("/form", headers={"Origin": "null"}).status_code == 200
        assert client.head("/form").status_code == 200


def test_requests_carrying_a_bearer_token_or_an_api_key_are_exempt() -> None:
    with client_for() as client:
        client.get("/form")  # the browser has a session cookie too
        assert client.post("/json", json={}, headers={"Authorization": "Bearer abc"}).status_code == 200
        assert client.post("/json", json={}, headers={"X-API-Key": "k_123"}).status_code == 200
        # Basic credentials are sent by browsers on their own once entered: they do not exempt.
        refused(client.post("/json", json={}, headers={"Authorization": "Basic YTpi"}), "csrf_token_missing")
        # An API key in the query string can be forged by any page: only the header counts.
        refused(client.post("/json", json={}, params={"api_key": "k_123"}), "csrf_token_missing")


def test_the_api_key_header_comes_from_the_option_or_the_auth_settings() -> None:
    with client_for(api_key_header="X-Key") as client:
        client.get("/form")
        assert client.post("/json", json={}, headers={"X-Key": "k"}).status_code == 200
        refused(client.post("/json", json={}, headers={"X-API-Key": "k"}), "csrf_token_missing")

    class FakeAuthSettings:
        api_key_header = "X-Token-Key"

    class FakeAuth(Extension):
        name = "auth"

        def load_settings(self) -> Any:
            return FakeAuthSettings()

    app = csrf_app()
    app.install(FakeAuth())
    with TestClient(app) as client:
        client.get("/form")
        assert client.post("/json", json={}, headers={"X-Token-Key": "k"}).status_code == 200


def test_without_cookies_a_json_request_is_not_checked_but_a_form_is() -> None:
    with client_for() as client:
        assert client.post("/json", json={"api": True}).json() == {"api": True}
        refused(client.post("/submit", data={"a": "1"}), "csrf_token_missing")
        plain = client.post("/json", content=b"{}", headers={"Content-Type": "text/plain"})
        refused(plain, "csrf_token_missing")  # text/plain needs no preflight either


def test_with_cookies_a_json_request_is_checked() -> None:
    with client_for() as client:
        client.get("/form")
        refused(client.post("/json", json={}), "csrf_token_missing")


def test_an_exempt_route_is_not_checked_but_still_has_tokens() -> None:
    app = csrf_app()
    with TestClient(app) as client:
        client.get("/form")
        assert client.post("/webhook", headers={"Origin": "null"}).text == "accepted"


def test_a_file_named_csrf_token_is_not_a_token() -> None:
    with client_for() as client:
        token = client.get("/form").text
        response = client.post("/submit", files={"csrf_token": ("t.txt", token.encode())})
        refused(response, "csrf_token_missing")


def test_a_body_too_large_to_read_the_token_from_is_a_413() -> None:
    with client_for(settings=Settings(secret_key=SECRET, max_body_size=100)) as client:
        client.get("/form")
        response = client.post("/submit", data={"a": "x" * 200})
    assert response.status_code == 413


def test_websocket_routes_are_left_alone() -> None:
    app = csrf_app()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    with TestClient(app) as client, client.websocket_connect("/ws") as connection:
        assert connection.receive_text() == "hi"


# -- JavaScript and templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_javascript_clients_get_a_token_from_the_csrf_endpoint(mode: str) -> None:
    with client_for(mode) as client:
        response = client.get("/csrf")
        assert response.headers["cache-control"] == "no-store"
        token = response.json()["csrf_token"]
        assert client.post("/json", json={"ok": 1}, headers={"X-CSRF-Token": token}).json() == {"ok": 1}


def test_the_endpoint_can_be_moved_or_left_out() -> None:
    with client_for(token_url="/api/csrf-token") as client:
        assert client.get("/api/csrf-token").status_code == 200
    with client_for(token_url=None) as client:
        assert client.get("/csrf").status_code == 404


def test_the_endpoint_is_not_in_the_openapi_document() -> None:
    with client_for() as client:
        assert "/csrf" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("mode", MODES)
def test_template_context_gives_a_lazy_token_and_an_escaped_hidden_input(mode: str) -> None:
    app = csrf_app(mode)
    captured: dict[str, Any] = {}

    @app.get("/page")
    async def page(request: Request) -> str:
        csrf: CSRF = request.app.extensions["csrf"]
        context = await csrf.template_context(request)
        captured.update(context)
        return str(context["csrf_input"])

    with TestClient(app) as client:
        html_input = client.get("/page").text
        token = str(captured["csrf_token"])
        assert captured["csrf_token"].__html__() == token  # the same token wherever the template shows it
        assert html_input == f'<input type="hidden" name="csrf_token" value="{token}">'
        assert client.post("/submit", data={"csrf_token": token}).status_code == 200


def test_the_hidden_input_escapes_its_field_name() -> None:
    class Fixed:
        def __str__(self) -> str:
            return 'a"b'

    rendered = CSRFInput(Fixed(), 'x"><script>').__html__()  # type: ignore[arg-type]
    assert rendered == '<input type="hidden" name="x&quot;&gt;&lt;script&gt;" value="a&quot;b">'


def test_template_context_outside_a_route_is_empty() -> None:
    app = csrf_app()
    app.build()
    assert anyio.run(app.extensions["csrf"].template_context, Request({"type": "http", "headers": []})) == {}


# -- configuration -------------------------------------------------------------------------------------------


def test_trusted_origins_must_be_a_list() -> None:
    with pytest.raises(ConfigurationError, match="list of origins"):
        CSRF(trusted_origins="https://example.com")


def test_the_cookie_mode_needs_a_secret_key() -> None:
    app = Plait(settings=Settings(), extensions=[CSRF()])
    with pytest.raises(ConfigurationError, match="PLAIT_SECRET_KEY"):
        app.build()


def test_sessions_mode_is_chosen_when_sessions_is_installed() -> None:
    app = Plait(settings=Settings(secret_key=SECRET), extensions=[CSRF(), Sessions()])
    app.build()
    assert app.extensions["csrf"].in_session


def test_after_the_replayed_body_the_handler_sees_the_server_s_next_message() -> None:
    from plait.csrf.extension import _replay

    async def server() -> Message:
        return {"type": "http.disconnect"}

    async def both() -> list[Message]:
        receive = _replay(b"a=1", server)
        return [await receive(), await receive()]

    first, second = anyio.run(both)
    assert first == {"type": "http.request", "body": b"a=1", "more_body": False}
    assert second == {"type": "http.disconnect"}


def test_jinja_renders_the_token_and_the_hidden_input_unescaped_once() -> None:
    import jinja2

    app = csrf_app()
    environment = jinja2.Environment(autoescape=True)
    template = environment.from_string('<form>{{ csrf_input }}</form><meta content="{{ csrf_token }}">')

    @app.get("/rendered")
    async def rendered(request: Request) -> str:
        context = await request.app.extensions["csrf"].template_context(request)
        return template.render(**context)

    with TestClient(app) as client:
        page = client.get("/rendered").text
        token = page.split('value="')[1].split('"')[0]
        assert page == f'<form><input type="hidden" name="csrf_token" value="{token}"></form><meta content="{token}">'
        assert client.post("/submit", data={"csrf_token": token}).status_code == 200
