"""The battery protocol: installing extensions and what they contribute at startup."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Annotated, Any

import click
import msgspec
import pytest

from plait import BackgroundTasks, Depends, Plait, Request, Router, WebSocket
from plait._types import ASGIApp, Receive, Scope, Send
from plait.app import CompiledRoute
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.responses import PlainTextResponse
from plait.routing.router import ExceptionHandler, ExceptionKey
from plait.routing.stack import Middleware
from plait.testing import TestClient


class Clock:
    """A resource an extension opens in its lifespan and hands to handlers by annotation."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.closed = False


class ClockSettings(msgspec.Struct, kw_only=True):
    clock_label: str = "utc"
    clock_ticks: int = 1


class ClockExtension(Extension):
    name = "clock"
    settings_type = ClockSettings
    pytest_plugins = ("tests.clock_fixtures",)

    def __init__(self, log: list[str] | None = None) -> None:
        self.log = log if log is not None else []
        self.clock: Clock | None = None

    def setup(self, app: Plait[Any]) -> None:
        if self.settings.clock_ticks < 1:
            raise ConfigurationError("PLAIT_CLOCK_TICKS must be at least 1; set it to 1 or more.")
        self.log.append("setup")

    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[None]:
        self.clock = Clock(self.settings.clock_label)
        self.log.append("clock open")
        try:
            yield
        finally:
            self.clock.closed = True
            self.log.append("clock closed")

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._open()

    async def provide(self) -> AsyncIterator[Clock]:
        assert self.clock is not None
        self.log.append("provide")
        yield self.clock
        self.log.append("release")

    def providers(self) -> Mapping[Any, Depends]:
        return {Clock: Depends(self.provide)}

    def commands(self) -> Sequence[click.Command]:
        @click.group(name="clock")
        def group() -> None:
            """Clock commands."""

        return [group]

    def openapi_components(self) -> Mapping[str, Mapping[str, Any]]:
        return {"securitySchemes": {"clockKey": {"type": "apiKey", "in": "header", "name": "x-clock"}}}

    def template_globals(self) -> Mapping[str, Any]:
        return {"clock_label": self.settings.clock_label}


def clock_app(log: list[str] | None = None, **kwargs: Any) -> tuple[Plait[Any], ClockExtension]:
    ext = ClockExtension(log)
    app = Plait(extensions=[ext], **kwargs)

    @app.get("/label")
    def label(clock: Clock) -> str:
        return clock.label

    return app, ext


# -- installing -------------------------------------------------------------------------------------


def test_install_returns_the_extension_and_names_find_it() -> None:
    app = Plait()
    ext = app.install(ClockExtension())
    assert app.extensions["clock"] is ext
    assert app.extensions[0] is ext
    assert list(app.extensions) == [ext]
    assert len(app.extensions) == 1


def test_an_unknown_name_says_what_is_installed() -> None:
    app, _ = clock_app()
    with pytest.raises(KeyError, match=r"'database'.*installed: clock"):
        app.extensions["database"]


def test_installing_twice_is_a_configuration_error() -> None:
    app, _ = clock_app()
    with pytest.raises(ConfigurationError, match="already installed; install each extension once"):
        app.install(ClockExtension())


def test_installing_after_startup_is_a_configuration_error() -> None:
    app = Plait()
    app.build()
    with pytest.raises(ConfigurationError, match="already started"):
        app.install(ClockExtension())


def test_an_extension_needs_a_name_and_the_base_class() -> None:
    class Nameless(Extension):
        pass

    with pytest.raises(ConfigurationError, match="has no name"):
        Plait(extensions=[Nameless()])
    with pytest.raises(ConfigurationError, match=r"is not a plait\.extensions\.Extension"):
        Plait().install(object())  # type: ignore[type-var]


def test_nothing_happens_until_startup() -> None:
    log: list[str] = []
    app, ext = clock_app(log)
    assert log == []
    assert ext.settings is None
    app.build()
    app.build()
    assert log == ["setup"]
    assert ext.settings == ClockSettings()


# -- settings ---------------------------------------------------------------------------------------


def test_settings_come_from_plait_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_CLOCK_LABEL", "tai")
    app, ext = clock_app()
    with TestClient(app) as client:
        assert client.get("/label").text == "tai"
    assert ext.settings.clock_label == "tai"


def test_bad_settings_fail_at_startup_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_CLOCK_TICKS", "many")
    app, _ = clock_app()
    with pytest.raises(ConfigurationError, match=r"PLAIT_CLOCK_TICKS='many'.*expected an integer"):
        app.build()


