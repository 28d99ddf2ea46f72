"""The container (app values, overrides, calls outside HTTP) and the per-request solver."""

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import msgspec
import pytest

from plait._types import Message
from plait.app import Plait
from plait.concurrency import ThreadPool
from plait.di import Container, Depends
from plait.di.container import Solver
from plait.di.plan import PlanCompiler
from plait.exceptions import DependencyError, HTTPException, RequestValidationError
from plait.params import Body, Form, Header, Query
from plait.requests import Request
from tests.test_di.helpers import Receiver, call, http_scope


class Item(msgspec.Struct):
    name: str


def run_call(container: Container, fn: Any, **values: Any) -> Any:
    async def go() -> Any:
        return await container.call(fn, **values)

    return anyio.run(go)


# -- the container itself ---------------------------------------------------------------------------


def test_container_defaults_and_plan_cache() -> None:
    container = Container()
    assert isinstance(container.pool, ThreadPool)
    assert container.pool.size == 40
    assert isinstance(container.compiler, PlanCompiler)
    assert container.overrides == {}
    assert container.app_values == {}

    def fn(q: int) -> int:
        return q

    assert container.plan_for(fn) is container.plan_for(fn)
    assert container.plan_for(fn, frozenset({"q"})) is not container.plan_for(fn)


def test_container_uses_the_given_pool_and_compiler() -> None:
    pool = ThreadPool(3)
    compiler = PlanCompiler(max_json_depth=5)
    container = Container(pool, compiler)
    assert container.pool is pool
    assert container.compiler is compiler


# -- call() outside HTTP ----------------------------------------------------------------------------


def loop_thread() -> int:
    return threading.get_ident()


def test_call_runs_async_functions_on_the_loop_and_sync_providers_in_the_pool() -> None:
    async def job(worker: Annotated[int, Depends(loop_thread)]) -> tuple[int, int]:
        return worker, threading.get_ident()

    worker, here = run_call(Container(), job)
    assert here == threading.get_ident()
    assert worker != here


def test_call_runs_a_sync_function_in_the_pool() -> None:
    def job() -> int:
        return threading.get_ident()

    assert run_call(Container(), job) != threading.get_ident()


def test_call_values_fill_request_parameters_and_replace_providers() -> None:
    made: list[str] = []

    def get_db() -> str:
        made.append("db")
        return "db"

    def report(page: int, db: Annotated[str, Depends(get_db)]) -> str:
        return f"{db}:{page}"

    container = Container()
    assert run_call(container, report, page=3) == "db:3"
    assert made == ["db"]
    assert run_call(container, report, page=4, db="fake") == "fake:4"
    assert made == ["db"]


def test_call_values_fill_form_and_body_parameters() -> None:
    def upload(name: Annotated[str, Form()]) -> str:
        return name.upper()

    def create(item: Item) -> str:
        return item.name

    def merged(a: Annotated[int, Body(embed=True)], b: Annotated[int, Body(embed=True)]) -> int:
        return a + b

    container = Container()
    assert run_call(container, upload, name="x") == "X"
    assert run_call(container, create, item=Item("pen")) == "pen"
    assert run_call(container, merged, a=1, b=2) == 3
    with pytest.raises(DependencyError, match="merged reads the HTTP request"):
        run_call(container, merged, a=1)


def test_call_refuses_request_values_it_was_not_given() -> None:
    def report(page: int) -> int:
        return page

    with pytest.raises(DependencyError) as info:
        run_call(Container(), report)
    message = str(info.value)
    assert "report reads the HTTP request, but it was called outside one" in message
    assert "container.call()" in message


def test_call_refuses_a_provider_that_needs_the_request() -> None:
    def who(request: Request) -> str:
        return request.method

    async def job(w: Annotated[str, Depends(who)]) -> str:
        return w

    def form_reader(f: Annotated[str, Form()]) -> str:
        return f

    async def job2(v: Annotated[str, Depends(form_reader)]) -> str:
        return v

    with pytest.raises(DependencyError, match=r"\.who reads the HTTP request"):
        run_call(Container(), job)
    with pytest.raises(DependencyError, match=r"\.form_reader reads the HTTP request"):
        run_call(Container(), job2)
    assert run_call(Container(), job, w="given") == "given"


