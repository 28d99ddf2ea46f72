"""``/api/articles``, the feed, favorites and ``/api/tags``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from plait.testing import TestClient
from tests.test_conduit.helpers import auth, errors, publish, register

ARTICLE_FIELDS = {
    "slug",
    "title",
    "description",
    "body",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}


def slugs(response: Any) -> list[str]:
    return [article["slug"] for article in response.json()["articles"]]


def test_create_answers_201_with_the_whole_article(client: TestClient) -> None:
    token = register(client, "jake")
    body = {
        "title": "How to train your dragon",
        "description": "Ever wonder how?",
        "body": "You have to believe",
        "tagList": ["training", "dragons"],
    }
    response = client.post("/api/articles", json={"article": body}, headers=auth(token))
    assert response.status_code == 201
    article = response.json()["article"]
    assert set(article) == ARTICLE_FIELDS
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["tagList"] == ["training", "dragons"]  # the order the author gave
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert article["author"] == {"username": "jake", "bio": "", "image": "", "following": False}
    created = datetime.fromisoformat(article["createdAt"].replace("Z", "+00:00"))
    assert created.utcoffset() is not None
    assert article["createdAt"] == article["updatedAt"]


def test_slugs_stay_unique(client: TestClient) -> None:
    token = register(client, "jake")
    first, second, third = (publish(client, token, "Hello, World!") for _ in range(3))
    assert [first["slug"], second["slug"], third["slug"]] == ["hello-world", "hello-world-2", "hello-world-3"]
    assert publish(client, token, "¿Qué tal?")["slug"] == "que-tal"
    assert publish(client, token, "!!!")["slug"] == "article"


def test_create_cleans_tags(client: TestClient) -> None:
    token = register(client, "jake")
    article = publish(client, token, "Tags", tags=[" dragons ", "", "dragons", "angular"])
    assert article["tagList"] == ["dragons", "angular"]
    assert publish(client, token, "No tags")["tagList"] == []


def test_create_refuses_blank_missing_and_unknown_fields(client: TestClient) -> None:
    token = auth(register(client, "jake"))
    blank = client.post(
        "/api/articles", json={"article": {"title": " ", "description": "d", "body": ""}}, headers=token
    )
    assert blank.status_code == 422
    assert errors(blank) == ["article.title: can't be blank", "article.body: can't be blank"]
    missing = client.post("/api/articles", json={"article": {"title": "t"}}, headers=token)
    assert missing.status_code == 422
    assert len(errors(missing)) == 2
    too_long = client.post(
        "/api/articles", json={"article": {"title": "t" * 201, "description": "d", "body": "b"}}, headers=token
    )
    assert too_long.status_code == 422
    wrong = client.post(
        "/api/articles", json={"article": {"title": "t", "description": "d", "body": "b", "slug": "x"}}, headers=token
    )
    assert wrong.status_code == 422  # the slug is the server's to choose


def test_create_needs_a_token(client: TestClient) -> None:
    response = client.post("/api/articles", json={"article": {"title": "t", "description": "d", "body": "b"}})
    assert response.status_code == 401
    errors(response)


def test_get_one_article(client: TestClient) -> None:
    token = register(client, "jake")
    created = publish(client, token, "Dragons", tags=["dragons"])
    response = client.get("/api/articles/dragons")
    assert response.status_code == 200
    assert response.json()["article"] == created
    missing = client.get("/api/articles/nothing-here")
    assert missing.status_code == 404
    assert errors(missing) == ["article 'nothing-here' not found"]


def test_list_is_most_recent_first_without_bodies(client: TestClient) -> None:
    token = register(client, "jake")
    for title in ("One", "Two", "Three"):
        publish(client, token, title)
    response = client.get("/api/articles")
    assert response.status_code == 200
    document = response.json()
    assert set(document) == {"articles", "articlesCount"}
    assert slugs(response) == ["three", "two", "one"]
    assert document["articlesCount"] == 3
    assert all(set(article) == ARTICLE_FIELDS - {"body"} for article in document["articles"])


def test_limit_and_offset_page_and_the_count_is_the_total(client: TestClient) -> None:
    token = register(client, "jake")
    for number in range(5):
        publish(client, token, f"Article {number}")
    page = client.get("/api/articles", params={"limit": 2, "offset": 1})
    assert slugs(page) == ["article-3", "article-2"]
    assert page.json()["articlesCount"] == 5
    assert slugs(client.get("/api/articles", params={"offset": 10})) == []
    assert len(slugs(client.get("/api/articles", params={"limit": 1000}))) == 5  # capped at 100, not refused


@pytest.mark.parametrize("params", [{"limit": 0}, {"offset": -1}, {"limit": "many"}])
def test_bad_paging_is_422(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/api/articles", params=params)
    assert response.status_code == 422
    assert errors(response)[0].startswith(next(iter(params)))


def test_filters_by_tag_author_and_favorited(client: TestClient) -> None:
    jake, celeb = register(client, "jake"), register(client, "celeb")
    publish(client, jake, "Dragons", tags=["dragons", "training"])
    publish(client, jake, "Angular", tags=["angular"])
    publish(client, celeb, "Fame", tags=["dragons"])
    client.post("/api/articles/angular/favorite", headers=auth(celeb))
    assert slugs(client.get("/api/articles", params={"tag": "dragons"})) == ["fame", "dragons"]
    assert slugs(client.get("/api/articles", params={"author": "jake"})) == ["angular", "dragons"]
    assert slugs(client.get("/api/articles", params={"favorited": "celeb"})) == ["angular"]
    both = client.get("/api/articles", params={"tag": "dragons", "author": "celeb"})
    assert (slugs(both), both.json()["articlesCount"]) == (["fame"], 1)
    assert slugs(client.get("/api/articles", params={"author": "nobody"})) == []
    assert slugs(client.get("/api/articles", params={"tag": "nothing"})) == []


def test_the_list_shows_the_viewers_favorites_and_follows(client: TestClient) -> None:
    jake, fan = register(client, "jake"), register(client, "fan")
    publish(client, jake, "Dragons")
    client.post("/api/articles/dragons/favorite", headers=auth(fan))
    client.post("/api/profiles/jake/follow", headers=auth(fan))
    seen = client.get("/api/articles", headers=auth(fan)).json()["articles"][0]
    assert (seen["favorited"], seen["favoritesCount"], seen["author"]["following"]) == (True, 1, True)
    anonymous = client.get("/api/articles").json()["articles"][0]
    assert (anonymous["favorited"], anonymous["favoritesCount"], anonymous["author"]["following"]) == (False, 1, False)


def test_the_feed_has_the_followed_authors_articles(client: TestClient) -> None:
    jake, celeb, fan = register(client, "jake"), register(client, "celeb"), register(client, "fan")
    publish(client, jake, "By Jake")
    publish(client, celeb, "By Celeb")
    publish(client, fan, "By Fan")
    assert client.get("/api/articles/feed", headers=auth(fan)).json() == {"articles": [], "articlesCount": 0}
    client.post("/api/profiles/celeb/follow", headers=auth(fan))
    client.post("/api/profiles/jake/follow", headers=auth(fan))
    feed = client.get("/api/articles/feed", headers=auth(fan))
    assert feed.status_code == 200
    assert slugs(feed) == ["by-celeb", "by-jake"]
    assert feed.json()["articlesCount"] == 2
    assert slugs(client.get("/api/articles/feed", params={"limit": 1, "offset": 1}, headers=auth(fan))) == ["by-jake"]
    assert all(article["author"]["following"] for article in feed.json()["articles"])


def test_the_feed_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/articles/feed").status_code == 401


def test_update_changes_fields_and_a_new_title_gives_a_new_slug(client: TestClient) -> None:
    token = register(client, "jake")
    created = publish(client, token, "Dragons", tags=["dragons"])
    response = client.put("/api/articles/dragons", json={"article": {"body": "New body"}}, headers=auth(token))
    assert response.status_code == 200
    article = response.json()["article"]
    assert (article["slug"], article["body"], article["title"], article["tagList"]) == (
        "dragons",
        "New body",
        "Dragons",
        ["dragons"],
    )
    assert article["updatedAt"] > created["updatedAt"]
    renamed = client.put(
        "/api/articles/dragons", json={"article": {"title": "Did you train your dragon?"}}, headers=auth(token)
    )
    assert renamed.json()["article"]["slug"] == "did-you-train-your-dragon"
    assert client.get("/api/articles/dragons").status_code == 404
    same = client.put(
        "/api/articles/did-you-train-your-dragon",
        json={"article": {"title": "Did you train your dragon?"}},
        headers=auth(token),
    )
    assert same.json()["article"]["slug"] == "did-you-train-your-dragon"  # its own slug is not "taken"


def test_update_is_for_the_author_only(client: TestClient) -> None:
    jake, other = register(client, "jake"), register(client, "other")
    publish(client, jake, "Dragons")
    change = {"article": {"body": "Mine now"}}
    forbidden = client.put("/api/articles/dragons", json=change, headers=auth(other))
    assert forbidden.status_code == 403
    assert errors(forbidden) == ["only the author of an article may change or delete it"]
    assert client.put("/api/articles/dragons", json=change).status_code == 401
    assert client.put("/api/articles/nothing", json=change, headers=auth(jake)).status_code == 404
    blank = client.put("/api/articles/dragons", json={"article": {"title": ""}}, headers=auth(jake))
    assert errors(blank) == ["article.title: can't be blank"]


def test_delete_is_204_for_the_author_only(client: TestClient) -> None:
    jake, other = register(client, "jake"), register(client, "other")
    publish(client, jake, "Dragons", tags=["dragons"])
    client.post("/api/articles/dragons/favorite", headers=auth(other))
    client.post("/api/articles/dragons/comments", json={"comment": {"body": "Hi"}}, headers=auth(other))
    assert client.delete("/api/articles/dragons").status_code == 401
    assert client.delete("/api/articles/dragons", headers=auth(other)).status_code == 403
    response = client.delete("/api/articles/dragons", headers=auth(jake))
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/api/articles/dragons").status_code == 404
    assert client.delete("/api/articles/dragons", headers=auth(jake)).status_code == 404
    assert client.get("/api/tags").json() == {"tags": []}  # a tag no article uses is not listed


def test_favorite_and_unfavorite(client: TestClient) -> None:
    jake, fan, other = register(client, "jake"), register(client, "fan"), register(client, "other")
    publish(client, jake, "Dragons")
    response = client.post("/api/articles/dragons/favorite", headers=auth(fan))
    assert response.status_code == 200
    assert (response.json()["article"]["favorited"], response.json()["article"]["favoritesCount"]) == (True, 1)
    again = client.post("/api/articles/dragons/favorite", headers=auth(fan)).json()["article"]
    assert again["favoritesCount"] == 1  # favoriting twice counts once
    theirs = client.post("/api/articles/dragons/favorite", headers=auth(other)).json()["article"]
    assert theirs["favoritesCount"] == 2
    undone = client.delete("/api/articles/dragons/favorite", headers=auth(fan))
    assert undone.status_code == 200
    assert (undone.json()["article"]["favorited"], undone.json()["article"]["favoritesCount"]) == (False, 1)
    assert client.delete("/api/articles/dragons/favorite", headers=auth(fan)).status_code == 200


def test_favorites_need_a_token_and_an_article(client: TestClient) -> None:
    token = register(client, "jake")
    assert client.post("/api/articles/dragons/favorite").status_code == 401
    assert client.delete("/api/articles/dragons/favorite").status_code == 401
    assert client.post("/api/articles/dragons/favorite", headers=auth(token)).status_code == 404
    assert client.delete("/api/articles/dragons/favorite", headers=auth(token)).status_code == 404


def test_tags_are_the_used_ones_most_popular_first(client: TestClient) -> None:
    assert client.get("/api/tags").json() == {"tags": []}
    token = register(client, "jake")
    publish(client, token, "One", tags=["dragons", "angular"])
    publish(client, token, "Two", tags=["dragons"])
    publish(client, token, "Three", tags=["zebras", "dragons"])
    response = client.get("/api/tags")
    assert response.status_code == 200
    assert response.json() == {"tags": ["dragons", "angular", "zebras"]}
