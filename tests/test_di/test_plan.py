"""Compiling signatures into plans: kinds, sources, sharing, cycles and configuration errors."""

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import msgspec
import pydantic
import pytest

from plait.app import Plait
from plait.di import CallPlan, Depends, compile_plan
from plait.di.plan import CallKind, PlanCompiler, call_kind, describe_callable
from plait.exceptions import ConfigurationError, DependencyError, HTTPException
from plait.params import Body, Form, Header
from plait.params.extractors import BodyExtractor, RequestExtractor, ValueExtractor
from plait.params.markers import REQUIRED
from plait.requests import Request
from tests.test_di.helpers import call

# -- call kinds -------------------------------------------------------------------------------------


async def async_fn() -> int:
    return 1


def sync_fn() -> int:
    return 1


async def async_gen() -> AsyncIterator[int]:
    yield 1


def sync_gen() -> Iterator[int]:
    yield 1


class AsyncCallable:
    async def __call__(self) -> int:
        return 1


class SyncCallable:
    def __call__(self) -> int:
        return 1


class AsyncGenCallable:
    async def __call__(self) -> AsyncIterator[int]:
        yield 1


class ClassWithAsyncCall:
    """Calling the class builds an instance synchronously, whatever ``__call__`` is."""

    def __init__(self) -> None:
        self.ready = True

    async def __call__(self) -> int:
        return 1


class ClassWithGenCall:
    def __init__(self) -> None:
        self.ready = True

    def __call__(self) -> Iterator[int]:
        yield 1


@pytest.mark.parametrize(
    ("fn", "kind"),
    [
        (async_fn, CallKind.ASYNC),
        (sync_fn, CallKind.SYNC),
        (async_gen, CallKind.ASYNC_GEN),
        (sync_gen, CallKind.SYNC_GEN),
        (AsyncCallable(), CallKind.ASYNC),
        (SyncCallable(), CallKind.SYNC),
        (AsyncGenCallable(), CallKind.ASYNC_GEN),
        (ClassWithAsyncCall, CallKind.SYNC),
        (ClassWithGenCall, CallKind.SYNC),
        (len, CallKind.SYNC),
    ],
)
def test_call_kind(fn: Any, kind: CallKind) -> None:
    assert call_kind(fn) is kind


def test_describe_callable_names_module_and_qualname() -> None:
    assert describe_callable(sync_fn) == f"{__name__}.sync_fn"
    assert describe_callable(AsyncCallable.__call__) == f"{__name__}.AsyncCallable.__call__"
    assert describe_callable(len) == "builtins.len"


def test_describe_callable_falls_back_to_the_type_name() -> None:
    assert describe_callable(SyncCallable()) == f"{__name__}.SyncCallable"

    def nowhere() -> None:
        return None

    setattr(nowhere, "__module__", None)  # noqa: B010
    assert describe_callable(nowhere) == "test_describe_callable_falls_back_to_the_type_name.<locals>.nowhere"


# -- what a plan holds ------------------------------------------------------------------------------


class Item(msgspec.Struct):
    name: str
    price: int = 0


def current_user(x_user: Annotated[str, Header()]) -> str:
    return x_user


def handler(
    id: int,
    request: Request,
    item: Item,
    user: Annotated[str, Depends(current_user)],
    q: str = "",
    *args: Any,
    **kwargs: Any,
) -> dict[str, int]:
    return {}


def test_plan_lists_every_source_in_order() -> None:
    plan = compile_plan(handler, frozenset({"id"}))
    assert isinstance(plan, CallPlan)
    assert plan.fn is handler
    assert plan.kind is CallKind.SYNC
    assert plan.name == f"{__name__}.handler"
    assert plan.return_type == dict[str, int]
    assert [name for name, _ in plan.sync_params] == ["id", "request", "q"]
    id_extractor = plan.sync_params[0][1]
    assert isinstance(id_extractor, ValueExtractor)
    assert id_extractor.source == "path"
    assert isinstance(plan.sync_params[1][1], RequestExtractor)
    query = plan.sync_params[2][1]
    assert isinstance(query, ValueExtractor)
    assert (query.source, query.default) == ("query", "")
    assert [name for name, _ in plan.deps] == ["user"]
    assert plan.dependencies[0].plan.fn is current_user
    assert plan.dependencies[0].use_cache is True
    assert plan.dependencies[0].scope == "request"
    assert isinstance(plan.body, BodyExtractor)
    assert plan.body.tp is Item
    assert plan.body_names is None
    assert [f.name for f in plan.body_fields] == ["item"]
    assert plan.async_params == []
    assert plan.context is None
    assert plan.needs_request is True
    assert plan.needs_exit_stack is False


