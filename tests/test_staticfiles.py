"""StaticFiles: serving, validators and ranges, html mode, single-page apps, and every way out refused."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from plait import ConfigurationError, Plait, Settings
from plait._types import Message
from plait.staticfiles import StaticFiles, _is_inside, safe_segments
from plait.testing import TestClient

SECRET = b"TOP-SECRET"
BIG = bytes(range(256)) * 4


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory to serve, with secrets next to it and links pointing in and out."""
    root = tmp_path / "static"
    files = {
        "index.html": b"<h1>home</h1>",
        "404.html": b"<h1>lost</h1>",
        "css/site.css": b"body{}",
        "js/app.js": b"go()",
        "img/logo.png": b"\x89PNG....",
        "data.json": b"{}",
        "big.bin": BIG,
        "docs/index.html": b"<h1>docs</h1>",
        "docs/guide.txt": b"guide",
        "empty-dir/readme.txt": b"no index here",
        "evil.com/index.html": b"<h1>not a redirect target</h1>",
        "my docs/index.html": b"spaced",
        "50%off.txt": b"sale",
        ".env": SECRET,
        ".git/config": SECRET,
        ".well-known/security.txt": b"Contact: mailto:security@example.com",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "static-secret").mkdir()
    (tmp_path / "static-secret" / "key.txt").write_bytes(SECRET)
    (root / "inside-link.css").symlink_to(root / "css" / "site.css")
    (root / "out-link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "sibling-link.txt").symlink_to(tmp_path / "static-secret" / "key.txt")
    (root / "sibling-dir").symlink_to(tmp_path / "static-secret", target_is_directory=True)
    (root / "relative-out.txt").symlink_to(Path("..") / "secret.txt")
    return root


def raw(
    app: StaticFiles,
    path: str,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    root_path: str = "",
) -> Message:
    """Call the app with a hand-built scope (no client normalising the path); status, headers, body."""
    messages: list[Message] = []

    async def receive() -> Message:
        await anyio.sleep(5)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": root_path,
        "query_string": b"",
        "headers": headers or [],
    }

    async def go() -> None:
        with anyio.fail_after(5):
            await app(scope, receive, send)

    anyio.run(go)
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return {"status": start["status"], "headers": dict(start["headers"]), "body": body}


# --- serving files -----------------------------------------------------------------------------


def test_serves_a_file_with_validators_and_cache_control(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        response = client.get("/css/site.css")
    assert response.status_code == 200
    assert response.content == b"body{}"
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["content-length"] == "6"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["etag"].startswith('"')
    assert "last-modified" in response.headers
    assert response.headers["accept-ranges"] == "bytes"
    assert "content-disposition" not in response.headers


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/js/app.js", "text/javascript"),
        ("/img/logo.png", "image/png"),
        ("/data.json", "application/json"),
        ("/index.html", "text/html"),
        ("/big.bin", "application/octet-stream"),
    ],
)
def test_media_types(site: Path, path: str, media_type: str) -> None:
    with TestClient(StaticFiles(site)) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type


def test_cache_control_can_be_changed_or_left_out(site: Path) -> None:
    with TestClient(StaticFiles(site, cache_control="public, max-age=31536000, immutable")) as client:
        assert client.get("/data.json").headers["cache-control"] == "public, max-age=31536000, immutable"
    with TestClient(StaticFiles(site, cache_control=None)) as client:
        assert "cache-control" not in client.get("/data.json").headers