def test_setup_validates_and_a_fixed_app_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_CLOCK_TICKS", "0")
    app, _ = clock_app()
    with pytest.raises(ConfigurationError, match="at least 1"):
        app.build()
    monkeypatch.setenv("PLAIT_CLOCK_TICKS", "2")
    app.build()  # setup runs again for an extension whose setup failed
    assert app.extensions["clock"].settings.clock_ticks == 2


# -- lifespan ---------------------------------------------------------------------------------------


class Recorder(Extension):
    def __init__(self, name: str, log: list[str], fail: bool = False) -> None:
        self.name = name  # type: ignore[misc]  # one class, several instances with their own names
        self.log = log
        self.fail = fail

    @contextlib.asynccontextmanager
    async def _life(self) -> AsyncIterator[None]:
        if self.fail:
            raise RuntimeError(f"{self.name} cannot start")
        self.log.append(f"enter {self.name}")
        yield
        self.log.append(f"exit {self.name}")

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._life()


def test_lifespans_enter_in_install_order_around_the_app() -> None:
    log: list[str] = []

    @contextlib.asynccontextmanager
    async def user_lifespan(app: Plait[Any]) -> AsyncIterator[None]:
        log.append("enter app")
        yield
        log.append("exit app")

    app = Plait(extensions=[Recorder("a", log)], lifespan=user_lifespan)
    app.install(Recorder("b", log))
    app.on_startup(lambda: log.append("startup"))
    app.on_shutdown(lambda: log.append("shutdown"))
    with TestClient(app):
        log.append("serving")
    assert log == [
        "enter a",
        "enter b",
        "startup",
        "enter app",
        "serving",
        "exit app",
        "shutdown",
        "exit b",
        "exit a",
    ]


@pytest.mark.anyio
async def test_a_failing_lifespan_closes_those_already_open() -> None:
    log: list[str] = []
    app = Plait(extensions=[Recorder("a", log), Recorder("b", log, fail=True)])
    with pytest.raises(RuntimeError, match="b cannot start"):
        async with app.running():
            pass  # pragma: no cover - never reached
    assert log == ["enter a", "exit a"]


@pytest.mark.anyio
async def test_an_extension_without_lifespan_or_commands_is_fine() -> None:
    app = Plait(extensions=[Greeter()])
    async with app.running():
        pass
    await app.extensions.stop()  # a second stop does nothing
    assert app.extensions.template_globals == {"greeting": "hello"}
    assert app.extensions.commands() == []