def test_unannotated_parameter_is_a_string_query_parameter() -> None:
    def search(q):  # type: ignore[no-untyped-def]
        return q

    plan = compile_plan(search)
    extractor = plan.sync_params[0][1]
    assert isinstance(extractor, ValueExtractor)
    assert (extractor.source, extractor.key, extractor.default) == ("query", "q", REQUIRED)


def test_a_plan_without_request_values_does_not_need_the_request() -> None:
    plan = compile_plan(sync_fn)
    assert plan.needs_request is False
    assert plan.sync_params == []
    assert plan.deps == []
    assert plan.body is None


def test_generator_providers_get_a_context_factory_and_need_an_exit_stack() -> None:
    def uses(a: Annotated[int, Depends(async_gen)]) -> int:
        return a

    plan = compile_plan(uses)
    assert plan.needs_exit_stack is True
    inner = plan.dependencies[0].plan
    assert inner.kind is CallKind.ASYNC_GEN
    assert inner.context is not None
    assert compile_plan(sync_gen).context is not None
    assert compile_plan(sync_gen).needs_exit_stack is True


def test_needs_request_comes_from_request_scoped_providers_only() -> None:
    def reads(q: int) -> int:
        return q

    def plain() -> int:
        return 1

    def uses_reader(v: Annotated[int, Depends(reads)]) -> int:
        return v

    def uses_app_value(v: Annotated[int, Depends(plain, scope="app")]) -> int:
        return v

    assert compile_plan(uses_reader).needs_request is True
    assert compile_plan(uses_app_value).needs_request is False


def test_depends_as_default_value_and_use_cache_flag() -> None:
    def uses(
        a: int = Depends(sync_fn),  # type: ignore[assignment]
        b: Annotated[int, Depends(sync_fn, use_cache=False)] = 0,
    ) -> int:
        return a + b

    plan = compile_plan(uses)
    assert [name for name, _ in plan.deps] == ["a", "b"]
    assert [d.use_cache for d in plan.dependencies] == [True, False]
    assert plan.sync_params == []


def test_depends_marker_defaults() -> None:
    marker = Depends(sync_fn)
    assert (marker.dependency, marker.use_cache, marker.scope) == (sync_fn, True, "request")
    with pytest.raises(dataclasses.FrozenInstanceError):
        marker.use_cache = False  # type: ignore[misc]


# -- sharing and caching ----------------------------------------------------------------------------


def test_compiler_caches_plans_per_path_parameter_set() -> None:
    compiler = PlanCompiler()
    first = compiler.compile(handler, frozenset({"id"}))
    assert compiler.compile(handler, frozenset({"id"})) is first
    other = compiler.compile(handler, frozenset())
    assert other is not first
    id_extractor = other.sync_params[0][1]
    assert isinstance(id_extractor, ValueExtractor)
    assert id_extractor.source == "query"


