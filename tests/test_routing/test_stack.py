"""Tests for ``plait.routing.stack``."""

from __future__ import annotations

from typing import Any

import anyio

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.routing.stack import Middleware, build_stack


class Recorder:
    """Middleware that logs entering and leaving into the scope's ``log`` list."""

    def __init__(self, app: ASGIApp, *, label: str, extra: int = 0) -> None:
        self.app = app
        self.label = label
        self.extra = extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["log"].append(f"enter {self.label}")
        await self.app(scope, receive, send)
        scope["log"].append(f"leave {self.label}")


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    scope["log"].append("app")
    await send({"type": "done"})


def run(app: ASGIApp) -> tuple[list[str], list[Message]]:
    scope: dict[str, Any] = {"type": "http", "log": []}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    return scope["log"], sent


def test_middleware_stores_class_and_options() -> None:
    item = Middleware(Recorder, label="a", extra=3)
    assert item.cls is Recorder
    assert item.options == {"label": "a", "extra": 3}


def test_wrap_calls_class_with_app_and_options() -> None:
    wrapped = Middleware(Recorder, label="a", extra=3).wrap(inner)
    assert isinstance(wrapped, Recorder)
    assert wrapped.app is inner
    assert wrapped.label == "a"
    assert wrapped.extra == 3


def test_wrap_builds_a_new_instance_each_time() -> None:
    item = Middleware(Recorder, label="a")
    assert item.wrap(inner) is not item.wrap(inner)


def test_wrap_accepts_factory_functions() -> None:
    seen: list[ASGIApp] = []

    def factory(app: ASGIApp, **options: Any) -> ASGIApp:
        seen.append(app)
        return app

    assert Middleware(factory).wrap(inner) is inner
    assert seen == [inner]


def test_repr_names_class_and_options() -> None:
    assert repr(Middleware(Recorder, label="a")) == "Middleware(Recorder, {'label': 'a'})"


def test_repr_of_callable_without_name() -> None:
    class Factory:
        def __call__(self, app: ASGIApp) -> ASGIApp:
            return app

        def __repr__(self) -> str:
            return "<factory>"

    assert repr(Middleware(Factory())) == "Middleware(<factory>, {})"


def test_middleware_has_slots() -> None:
    item = Middleware(Recorder)
    assert not hasattr(item, "__dict__")


def test_build_stack_without_middleware_is_the_app() -> None:
    assert build_stack(inner, []) is inner
    assert build_stack(inner, ()) is inner


def test_build_stack_first_is_outermost() -> None:
    stack = build_stack(inner, [Middleware(Recorder, label="outer"), Middleware(Recorder, label="inner")])
    assert isinstance(stack, Recorder)
    assert stack.label == "outer"
    assert isinstance(stack.app, Recorder)
    assert stack.app.label == "inner"
    assert stack.app.app is inner
    log, sent = run(stack)
    assert log == ["enter outer", "enter inner", "app", "leave inner", "leave outer"]
    assert sent == [{"type": "done"}]


def test_build_stack_single_middleware() -> None:
    stack = build_stack(inner, [Middleware(Recorder, label="only")])
    log, _ = run(stack)
    assert log == ["enter only", "app", "leave only"]
