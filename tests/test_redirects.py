"""redirect() and safe_next(): only targets that every browser resolves on this site are followed."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plait import Plait
from plait.redirects import redirect, safe_next
from plait.requests import Request
from tests.support import call

SITE = "https://shop.example"


REQUEST = Request({"type": "http", "scheme": "https", "server": ("shop.example", 443), "path": "/login", "headers": []})


def browser_target(location: str) -> str:
    """Where a browser on the login page goes, as the WHATWG URL parser would resolve it.

    Tabs and line breaks are removed and backslashes read as slashes (what browsers do for http(s)
    URLs) before resolving against the current page; urljoin then resolves like a browser does.
    """
    cleaned = location.strip("".join(map(chr, range(33))))  # C0 controls and space
    cleaned = cleaned.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    return urljoin(SITE + "/login", cleaned)


@pytest.mark.parametrize(
    "value",
    [
        "//evil.example",
        "//evil.example/path",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "https:evil.example",
        "https:/evil.example",
        "https://evil.example/",
        "http://shop.example/",  # another scheme is another origin
        "https://shop.example@evil.example/",
        "https://shop.example.evil.example/",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%252F%252Fevil.example",  # decoded twice by a proxy and a framework
        "/%25252F%25252Fevil.example%25252F%25252F",
        "/a%252525252541",  # harmless, but encoded more deeply than any real link
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\nSet-Cookie: a=b",
        " //evil.example",
        "\x00//evil.example",
        "/%09/evil.example",
        "/%0d%0aSet-Cookie:%20a=b",
        "evil.example",
        "login",
        "",
        None,
        "/" + "a" * 3000,
    ],
)
def test_foreign_or_odd_targets_fall_back_to_the_default(value: str | None) -> None:
    assert safe_next(REQUEST, value, default="/home") == "/home"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/", "/"),
        ("/cart", "/cart"),
        ("/cart?step=2&next=/x", "/cart?step=2&next=/x"),
        ("/articles/7#comments", "/articles/7#comments"),
        ("/caf\u00e9", "/caf\u00e9"),  # a browser percent-encodes it; it stays a path
        ("/a%20b", "/a%20b"),
        ("https://shop.example/orders?id=3", "/orders?id=3"),
        ("HTTPS://SHOP.EXAMPLE", "/"),
    ],
)
def test_own_paths_are_followed(value: str, expected: str) -> None:
    assert safe_next(REQUEST, value) == expected


def test_a_non_default_port_is_part_of_the_origin() -> None:
    request = Request({"type": "http", "scheme": "http", "server": ("127.0.0.1", 8000), "path": "/", "headers": []})
    assert safe_next(request, "http://127.0.0.1:8000/a") == "/a"
    assert safe_next(request, "http://127.0.0.1:9000/a") == "/"


def test_an_unparsable_absolute_url_is_refused() -> None:
    assert safe_next(REQUEST, "https://[shop.example/") == "/"


@given(st.text(max_size=60))
def test_any_accepted_target_stays_on_this_site(value: str) -> None:
    target = safe_next(REQUEST, value, default="/fallback")
    resolved = urlsplit(browser_target(target))
    assert (resolved.scheme, resolved.netloc) == ("https", "shop.example")


_tricky = st.sampled_from(["/", "\\", "//", "/\\", "%2F", "%5C", "%252F", "\t", "\n", "\x00", ":", "@", "evil.example"])


@given(st.lists(st.one_of(_tricky, st.text(max_size=4)), max_size=8))
def test_assembled_attacks_never_leave_the_site(parts: list[str]) -> None:
    value = "".join(parts)
    target = safe_next(REQUEST, value, default="/fallback")
    resolved = urlsplit(browser_target(quote(target, safe="/%?#&=:@")))
    assert (resolved.scheme, resolved.netloc) == ("https", "shop.example")
    # What is followed never turns foreign after any number of decodings either.
    if target != "/fallback":
        assert target == value or value.lower().startswith("https://shop.example")


@given(st.from_regex(r"/[a-z0-9/_\-.]{0,30}(\?[a-z0-9=&]{0,10})?", fullmatch=True))
def test_plain_paths_are_kept_as_they_are(path: str) -> None:
    expected = path if not path.startswith("//") else "/"
    assert safe_next(REQUEST, path) == expected


def test_redirect_defaults_to_303_see_other() -> None:
    app = Plait()

    @app.post("/articles")
    def create() -> object:
        return redirect("/articles/1", headers={"x-created": "1"})

    response = call(app, "POST", "/articles", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/articles/1"
    assert response.headers["x-created"] == "1"


def test_redirect_refuses_a_status_that_is_not_a_redirect() -> None:
    with pytest.raises(ValueError, match="3xx"):
        redirect("/", status_code=200)


def test_a_login_handler_follows_next_only_on_site() -> None:
    app = Plait()

    @app.get("/done")
    def done(request: Request, next: str | None = None) -> object:
        return redirect(safe_next(request, next, default="/account"))

    assert call(app, "GET", "/done?next=/cart").headers["location"] == "/cart"
    assert call(app, "GET", "/done?next=%2F%2Fevil.example").headers["location"] == "/account"
    assert call(app, "GET", "/done").headers["location"] == "/account"