def test_call_cleans_up_generator_providers_before_returning() -> None:
    events: list[str] = []

    async def agen() -> AsyncIterator[str]:
        events.append("open a")
        yield "a"
        events.append("close a")

    def sgen() -> Iterator[str]:
        events.append("open s")
        yield "s"
        events.append("close s")

    async def job(a: Annotated[str, Depends(agen)], s: Annotated[str, Depends(sgen)]) -> str:
        events.append("job")
        return a + s

    assert run_call(Container(), job) == "as"
    assert events == ["open a", "open s", "job", "close s", "close a"]


def test_call_throws_the_error_into_generator_providers() -> None:
    seen: list[str] = []

    async def agen() -> AsyncIterator[int]:
        try:
            yield 1
        except ValueError as exc:
            seen.append(f"async saw {exc}")
            raise

    def sgen() -> Iterator[int]:
        try:
            yield 2
        except ValueError as exc:
            seen.append(f"sync saw {exc}")
            raise

    async def job(a: Annotated[int, Depends(agen)], s: Annotated[int, Depends(sgen)]) -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_call(Container(), job)
    assert seen == ["sync saw boom", "async saw boom"]


def test_call_on_a_generator_returns_its_value_after_cleanup() -> None:
    events: list[str] = []

    async def session(name: str) -> AsyncIterator[str]:
        events.append("open")
        yield f"session {name}"
        events.append("close")

    assert run_call(Container(), session, name="x") == "session x"
    assert events == ["open", "close"]


def test_solver_without_a_cleanup_scope_refuses_generators() -> None:
    def sgen() -> Iterator[int]:
        yield 1

    container = Container()
    solver = Solver(container, None, None)

    async def go() -> None:
        await solver.run(container.plan_for(sgen))

    with pytest.raises(DependencyError, match=r"sgen is a generator provider and needs a cleanup scope"):
        anyio.run(go)


# -- app-scoped values ------------------------------------------------------------------------------


def test_app_scoped_value_is_created_once_and_cleaned_up_at_stop() -> None:
    events: list[str] = []

    async def pool() -> AsyncIterator[dict[str, int]]:
        events.append("open")
        yield {"n": len(events)}
        events.append("close")

    async def job(p: Annotated[dict[str, int], Depends(pool, scope="app")]) -> dict[str, int]:
        return p

    container = Container()

    async def go() -> None:
        first = await container.call(job)
        second = await container.call(job)
        assert first is second
        assert events == ["open"]
        assert container.app_values == {pool: first}
        await container.stop()
        assert events == ["open", "close"]
        assert container.app_values == {}
        await container.stop()  # nothing left to close
        third = await container.call(job)
        assert third is not first
        await container.stop()

    anyio.run(go)
    assert events == ["open", "close", "open", "close"]


def test_app_scoped_provider_using_another_app_value_is_created_lazily() -> None:
    def base() -> str:
        return "b"

    def derived(b: Annotated[str, Depends(base, scope="app")]) -> str:
        return "a" + b

    async def job(v: Annotated[str, Depends(derived, scope="app")]) -> str:
        return v

    container = Container()

    async def go() -> str:
        with anyio.fail_after(5):
            return str(await container.call(job))

    assert anyio.run(go) == "ab"
    assert set(container.app_values) == {base, derived}


def test_concurrent_first_uses_create_an_app_value_once() -> None:
    made: list[int] = []

    async def slow() -> int:
        made.append(1)
        await anyio.sleep(0.01)
        return len(made)

    async def job(v: Annotated[int, Depends(slow, scope="app")]) -> int:
        return v

    container = Container()
    results: list[int] = []

    async def one() -> None:
        results.append(await container.call(job))

    async def go() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(one)

    anyio.run(go)
    assert results == [1, 1, 1, 1, 1]
    assert made == [1]


def test_start_creates_app_values_in_dependency_order_and_stop_reverses_it() -> None:
    events: list[str] = []

    async def settings() -> AsyncIterator[str]:
        events.append("open settings")
        yield "s"
        events.append("close settings")

    def engine(s: Annotated[str, Depends(settings, scope="app")]) -> Iterator[str]:
        events.append("open engine")
        yield s + "e"
        events.append("close engine")

    def per_request(e: Annotated[str, Depends(engine, scope="app")]) -> str:
        return e

    def handler(v: Annotated[str, Depends(per_request)]) -> str:
        return v

    container = Container()

    async def go() -> None:
        await container.start([container.plan_for(handler)])
        assert events == ["open settings", "open engine"]
        assert container.app_values == {settings: "s", engine: "se"}
        assert await container.call(handler) == "se"
        await container.stop()

    anyio.run(go)
    assert events == ["open settings", "open engine", "close engine", "close settings"]


