"""``/api/profiles/{username}``: reading profiles, following and unfollowing."""

from __future__ import annotations

from plait.testing import TestClient
from tests.test_conduit.helpers import auth, errors, register


def test_a_profile_for_anyone(client: TestClient) -> None:
    token = register(client, "celeb")
    client.put("/api/user", json={"user": {"bio": "Famous", "image": "https://example.com/c.png"}}, headers=auth(token))
    response = client.get("/api/profiles/celeb")
    assert response.status_code == 200
    assert response.json() == {
        "profile": {"username": "celeb", "bio": "Famous", "image": "https://example.com/c.png", "following": False}
    }


def test_an_unknown_profile_is_404(client: TestClient) -> None:
    response = client.get("/api/profiles/nobody")
    assert response.status_code == 404
    assert errors(response) == ["profile 'nobody' not found"]


def test_follow_and_unfollow(client: TestClient) -> None:
    register(client, "celeb")
    fan = auth(register(client, "fan"))
    followed = client.post("/api/profiles/celeb/follow", headers=fan)
    assert followed.status_code == 200
    assert followed.json()["profile"]["following"] is True
    assert client.post("/api/profiles/celeb/follow", headers=fan).json()["profile"]["following"] is True  # twice: fine
    assert client.get("/api/profiles/celeb", headers=fan).json()["profile"]["following"] is True
    assert client.get("/api/profiles/celeb").json()["profile"]["following"] is False  # anonymous
    unfollowed = client.delete("/api/profiles/celeb/follow", headers=fan)
    assert unfollowed.status_code == 200
    assert unfollowed.json()["profile"]["following"] is False
    assert client.delete("/api/profiles/celeb/follow", headers=fan).status_code == 200
    assert client.get("/api/profiles/celeb", headers=fan).json()["profile"]["following"] is False


def test_following_needs_a_token_and_a_real_member(client: TestClient) -> None:
    register(client, "celeb")
    fan = auth(register(client, "fan"))
    assert client.post("/api/profiles/celeb/follow").status_code == 401
    assert client.delete("/api/profiles/celeb/follow").status_code == 401
    assert client.post("/api/profiles/nobody/follow", headers=fan).status_code == 404
    assert client.delete("/api/profiles/nobody/follow", headers=fan).status_code == 404


def test_nobody_follows_themself(client: TestClient) -> None:
    me = auth(register(client, "narcissus"))
    response = client.post("/api/profiles/narcissus/follow", headers=me)
    assert response.status_code == 422
    assert errors(response) == ["you cannot follow yourself"]


def test_a_bad_token_on_an_optional_route_is_still_401(client: TestClient) -> None:
    register(client, "celeb")
    assert client.get("/api/profiles/celeb", headers={"Authorization": "Token garbage"}).status_code == 401
