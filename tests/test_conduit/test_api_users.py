"""``/api/users``, ``/api/users/login`` and ``/api/user``: registration, login, the current user."""

from __future__ import annotations

import pytest

from plait.testing import TestClient
from tests.test_conduit.helpers import PASSWORD, auth, errors, register

JAKE = {"username": "jake", "email": "jake@jake.jake", "password": PASSWORD}
USER_FIELDS = {"email", "token", "username", "bio", "image"}


def test_register_answers_201_with_the_user_and_a_token(client: TestClient) -> None:
    response = client.post("/api/users", json={"user": JAKE})
    assert response.status_code == 201
    user = response.json()["user"]
    assert set(user) == USER_FIELDS
    assert (user["email"], user["username"], user["bio"], user["image"]) == ("jake@jake.jake", "jake", "", "")
    assert client.get("/api/user", headers=auth(user["token"])).json()["user"]["username"] == "jake"


def test_register_normalises_the_email(client: TestClient) -> None:
    response = client.post("/api/users", json={"user": {**JAKE, "email": "  Jake@JAKE.jake "}})
    assert response.json()["user"]["email"] == "jake@jake.jake"


@pytest.mark.parametrize("field", ["username", "email"])
def test_register_refuses_a_taken_username_or_email(client: TestClient, field: str) -> None:
    register(client, "jake", "jake@jake.jake")
    other = {"username": "other", "email": "other@example.com", "password": PASSWORD, field: JAKE[field]}
    response = client.post("/api/users", json={"user": other})
    assert response.status_code == 422
    assert errors(response) == [f"user.{field}: has already been taken"]


def test_register_lists_every_missing_field(client: TestClient) -> None:
    response = client.post("/api/users", json={"user": {}})
    assert response.status_code == 422
    assert len(errors(response)) == 3


def test_register_refuses_blank_fields_and_weak_passwords(client: TestClient) -> None:
    blank = client.post("/api/users", json={"user": {"username": " ", "email": "", "password": PASSWORD}})
    assert blank.status_code == 422
    assert errors(blank) == ["user.username: can't be blank", "user.email: can't be blank"]
    weak = client.post("/api/users", json={"user": {**JAKE, "password": "short"}})
    assert weak.status_code == 422
    assert all(message.startswith("user.password: ") for message in errors(weak))


