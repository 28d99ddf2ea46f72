"""``Depends()`` with no argument (the annotated class is the provider) and assignable overrides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import pytest

from plait import BackgroundTasks, ConfigurationError, Depends, Plait
from plait.di.plan import PlanCompiler, provider_of
from tests.support import call


class CommonParams:
    def __init__(self, q: str | None = None, skip: int = 0, limit: int = 100) -> None:
        self.q = q
        self.skip = skip
        self.limit = limit


@dataclass
class Paging:
    page: int = 1


class Mailer:
    def __init__(self) -> None:
        self.sent = 0


def get_db() -> str:
    return "real"


def fake_db() -> str:
    return "fake"


def test_depends_without_argument_builds_the_annotated_class() -> None:
    app = Plait()

    @app.get("/items")
    def items(commons: Annotated[CommonParams, Depends()]) -> dict[str, Any]:
        return {"q": commons.q, "skip": commons.skip, "limit": commons.limit}

    @app.get("/users")
    def users(
        commons: CommonParams = Depends(),  # type: ignore[assignment]  # Annotated[...] is the typed spelling
        paging: Paging | None = Depends(),  # type: ignore[assignment]
    ) -> list[Any]:
        assert paging is not None
        return [commons.limit, paging.page]

    assert call(app, "GET", "/items?q=x&skip=2").json() == {"q": "x", "skip": 2, "limit": 100}
    assert call(app, "GET", "/users?limit=5&page=3").json() == [5, 3]
    assert call(app, "GET", "/items?skip=x").json()["errors"][0]["loc"] == ["query", "skip"]


def test_depends_without_argument_needs_a_class_annotation() -> None:
    app = Plait()

    @app.get("/")
    def items(value: Annotated[int, Depends()]) -> int:
        return value

    with pytest.raises(ConfigurationError, match="Depends\\(\\) with no provider, so its annotation must be the class"):
        app.build()


def test_depends_without_argument_in_route_dependencies_is_refused() -> None:
    app = Plait()

    @app.get("/", dependencies=[Depends()])
    def items() -> int:
        return 1

    with pytest.raises(ConfigurationError, match=r"in dependencies=\[...\] write Depends\(provider\)"):
        app.build()


def test_provider_of_prefers_the_explicit_provider() -> None:
    assert provider_of(Depends(get_db), CommonParams, "x") is get_db
    assert provider_of(Depends(), CommonParams | None, "x") is CommonParams
    assert PlanCompiler().compile(CommonParams).fn is CommonParams


def test_background_task_with_class_dependency() -> None:
    seen: list[int] = []

    def record(mailer: Annotated[Mailer, Depends()]) -> None:
        seen.append(mailer.sent)

    app = Plait()

    @app.get("/")
    def go(tasks: BackgroundTasks) -> int:
        tasks.add_task(record)
        return 1

    assert call(app, "GET", "/").json() == 1
    assert seen == [0]


def test_dependency_overrides_can_be_assigned_and_reset() -> None:
    app = Plait()

    @app.get("/")
    def read(db: Annotated[str, Depends(get_db)]) -> str:
        return db

    table = app.dependency_overrides
    app.dependency_overrides = {get_db: fake_db}
    assert call(app, "GET", "/").text == "fake"
    assert app.dependency_overrides is table  # filled in place: clients holding it see the change
    app.dependency_overrides = app.dependency_overrides  # assigning it to itself keeps it
    assert app.dependency_overrides == {get_db: fake_db}
    app.dependency_overrides = {}
    assert call(app, "GET", "/").text == "real"
