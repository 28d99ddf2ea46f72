"""Route options are checked where they are declared: typos and wrong values fail at import time."""

from __future__ import annotations

from typing import Any

import pytest

from plait import HTMLResponse, Plait, Settings
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.routing.options import HTTP_KEYS, WEBSOCKET_KEYS, check_options
from plait.routing.router import RouteOptions, Router


def make_app() -> Plait:
    return Plait(settings=Settings())


def check() -> None:
    return None


def test_a_typo_names_the_route_and_the_nearest_option() -> None:
    app = make_app()
    with pytest.raises(ConfigurationError) as info:

        @app.post("/items", status=201)  # type: ignore[call-arg]
        def create_item() -> dict[str, int]:
            return {}

    message = str(info.value)
    assert "POST /items (test_a_typo_names_the_route_and_the_nearest_option.<locals>.create_item)" in message
    assert "unknown route option 'status'; did you mean 'status_code'?" in message


def test_an_unrelated_name_lists_the_valid_options() -> None:
    with pytest.raises(
        ConfigurationError, match="unknown route option 'zzz'; Valid options: dependencies, deprecated, "
    ):
        Router().add_route("/", check, zzz=1)  # type: ignore[call-arg]


def test_a_fastapi_keyword_plait_lacks_says_what_to_do() -> None:
    with pytest.raises(ConfigurationError, match="no route option 'response_model_exclude_none'"):
        Router().get("/", response_model_exclude_none=True)(check)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"status_code": "201"}, "status_code= must be an int from 100 to 599"),
        ({"status_code": 99}, "status_code= must be an int"),
        ({"status_code": True}, "status_code= must be an int"),
        ({"tags": "users"}, "tags= must be a list of strings"),
        ({"response_class": dict}, "response_class= must be a Response subclass"),
        ({"response_class": HTMLResponse("x")}, "response_class= must be a Response subclass"),
        ({"dependencies": [check]}, "dependencies= must be a list of Depends"),
        ({"deprecated": "yes"}, "deprecated= must be True or False"),
        ({"responses": {True: "x"}}, "responses= must be a dict keyed by status code"),
        ({"responses": [404]}, "responses= must be a dict"),
        ({"summary": 3}, "summary= must be a string"),
        ({"response_model_exclude": "password"}, "response_model_exclude= must be a set of field names"),
    ],
)
def test_values_of_the_wrong_kind_fail(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        Router().add_route("/", check, **options)


def test_every_declared_option_is_accepted() -> None:
    router = Router()
    router.get(
        "/",
        name="home",
        status_code=201,
        tags=["a"],
        summary="s",
        description="d",
        response_description="r",
        deprecated=True,
        include_in_schema=False,
        responses={404: {"description": "missing"}, "default": {"description": "other"}},
        dependencies=[Depends(check)],
        operation_id="home",
        response_class=HTMLResponse,
        response_model=None,
        response_model_exclude_unset=True,
        response_model_include={"a"},
        response_model_exclude=frozenset({"b"}),
    )(check)
    assert router.routes[0].options["status_code"] == 201
    assert set(RouteOptions.__optional_keys__) == HTTP_KEYS | {"origins"}


def test_websocket_routes_take_their_own_options() -> None:
    router = Router()

    async def chat() -> None:
        return None

    router.add_websocket_route("/ws", chat, origins=["https://example.com"], name="chat")
    with pytest.raises(ConfigurationError, match="'status_code' only applies to HTTP routes"):
        router.add_websocket_route("/ws2", chat, status_code=200)
    with pytest.raises(ConfigurationError, match="'origins' only applies to WebSocket routes"):
        router.add_route("/h", check, origins=["x"])
    with pytest.raises(ConfigurationError, match="did you mean 'origins'"):
        router.add_websocket_route("/ws3", chat, origin=["x"])  # type: ignore[call-arg]
    assert "origins" in WEBSOCKET_KEYS


def test_router_and_include_arguments_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="Router '/api': option tags= must be a list"):
        Router("/api", tags="api")  # a str is a Sequence[str] to mypy, so only the runtime check catches it
    with pytest.raises(ConfigurationError, match="option responses= must be a dict"):
        Router(responses=[404])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"include_router\('/users'\): option dependencies="):
        Router().include_router(Router("/users"), dependencies=[check])  # type: ignore[list-item,unused-ignore]


def test_check_options_directly() -> None:
    check_options("GET /", {"name": "x"})
    with pytest.raises(ConfigurationError, match="GET /: unknown route option 'nme'; did you mean 'name'"):
        check_options("GET /", {"nme": "x"})
