"""HTTPSRedirectMiddleware: 308 to https/wss, path and query kept, poisoned hosts refused."""

from __future__ import annotations

import pytest

from plait import Plait, Settings
from plait._types import Scope
from plait.middleware import HTTPSRedirectMiddleware
from plait.middleware.https import secure_url
from plait.testing import TestClient
from tests.test_middleware.helpers import Recorder, http_scope, run, websocket_scope


def make_app() -> Plait:
    app = Plait(settings=Settings())
    app.add_middleware(HTTPSRedirectMiddleware)
    app.get("/page")(lambda: "secure page")
    app.post("/form")(lambda: "posted")
    return app


def test_http_is_redirected_with_308() -> None:
    with TestClient(make_app(), follow_redirects=False) as client:
        response = client.get("/page?x=1&y=%2F")
    assert response.status_code == 308
    assert response.headers["location"] == "https://testserver/page?x=1&y=%2F"
    assert response.content == b""


def test_post_keeps_its_method_through_the_redirect() -> None:
    with TestClient(make_app(), follow_redirects=False) as client:
        response = client.post("/form", content=b"data")
    assert response.status_code == 308
    assert response.headers["location"] == "https://testserver/form"


def test_following_the_redirect_reaches_the_page() -> None:
    with TestClient(make_app(), follow_redirects=True) as client:
        response = client.get("/page")
    assert response.url == "https://testserver/page"
    assert response.text == "secure page"


def test_https_passes_through() -> None:
    with TestClient(make_app(), base_url="https://testserver") as client:
        assert client.get("/page").text == "secure page"


@pytest.mark.parametrize(
    ("host", "location"),
    [
        ("example.com", "https://example.com/p"),
        ("Example.COM:80", "https://example.com/p"),
        ("example.com:8080", "https://example.com:8080/p"),
        ("[::1]:80", "https://[::1]/p"),
    ],
)
def test_ports(host: str, location: str) -> None:
    assert secure_url(http_scope("/p", headers=[(b"host", host.encode())])) == location


def test_path_is_taken_raw_so_encoding_survives() -> None:
    scope = http_scope(
        "/a b/c/d",
        raw_path=b'/a%20b/c%2Fd/\xc3\xa9"<>',
        query_string=b"q=caf\xc3\xa9&r=a#b",
        headers=[(b"host", b"example.com")],
    )
    assert secure_url(scope) == "https://example.com/a%20b/c%2Fd/%C3%A9%22%3C%3E?q=caf%C3%A9&r=a%23b"


def test_without_raw_path_the_path_is_encoded() -> None:
    scope = http_scope("/a b/é", root_path="/mount", headers=[(b"host", b"example.com")])
    assert secure_url(scope) == "https://example.com/mount/a%20b/%C3%A9"


@pytest.mark.parametrize(
    ("server", "location"),
    [(("10.0.0.1", 80), "https://10.0.0.1/"), (("::1", 8080), "https://[::1]:8080/"), (None, "https://localhost/")],
)
def test_without_a_host_header_the_server_address_is_used(server: tuple[str, int] | None, location: str) -> None:
    assert secure_url(http_scope("/", server=server)) == location


@pytest.mark.parametrize("host", ["evil.com/x", "a@evil.com", "evil.com\r\nSet-Cookie: a=b"])
def test_poisoned_hosts_get_a_400_not_a_redirect(host: str) -> None:
    messages = run(HTTPSRedirectMiddleware(Recorder()), http_scope(headers=[(b"host", host.encode())]))
    assert messages[0]["status"] == 400
    assert not any(key == b"location" for key, _ in messages[0]["headers"])


def test_two_host_headers_get_a_400() -> None:
    scope = http_scope(headers=[(b"host", b"example.com"), (b"host", b"evil.com")])
    assert secure_url(scope) is None


def test_websocket_denial_response_redirects_to_wss() -> None:
    scope = websocket_scope(
        "/ws", query_string=b"room=1", headers=[(b"host", b"example.com")], extensions={"websocket.http.response": {}}
    )
    inner = Recorder()
    messages = run(HTTPSRedirectMiddleware(inner), scope)
    assert messages == [
        {
            "type": "websocket.http.response.start",
            "status": 308,
            "headers": [(b"location", b"wss://example.com/ws?room=1"), (b"content-length", b"0")],
        },
        {"type": "websocket.http.response.body", "body": b""},
    ]
    assert inner.scopes == []


@pytest.mark.parametrize(
    "scope",
    [
        websocket_scope(headers=[(b"host", b"example.com")]),
        websocket_scope(headers=[(b"host", b"evil.com/x")], extensions={"websocket.http.response": {}}),
    ],
)
def test_websocket_without_the_extension_is_closed(scope: Scope) -> None:
    messages = run(HTTPSRedirectMiddleware(Recorder()), scope)
    assert messages == [{"type": "websocket.close", "code": 1008, "reason": "Use wss://"}]


@pytest.mark.parametrize("scope", [websocket_scope(scheme="wss"), http_scope(scheme="https"), {"type": "lifespan"}])
def test_secure_and_other_scopes_pass_through(scope: Scope) -> None:
    inner = Recorder()
    run(HTTPSRedirectMiddleware(inner), scope)
    assert inner.scope is scope
