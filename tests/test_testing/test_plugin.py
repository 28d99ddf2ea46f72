"""The pytest plugin: ``client`` and ``async_client`` built from the user's ``app`` fixture."""

from __future__ import annotations

import pytest

from plait.app import Plait
from plait.testing import AsyncTestClient, TestClient

pytest_plugins = ["pytester"]

STARTED: list[str] = []


@pytest.fixture
def app() -> Plait:
    application = Plait()
    STARTED.clear()

    @application.on_startup
    def started() -> None:
        STARTED.append("up")

    @application.get("/")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return application


def test_client_fixture_runs_the_app_with_its_lifespan(client: TestClient) -> None:
    assert isinstance(client, TestClient)
    assert STARTED == ["up"]
    assert client.get("/").json() == {"hello": "world"}


async def test_async_client_fixture_needs_no_marker(async_client: AsyncTestClient) -> None:
    assert isinstance(async_client, AsyncTestClient)
    assert STARTED == ["up"]
    response = await async_client.get("/")
    assert response.json() == {"hello": "world"}


CONFTEST = """
import pytest
from plait.app import Plait

@pytest.fixture
def app():
    app = Plait()

    @app.get("/")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app
"""


def test_fixtures_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        def test_sync(client):
            assert client.get("/").json() == {"hello": "world"}

        async def test_async(async_client):
            assert (await async_client.get("/")).json() == {"hello": "world"}
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", timeout=60)
    result.assert_outcomes(passed=2)


def test_missing_app_fixture_says_how_to_add_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_sync(client):
            pass

        async def test_async(async_client):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*The 'client' fixture needs an 'app' fixture that returns your application*",
            "*The 'async_client' fixture needs an 'app' fixture*",
            "*def app():*",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