def test_provider_plans_are_shared_between_handlers() -> None:
    def one(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    def two(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    compiler = PlanCompiler()
    assert compiler.compile(one).dependencies[0].plan is compiler.compile(two).dependencies[0].plan


def test_compile_plan_uses_a_fresh_compiler() -> None:
    assert compile_plan(sync_fn) is not compile_plan(sync_fn)


def test_max_json_depth_reaches_the_body_decoder() -> None:
    def deep(data: list[Any]) -> int:
        return len(data)

    plan = PlanCompiler(max_json_depth=2).compile(deep)
    assert plan.body is not None
    assert plan.body.decode(b"[[1]]") == [[1]]
    with pytest.raises(HTTPException) as info:
        plan.body.decode(b"[[[1]]]")
    assert info.value.status_code == 400


# -- cycles -----------------------------------------------------------------------------------------


def cyc_a(b: "Annotated[int, Depends(cyc_b)]") -> int:
    return b


def cyc_b(a: Annotated[int, Depends(cyc_a)]) -> int:
    return a


def needs_cycle(v: Annotated[int, Depends(cyc_a)]) -> int:
    return v


def loop_self(v: "Annotated[int, Depends(loop_self)]") -> int:
    return v


def test_cycle_is_reported_with_the_chain() -> None:
    with pytest.raises(DependencyError) as info:
        compile_plan(cyc_a)
    message = str(info.value)
    assert f"Dependency cycle: {__name__}.cyc_a -> {__name__}.cyc_b -> {__name__}.cyc_a." in message
    assert "Break the cycle" in message


def test_cycle_below_a_handler_also_names_who_required_it() -> None:
    with pytest.raises(DependencyError) as info:
        compile_plan(needs_cycle)
    message = str(info.value)
    assert f"{__name__}.cyc_a -> {__name__}.cyc_b -> {__name__}.cyc_a" in message
    assert f"(required by {__name__}.needs_cycle -> {__name__}.cyc_a -> {__name__}.cyc_b)" in message
    assert message.count("required by") == 1


def test_a_provider_depending_on_itself_is_a_cycle() -> None:
    with pytest.raises(DependencyError, match=r"loop_self -> .*loop_self\."):
        compile_plan(loop_self)


def test_compiler_recovers_after_an_error() -> None:
    compiler = PlanCompiler()
    with pytest.raises(DependencyError):
        compiler.compile(cyc_a)
    assert compiler._stack == []
    assert compiler.compile(sync_fn).fn is sync_fn
    with pytest.raises(DependencyError):  # not cached as a success
        compiler.compile(cyc_a)


# -- parameters nothing can provide -----------------------------------------------------------------


class Unreadable:
    """Neither a scalar nor a model: Plait cannot read it from a request."""


def bad_leaf(thing: Unreadable) -> int:
    return 1


def middle(v: Annotated[int, Depends(bad_leaf)]) -> int:
    return v


def top(v: Annotated[int, Depends(middle)]) -> int:
    return v


def test_unknown_annotation_on_a_handler_has_no_chain() -> None:
    with pytest.raises(ConfigurationError) as info:
        compile_plan(bad_leaf)
    message = str(info.value)
    assert f"{__name__}.bad_leaf: parameter 'thing' has type" in message
    assert "Depends(provider)" in message
    assert "required by" not in message


def test_unknown_annotation_in_a_provider_names_the_whole_chain() -> None:
    with pytest.raises(ConfigurationError) as info:
        compile_plan(top)
    message = str(info.value)
    assert f"{__name__}.bad_leaf: parameter 'thing'" in message
    assert message.endswith(f"(required by {__name__}.top -> {__name__}.middle -> {__name__}.bad_leaf)")
    assert type(info.value) is ConfigurationError


def test_annotation_naming_a_missing_type_is_a_configuration_error() -> None:
    def provider(db: int) -> int:
        return db

    provider.__annotations__["db"] = "NotImportedAnywhere"

    def uses(v: Annotated[int, Depends(provider)]) -> int:
        return v

    with pytest.raises(ConfigurationError) as info:
        compile_plan(uses)
    message = str(info.value)
    assert "an annotation names something Plait cannot find" in message
    assert "NotImportedAnywhere" in message
    assert "(required by" in message
    assert "import the type at module level" in message


# -- app scope --------------------------------------------------------------------------------------


def reads_request(request: Request) -> str:
    return request.path


def reads_query(q: int) -> int:
    return q


def via_query(v: Annotated[int, Depends(reads_query)]) -> int:
    return v


def config() -> dict[str, str]:
    return {"region": "eu"}


def built_on_config(c: Annotated[dict[str, str], Depends(config, scope="app")]) -> str:
    return c["region"]


def test_app_scoped_provider_reading_the_request_is_refused() -> None:
    def uses(v: Annotated[str, Depends(reads_request, scope="app")]) -> str:
        return v

    with pytest.raises(DependencyError) as info:
        compile_plan(uses)
    message = str(info.value)
    assert f"app-scoped provider {__name__}.reads_request reads the request" in message
    assert "drop scope='app'" in message


def test_app_scoped_provider_reading_the_request_indirectly_is_refused() -> None:
    def uses(v: Annotated[int, Depends(via_query, scope="app")]) -> int:
        return v

    with pytest.raises(DependencyError, match="via_query reads the request"):
        compile_plan(uses)


def test_app_scoped_provider_may_use_other_app_values_and_plain_providers() -> None:
    def plain(c: Annotated[dict[str, str], Depends(config)]) -> int:
        return len(c)

    def uses(
        region: Annotated[str, Depends(built_on_config, scope="app")],
        n: Annotated[int, Depends(plain, scope="app")],
    ) -> str:
        return region * n

    plan = compile_plan(uses)
    assert [d.scope for d in plan.dependencies] == ["app", "app"]
    assert plan.needs_request is False


def test_app_scoped_provider_is_compiled_without_the_route_path_parameters() -> None:
    def by_id(id: int = 0) -> int:
        return id

    def uses(id: int, v: Annotated[int, Depends(by_id, scope="app")]) -> int:
        return v

    with pytest.raises(DependencyError, match="by_id reads the request"):
        compile_plan(uses, frozenset({"id"}))


# -- several body parameters ------------------------------------------------------------------------


class Address(msgspec.Struct):
    city: str


def two_bodies(item: Item, address: Address, note: Annotated[str, Body(alias="noteText")] = "") -> list[Any]:
    return [item, address, note]


def test_several_body_parameters_are_merged_into_one_struct() -> None:
    plan = compile_plan(two_bodies)
    assert plan.body_names == ["item", "address", "note"]
    assert plan.body is not None
    merged = plan.body.tp
    assert issubclass(merged, msgspec.Struct)
    assert merged.__name__ == "two_bodiesBody"
    assert plan.body.default is REQUIRED
    value = plan.body.decode(b'{"item": {"name": "pen"}, "address": {"city": "Oslo"}, "noteText": "hi"}')
    assert value.item == Item("pen")
    assert value.address == Address("Oslo")
    assert value.note == "hi"
    assert plan.body.decode(b'{"item": {"name": "pen"}, "address": {"city": "Oslo"}}').note == ""


def test_one_embedded_body_parameter_is_wrapped_in_an_object() -> None:
    def embedded(item: Annotated[Item, Body(embed=True)]) -> Item:
        return item

    plan = compile_plan(embedded)
    assert plan.body_names == ["item"]
    assert plan.body is not None
    assert plan.body.decode(b'{"item": {"name": "pen", "price": 2}}').item == Item("pen", 2)


def test_merged_body_with_only_optional_members_is_optional() -> None:
    def optional(
        a: Annotated[int, Body(embed=True)] = 1,
        b: Annotated[str, Body(embed=True)] = "x",
    ) -> list[Any]:
        return [a, b]

    plan = compile_plan(optional)
    assert plan.body is not None
    assert plan.body.default is not REQUIRED
    assert (plan.body.default.a, plan.body.default.b) == (1, "x")

    app = Plait()
    app.post("/")(optional)
    assert call(app, "POST", "/").json() == [1, "x"]
    assert call(app, "POST", "/", json={"b": "y"}).json() == [1, "y"]


def test_merged_body_with_a_required_member_requires_a_body() -> None:
    app = Plait()
    app.post("/")(two_bodies)
    response = call(app, "POST", "/")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
    ok = call(app, "POST", "/", json={"item": {"name": "pen"}, "address": {"city": "Oslo"}, "noteText": "n"})
    assert ok.json() == [{"name": "pen", "price": 0}, {"city": "Oslo"}, "n"]


class ModelA(pydantic.BaseModel):
    a: int


class ModelB(pydantic.BaseModel):
    b: int


def test_several_pydantic_body_parameters_are_merged_into_one_model() -> None:
    def both(a: ModelA, b: ModelB) -> int:
        return 1

    plan = compile_plan(both)
    assert plan.body_names == ["a", "b"]
    assert plan.body is not None
    assert issubclass(plan.body.tp, pydantic.BaseModel)
    assert plan.body.tp.model_validate({"a": {"a": 1}, "b": {"b": 2}}).b == ModelB(b=2)


def test_json_body_and_form_fields_together_are_refused() -> None:
    def mixed(item: Item, name: Annotated[str, Form()]) -> int:
        return 1

    with pytest.raises(ConfigurationError, match="cannot read both a JSON body and form fields"):
        compile_plan(mixed)


# -- class providers --------------------------------------------------------------------------------


class Pager:
    def __init__(self, page: int = 1, size: int = 10) -> None:
        self.page = page
        self.size = size


class StructPager(msgspec.Struct):
    page: int = 1
    size: int = 10


class ModelPager(pydantic.BaseModel):
    page: int = 1


class ServiceWithAsyncCall:
    def __init__(self, user: Annotated[str, Depends(current_user)]) -> None:
        self.user = user

    async def __call__(self) -> str:
        return self.user


def test_class_provider_plan_reads_init_parameters() -> None:
    plan = compile_plan(Pager)
    assert plan.kind is CallKind.SYNC
    assert [name for name, _ in plan.sync_params] == ["page", "size"]
    assert [ex.default for _, ex in plan.sync_params if isinstance(ex, ValueExtractor)] == [1, 10]


def test_class_providers_are_called_to_build_an_instance() -> None:
    app = Plait()

    @app.get("/pager")
    def pager(p: Annotated[Pager, Depends(Pager)]) -> list[int]:
        return [p.page, p.size]

    @app.get("/struct")
    def struct(p: Annotated[StructPager, Depends(StructPager)]) -> StructPager:
        return p

    @app.get("/model")
    def model(p: Annotated[ModelPager, Depends(ModelPager)]) -> int:
        return p.page * 2

    @app.get("/service")
    async def service(s: Annotated[ServiceWithAsyncCall, Depends(ServiceWithAsyncCall)]) -> str:
        return await s()

    assert call(app, "GET", "/pager?page=3").json() == [3, 10]
    assert call(app, "GET", "/struct?page=4&size=5").json() == {"page": 4, "size": 5}
    assert call(app, "GET", "/model?page=21").json() == 42
    assert call(app, "GET", "/service", headers={"x-user": "ann"}).text == "ann"
    bad = call(app, "GET", "/struct?page=x")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "page"]