def test_a_failed_startup_sets_up_the_others_once(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    monkeypatch.setenv("PLAIT_CLOCK_TICKS", "0")
    app = Plait(extensions=[Kitchen(), ClockExtension(log)])
    with pytest.raises(ConfigurationError, match="at least 1"):
        app.build()
    monkeypatch.setenv("PLAIT_CLOCK_TICKS", "1")
    app.build()  # the kitchen's router is not included a second time (that would route it twice)
    assert log == ["setup"]
    assert [r.path for r in app.routes_table() if r.path.startswith("/kitchen")] == ["/kitchen/kettle"]


# -- providers by annotation ------------------------------------------------------------------------


def test_a_provider_by_annotation_serves_handlers_and_cleans_up() -> None:
    log: list[str] = []
    app, ext = clock_app(log)
    with TestClient(app) as client:
        assert client.get("/label").text == "utc"
        assert log == ["setup", "clock open", "provide", "release"]
    assert ext.clock is not None
    assert ext.clock.closed


def upper(clock: Annotated[Clock, "documented"]) -> str:
    return clock.label.upper()


def test_a_provider_by_annotation_serves_dependencies_and_annotated_types() -> None:
    app, _ = clock_app()

    @app.get("/upper")
    def shout(text: Annotated[str, Depends(upper)]) -> str:
        return text

    with TestClient(app) as client:
        assert client.get("/upper").text == "UTC"


def test_a_provider_by_annotation_serves_websockets() -> None:
    app, _ = clock_app()

    @app.websocket("/ws")
    async def stream(ws: WebSocket, clock: Clock) -> None:
        await ws.accept()
        await ws.send_text(clock.label)

    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "utc"


def test_a_provider_by_annotation_serves_background_tasks() -> None:
    seen: list[str] = []
    app, _ = clock_app()

    async def remember(word: str, clock: Clock) -> None:
        seen.append(f"{word} {clock.label}")

    @app.post("/later")
    def later(tasks: BackgroundTasks) -> str:
        tasks.add_task(remember, "tick")
        return "ok"

    with TestClient(app) as client:
        assert client.post("/later").text == "ok"
    assert seen == ["tick utc"]


@pytest.mark.anyio
async def test_a_provider_by_annotation_serves_container_calls() -> None:
    app, _ = clock_app()

    async def report(clock: Clock) -> str:
        return f"report {clock.label}"

    async with app.running():
        assert await app.container.call(report) == "report utc"


def test_dependency_overrides_replace_an_extension_provider() -> None:
    app, ext = clock_app()

    def fake() -> Clock:
        return Clock("fake")

    app.dependency_overrides[ext.provide] = fake
    with TestClient(app) as client:
        assert client.get("/label").text == "fake"


def test_two_extensions_providing_one_type_is_a_configuration_error() -> None:
    class OtherClock(ClockExtension):
        name = "other-clock"

    app = Plait(extensions=[ClockExtension(), OtherClock()])
    with pytest.raises(ConfigurationError, match=r"'clock' and 'other-clock' both provide"):
        app.build()


def test_without_extensions_an_unknown_type_is_still_an_error() -> None:
    app = Plait()

    @app.get("/label")
    def label(clock: Clock) -> str:
        return clock.label  # pragma: no cover - never compiled

    with pytest.raises(ConfigurationError, match="'clock' has type"):
        app.build()


# -- middleware, routers, errors, routes ------------------------------------------------------------


class Stamp:
    def __init__(self, app: ASGIApp, value: str) -> None:
        self.app = app
        self.value = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-stamp", self.value.encode())]
            await send(message)

        await self.app(scope, receive, stamped)


class Teapot(Exception):
    pass


class Kitchen(Extension):
    name = "kitchen"

    def __init__(self) -> None:
        self.wrapped: list[str] = []

    def middleware(self) -> Sequence[Middleware]:
        return [Middleware(Stamp, value="kitchen")]

    def routers(self) -> Sequence[Router]:
        router = Router(prefix="/kitchen")

        @router.get("/kettle")
        def kettle() -> str:
            raise Teapot

        return [router]

    def exception_handlers(self) -> Mapping[ExceptionKey, ExceptionHandler]:
        def teapot(request: Request, exc: Teapot) -> PlainTextResponse:
            return PlainTextResponse("short and stout", status_code=418)

        return {Teapot: teapot, KeyError: teapot}

    def wrap_route(self, route: CompiledRoute, endpoint: ASGIApp) -> ASGIApp:
        if route.placed.path != "/wrapped":
            return endpoint
        self.wrapped.append(route.plan.name.rsplit(".", 1)[-1])

        async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
            scope["test.wrapped"] = True
            await endpoint(scope, receive, send)

        return wrapper


def test_middleware_routers_handlers_and_route_wrappers() -> None:
    app = Plait(extensions=[Kitchen()])

    @app.exception_handler(KeyError)
    def own(request: Request, exc: KeyError) -> PlainTextResponse:
        return PlainTextResponse("the app's own", status_code=400)

    @app.get("/wrapped")
    def wrapped(request: Request) -> str:
        return str(request.scope.get("test.wrapped"))

    @app.get("/plain")
    def plain() -> str:
        raise KeyError("x")

    with TestClient(app) as client:
        response = client.get("/kitchen/kettle")
        assert (response.status_code, response.text) == (418, "short and stout")
        assert response.headers["x-stamp"] == "kitchen"
        assert client.get("/wrapped").text == "True"
        assert client.get("/plain").text == "the app's own"  # the app's handler wins
    assert app.extensions["kitchen"].wrapped == ["wrapped"]


# -- CLI, OpenAPI, templates, pytest ----------------------------------------------------------------


class Greeter(Extension):
    name = "greeter"

    def template_globals(self) -> Mapping[str, Any]:
        return {"greeting": "hello"}

    def openapi_components(self) -> Mapping[str, Mapping[str, Any]]:
        return {"securitySchemes": {"clockKey": {"type": "http", "scheme": "bearer"}}}


def test_contributions_are_stored_for_the_cli_openapi_templates_and_pytest() -> None:
    app, _ = clock_app()
    app.build()
    assert [c.name for c in app.extensions.commands()] == ["clock"]
    assert app.extensions.openapi_components == {
        "securitySchemes": {"clockKey": {"type": "apiKey", "in": "header", "name": "x-clock"}}
    }
    assert app.extensions.template_globals == {"clock_label": "utc"}
    assert app.extensions.pytest_plugins() == ["tests.clock_fixtures"]


def test_clashing_openapi_components_are_a_configuration_error() -> None:
    app = Plait(extensions=[ClockExtension(), Greeter()])
    with pytest.raises(ConfigurationError, match=r"securitySchemes \['clockKey'\].*rename one"):
        app.build()
