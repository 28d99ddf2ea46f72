"""The session middleware: cookie flags, lazy loading, Vary, 5xx, tampering, expiry, key rotation, fixation."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
import pytest

from plait import Depends, Plait, Request, WebSocket
from plait.exceptions import ConfigurationError
from plait.middleware.proxy import ProxyHeadersMiddleware
from plait.responses import JSONResponse
from plait.sessions import CookieStore, Session, Sessions, SessionStore, flash
from plait.sessions.extension import session_of
from plait.settings import Settings
from plait.signing import Signer
from plait.testing import TestClient
from tests.test_sessions.helpers import SECRET, MemoryStore, session_app

COOKIE = "plait_session"


def set_cookie(response: Any) -> str:
    return str(response.headers.get("set-cookie", ""))


def plant(client: TestClient, value: str) -> None:
    """Put a session cookie in the client's jar, replacing the one the app set (as an attacker or a test would)."""
    client.cookies.set(COOKIE, value, domain="testserver.local")


def current_user(session: Session) -> str:
    return str(session.get("user", "anonymous"))


def sign(value: str, *, secret: str = SECRET, timestamp: float | None = None) -> str:
    return Signer([secret], salt="plait.sessions").sign(value, timestamp=timestamp)


# -- the cookie ----------------------------------------------------------------------------------------


def test_the_cookie_is_httponly_lax_with_a_max_age_and_not_secure_over_http() -> None:
    with TestClient(session_app()) as client:
        header = set_cookie(client.post("/set/a", params={"value": "1"}))
    assert header.startswith(f"{COOKIE}=")
    assert "; HttpOnly" in header
    assert "; SameSite=Lax" in header
    assert "; Path=/" in header
    assert f"; Max-Age={14 * 24 * 3600}" in header
    assert "Secure" not in header


def test_the_cookie_is_secure_over_https() -> None:
    with TestClient(session_app(), base_url="https://testserver") as client:
        assert "; Secure" in set_cookie(client.post("/set/a", params={"value": "1"}))
        assert client.get("/read").json() == {"a": "1"}  # the browser sends it back over HTTPS


def test_secure_follows_the_scheme_a_trusted_proxy_reports() -> None:
    app = session_app()
    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["*"])
    with TestClient(app) as client:
        response = client.post("/set/a", params={"value": "1"}, headers={"x-forwarded-proto": "https"})
    assert "; Secure" in set_cookie(response)


def test_cookie_options_are_used() -> None:
    app = session_app(cookie_name="sid", max_age=60, same_site="strict", secure=True, domain="example.com", path="/app")
    with TestClient(app) as client:
        header = set_cookie(client.post("/set/a", params={"value": "1"}))
    assert header.startswith("sid=")
    for part in ("Max-Age=60", "Path=/app", "Domain=example.com", "Secure", "HttpOnly", "SameSite=Strict"):
        assert part in header


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_age": 0}, "at least 1"),
        ({"max_age": True}, "at least 1"),
        ({"same_site": "sometimes"}, "'lax', 'strict' or 'none'"),
        ({"same_site": "none"}, "secure=True"),
        ({"cookie_name": "bad name"}, "invalid"),
    ],
)
def test_bad_options_are_refused_at_once(options: dict[str, Any], message: str) -> None:
    with pytest.raises((ConfigurationError, ValueError), match=message):
        Sessions(**options)


def test_a_missing_secret_key_is_a_startup_error() -> None:
    app = Plait(settings=Settings(), extensions=[Sessions()])
    with pytest.raises(ConfigurationError, match="PLAIT_SECRET_KEY"):
        app.build()


# -- lazy loading and Vary -----------------------------------------------------------------------------


def test_a_route_that_never_touches_the_session_costs_no_store_call_and_no_vary() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as client:
        client.post("/set/a", params={"value": "1"})
        store.calls.clear()
        response = client.get("/untouched")
    assert response.text == "nothing read"
    assert store.calls == []
    assert "vary" not in response.headers
    assert "set-cookie" not in response.headers


def test_reading_the_session_adds_vary_cookie_and_saves_nothing() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as client:
        client.post("/set/a", params={"value": "1"})
        store.calls.clear()
        response = client.get("/read")
    assert response.json() == {"a": "1"}
    assert response.headers["vary"] == "Cookie"
    assert "set-cookie" not in response.headers
    assert [call for call, _ in store.calls] == ["load"]


def test_vary_cookie_joins_an_existing_vary_header() -> None:
    app = session_app()

    @app.get("/negotiated")
    async def negotiated(session: Session) -> JSONResponse:
        return JSONResponse(dict(session), headers={"Vary": "Accept"})

    @app.get("/already")
    async def already(session: Session) -> JSONResponse:
        return JSONResponse(dict(session), headers={"Vary": "cookie"})

    with TestClient(app) as client:
        assert client.get("/negotiated").headers["vary"] == "Accept, Cookie"
        assert client.get("/already").headers["vary"] == "cookie"


