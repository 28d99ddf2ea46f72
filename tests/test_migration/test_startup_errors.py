"""What a FastAPI or Flask user might write that Plait does not take: refused at startup, naming the fix."""

from typing import Annotated, Any

import pytest

from plait import Body, ConfigurationError, Depends, Header, Plait, Query, Router
from plait.testing import TestClient


def start(app: Plait[Any]) -> None:
    with TestClient(app):
        pass


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({"status": 201}, "did you mean 'status_code'"),
        ({"summery": "x"}, "did you mean 'summary'"),
        ({"response_model_by_alias": False}, "aliases .* are always used"),
        ({"response_model_exclude_none": True}, "msgspec.UNSET"),
        ({"callbacks": []}, "OpenAPI document hook"),
        ({"openapi_extra": {}}, "OpenAPI hook"),
        ({"generate_unique_id_function": None}, "operation_id="),
        ({"tags": "users"}, r'tags=\["users"\]'),
        ({"status_code": "201"}, "status_code=201"),
        ({"responses": {404: {"descripton": "Gone"}}}, "did you mean 'description'"),
        ({"responses": {404: {"modle": int}}}, "did you mean 'model'"),
        ({"responses": {"40": "Gone"}}, "not a status code"),
        ({"responses": {"4xx": "Client errors"}}, "'4XX'-style ranges"),
    ],
)
def test_route_keywords_plait_does_not_take(options: dict[str, Any], fix: str) -> None:
    app = Plait()
    with pytest.raises(ConfigurationError, match=fix):
        app.get("/items", **options)(lambda: None)


def test_declared_response_ranges_and_extensions_are_taken() -> None:
    app = Plait()

    @app.get("/items", responses={"4XX": "Client errors", "default": {"description": "Other", "x-note": 1}})
    def items() -> list[str]:
        return []

    with TestClient(app) as client:
        answers = client.get("/openapi.json").json()["paths"]["/items"]["get"]["responses"]
    assert answers["4XX"]["description"] == "Client errors"
    assert answers["default"]["x-note"] == 1


def test_router_and_include_router_responses_are_checked_where_written() -> None:
    with pytest.raises(ConfigurationError, match=r"Router .*responses\[404\] has no key 'descripton'"):
        Router(prefix="/items", responses={404: {"descripton": "Gone"}})
    with pytest.raises(ConfigurationError, match=r"include_router.*responses\[418\] has no key 'describe'"):
        Plait().include_router(Router(), prefix="/v1", responses={418: {"describe": "teapot"}})


@pytest.mark.parametrize(
    ("marker", "fix"),
    [
        (lambda: Query(regex="^a"), "use pattern= instead"),
        (lambda: Query(descripton="x"), "use description= instead"),
        (lambda: Query(example="x"), "use examples= instead"),
        (lambda: Query(min_items=1), "use min_length= instead"),
        (lambda: Header(convert_underscore=False), "use convert_underscores= instead"),
        (lambda: Body(embedd=True), "use embed= instead"),
    ],
)
def test_marker_keywords_plait_does_not_take(marker: Any, fix: str) -> None:
    with pytest.raises(ConfigurationError, match=fix):
        marker()


def test_depends_with_a_foreign_scope_or_a_non_callable_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"scope='request'.*scope='app'"):
        Depends(lambda: 1, scope="function")  # type: ignore[arg-type]  # FastAPI's newer yield scope
    with pytest.raises(ConfigurationError, match=r"Depends\(get_db\)"):
        Depends("get_db")  # type: ignore[arg-type]
    assert Depends(lambda: 1, use_cache=False).use_cache is False


def test_two_markers_on_one_parameter_are_refused() -> None:
    both = Plait()

    @both.get("/both")
    def read_both(q: Annotated[str, Query(), Header()]) -> str:
        return q

    with pytest.raises(ConfigurationError, match=r"parameter 'q' has 2 markers \(Query\(...\) and Header\(...\)\)"):
        start(both)

    annotated_and_default = Plait()

    @annotated_and_default.get("/twice")
    def twice(q: Annotated[str, Query(alias="item-query")] = Query("x")) -> str:
        return q

    with pytest.raises(ConfigurationError, match="keep one"):
        start(annotated_and_default)


def test_depends_beside_a_request_marker_is_refused() -> None:
    def token() -> str:
        return "t"

    app = Plait()

    @app.get("/mixed")
    def mixed(t: Annotated[str, Depends(token)] = Query("x")) -> str:
        return t

    with pytest.raises(ConfigurationError, match="both Depends"):
        start(app)

    twice = Plait()

    @twice.get("/twice")
    def two_providers(t: Annotated[str, Depends(token), Depends(token)]) -> str:
        return t

    with pytest.raises(ConfigurationError, match=r"2 markers \(Depends\(...\) and Depends\(...\)\)"):
        start(twice)


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("run", "plait run module:app"),
        ("register_blueprint", r"app.include_router\(router"),
        ("errorhandler", r"exception_handler\(404\)"),
        ("on_event", "on_startup"),
        ("add_api_route", r"app.route\(path, methods="),
        ("test_client", "TestClient"),
        ("config", "app.settings"),
    ],
)
def test_flask_and_fastapi_app_methods_name_the_plait_way(name: str, fix: str) -> None:
    with pytest.raises(AttributeError, match=fix):
        getattr(Plait(), name)
    with pytest.raises(AttributeError, match=fix):
        getattr(Router(), name)


def test_other_missing_attributes_keep_the_usual_error() -> None:
    with pytest.raises(AttributeError, match=r"^'Plait' object has no attribute 'nothing_here'$"):
        Plait().nothing_here  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(Router(), "run")