def test_register_without_the_envelope_or_json_is_422(client: TestClient) -> None:
    assert client.post("/api/users", json=JAKE).status_code == 422
    response = client.post("/api/users", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code in (400, 422)
    errors(response)


def test_login_answers_the_user_with_a_fresh_token(client: TestClient) -> None:
    register(client, "jake", "jake@jake.jake")
    response = client.post("/api/users/login", json={"user": {"email": "JAKE@jake.jake", "password": PASSWORD}})
    assert response.status_code == 200
    user = response.json()["user"]
    assert set(user) == USER_FIELDS
    assert user["username"] == "jake"
    assert client.get("/api/user", headers=auth(user["token"])).status_code == 200


@pytest.mark.parametrize(
    ("email", "password"), [("jake@jake.jake", "Wrong-password-1"), ("nobody@example.com", PASSWORD)]
)
def test_login_with_wrong_credentials_is_401(client: TestClient, email: str, password: str) -> None:
    register(client, "jake", "jake@jake.jake")
    response = client.post("/api/users/login", json={"user": {"email": email, "password": password}})
    assert response.status_code == 401
    # The same words for an unknown email and a wrong password: the answer tells nothing about who has an account.
    assert errors(response) == ["email or password is invalid"]


def test_login_is_throttled_after_repeated_failures(client: TestClient) -> None:
    register(client, "jake", "jake@jake.jake")
    wrong = {"user": {"email": "jake@jake.jake", "password": "Wrong-password-1"}}
    statuses = [client.post("/api/users/login", json=wrong).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    right = client.post("/api/users/login", json={"user": {"email": "jake@jake.jake", "password": PASSWORD}})
    assert right.status_code == 429
    assert "Retry-After" in right.headers


def test_login_with_a_missing_field_or_an_overlong_password_is_422(client: TestClient) -> None:
    assert client.post("/api/users/login", json={"user": {"email": "jake@jake.jake"}}).status_code == 422
    huge = client.post("/api/users/login", json={"user": {"email": "jake@jake.jake", "password": "x" * 5000}})
    assert huge.status_code == 422
    assert errors(huge)[0].startswith("user.password: ")


def test_current_user_echoes_the_token_it_was_given(client: TestClient) -> None:
    token = register(client, "jake")
    response = client.get("/api/user", headers=auth(token))
    assert response.status_code == 200
    assert response.json()["user"]["token"] == token


@pytest.mark.parametrize(
    "header",
    [None, "Token not-a-jwt", "Token ", "Bearer whatever"],
    ids=["missing", "garbage", "empty", "other-scheme"],
)
def test_current_user_needs_a_valid_token(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/user", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")
    errors(response)


def test_update_user_changes_the_given_fields_only(client: TestClient) -> None:
    token = register(client, "jake", "jake@jake.jake")
    changes = {"bio": "I like to skateboard", "image": "https://i.stack.imgur.com/xHWG8.jpg"}
    response = client.put("/api/user", json={"user": changes}, headers=auth(token))
    assert response.status_code == 200
    user = response.json()["user"]
    assert (user["bio"], user["image"], user["username"], user["email"]) == (
        *changes.values(),
        "jake",
        "jake@jake.jake",
    )
    assert user["token"] == token  # the password did not change, so the token still works
    cleared = client.put("/api/user", json={"user": {"image": None}}, headers=auth(token))
    assert cleared.json()["user"]["image"] == ""


def test_update_user_renames_and_changes_the_email(client: TestClient) -> None:
    token = register(client, "jake", "jake@jake.jake")
    response = client.put(
        "/api/user", json={"user": {"username": "jacob", "email": "Jacob@Jake.jake"}}, headers=auth(token)
    )
    assert response.json()["user"]["username"] == "jacob"
    assert response.json()["user"]["email"] == "jacob@jake.jake"
    assert client.get("/api/profiles/jacob").status_code == 200


def test_a_new_password_voids_old_tokens_and_the_answer_has_a_new_one(client: TestClient) -> None:
    token = register(client, "jake", "jake@jake.jake")
    response = client.put("/api/user", json={"user": {"password": "Another-secret-77"}}, headers=auth(token))
    assert response.status_code == 200
    new_token = response.json()["user"]["token"]
    assert new_token != token
    assert client.get("/api/user", headers=auth(token)).status_code == 401
    assert client.get("/api/user", headers=auth(new_token)).status_code == 200
    login = {"user": {"email": "jake@jake.jake", "password": "Another-secret-77"}}
    assert client.post("/api/users/login", json=login).status_code == 200


def test_update_user_refuses_taken_blank_and_unknown_fields(client: TestClient) -> None:
    register(client, "celeb", "celeb@example.com")
    token = register(client, "jake", "jake@jake.jake")
    taken = client.put(
        "/api/user", json={"user": {"username": "celeb", "email": "celeb@example.com"}}, headers=auth(token)
    )
    assert taken.status_code == 422
    assert errors(taken) == ["user.username: has already been taken", "user.email: has already been taken"]
    blank = client.put("/api/user", json={"user": {"username": ""}}, headers=auth(token))
    assert errors(blank) == ["user.username: can't be blank"]
    weak = client.put("/api/user", json={"user": {"password": "abc"}}, headers=auth(token))
    assert weak.status_code == 422
    unknown = client.put("/api/user", json={"user": {"is_superuser": True}}, headers=auth(token))
    assert unknown.status_code == 422  # a client cannot make itself an admin through extra fields


def test_update_user_needs_a_token(client: TestClient) -> None:
    assert client.put("/api/user", json={"user": {"bio": "x"}}).status_code == 401