def test_an_async_store_must_be_loaded_before_sync_access(caplog: pytest.LogCaptureFixture) -> None:
    app = session_app(MemoryStore())

    @app.get("/unloaded")
    def unloaded(request: Request) -> Any:
        return dict(request.session)

    with caplog.at_level(logging.ERROR, logger="plait.error"), TestClient(app) as client:
        assert client.get("/request").json() == {}  # awaited load() first: fine
        assert client.get("/unloaded").status_code == 500
    assert "await request.session.load()" in caplog.text


def test_the_cookie_store_loads_itself_on_first_access() -> None:
    app = session_app()

    @app.post("/sync")
    def sync_handler(request: Request) -> int:
        request.session["n"] = request.session.get("n", 0) + 1
        return int(request.session["n"])

    with TestClient(app) as client:
        assert client.post("/sync").json() == 1
        assert client.post("/sync").json() == 2


def test_request_session_without_the_extension_names_the_fix() -> None:
    with pytest.raises(RuntimeError, match=r"app.install\(Sessions\(\)\)"):
        _ = Request({"type": "http", "headers": []}).session


def test_a_session_parameter_without_the_extension_is_a_startup_error() -> None:
    app = Plait(settings=Settings(secret_key=SECRET))

    @app.get("/")
    async def handler(session: Session) -> None: ...

    with pytest.raises(ConfigurationError):
        app.build()


def test_a_dependency_can_take_the_session() -> None:
    app = session_app()

    @app.get("/me")
    def me(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    with TestClient(app) as client:
        assert client.get("/me").text == "anonymous"
        client.post("/login", params={"user": "ada"})
        assert client.get("/me").text == "ada"


def test_a_websocket_reads_the_session_but_cannot_change_it() -> None:
    app = session_app()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, session: Session) -> None:
        await websocket.accept()
        try:
            session["user"] = "mallory"
        except RuntimeError as exc:
            await websocket.send_json({"user": session.get("user"), "error": str(exc)})
        await websocket.close()

    with TestClient(app) as client:
        client.post("/login", params={"user": "ada"})
        with client.websocket_connect("/ws") as connection:
            message = connection.receive_json()
    assert message["user"] == "ada"
    assert "read-only" in message["error"]


# -- saving ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/crash", "/unavailable"])
def test_nothing_is_saved_on_a_5xx(path: str) -> None:
    store = MemoryStore()
    with TestClient(session_app(store), raise_server_exceptions=False) as client:
        response = client.post(path)
    assert response.status_code >= 500
    assert "set-cookie" not in response.headers
    assert store.records == {}
    assert [call for call, _ in store.calls] == []


def test_a_4xx_still_saves() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as client:
        response = client.post("/refuse")
        assert response.status_code == 409
        assert client.get("/read").json() == {"refused": "yes"}


def test_an_untouched_new_session_creates_no_record() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as client:
        assert client.get("/read").json() == {}
    assert store.records == {}
    assert [call for call, _ in store.calls] == []  # no cookie: nothing to load either


def test_emptying_a_session_deletes_it_and_expires_the_cookie() -> None:
    store = MemoryStore()
    app = session_app(store)

    @app.post("/empty")
    async def empty(session: Session) -> None:
        for key in list(session):
            del session[key]

    with TestClient(app) as client:
        client.post("/set/a", params={"value": "1"})
        assert len(store.records) == 1
        response = client.post("/empty")
    assert store.records == {}
    assert "Max-Age=0" in set_cookie(response)


def test_a_new_session_emptied_again_sends_no_cookie() -> None:
    app = session_app()

    @app.post("/come-and-go")
    async def come_and_go(session: Session) -> None:
        session["a"] = 1
        session.clear()

    with TestClient(app) as client:
        assert "set-cookie" not in client.post("/come-and-go").headers


def test_a_session_too_big_for_a_cookie_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    app = session_app(settings=Settings(secret_key=SECRET, debug=True))

    @app.post("/huge")
    async def huge(session: Session) -> str:
        session["blob"] = "x" * 5000
        return "ok"

    with caplog.at_level(logging.ERROR, logger="plait.sessions"), TestClient(app) as client:
        response = client.post("/huge")
    assert response.status_code == 500
    assert "set-cookie" not in response.headers
    assert "DatabaseStore" in response.json()["detail"]
    assert "more than the 4093 browsers keep" in caplog.text


