"""The ASGI lifespan protocol, startup and shutdown hooks, the lifespan context and ``running()``."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import httpx
import pytest

from plait._types import Message
from plait.app import Plait
from plait.di import Depends
from plait.exceptions import ConfigurationError
from plait.requests import Request

During = Callable[[], Awaitable[None]]


@dataclass
class Outcome:
    messages: list[Message] = field(default_factory=list)
    error: Exception | None = None

    @property
    def types(self) -> list[str]:
        return [str(m["type"]) for m in self.messages]


async def drive(app: Plait[Any], during: During | None = None) -> Outcome:
    """Send ``lifespan.startup``; once started, run ``during`` and send ``lifespan.shutdown``."""
    outcome = Outcome()
    inbox_send, inbox_receive = anyio.create_memory_object_stream[Message](2)
    outbox_send, outbox_receive = anyio.create_memory_object_stream[Message](2)

    async def run_app() -> None:
        try:
            await app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox_receive.receive, outbox_send.send)
        except Exception as exc:
            outcome.error = exc
        finally:
            await outbox_send.aclose()

    async def next_message() -> bool:
        try:
            outcome.messages.append(await outbox_receive.receive())
        except anyio.EndOfStream:
            return False
        return True

    with inbox_send, inbox_receive, outbox_send, outbox_receive:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_app)
            await inbox_send.send({"type": "lifespan.startup"})
            if await next_message() and outcome.types == ["lifespan.startup.complete"]:
                if during is not None:
                    await during()
                await inbox_send.send({"type": "lifespan.shutdown"})
                await next_message()
    return outcome


def lifespan(app: Plait[Any], during: During | None = None) -> Outcome:
    async def go() -> Outcome:
        with anyio.fail_after(10):
            return await drive(app, during)

    return anyio.run(go)


async def get(app: Plait[Any], url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        return await client.get(url)


# -- the protocol -----------------------------------------------------------------------------------


def test_startup_and_shutdown_complete_with_hooks_in_order() -> None:
    events: list[str] = []

    def sync_start() -> None:
        events.append("start sync")

    async def async_start() -> None:
        events.append("start async")

    @contextlib.asynccontextmanager
    async def context(app: Plait[Any]) -> AsyncIterator[None]:
        events.append("enter")
        yield
        events.append("exit")

    app = Plait(on_startup=[sync_start], on_shutdown=[lambda: events.append("stop sync")], lifespan=context)
    app.on_startup(async_start)

    @app.on_shutdown
    async def async_stop() -> None:
        events.append("stop async")

    async def during() -> None:
        events.append("serving")

    outcome = lifespan(app, during)
    assert outcome.error is None
    assert outcome.types == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["start sync", "start async", "enter", "serving", "exit", "stop sync", "stop async"]


def test_lifespan_mapping_is_merged_into_app_state() -> None:
    @contextlib.asynccontextmanager
    async def context(app: Plait[Any]) -> AsyncIterator[dict[str, Any]]:
        yield {"db": "pool", "region": "eu"}

    app = Plait(lifespan=context)
    app.state.kept = True

    @app.get("/")
    def home(request: Request) -> list[Any]:
        return [request.app.state.db, request.app.state.region, request.app.state.kept]

    seen: list[Any] = []

    async def during() -> None:
        seen.append((await get(app, "/")).json())

    assert lifespan(app, during).error is None
    assert seen == [["pool", "eu", True]]
    assert (app.state.db, app.state.region) == ("pool", "eu")


def test_lifespan_yielding_nothing_leaves_state_alone() -> None:
    @contextlib.asynccontextmanager
    async def context(app: Plait[Any]) -> AsyncIterator[str]:
        yield "not a mapping"

    app = Plait(lifespan=context)
    assert lifespan(app).types == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert app.state.__dict__ == {}


def test_failing_startup_hook_sends_startup_failed() -> None:
    events: list[str] = []

    def broken() -> None:
        raise RuntimeError("database is down")

    app = Plait(on_startup=[broken], on_shutdown=[lambda: events.append("stop")])
    outcome = lifespan(app)
    assert outcome.types == ["lifespan.startup.failed"]
    message = str(outcome.messages[0]["message"])
    assert "Traceback" in message
    assert "RuntimeError: database is down" in message
    assert isinstance(outcome.error, RuntimeError)
    assert events == []


def test_failing_lifespan_context_sends_startup_failed() -> None:
    @contextlib.asynccontextmanager
    async def context(app: Plait[Any]) -> AsyncIterator[None]:
        missing = True
        if missing:
            raise OSError("no config file")
        yield

    events: list[str] = []
    app = Plait(lifespan=context, on_startup=[lambda: events.append("start")])
    app.on_shutdown(lambda: events.append("stop"))
    outcome = lifespan(app)
    assert outcome.types == ["lifespan.startup.failed"]
    assert "OSError: no config file" in str(outcome.messages[0]["message"])
    assert events == ["start", "stop"]  # what the startup hooks opened is closed again


def test_configuration_error_is_reported_at_startup() -> None:
    class Unreadable:
        pass

    app = Plait()

    @app.get("/")
    def broken(thing: Unreadable) -> str:
        return "never"

    outcome = lifespan(app)
    assert outcome.types == ["lifespan.startup.failed"]
    assert "ConfigurationError" in str(outcome.messages[0]["message"])
    assert isinstance(outcome.error, ConfigurationError)


def test_failing_shutdown_hook_sends_shutdown_failed() -> None:
    events: list[str] = []

    async def broken() -> None:
        raise RuntimeError("flush failed")

    def pool() -> Iterator[str]:
        yield "pool"
        events.append("pool closed")

    app = Plait(on_shutdown=[broken])

    @app.get("/")
    def home(p: Annotated[str, Depends(pool, scope="app")]) -> str:
        return p

    outcome = lifespan(app)
    assert outcome.types == ["lifespan.startup.complete", "lifespan.shutdown.failed"]
    assert "RuntimeError: flush failed" in str(outcome.messages[1]["message"])
    assert isinstance(outcome.error, RuntimeError)
    assert events == ["pool closed"]


def test_failing_lifespan_exit_sends_shutdown_failed() -> None:
    @contextlib.asynccontextmanager
    async def context(app: Plait[Any]) -> AsyncIterator[None]:
        yield
        raise ValueError("could not close")

    outcome = lifespan(Plait(lifespan=context))
    assert outcome.types == ["lifespan.startup.complete", "lifespan.shutdown.failed"]
    assert "ValueError: could not close" in str(outcome.messages[1]["message"])


# -- app-scoped providers ---------------------------------------------------------------------------


def test_app_values_are_made_at_startup_and_closed_at_shutdown() -> None:
    events: list[str] = []

    async def pool() -> AsyncIterator[str]:
        events.append("open")
        yield "pool"
        events.append("close")

    app = Plait(on_startup=[lambda: events.append("hook")])

    @app.get("/")
    def home(p: Annotated[str, Depends(pool, scope="app")]) -> str:
        return p

    async def during() -> None:
        assert events == ["open", "hook"]
        assert (await get(app, "/")).text == "pool"
        assert (await get(app, "/")).text == "pool"
        assert events == ["open", "hook"]

    assert lifespan(app, during).error is None
    assert events == ["open", "hook", "close"]
    assert app.container.app_values == {}


def test_app_values_made_before_a_startup_failure_are_closed() -> None:
    events: list[str] = []

    async def pool() -> AsyncIterator[str]:
        events.append("open")
        yield "pool"
        events.append("close")

    def cache() -> str:
        raise RuntimeError("cache is down")

    app = Plait()

    @app.get("/")
    def home(p: Annotated[str, Depends(pool, scope="app")], c: Annotated[str, Depends(cache, scope="app")]) -> str:
        return p + c

    outcome = lifespan(app)
    assert outcome.types == ["lifespan.startup.failed"]
    assert "RuntimeError: cache is down" in str(outcome.messages[0]["message"])
    assert events == ["open", "close"]


# -- running() --------------------------------------------------------------------------------------


def test_running_starts_and_stops_the_app() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def context(app: Plait[Any]) -> AsyncIterator[dict[str, int]]:
        events.append("enter")
        yield {"answer": 42}
        events.append("exit")

    def pool() -> Iterator[str]:
        events.append("open")
        yield "pool"
        events.append("close")

    app = Plait(lifespan=context, on_startup=[lambda: events.append("start")])
    app.on_shutdown(lambda: events.append("stop"))

    @app.get("/")
    def home(p: Annotated[str, Depends(pool, scope="app")]) -> str:
        return p

    async def go() -> None:
        async with app.running() as running:
            assert running is app
            assert app.state.answer == 42
            assert app.container.app_values == {pool: "pool"}
            assert (await get(app, "/")).text == "pool"

    anyio.run(go)
    assert events == ["open", "start", "enter", "exit", "stop", "close"]
    assert app.container.app_values == {}


def test_running_runs_shutdown_even_when_the_block_fails() -> None:
    events: list[str] = []

    def pool() -> Iterator[str]:
        yield "pool"
        events.append("close")

    app = Plait(on_shutdown=[lambda: events.append("stop")])

    @app.get("/")
    def home(p: Annotated[str, Depends(pool, scope="app")]) -> str:
        return p

    async def go() -> None:
        async with app.running():
            raise KeyError("test failed")

    with pytest.raises(KeyError):
        anyio.run(go)
    assert events == ["stop", "close"]


def test_running_can_start_the_app_again() -> None:
    made: list[int] = []

    def counter() -> int:
        made.append(1)
        return len(made)

    app = Plait()

    @app.get("/")
    def home(n: Annotated[int, Depends(counter, scope="app")]) -> int:
        return n

    async def go() -> list[str]:
        texts = []
        for _ in range(2):
            async with app.running():
                texts.append((await get(app, "/")).text)
        return texts

    assert anyio.run(go) == ["1", "2"]
