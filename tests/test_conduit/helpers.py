"""Small helpers for the Conduit API tests: sign up, authorise, publish."""

from __future__ import annotations

from typing import Any

from plait.testing import TestClient

PASSWORD = "Dragon-wings-42"


def register(client: TestClient, username: str, email: str | None = None, password: str = PASSWORD) -> str:
    """Sign ``username`` up through the API; their token."""
    user = {"username": username, "email": email or f"{username}@example.com", "password": password}
    response = client.post("/api/users", json={"user": user})
    assert response.status_code == 201, response.text
    token: str = response.json()["user"]["token"]
    return token


def auth(token: str) -> dict[str, str]:
    """The spec's header: ``Authorization: Token <jwt>``."""
    return {"Authorization": f"Token {token}"}


def publish(client: TestClient, token: str, title: str, tags: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    article = {"title": title, "description": f"About {title}", "body": f"# {title}\n\nText.", **extra}
    if tags is not None:
        article["tagList"] = tags
    response = client.post("/api/articles", json={"article": article}, headers=auth(token))
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()["article"]
    return found


def errors(response: Any) -> list[str]:
    """The messages of a ``{"errors": {"body": [...]}}`` answer (and the body has exactly that shape)."""
    document = response.json()
    assert list(document) == ["errors"]
    assert list(document["errors"]) == ["body"]
    messages: list[str] = document["errors"]["body"]
    assert messages
    assert all(isinstance(message, str) for message in messages)
    return messages