def test_a_value_that_is_not_json_is_a_500_that_says_so() -> None:
    app = session_app(settings=Settings(secret_key=SECRET, debug=True))

    @app.post("/object")
    async def store_object(session: Session) -> str:
        session["when"] = object()
        return "ok"

    app_quiet = session_app(CookieStore())

    @app_quiet.post("/object")
    async def store_object_quietly(session: Session) -> str:
        session["when"] = object()
        return "ok"

    with TestClient(app) as client:
        response = client.post("/object")
    assert response.status_code == 500
    with TestClient(app_quiet) as client:
        quiet = client.post("/object")
    assert (quiet.status_code, quiet.json()["detail"]) == (500, "The session could not be saved.")
    assert "JSON-encodable" in response.json()["detail"]


# -- tampering, expiry, key rotation -----------------------------------------------------------------------


def test_a_tampered_cookie_gives_a_fresh_session_and_creates_no_record() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as client:
        client.post("/set/role", params={"value": "user"})
        (key,) = store.records
        value = client.cookies[COOKIE]
        forged = value.replace(key, key[:-1] + ("A" if key[-1] != "A" else "B"), 1)
        plant(client, forged)
        store.calls.clear()
        assert client.get("/read").json() == {}
        assert store.calls == []  # the bad signature is caught before the store is asked
        client.post("/set/x", params={"value": "1"})
    assert len(store.records) == 2
    assert store.records[key] == {"role": "user"}


def test_a_cookie_store_cookie_with_altered_data_is_refused() -> None:
    with TestClient(session_app()) as client:
        client.post("/set/role", params={"value": "user"})
        payload, stamp, signature = client.cookies[COOKIE].split(".")
        assert CookieStore().load_now(payload) == {"role": "user"}  # readable, as documented: not secret
        forged = anyio.run(CookieStore().save, None, {"role": "admin"}, 60)
        plant(client, f"{forged}.{stamp}.{signature}")
        assert client.get("/read").json() == {}


def test_an_expired_cookie_gives_a_fresh_session() -> None:
    store = MemoryStore()
    store.records["known"] = {"user": "ada"}
    with TestClient(session_app(store, max_age=60)) as client:
        plant(client, sign("known", timestamp=time.time() - 30))
        assert client.get("/read").json() == {"user": "ada"}
        plant(client, sign("known", timestamp=time.time() - 61))
        assert client.get("/read").json() == {}


def test_a_cookie_signed_with_a_fallback_key_is_accepted_and_a_retired_one_is_not() -> None:
    with TestClient(session_app(settings=Settings(secret_key="old-key"))) as client:
        client.post("/set/user", params={"value": "ada"})
        old_cookie = client.cookies[COOKIE]
    rotated = session_app(settings=Settings(secret_key="new-key", secret_key_fallbacks=["old-key"]))
    with TestClient(rotated) as client:
        plant(client, old_cookie)
        assert client.get("/read").json() == {"user": "ada"}
        # A change is signed with the new key, which the next deployment (without the fallback) accepts.
        client.post("/set/user", params={"value": "grace"})
        new_cookie = client.cookies[COOKIE]
    retired = session_app(settings=Settings(secret_key="new-key"))
    with TestClient(retired) as client:
        plant(client, new_cookie)
        assert client.get("/read").json() == {"user": "grace"}
        plant(client, old_cookie)
        assert client.get("/read").json() == {}


def test_a_value_signed_for_another_purpose_is_not_a_session() -> None:
    store = MemoryStore()
    store.records["known"] = {"user": "ada"}
    with TestClient(session_app(store)) as client:
        plant(client, Signer([SECRET], salt="plait.csrf").sign("known"))
        assert client.get("/read").json() == {}


# -- cycle_key, flush, fixation ------------------------------------------------------------------------


def test_cycle_key_keeps_the_data_under_a_new_id_and_deletes_the_old_record() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as client:
        client.post("/set/cart", params={"value": "kettle"})
        (before,) = store.records
        client.post("/login", params={"user": "ada"})
        (after,) = store.records
        assert after != before
        assert store.records[after] == {"cart": "kettle", "user": "ada"}
        assert client.get("/read").json() == {"cart": "kettle", "user": "ada"}


def test_session_fixation_a_planted_session_id_is_worthless_after_login() -> None:
    store = MemoryStore()
    app = session_app(store)
    with TestClient(app) as attacker:
        attacker.post("/set/lang", params={"value": "en"})  # a real, valid session of the attacker's
        planted = attacker.cookies[COOKIE]
        with TestClient(app) as victim:
            plant(victim, planted)  # planted in the victim's browser
            victim.post("/login", params={"user": "victim"})
            assert victim.cookies[COOKIE] != planted
            assert victim.get("/read").json()["user"] == "victim"
        # The attacker's copy of the id now names nothing: no record, so no access to the victim's login.
        assert attacker.get("/read").json() == {}
    assert all(record.get("user") == "victim" for record in store.records.values())


def test_session_fixation_an_unknown_planted_id_is_never_adopted() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as victim:
        plant(victim, sign("chosen-by-attacker"))
        victim.post("/set/a", params={"value": "1"})
    assert "chosen-by-attacker" not in store.records
    assert len(store.records) == 1