# -- overrides --------------------------------------------------------------------------------------


def real_db() -> str:
    return "real"


def fake_db() -> str:
    return "fake"


def test_override_replaces_a_request_scoped_provider_in_call() -> None:
    def repo(db: Annotated[str, Depends(real_db)]) -> str:
        return f"repo({db})"

    async def job(r: Annotated[str, Depends(repo)]) -> str:
        return r

    container = Container()
    container.overrides[real_db] = fake_db
    assert run_call(container, job) == "repo(fake)"


def test_override_replaces_an_app_scoped_provider() -> None:
    async def job(db: Annotated[str, Depends(real_db, scope="app")]) -> str:
        return db

    container = Container()
    container.overrides[real_db] = fake_db
    assert run_call(container, job) == "fake"

    app = Plait()

    @app.get("/")
    def handler(db: Annotated[str, Depends(real_db, scope="app")]) -> str:
        return db

    app.dependency_overrides[real_db] = fake_db
    assert call(app, "GET", "/").text == "fake"


def get_user(id: int) -> str:
    return f"user {id}"


def test_override_in_http_sees_path_and_query_parameters() -> None:
    app = Plait()

    @app.get("/users/{id:int}")
    def show(id: int, user: Annotated[str, Depends(get_user)]) -> str:
        return user

    assert call(app, "GET", "/users/7").text == "user 7"

    def fake_user(id: int, tag: str = "") -> str:
        return f"fake {id + 1}{tag}"

    app.dependency_overrides[get_user] = fake_user
    assert call(app, "GET", "/users/7?tag=!").text == "fake 8!"
    app.dependency_overrides.clear()
    assert call(app, "GET", "/users/7").text == "user 7"


# -- the solver in a request ------------------------------------------------------------------------


def test_providers_are_cached_per_request_unless_use_cache_is_false() -> None:
    made: list[int] = []

    def counter() -> int:
        made.append(1)
        return len(made)

    def left(c: Annotated[int, Depends(counter)]) -> int:
        return c

    def right(c: Annotated[int, Depends(counter)]) -> int:
        return c

    app = Plait()

    @app.get("/shared")
    def shared(
        a: Annotated[int, Depends(left)], b: Annotated[int, Depends(right)], c: Annotated[int, Depends(counter)]
    ) -> list[int]:
        return [a, b, c]

    @app.get("/fresh")
    def fresh(
        a: Annotated[int, Depends(counter)],
        b: Annotated[int, Depends(counter, use_cache=False)],
        c: Annotated[int, Depends(counter)],
    ) -> list[int]:
        return [a, b, c]

    assert call(app, "GET", "/shared").json() == [1, 1, 1]
    assert call(app, "GET", "/shared").json() == [2, 2, 2]
    assert call(app, "GET", "/fresh").json() == [3, 4, 3]


def test_sync_providers_run_in_the_thread_pool_during_a_request() -> None:
    app = Plait()

    @app.get("/")
    async def handler(worker: Annotated[int, Depends(loop_thread)]) -> list[int]:
        return [worker, threading.get_ident()]

    worker, here = call(app, "GET", "/").json()
    assert worker != here


def asgi_events(app: Plait, path: str, events: list[str]) -> None:
    async def send(message: Message) -> None:
        events.append(str(message["type"]))

    anyio.run(app, http_scope("GET", path), Receiver.body(), send)


def test_generator_cleanup_runs_after_the_response_is_sent() -> None:
    events: list[str] = []
    threads: list[int] = []

    async def agen() -> AsyncIterator[str]:
        events.append("open async")
        yield "a"
        events.append("close async")

    def sgen() -> Iterator[str]:
        events.append("open sync")
        yield "s"
        threads.append(threading.get_ident())
        events.append("close sync")

    app = Plait()

    @app.get("/")
    def handler(a: Annotated[str, Depends(agen)], s: Annotated[str, Depends(sgen)]) -> str:
        events.append("handler")
        return a + s

    asgi_events(app, "/", events)
    assert events == [
        "open async",
        "open sync",
        "handler",
        "http.response.start",
        "http.response.body",
        "close sync",
        "close async",
    ]
    assert threads != [threading.get_ident()]


