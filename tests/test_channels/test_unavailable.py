"""A handler that cannot reach the broadcast broker answers 503 (retry shortly), never a 500."""

from __future__ import annotations

from plait import Plait
from plait.channels import Channels
from plait.channels.subscription import ChannelsUnavailable
from plait.testing import TestClient


def test_an_unreachable_broker_is_a_503_problem() -> None:
    app = Plait(extensions=[Channels()])

    @app.post("/say")
    async def say() -> None:
        raise ChannelsUnavailable("Redis at 127.0.0.1:1 refused the connection")

    with TestClient(app) as client:
        response = client.post("/say")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "not published" in response.json()["detail"]