def test_flush_deletes_the_record_and_expires_the_cookie() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as client:
        client.post("/login", params={"user": "ada"})
        old = client.cookies[COOKIE]
        response = client.post("/logout")
        assert "Max-Age=0" in set_cookie(response)
        assert store.records == {}
        plant(client, old)  # a copy kept from before the logout
        assert client.get("/read").json() == {}


def test_flush_then_new_data_gets_a_new_id() -> None:
    store = MemoryStore()
    app = session_app(store)

    @app.post("/switch")
    async def switch(session: Session) -> None:
        session.flush()
        session["user"] = "guest"

    with TestClient(app) as client:
        client.post("/login", params={"user": "ada"})
        (before,) = store.records
        client.post("/switch")
        (after,) = store.records
    assert after != before
    assert store.records[after] == {"user": "guest"}


# -- the Session object ------------------------------------------------------------------------------------


def test_the_session_mapping() -> None:
    app = session_app(MemoryStore())
    app.build()
    owner = app.extensions["sessions"]
    session = Session(owner, {"type": "http", "headers": []})
    assert repr(session) == "<Session not loaded>"
    loaded_before = session.loaded
    assert not loaded_before
    anyio.run(session.load)
    assert session.loaded
    assert session.accessed
    assert (session.modified, session.fresh_key) == (False, False)
    session["a"] = 1
    assert "a" in session
    assert len(session) == 1
    assert list(session) == ["a"]
    assert session.modified
    with pytest.raises(KeyError):
        del session["missing"]
    del session["a"]
    assert repr(session) == "<Session {}>"


def test_template_context_gives_the_session_and_flashed_messages() -> None:
    app = session_app(MemoryStore())
    app.build()
    owner: Sessions = app.extensions["sessions"]
    request = Request({"type": "http", "headers": []})
    outside = anyio.run(owner.template_context, request)
    assert outside["session"] == {}
    assert outside["get_flashed_messages"]() == []
    request.scope["session"] = session = Session(owner, request.scope)
    context = anyio.run(owner.template_context, request)
    assert context["session"] is session
    assert session.loaded
    flash(session, "Saved.")
    assert context["get_flashed_messages"](with_categories=True) == [("info", "Saved.")]


def test_a_custom_store_gets_setup_and_lifespan() -> None:
    events: list[str] = []

    class Tracked(MemoryStore):
        def setup(self, app: Plait) -> None:
            events.append("setup")

        def lifespan(self, app: Plait) -> contextlib.AbstractAsyncContextManager[None]:
            @contextlib.asynccontextmanager
            async def opened() -> AsyncIterator[None]:
                events.append("open")
                yield
                events.append("close")

            return opened()

    with TestClient(session_app(Tracked())) as client:
        client.get("/untouched")
    assert events == ["setup", "open", "close"]


def test_the_base_store_has_no_sync_load_and_nothing_to_clear() -> None:
    store: SessionStore = MemoryStore()
    with pytest.raises(NotImplementedError, match="await load"):
        store.load_now("key")
    assert anyio.run(store.clear_expired) is None


def test_loading_twice_at_once_reads_once_into_the_same_data() -> None:
    class Slow(MemoryStore):
        async def load(self, key: str) -> dict[str, Any] | None:
            await anyio.sleep(0)
            return await super().load(key)

    store = Slow()
    store.records["known"] = {"user": "ada"}
    app = session_app(store)
    app.build()
    owner: Sessions = app.extensions["sessions"]
    cookie = f"plait_session={sign('known')}".encode()
    session = Session(owner, {"type": "http", "headers": [(b"cookie", cookie)]})

    async def both() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(session.load)
            group.start_soon(session.load)
        await session.load()  # loaded already: no store call

    anyio.run(both)
    assert session.key == "known"
    assert dict(session) == {"user": "ada"}
    assert [call for call, _ in store.calls] == ["load", "load"]


def test_the_cookie_store_template_context_does_not_load_eagerly() -> None:
    app = session_app()
    app.build()
    owner: Sessions = app.extensions["sessions"]
    request = Request({"type": "http", "headers": []})
    request.scope["session"] = session = Session(owner, request.scope)
    context = anyio.run(owner.template_context, request)
    assert context["session"] is session
    assert not session.accessed  # read when the template uses it, and only then


def test_session_of_a_scope_without_one_names_the_fix() -> None:
    with pytest.raises(RuntimeError, match=r"app.install\(Sessions\(\)\)"):
        session_of({})


def test_the_cookie_store_refuses_what_it_cannot_decode() -> None:
    store = CookieStore()
    assert store.load_now("%%%") is None
    assert store.load_now("é") is None
    assert store.load_now("W10") is None  # base64 of "[]": JSON, but not a mapping