def test_handler_errors_are_thrown_into_generator_providers() -> None:
    seen: list[str] = []

    async def agen() -> AsyncIterator[int]:
        try:
            yield 1
        except HTTPException as exc:
            seen.append(f"async {exc.status_code}")
            raise
        finally:
            seen.append("async done")

    def sgen() -> Iterator[int]:
        try:
            yield 2
        except HTTPException as exc:
            seen.append(f"sync {exc.status_code}")
            raise

    app = Plait()

    @app.get("/")
    async def handler(a: Annotated[int, Depends(agen)], s: Annotated[int, Depends(sgen)]) -> str:
        raise HTTPException(409, "taken")

    response = call(app, "GET", "/")
    assert response.status_code == 409
    assert response.json()["detail"] == "taken"
    assert seen == ["sync 409", "async 409", "async done"]


def test_every_validation_error_is_merged_into_one_422() -> None:
    def paging(page: Annotated[int, Query(ge=1)] = 1) -> int:
        return page

    app = Plait()

    @app.post("/json")
    def with_json(
        limit: int, token: Annotated[str, Header()], page: Annotated[int, Depends(paging)], item: Item
    ) -> str:
        return "ok"

    @app.post("/form")
    def with_form(q: int, n: Annotated[int, Form()], page: Annotated[int, Depends(paging)]) -> str:
        return "ok"

    response = call(app, "POST", "/json?limit=x&page=0", json={"name": 5})
    assert response.status_code == 422
    document = response.json()
    assert document["detail"] == "4 fields are invalid"
    assert [e["loc"] for e in document["errors"]] == [
        ["query", "limit"],
        ["header", "token"],
        ["query", "page"],
        ["body", "name"],
    ]
    ok = call(app, "POST", "/json?limit=1", headers={"token": "t"}, json={"name": "pen"})
    assert ok.text == "ok"
    response = call(app, "POST", "/form?q=x&page=0", data={"n": "y"})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["query", "q"], ["query", "page"], ["body", "n"]]
    assert call(app, "POST", "/form?q=1", data={"n": "2"}).text == "ok"


def test_a_provider_refusing_the_request_stops_before_later_providers() -> None:
    ran: list[str] = []

    def auth(token: Annotated[str, Header()] = "") -> str:
        if not token:
            raise HTTPException(401, "Sign in first", {"WWW-Authenticate": "Bearer"})
        return token

    def later() -> str:
        ran.append("later")
        return "x"

    app = Plait()

    @app.get("/")
    def handler(user: Annotated[str, Depends(auth)], x: Annotated[str, Depends(later)]) -> str:
        return user

    response = call(app, "GET", "/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert ran == []
    assert call(app, "GET", "/", headers={"token": "t"}).text == "t"
    assert ran == ["later"]


def test_solver_gathers_arguments_from_a_request() -> None:
    def paging(page: int = 1) -> int:
        return page * 10

    def handler(q: str, p: Annotated[int, Depends(paging)]) -> str:
        return q

    container = Container()
    request = Request(http_scope(query=b"q=hi&page=2"))
    solver = Solver(container, request, None)

    async def go() -> dict[str, Any]:
        return await solver.arguments(container.plan_for(handler))

    assert anyio.run(go) == {"q": "hi", "p": 20}
    assert list(solver.cache.values()) == [20]

    bad = Solver(container, Request(http_scope(query=b"page=x")), None)

    async def go_bad() -> dict[str, Any]:
        return await bad.arguments(container.plan_for(handler))

    with pytest.raises(RequestValidationError) as info:
        anyio.run(go_bad)
    assert [e.loc for e in info.value.details] == [("query", "q"), ("query", "page")]


def test_a_shared_provider_failing_validation_is_reported_once() -> None:
    def paging(page: int) -> int:
        return page

    def left(p: Annotated[int, Depends(paging)]) -> int:
        return p

    def right(p: Annotated[int, Depends(paging)]) -> int:
        return p

    app = Plait()

    @app.get("/")
    def handler(a: Annotated[int, Depends(left)], b: Annotated[int, Depends(right)], q: int) -> int:
        return a + b

    response = call(app, "GET", "/?page=z&q=z")
    assert response.status_code == 422
    document = response.json()
    assert document["detail"] == "2 fields are invalid"
    assert [e["loc"] for e in document["errors"]] == [["query", "q"], ["query", "page"]]
    assert call(app, "GET", "/?page=2&q=0").json() == 4