def test_etag_and_last_modified_give_304(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        first = client.get("/css/site.css")
        again = client.get("/css/site.css", headers={"If-None-Match": first.headers["etag"]})
        dated = client.get("/css/site.css", headers={"If-Modified-Since": first.headers["last-modified"]})
        changed = client.get("/css/site.css", headers={"If-None-Match": '"something-else"'})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, max-age=3600"
    assert dated.status_code == 304
    assert changed.status_code == 200


def test_range_requests(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        part = client.get("/big.bin", headers={"Range": "bytes=10-19"})
        tail = client.get("/big.bin", headers={"Range": "bytes=-4"})
        beyond = client.get("/big.bin", headers={"Range": "bytes=5000-"})
    assert part.status_code == 206
    assert part.content == BIG[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(BIG)}"
    assert tail.content == BIG[-4:]
    assert beyond.status_code == 416


def test_head_sends_headers_only(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        response = client.head("/big.bin")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(BIG))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405(site: Path, method: str) -> None:
    with TestClient(StaticFiles(site)) as client:
        response = client.request(method, "/css/site.css")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.headers["content-type"] == "application/problem+json"
    assert method in response.json()["detail"]


def test_a_percent_sign_in_a_real_file_name_is_fine(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        response = client.get("/50%25off.txt")
    assert response.status_code == 200
    assert response.content == b"sale"


def test_missing_file_is_a_problem_404(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        response = client.get("/nope.css")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_directories_are_not_listed_or_served(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        assert client.get("/").status_code == 404
        assert client.get("/docs/").status_code == 404
        assert client.get("/docs").status_code == 404


def test_a_fifo_is_never_served(site: Path) -> None:
    os.mkfifo(site / "pipe")
    with TestClient(StaticFiles(site)) as client:
        assert client.get("/pipe").status_code == 404


def test_a_file_asked_for_as_a_directory_is_404(site: Path) -> None:
    with TestClient(StaticFiles(site, html=True)) as client:
        assert client.get("/css/site.css/").status_code == 404


# --- ways out of the directory -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/%2e%2e/secret.txt",
        "/css/%2e%2e/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/css/..%2f..%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "/%252e%252e%252fsecret.txt",
        "/%25252e%25252e/secret.txt",
        "/css/%252e%252e%252f%252e%252e%252fsecret.txt",
        "/..%5csecret.txt",
        "/css%5c..%5c..%5csecret.txt",
        "/%255c..%255csecret.txt",
        "/index.html%00.png",
        "/%00",
        "/css/site.css%0a",
        "/css//site.css",
        "/C:/Windows/win.ini",
        "/C:%5cWindows%5cwin.ini",
        "/index.html::$DATA",
        "/.env",
        "/.git/config",
        "/%2eenv",
        "/%252eenv",
        "/css/%2e/site.css",
        "/out-link.txt",
        "/relative-out.txt",
        "/sibling-link.txt",
        "/sibling-dir/key.txt",
    ],
)
def test_ways_out_are_refused_with_404(site: Path, url: str) -> None:
    with TestClient(StaticFiles(site, html=True)) as client:
        response = client.get(url)
    assert response.status_code == 404
    assert SECRET not in response.content
    assert "location" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/css/../../secret.txt",
        "/../static-secret/key.txt",
        "/./index.html",
        "//etc/passwd",
        "/css/./site.css",
        "/..",
        "index.html",
        "",
        "/css\\..\\..\\secret.txt",
        "/\\etc\\passwd",
        "/" + "a" * 5000,
        "/a/" * 2000,
    ],
)
def test_raw_paths_a_client_would_normalise_are_refused(site: Path, path: str) -> None:
    # An HTTP client removes dot segments before sending; a hostile one does not, so the app is
    # called with the path exactly as the server passed it on.
    response = raw(StaticFiles(site), path)
    assert response["status"] == 404
    assert SECRET not in response["body"]


def test_an_absolute_path_is_read_below_the_directory(site: Path, tmp_path: Path) -> None:
    # "/<tmp>/secret.txt" names a file *inside* the directory, which does not exist.
    response = raw(StaticFiles(site), str(tmp_path / "secret.txt"))
    assert response["status"] == 404
    assert SECRET not in response["body"]


def test_the_sibling_directory_check_compares_components_not_text(tmp_path: Path) -> None:
    root = str(tmp_path / "static")
    assert _is_inside(root, root)
    assert _is_inside(root, os.path.join(root, "css", "site.css"))
    assert not _is_inside(root, root + "-secret")
    assert not _is_inside(root, os.path.join(root + "-secret", "key.txt"))
    assert not _is_inside(root, str(tmp_path))
    assert not _is_inside(root, "relative/path")


def test_safe_segments() -> None:
    assert safe_segments("/a/b.txt") == ["a", "b.txt"]
    assert safe_segments("/a/") == ["a"]
    assert safe_segments("/.well-known/security.txt") == [".well-known", "security.txt"]
    assert safe_segments("/50%off.txt") == ["50%off.txt"]
    for bad in ("/a/../b", "/a//b", "/%2e%2e", "/a%2fb", "/a%5cb", "/x:y", "/a\x00", "/.hidden", "/a/.", "b"):
        assert safe_segments(bad) is None, bad


def test_symlinks_inside_the_directory_are_followed(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        response = client.get("/inside-link.css")
    assert response.status_code == 200
    assert response.content == b"body{}"
    assert response.headers["content-type"] == "text/css; charset=utf-8"


def test_follow_symlinks_allows_links_out_but_never_dot_dot(site: Path) -> None:
    files = StaticFiles(site, follow_symlinks=True)
    with TestClient(files) as client:
        assert client.get("/out-link.txt").content == SECRET
        assert client.get("/sibling-dir/key.txt").content == SECRET
        assert client.get("/%2e%2e/secret.txt").status_code == 404
        assert client.get("/..%2fsecret.txt").status_code == 404
    assert raw(files, "/../secret.txt")["status"] == 404
    assert raw(files, "/sibling-dir/../../secret.txt")["status"] == 404


def test_the_directory_itself_may_be_a_symlink(site: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(site, target_is_directory=True)
    with TestClient(StaticFiles(alias)) as client:
        assert client.get("/css/site.css").content == b"body{}"
        assert client.get("/inside-link.css").status_code == 200
        assert client.get("/out-link.txt").status_code == 404


def test_well_known_is_the_one_public_hidden_directory(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        assert client.get("/.well-known/security.txt").status_code == 200
        assert client.get("/.env").status_code == 404


# --- html mode -----------------------------------------------------------------------------------


def test_html_serves_index_pages(site: Path) -> None:
    with TestClient(StaticFiles(site, html=True)) as client:
        home = client.get("/")
        docs = client.get("/docs/")
    assert home.content == b"<h1>home</h1>"
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    assert home.headers["cache-control"] == "public, max-age=3600"
    assert docs.content == b"<h1>docs</h1>"


def test_a_custom_index_name(site: Path) -> None:
    (site / "docs" / "default.htm").write_bytes(b"default")
    with TestClient(StaticFiles(site, html=True, index="default.htm")) as client:
        assert client.get("/docs/").content == b"default"
        assert client.get("/").status_code == 404


def test_a_directory_without_slash_is_redirected(site: Path) -> None:
    with TestClient(StaticFiles(site, html=True), follow_redirects=False) as client:
        response = client.get("/docs?page=2&q=a%20b")
        spaced = client.get("/my%20docs")
        followed = client.get("/docs", follow_redirects=True)
    assert response.status_code == 307
    assert response.headers["location"] == "/docs/?page=2&q=a%20b"
    assert spaced.headers["location"] == "/my%20docs/"
    assert followed.content == b"<h1>docs</h1>"


def test_a_directory_without_index_is_not_redirected(site: Path) -> None:
    with TestClient(StaticFiles(site, html=True), follow_redirects=False) as client:
        response = client.get("/empty-dir")
    assert response.status_code == 404
    assert response.content == b"<h1>lost</h1>"


def test_no_open_redirect_through_a_leading_double_slash(site: Path) -> None:
    # "//evil.com" would redirect to "//evil.com/", another site, if it were taken as a directory.
    response = raw(StaticFiles(site, html=True), "//evil.com")
    assert response["status"] == 404
    assert b"location" not in response["headers"]
    app = Plait(settings=Settings())
    app.mount("/static", StaticFiles(site, html=True))
    with TestClient(app, follow_redirects=False) as client:
        mounted = client.get("/static//evil.com")
    assert mounted.status_code == 404
    assert "location" not in mounted.headers


def test_html_serves_the_404_page(site: Path) -> None:
    with TestClient(StaticFiles(site, html=True)) as client:
        response = client.get("/missing")
        head = client.head("/missing")
        refused = client.get("/%2e%2e/secret.txt")
    assert response.status_code == 404
    assert response.content == b"<h1>lost</h1>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "cache-control" not in response.headers
    assert head.status_code == 404
    assert head.content == b""
    assert refused.content == b"<h1>lost</h1>"


def test_without_a_404_page_the_answer_is_a_problem(site: Path) -> None:
    (site / "404.html").unlink()
    with TestClient(StaticFiles(site, html=True)) as client:
        response = client.get("/missing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_404_page_is_only_used_in_html_mode(site: Path) -> None:
    with TestClient(StaticFiles(site)) as client:
        response = client.get("/missing")
    assert response.headers["content-type"] == "application/problem+json"


# --- single-page apps ----------------------------------------------------------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_spa_fallback_serves_the_index_to_browsers(site: Path) -> None:
    with TestClient(StaticFiles(site, html=True, spa_fallback=True)) as client:
        page = client.get("/dashboard/settings", headers=BROWSER)
        head = client.head("/dashboard", headers=BROWSER)
        real = client.get("/css/site.css", headers=BROWSER)
        empty_dir = client.get("/empty-dir/", headers=BROWSER)
    assert page.status_code == 200
    assert page.content == b"<h1>home</h1>"
    assert head.status_code == 200
    assert real.content == b"body{}"
    assert empty_dir.content == b"<h1>home</h1>"


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/dashboard", "application/json"),
        ("/dashboard", "*/*"),
        ("/dashboard", "text/html;q=0"),
        ("/dashboard", "text/html;q=nonsense"),
        ("/missing.js", "text/html"),
        ("/%2e%2e/secret.txt", "text/html"),
    ],
)
def test_spa_fallback_leaves_other_requests_alone(site: Path, url: str, accept: str) -> None:
    with TestClient(StaticFiles(site, html=True, spa_fallback=True)) as client:
        response = client.get(url, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.content == b"<h1>lost</h1>"


def test_spa_fallback_without_an_index_is_a_404(site: Path) -> None:
    (site / "index.html").unlink()
    with TestClient(StaticFiles(site, html=True, spa_fallback=True)) as client:
        response = client.get("/dashboard", headers=BROWSER)
    assert response.status_code == 404


def test_spa_fallback_needs_html(site: Path) -> None:
    with pytest.raises(ConfigurationError, match="html=True"):
        StaticFiles(site, spa_fallback=True)


# --- configuration -------------------------------------------------------------------------------


def test_a_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    with pytest.raises(ConfigurationError) as info:
        StaticFiles(missing)
    message = str(info.value)
    assert str(missing) in message
    assert "does not exist" in message
    assert "check_dir=False" in message


def test_a_file_is_not_a_directory(site: Path) -> None:
    with pytest.raises(ConfigurationError, match="is not a directory"):
        StaticFiles(site / "index.html")


@pytest.mark.parametrize("index", ["", "../index.html", "a/index.html", ".index.html", "a\\b.html"])
def test_the_index_name_must_be_a_plain_file_name(site: Path, index: str) -> None:
    with pytest.raises(ConfigurationError, match="plain file name"):
        StaticFiles(site, html=True, index=index)


def test_check_dir_false_serves_a_directory_created_later(tmp_path: Path) -> None:
    later = tmp_path / "later"
    files = StaticFiles(later, check_dir=False)
    with TestClient(files) as client:
        assert client.get("/a.txt").status_code == 404
        later.mkdir()
        (later / "a.txt").write_bytes(b"now")
        assert client.get("/a.txt").content == b"now"


def test_websocket_and_other_scopes(site: Path) -> None:
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        messages.append(message)

    files = StaticFiles(site)
    anyio.run(files, {"type": "websocket", "path": "/"}, receive, send)
    anyio.run(files, {"type": "lifespan"}, receive, send)
    assert messages == [{"type": "websocket.close", "code": 1000}]


# --- in a Plait app ------------------------------------------------------------------------------


def test_mounted_in_a_plait_app(site: Path) -> None:
    app = Plait(settings=Settings())
    app.get("/api/ping")(lambda: {"pong": True})
    app.mount("/static", StaticFiles(site, html=True))
    with TestClient(app, follow_redirects=False) as client:
        css = client.get("/static/css/site.css")
        ping = client.get("/api/ping")
        redirect = client.get("/static/docs")
        missing = client.get("/static/nope")
        refused = client.get("/static/%2e%2e/%2e%2e/secret.txt")
        post = client.post("/static/css/site.css")
        home = client.get("/static/")
        bare = client.get("/static")
    assert css.status_code == 200
    assert css.content == b"body{}"
    assert ping.json() == {"pong": True}
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "/static/docs/"
    assert missing.status_code == 404
    assert missing.content == b"<h1>lost</h1>"
    assert refused.status_code == 404
    assert SECRET not in refused.content
    assert post.status_code == 405
    assert home.content == b"<h1>home</h1>"
    assert bare.status_code == 307
    assert bare.headers["location"] == "/static/"


def test_a_loop_of_links_is_a_404(site: Path) -> None:
    (site / "loop-a").symlink_to(site / "loop-b")
    (site / "loop-b").symlink_to(site / "loop-a")
    with TestClient(StaticFiles(site, follow_symlinks=True)) as client:
        assert client.get("/loop-a").status_code == 404
    with TestClient(StaticFiles(site)) as client:
        assert client.get("/loop-a").status_code == 404


@pytest.mark.parametrize("path", ["/static/docs", "/docs"])
def test_a_mounted_path_in_full_or_already_cut(site: Path, path: str) -> None:
    # Servers send the full path with the prefix in root_path; a path already cut is read as is.
    files = StaticFiles(site, html=True)
    redirect = raw(files, path, root_path="/static")
    assert redirect["status"] == 307
    assert redirect["headers"][b"location"] == b"/static/docs/"
    page = raw(files, path + "/guide.txt", root_path="/static")
    assert page["body"] == b"guide"


def test_router_mount_static_serves_a_folder(tmp_path: Path) -> None:
    from plait import Plait, Settings
    from plait.testing import TestClient

    (tmp_path / "hello.txt").write_text("hi there")
    app = Plait(settings=Settings())
    app.mount_static("/files", str(tmp_path), name="files")
    with TestClient(app) as client:
        response = client.get("/files/hello.txt")
    assert response.status_code == 200
    assert response.text == "hi there"
