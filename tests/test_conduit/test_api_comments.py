"""``/api/articles/{slug}/comments``: reading, adding and deleting comments."""

from __future__ import annotations

from plait.testing import TestClient
from tests.test_conduit.helpers import auth, errors, publish, register


def comment(client: TestClient, token: str, body: str, slug: str = "dragons") -> int:
    response = client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": body}}, headers=auth(token))
    assert response.status_code == 200, response.text
    found: int = response.json()["comment"]["id"]
    return found


def test_add_a_comment(client: TestClient) -> None:
    jake, fan = register(client, "jake"), register(client, "fan")
    publish(client, jake, "Dragons")
    response = client.post(
        "/api/articles/dragons/comments", json={"comment": {"body": "Thank you so much!"}}, headers=auth(fan)
    )
    assert response.status_code == 200
    added = response.json()["comment"]
    assert set(added) == {"id", "createdAt", "updatedAt", "body", "author"}
    assert isinstance(added["id"], int)
    assert added["body"] == "Thank you so much!"
    assert added["author"] == {"username": "fan", "bio": "", "image": "", "following": False}


def test_comments_are_listed_most_recent_first_with_follow_marks(client: TestClient) -> None:
    jake, fan = register(client, "jake"), register(client, "fan")
    publish(client, jake, "Dragons")
    first = comment(client, fan, "First")
    second = comment(client, jake, "Second")
    anonymous = client.get("/api/articles/dragons/comments")
    assert anonymous.status_code == 200
    assert [c["id"] for c in anonymous.json()["comments"]] == [second, first]
    client.post("/api/profiles/jake/follow", headers=auth(fan))
    seen = client.get("/api/articles/dragons/comments", headers=auth(fan)).json()["comments"]
    assert [(c["author"]["username"], c["author"]["following"]) for c in seen] == [("jake", True), ("fan", False)]


def test_comments_of_a_missing_article_are_404(client: TestClient) -> None:
    token = register(client, "jake")
    assert client.get("/api/articles/nothing/comments").status_code == 404
    response = client.post("/api/articles/nothing/comments", json={"comment": {"body": "x"}}, headers=auth(token))
    assert response.status_code == 404
    errors(response)


def test_adding_needs_a_token_and_a_body(client: TestClient) -> None:
    token = register(client, "jake")
    publish(client, token, "Dragons")
    assert client.post("/api/articles/dragons/comments", json={"comment": {"body": "x"}}).status_code == 401
    blank = client.post("/api/articles/dragons/comments", json={"comment": {"body": "  "}}, headers=auth(token))
    assert blank.status_code == 422
    assert errors(blank) == ["comment.body: can't be blank"]
    missing = client.post("/api/articles/dragons/comments", json={"comment": {}}, headers=auth(token))
    assert missing.status_code == 422


def test_delete_is_204_for_the_comments_author_only(client: TestClient) -> None:
    jake, fan = register(client, "jake"), register(client, "fan")
    publish(client, jake, "Dragons")
    publish(client, jake, "Other")
    mine = comment(client, fan, "Mine")
    assert client.delete(f"/api/articles/dragons/comments/{mine}").status_code == 401
    forbidden = client.delete(f"/api/articles/dragons/comments/{mine}", headers=auth(jake))
    assert forbidden.status_code == 403
    assert errors(forbidden) == ["only the author of a comment may delete it"]
    # The id must belong to that article: another article's URL does not reach it.
    assert client.delete(f"/api/articles/other/comments/{mine}", headers=auth(fan)).status_code == 404
    response = client.delete(f"/api/articles/dragons/comments/{mine}", headers=auth(fan))
    assert response.status_code == 204
    assert client.get("/api/articles/dragons/comments").json() == {"comments": []}
    assert client.delete(f"/api/articles/dragons/comments/{mine}", headers=auth(fan)).status_code == 404
    assert client.delete("/api/articles/dragons/comments/not-a-number", headers=auth(fan)).status_code == 422
