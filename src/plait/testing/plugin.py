"""pytest fixtures for Plait apps, registered automatically when Plait is installed.

Define an ``app`` fixture; ``client`` and ``async_client`` are built from it, with the app's
startup and shutdown run around each test::

    # conftest.py
    import pytest
    from myproject.app import app as the_app

    @pytest.fixture
    def app():
        return the_app

    # test_hello.py
    def test_hello(client):
        assert client.get("/").json() == {"hello": "world"}

    async def test_hello_async(async_client):
        response = await async_client.get("/")
        assert response.json() == {"hello": "world"}

``async_client`` runs on anyio's pytest plugin, which comes with anyio (a Plait dependency):
an ``async def`` test that takes ``async_client`` needs no marker and no configuration. It runs
on asyncio; to run it on trio as well, override the ``anyio_backend`` fixture (see the anyio
documentation). If pytest-asyncio is installed in its auto mode, mark such tests with
``@pytest.mark.anyio`` or keep pytest-asyncio in strict mode, so only one plugin runs them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from plait._types import ASGIApp
    from plait.testing.client import AsyncTestClient, TestClient

# pytest imports this plugin at startup, before coverage measurement begins, so it imports the
# clients only when a fixture is used: their modules are then measured like any other.

_NO_APP = """\
The {fixture!r} fixture needs an 'app' fixture that returns your application, and none is defined.
Add one to conftest.py (or to the test module), for example:

    @pytest.fixture
    def app():
        from myproject.app import app
        return app
"""


@pytest.fixture
def _plait_app(request: pytest.FixtureRequest) -> Any:
    """The user's ``app`` fixture, or a failure that says how to define one."""
    try:
        return request.getfixturevalue("app")
    except pytest.FixtureLookupError as exc:
        if exc.argname != "app":
            raise
    # Failing outside the except block keeps pytest's lookup error out of the report.
    wanted = next((name for name in ("client", "async_client") if name in request.fixturenames), "client")
    pytest.fail(_NO_APP.format(fixture=wanted), pytrace=False)


@pytest.fixture
def client(_plait_app: ASGIApp) -> Iterator[TestClient]:
    """A :class:`~plait.testing.TestClient` for the ``app`` fixture, its lifespan running.

    >>> def test_hello(client):  # doctest: +SKIP
    ...     assert client.get("/").status_code == 200
    """
    from plait.testing.client import TestClient

    with TestClient(_plait_app) as test_client:
        yield test_client


@pytest.fixture
async def async_client(_plait_app: ASGIApp, anyio_backend: Any) -> AsyncIterator[AsyncTestClient]:
    """An :class:`~plait.testing.AsyncTestClient` for the ``app`` fixture, its lifespan running.

    Depending on ``anyio_backend`` is what lets anyio's pytest plugin run this fixture, and
    the ``async def`` tests that use it, with no marker.

    >>> async def test_hello(async_client):  # doctest: +SKIP
    ...     assert (await async_client.get("/")).status_code == 200
    """
    from plait.testing.client import AsyncTestClient

    async with AsyncTestClient(_plait_app) as test_client:
        yield test_client
