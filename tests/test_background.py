"""Background tasks: scheduled by handlers and providers, run in order after the response."""

# Handlers here are defined inside the tests and close over per-test lists, so annotations are
# evaluated eagerly (no ``from __future__ import annotations``) and may name local providers.

import logging
import threading
from collections.abc import Iterator
from typing import Annotated, Any

import anyio
import pytest

from plait import Depends, HTTPException, Plait
from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.background import BackgroundTasks
from plait.testing import TestClient


def spy_on_responses(app: ASGIApp, events: list[str]) -> ASGIApp:
    """Wrap ``app`` so ``events`` records the moment each response body is complete."""

    async def spied(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_and_note(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                events.append("response sent")

        await app(scope, receive, send_and_note)

    return spied


class Mailer:
    """Not something Plait can read from a request: tasks must still receive it as given."""

    def __init__(self, outbox: list[str]) -> None:
        self.outbox = outbox


def test_tasks_run_in_order_after_the_response() -> None:
    events: list[str] = []
    app = Plait()

    def note(text: str) -> None:
        events.append(text)

    async def note_later(text: str) -> None:
        events.append(text)

    @app.post("/signup")
    def signup(tasks: BackgroundTasks) -> str:
        tasks.add_task(note, "first")
        tasks.add_task(note_later, "second")
        tasks.add_task(note, "third")
        events.append("handler")
        return "ok"

    with TestClient(spy_on_responses(app, events)) as client:
        assert client.post("/signup").text == "ok"
    assert events == ["handler", "response sent", "first", "second", "third"]


def test_sync_tasks_run_off_the_event_loop_and_async_tasks_on_it() -> None:
    threads: dict[str, int] = {}
    app = Plait()

    def sync_task() -> None:
        threads["sync"] = threading.get_ident()

    async def async_task() -> None:
        threads["async"] = threading.get_ident()

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> str:
        threads["handler"] = threading.get_ident()
        tasks.add_task(sync_task)
        tasks.add_task(async_task)
        return "ok"

    with TestClient(app) as client:
        client.get("/")
    assert threads["async"] == threads["handler"]
    assert threads["sync"] != threads["handler"]


def test_arguments_pass_through_untouched() -> None:
    calls: list[Any] = []
    outbox: list[str] = []
    app = Plait()

    def welcome(mailer: Mailer, address: str, /, greeting: str = "Hello", *, sign: str = "Plait") -> None:
        mailer.outbox.append(f"{greeting} {address}, {sign}")

    def collect(*items: Any, **named: Any) -> None:
        calls.append((items, named))

    def unresolvable(note: Any) -> None:
        calls.append(note)

    unresolvable.__annotations__["note"] = "NotDefinedAnywhere"  # get_type_hints() cannot resolve it
    store: dict[str, int] = {}

    @app.post("/")
    def handler(tasks: BackgroundTasks) -> str:
        mailer = Mailer(outbox)
        tasks.add_task(welcome, mailer, "ada@example.com")
        tasks.add_task(welcome, mailer, "bo@example.com", "Hi", sign="the team")
        tasks.add_task(collect, 1, [2], items="x", named={"y": 3})
        tasks.add_task(calls.extend, ["builtin"])
        tasks.add_task(store.update, {"a": 1}, b=2)  # a builtin that publishes no signature
        tasks.add_task(unresolvable, "still called")
        return "ok"

    with TestClient(app) as client:
        client.post("/")
    assert outbox == ["Hello ada@example.com, Plait", "Hi bo@example.com, the team"]
    assert calls == [((1, [2]), {"items": "x", "named": {"y": 3}}), "builtin", "still called"]
    assert store == {"a": 1, "b": 2}


def test_a_task_gets_its_dependencies_from_the_container() -> None:
    events: list[str] = []

    def database() -> Iterator[str]:
        events.append("db open")
        yield "db"
        events.append("db closed")

    def config() -> str:
        return "prod"

    def record(
        user: str,
        db: Annotated[str, Depends(database)],
        env: Annotated[str, Depends(config)],
        again: Annotated[str, Depends(database)],
    ) -> None:
        events.append(f"{user} via {db}/{again} in {env}")

    app = Plait()

    @app.post("/")
    def handler(tasks: BackgroundTasks) -> str:
        tasks.add_task(record, "ada")
        tasks.add_task(record, "bo", env="given")  # a dependency passed explicitly is not resolved
        return "ok"

    with TestClient(app) as client:
        client.post("/")
    assert events == [
        "db open",
        "ada via db/db in prod",
        "db closed",
        "db open",
        "bo via db/db in given",
        "db closed",
    ]


def test_dependency_overrides_apply_to_tasks() -> None:
    seen: list[str] = []

    def real_mailer() -> str:
        return "smtp"  # pragma: no cover - overridden

    def send(address: str, mailer: Annotated[str, Depends(real_mailer)]) -> None:
        seen.append(f"{address} by {mailer}")

    app = Plait()

    @app.post("/")
    def handler(tasks: BackgroundTasks) -> str:
        tasks.add_task(send, "ada@example.com")
        return "ok"

    with TestClient(app, dependency_overrides={real_mailer: lambda: "fake"}) as client:
        client.post("/")
    assert seen == ["ada@example.com by fake"]


def test_a_failing_task_is_logged_and_later_tasks_still_run(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    app = Plait()

    def explode() -> None:
        raise RuntimeError("the mail server is down")

    def needs_query(q: str) -> None:  # a task cannot read the request: it runs after it
        ran.append(q)  # pragma: no cover

    def needs_request_provider(value: Annotated[None, Depends(needs_query)]) -> None:
        ran.append("never")  # pragma: no cover

    @app.post("/")
    def handler(tasks: BackgroundTasks) -> str:
        tasks.add_task(explode)
        tasks.add_task(needs_request_provider)
        tasks.add_task(ran.append, "after")
        return "ok"

    with caplog.at_level(logging.ERROR, logger="plait.background"), TestClient(app) as client:
        assert client.post("/").status_code == 200
    assert ran == ["after"]
    records = [r for r in caplog.records if r.name == "plait.background"]
    assert [r.getMessage() for r in records] == [
        "Background task test_a_failing_task_is_logged_and_later_tasks_still_run.<locals>.explode failed",
        "Background task test_a_failing_task_is_logged_and_later_tasks_still_run.<locals>.needs_request_provider "
        "failed",
    ]
    assert isinstance(records[0].exc_info and records[0].exc_info[1], RuntimeError)
    assert "reads the HTTP request" in str(records[1].exc_info and records[1].exc_info[1])


def test_add_task_with_wrong_arguments_fails_in_the_handler(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    app = Plait()

    def greet(name: str) -> None:
        ran.append(name)  # pragma: no cover - never scheduled

    @app.post("/")
    def handler(tasks: BackgroundTasks) -> str:
        tasks.add_task(greet, "ada", "extra")
        return "ok"  # pragma: no cover

    @app.post("/direct")
    def direct() -> str:
        tasks = BackgroundTasks()
        with pytest.raises(TypeError, match="too many positional arguments"):
            tasks.add_task(greet, "ada", "extra")
        with pytest.raises(TypeError, match="unexpected keyword argument"):
            tasks.add_task(greet, nom="ada")
        return str(len(tasks))

    with caplog.at_level(logging.ERROR, logger="plait.error"), TestClient(app) as client:
        assert client.post("/").status_code == 500
        assert client.post("/direct").text == "0"
    assert ran == []
    assert any(r.exc_info and isinstance(r.exc_info[1], TypeError) for r in caplog.records)


def test_the_tasks_of_a_failed_handler_are_dropped() -> None:
    ran: list[str] = []
    app = Plait()

    @app.post("/")
    def handler(tasks: BackgroundTasks) -> str:
        tasks.add_task(ran.append, "welcome mail")
        raise HTTPException(409, "That address is taken.")

    with TestClient(app) as client:
        assert client.post("/").status_code == 409
    assert ran == []


def test_a_provider_and_the_handler_share_one_tasks_object() -> None:
    seen: list[Any] = []

    def audit(tasks: BackgroundTasks) -> BackgroundTasks:
        tasks.add_task(seen.append, "audit")
        return tasks

    app = Plait()

    @app.post("/")
    def handler(tasks: BackgroundTasks, from_provider: Annotated[BackgroundTasks, Depends(audit)]) -> int:
        assert from_provider is tasks
        tasks.add_task(seen.append, "handler")
        return len(tasks)

    with TestClient(app) as client:
        assert client.post("/").json() == 2
    assert seen == ["audit", "handler"]


def test_no_tasks_means_nothing_runs() -> None:
    calls: list[Any] = []
    app = Plait()

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    @app.get("/unused")
    def unused(tasks: BackgroundTasks) -> int:
        return len(tasks)

    async def runner(*args: Any) -> None:
        calls.append(args)  # pragma: no cover - there is nothing to run

    with TestClient(app) as client:
        assert client.get("/plain").text == "plain"
        assert client.get("/unused").json() == 0

    anyio.run(BackgroundTasks().run, runner)
    assert calls == []
