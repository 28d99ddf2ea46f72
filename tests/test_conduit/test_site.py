"""The server-rendered site: pages, session sign-in with CSRF, forms, markdown, permissions."""

from __future__ import annotations

import re

import httpx

from plait.testing import TestClient
from tests.test_conduit.helpers import PASSWORD, auth, publish, register


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


def sign_up(client: TestClient, username: str = "walker") -> None:
    page = client.get("/register")
    form = {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "csrf_token": csrf(page.text),
    }
    response = client.post("/register", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


def post(client: TestClient, path: str, data: dict[str, str] | None = None, page: str = "/") -> httpx.Response:
    """A form POST from ``page``, with that page's CSRF token."""
    token = csrf(client.get(page).text)
    return client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


def test_the_home_page_for_visitors(client: TestClient) -> None:
    token = register(client, "jake")
    publish(client, token, "Dragons", tags=["dragons"])
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "A place to share your knowledge." in page.text
    assert "Sign in" in page.text
    assert "Sign up" in page.text
    assert "Your Feed" not in page.text
    assert "Dragons" in page.text
    assert 'href="/?tag=dragons"' in page.text
    tagged = client.get("/", params={"tag": "dragons"})
    assert "# dragons" in tagged.text
    assert "Dragons" in tagged.text
    assert "No articles are here" in client.get("/", params={"tag": "none"}).text


def test_sign_up_signs_in_and_shows_the_feed(client: TestClient) -> None:
    sign_up(client)
    home = client.get("/")
    assert "Welcome to Conduit, walker!" in home.text
    assert "Your Feed" in home.text
    assert "New Article" in home.text
    assert 'href="/profile/walker"' in home.text
    # The same account works on the API: the site and the API share users. Logging in there needs no CSRF
    # token even with the session cookie (it only answers a token)...
    login = client.post("/api/users/login", json={"user": {"email": "walker@example.com", "password": PASSWORD}})
    assert login.status_code == 200
    # ... but an API write that rides on the session cookie alone must carry it, like any form.
    article = {"article": {"title": "t", "description": "d", "body": "b"}}
    assert client.post("/api/articles", json=article).status_code == 403
    token = login.json()["user"]["token"]
    assert client.post("/api/articles", json=article, headers=auth(token)).status_code == 201


def test_a_form_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    form = {"username": "walker", "email": "walker@example.com", "password": PASSWORD}
    client.get("/register")  # the CSRF secret is set
    response = client.post("/register", data=form)
    assert response.status_code == 403
    assert client.get("/profile/walker").status_code == 404  # nothing was created


def test_sign_up_errors_are_listed_above_the_form(client: TestClient) -> None:
    register(client, "taken")
    page = client.get("/register")
    form = {"username": "taken", "email": "new@example.com", "password": PASSWORD, "csrf_token": csrf(page.text)}
    response = client.post("/register", data=form)
    assert response.status_code == 422
    assert 'class="error-messages"' in response.text
    assert "has already been taken" in response.text


def test_sign_in_and_out(client: TestClient) -> None:
    register(client, "jake", "jake@jake.jake")
    page = client.get("/login?next=/settings")
    wrong = client.post(
        "/login?next=/settings",
        data={"email": "jake@jake.jake", "password": "Not-the-password-1", "csrf_token": csrf(page.text)},
    )
    assert wrong.status_code == 422
    assert "email or password is invalid" in wrong.text
    right = client.post(
        "/login?next=/settings",
        data={"email": "jake@jake.jake", "password": PASSWORD, "csrf_token": csrf(wrong.text)},
        follow_redirects=False,
    )
    assert right.headers["location"] == "/settings"  # back where the visitor was going
    assert "Your Settings" in client.get("/settings").text
    out = post(client, "/logout", page="/settings")
    assert out.status_code == 303
    assert "Sign in" in client.get("/").text


def test_pages_for_members_send_visitors_to_sign_in(client: TestClient) -> None:
    for path in ("/settings", "/editor"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


def test_write_read_edit_and_delete_an_article(client: TestClient) -> None:
    sign_up(client)
    form = {"title": "Woven", "description": "About weaving", "body": "## Warp\n\n**weft**", "tags": "cloth, loom"}
    created = post(client, "/editor", form, page="/editor")
    assert created.headers["location"] == "/article/woven"
    page = client.get("/article/woven")
    assert "<h2>Warp</h2>" in page.text
    assert "<strong>weft</strong>" in page.text
    assert "Edit Article" in page.text
    editor = client.get("/editor/woven")
    assert 'value="cloth, loom"' in editor.text
    changed = post(client, "/editor/woven", {**form, "title": "Rewoven", "tags": "loom"}, page="/editor/woven")
    assert changed.headers["location"] == "/article/rewoven"
    api_view = client.get("/api/articles/rewoven").json()["article"]
    assert api_view["tagList"] == ["loom"]
    deleted = post(client, "/article/rewoven/delete", page="/article/rewoven")
    assert deleted.status_code == 303
    assert client.get("/article/rewoven").status_code == 404


def test_an_invalid_article_form_is_drawn_again_with_errors(client: TestClient) -> None:
    sign_up(client)
    response = post(client, "/editor", {"title": "", "description": "d", "body": "b"}, page="/editor")
    assert response.status_code == 422
    assert 'class="error-messages"' in response.text


def test_markdown_is_rendered_and_sanitised(client: TestClient) -> None:
    token = register(client, "jake")
    body = '<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n[click](javascript:alert(3)) *ok*'
    publish(client, token, "Nasty", body=body)
    page = client.get("/article/nasty").text
    article = page[page.index('class="article-body"') : page.index("</div>", page.index('class="article-body"'))]
    assert "<script" not in article
    assert "<img" not in article
    assert "javascript:" not in article.replace("[click](javascript:alert(3))", "")
    assert "<em>ok</em>" in article


def test_only_the_author_may_edit(client: TestClient) -> None:
    token = register(client, "jake")
    publish(client, token, "Mine")
    sign_up(client, "intruder")
    assert client.get("/editor/mine").status_code == 403
    response = post(client, "/article/mine/delete", page="/article/mine")
    assert response.status_code == 403


def test_comment_favorite_and_follow_from_the_page(client: TestClient) -> None:
    token = register(client, "jake")
    publish(client, token, "Dragons")
    sign_up(client)
    commented = post(client, "/article/dragons/comments", {"body": "Hello there"}, page="/article/dragons")
    assert commented.headers["location"] == "/article/dragons#comments"
    blank = post(client, "/article/dragons/comments", {"body": ""}, page="/article/dragons")
    assert blank.status_code == 422
    favorited = post(client, "/article/dragons/favorite", {"next": "/?tab=global"}, page="/article/dragons")
    assert favorited.headers["location"] == "/?tab=global"
    followed = post(client, "/profile/jake/follow", {"next": "https://evil.example/"}, page="/article/dragons")
    assert followed.headers["location"] == "/profile/jake"  # never off-site
    page = client.get("/article/dragons").text
    assert "Hello there" in page
    assert "Unfavorite Article" in page
    assert "Unfollow jake" in page
    assert "Dragons" in client.get("/").text  # in Your Feed now
    comment_id = client.get("/api/articles/dragons/comments").json()["comments"][0]["id"]
    removed = post(client, f"/article/dragons/comments/{comment_id}/delete", page="/article/dragons")
    assert removed.status_code == 303
    assert client.get("/api/articles/dragons/comments").json() == {"comments": []}
    post(client, "/article/dragons/unfavorite", page="/article/dragons")
    post(client, "/profile/jake/unfollow", page="/article/dragons")
    page = client.get("/article/dragons").text
    assert "+ Follow jake" in page
    assert "Favorite Article" in page


def test_profiles_list_articles_and_favorites_with_pages(client: TestClient) -> None:
    token = register(client, "jake")
    for number in range(12):
        publish(client, token, f"Article {number}")
    client.post("/api/articles/article-3/favorite", headers=auth(token))
    first = client.get("/profile/jake")
    assert first.text.count('class="preview"') == 10
    assert 'href="/profile/jake?page=2"' in first.text
    second = client.get("/profile/jake", params={"page": 2})
    assert second.text.count('class="preview"') == 2
    favorites = client.get("/profile/jake/favorites")
    assert favorites.text.count('class="preview"') == 1
    assert "Article 3" in favorites.text
    assert client.get("/profile/nobody").status_code == 404


def test_settings_change_the_profile_and_the_password(client: TestClient) -> None:
    sign_up(client)
    page = client.get("/settings")
    assert 'value="walker@example.com"' in page.text
    form = {
        "image": "https://example.com/me.png",
        "username": "walker",
        "bio": "Walks a lot",
        "email": "walker@example.com",
        "password": "A-brand-new-secret-9",
        "csrf_token": csrf(page.text),
    }
    saved = client.post("/settings", data=form, follow_redirects=False)
    assert saved.headers["location"] == "/profile/walker"
    profile = client.get("/profile/walker").text
    assert "Walks a lot" in profile
    assert 'src="https://example.com/me.png"' in profile
    assert "Your Settings" in client.get("/settings").text  # still signed in after the password change
    client.cookies.clear()
    login = {"user": {"email": "walker@example.com", "password": "A-brand-new-secret-9"}}
    assert client.post("/api/users/login", json=login).status_code == 200


def test_the_api_index_and_the_docs(client: TestClient) -> None:
    assert client.get("/api").json()["docs"] == "/docs"
    assert client.get("/docs").status_code == 200


def test_errors_on_pages_are_pages(client: TestClient) -> None:
    missing = client.get("/article/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "article &#39;nothing-here&#39; not found" in missing.text
    bad_page = client.get("/", params={"page": 0})
    assert bad_page.status_code == 422
    assert bad_page.headers["content-type"].startswith("text/html")
    sign_up(client)
    signed_in = client.get("/article/nothing-here")
    assert signed_in.status_code == 404
    assert 'href="/profile/walker"' in signed_in.text  # the top bar still knows who is signed in
    assert client.get("/api/articles/nothing-here").json() == {"errors": {"body": ["article 'nothing-here' not found"]}}
