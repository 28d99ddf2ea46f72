"""Subscriptions over WebSocket (graphql-transport-ws) with Plait's test client."""

from __future__ import annotations

from typing import Any

import pytest

from plait.testing import TestClient, WebSocketDenied
from plait.testing.websocket import WebSocketTestSession
from plait.websockets import WebSocketDisconnect

PROTOCOL = ["graphql-transport-ws"]


def connect(client: TestClient, **kw: Any) -> WebSocketTestSession:
    return client.websocket_connect("/graphql", subprotocols=PROTOCOL, **kw)


def init(ws: WebSocketTestSession, payload: dict[str, Any] | None = None) -> None:
    ws.send_json({"type": "connection_init", **({"payload": payload} if payload else {})})
    assert ws.receive_json() == {"type": "connection_ack"}


def drain(ws: WebSocketTestSession) -> None:
    """Read until the server closes the socket (raises WebSocketDisconnect then)."""
    while True:
        ws.receive_json()


def test_a_subscription_streams_then_completes(client: TestClient) -> None:
    with connect(client) as ws:
        assert ws.accepted_subprotocol == "graphql-transport-ws"
        init(ws, {"token": "x"})
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": "subscription { count(to: 3) }"}})
        received = [ws.receive_json() for _ in range(4)]
    assert [m["payload"]["data"]["count"] for m in received[:3]] == [1, 2, 3]
    assert received[3] == {"type": "complete", "id": "1"}


def test_queries_mutations_and_errors_over_the_socket(client: TestClient) -> None:
    with connect(client) as ws:
        init(ws)
        ws.send_json({"type": "subscribe", "id": "q", "payload": {"query": "{ method }"}})
        assert ws.receive_json() == {"type": "next", "id": "q", "payload": {"data": {"method": "websocket"}}}
        assert ws.receive_json() == {"type": "complete", "id": "q"}
        create = 'mutation { createArticle(data: {title: "Live"}) { title } }'
        ws.send_json({"type": "subscribe", "id": "m", "payload": {"query": create}})
        assert ws.receive_json()["payload"] == {"data": {"createArticle": {"title": "Live"}}}
        assert ws.receive_json()["type"] == "complete"
        ws.send_json({"type": "subscribe", "id": "bad", "payload": {"query": "subscription { nope }"}})
        error = ws.receive_json()
        assert (error["type"], error["id"]) == ("error", "bad")
        assert "nope" in error["payload"][0]["message"]
    assert client.post("/graphql", json={"query": "{ articles { total } }"}).json()["data"]["articles"]["total"] == 1


def test_the_client_stops_a_subscription(client: TestClient) -> None:
    with connect(client) as ws:
        init(ws)
        ws.send_json({"type": "subscribe", "id": "f", "payload": {"query": "subscription { forever }"}})
        assert ws.receive_json()["payload"]["data"] == {"forever": 1}
        ws.send_json({"type": "complete", "id": "f"})
        ws.send_json({"type": "ping"})
        while (message := ws.receive_json())["type"] == "next":
            pass  # results already on their way before the stop
        assert message == {"type": "pong"}


@pytest.mark.parametrize(
    ("messages", "code"),
    [
        ([{"type": "subscribe", "id": "1", "payload": {"query": "{ method }"}}], 4401),
        ([{"type": "connection_init"}, {"type": "connection_init"}], 4429),
        ([{"type": "connection_init"}, {"type": "what"}], 4400),
        ([{"type": "connection_init"}, {"type": "subscribe", "id": 1, "payload": {}}], 4400),
        ([{"nope": 1}], 4400),
        (
            [
                {"type": "connection_init"},
                {"type": "subscribe", "id": "1", "payload": {"query": "subscription { forever }"}},
                {"type": "subscribe", "id": "1", "payload": {"query": "subscription { forever }"}},
            ],
            4409,
        ),
    ],
)
def test_protocol_errors_close_with_the_protocol_codes(
    client: TestClient, messages: list[dict[str, Any]], code: int
) -> None:
    with connect(client) as ws:
        for message in messages:
            ws.send_json(message)
        with pytest.raises(WebSocketDisconnect) as closed:
            drain(ws)
    assert closed.value.code == code


def test_invalid_json_and_other_subprotocols_are_refused(client: TestClient) -> None:
    with connect(client) as ws:
        ws.send_text("{nope")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4400
    with pytest.raises(WebSocketDenied):
        client.websocket_connect("/graphql", subprotocols=["graphql-ws"])
    with pytest.raises(WebSocketDenied):
        connect(client, headers={"origin": "https://evil.example"})
    with connect(client, headers={"origin": "http://testserver"}) as ws:
        init(ws)
