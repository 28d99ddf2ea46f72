"""A handler that cannot reach the job queue answers 503 (retry shortly), never a 500."""

from __future__ import annotations

from plait import Plait
from plait.jobs import Jobs
from plait.jobs.job import JobsUnavailable
from plait.testing import TestClient


def test_an_unreachable_queue_is_a_503_problem() -> None:
    app = Plait(extensions=[Jobs()])

    @app.post("/send")
    async def send() -> None:
        raise JobsUnavailable("Redis at 127.0.0.1:1 refused the connection")

    with TestClient(app) as client:
        response = client.post("/send")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    assert "not enqueued" in response.json()["detail"]
