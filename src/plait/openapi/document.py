"""The OpenAPI 3.1 document of a Plait app, built from its compiled routes alone.

Everything comes from what Plait compiled at startup: path templates and their converters, the
plans of handlers and of the providers they depend on (parameters, JSON bodies, forms and files),
return types, and route options (tags, summary, status code, extra responses, ...). Nothing is
declared twice: what the document says is what the route does.

>>> from plait.app import Plait
>>> app = Plait(title="Shop")
>>> @app.get("/items/{id:int}")
... def item(id: int) -> dict[str, int]:
...     '''Fetch one item.'''
...     return {"id": id}
>>> document = build_openapi(app)
>>> operation = document["paths"]["/items/{id}"]["get"]
>>> operation["summary"], operation["parameters"][0]["schema"]
('Fetch one item.', {'type': 'integer', 'minimum': 0})

A dependency says what it adds to every operation that uses it (anywhere in the route's, router's or
app's dependencies) with a ``__plait_openapi__`` attribute: ``security`` requirements (kept when an
extension's ``openapi_components()`` defines the scheme) and ``responses`` (a description alone gets
the problem body)::

    def require_key(x_api_key: Annotated[str, Header()]) -> None: ...
    require_key.__plait_openapi__ = {
        "security": [{"APIKeyHeader": []}],
        "responses": {"401": {"description": "No valid API key."}},
    }

To change the document, replace ``app.openapi`` (the app serves what it returns, at /openapi.json
and in the docs pages); :func:`get_openapi` builds a document from routes and metadata:

>>> def custom_openapi() -> dict[str, Any]:
...     if app.openapi_schema is None:
...         document = get_openapi(title="Shop", version="2.0", routes=app.compiled_routes())
...         document["info"]["x-logo"] = {"url": "/logo.png"}
...         app.openapi_schema = document
...     return app.openapi_schema
>>> app.openapi = custom_openapi
>>> app.openapi()["info"]
{'title': 'Shop', 'version': '2.0', 'x-logo': {'url': '/logo.png'}}
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plait.codec.types import strip_optional
from plait.di.plan import CallPlan
from plait.exceptions import ConfigurationError
from plait.openapi.metadata import Server, check_metadata, info_object, server_objects, tag_objects
from plait.openapi.responses import ResponseBuilder
from plait.openapi.schema import SchemaRegistry, binary_schema, drop_null, is_json, json_value
from plait.params.extractors import (
    BodyExtractor,
    FormFieldExtractor,
    FormModelExtractor,
    ModelExtractor,
    ValueExtractor,
)
from plait.params.markers import REQUIRED, Param
from plait.routing.converters import Converter, FloatConverter, IntConverter
from plait.routing.paths import PathTemplate

if TYPE_CHECKING:
    from plait.app import CompiledRoute, Plait

__all__ = ["OPENAPI_VERSION", "build_openapi", "get_openapi", "openapi_path"]

OPENAPI_VERSION = "3.1.0"
JSON = dict[str, Any]
_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
_LOCATIONS = {"path": 0, "query": 1, "header": 2, "cookie": 3}
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_]+")
_JSON_MEDIA = "application/json"


def build_openapi(
    app: Plait[Any],
    *,
    title: str | None = None,
    version: str | None = None,
    description: str | None = None,
    servers: Sequence[Server] | None = None,
) -> JSON:
    """The OpenAPI 3.1 document of ``app`` as plain data, ready for ``json.dumps``.

    The metadata comes from the app (``Plait(title=..., contact=..., openapi_tags=..., ...)``);
    ``title``, ``version``, ``description`` and ``servers`` given here replace the app's.
    Routes declared with ``include_in_schema=False`` (and parameters whose marker says so) are left out.
    This builds a new document each time; ``app.openapi()`` builds it once and keeps it.
    """
    return get_openapi(
        title=title or app.title,
        version=version or app.version,
        routes=app.compiled_routes(),
        summary=app.summary,
        description=description if description is not None else app.description,
        terms_of_service=app.terms_of_service,
        contact=app.contact,
        license_info=app.license_info,
        tags=app.openapi_tags,
        servers=servers if servers is not None else app.servers,
        components=app.extensions.openapi_components,  # filled at startup, which compiled_routes() ran
    )


def get_openapi(
    *,
    title: str,
    version: str,
    routes: Iterable[CompiledRoute],
    summary: str | None = None,
    description: str | None = None,
    terms_of_service: str | None = None,
    contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None,
    tags: Sequence[Mapping[str, Any]] | None = None,
    servers: Sequence[Server] | None = None,
    components: Mapping[str, Mapping[str, Any]] | None = None,
) -> JSON:
    """An OpenAPI 3.1 document for ``routes`` (``app.compiled_routes()``) with the metadata given here.

    The metadata takes the shapes of ``Plait(...)``'s arguments of the same names (``tags`` is
    ``openapi_tags``); a wrong shape raises :class:`ConfigurationError` naming the fix. ``components``
    (``app.extensions.openapi_components``: security schemes, schemas) join the document's components;
    a schema the routes derive under the same name is kept.
    """
    check_metadata(
        summary=summary,
        terms_of_service=terms_of_service,
        contact=contact,
        license_info=license_info,
        openapi_tags=tags,
        servers=servers,
    )
    compiled = _compiled(routes)
    registry = SchemaRegistry()
    builder = _Builder(registry, _explicit_ids(compiled))
    for route in compiled:
        builder.add(route)
    info = info_object(
        title=title,
        version=version,
        summary=summary,
        description=description,
        terms_of_service=terms_of_service,
        contact=contact,
        license_info=license_info,
    )
    document: JSON = {"openapi": OPENAPI_VERSION, "info": info}
    if servers:
        document["servers"] = server_objects(servers)
    document["paths"] = builder.paths
    described = tag_objects(tags or (), builder.tags)
    if described:
        document["tags"] = described
    merged = _components(registry.used_by(builder.paths), components or {})
    if merged:
        document["components"] = merged
    _drop_unknown_schemes(builder.paths, merged.get("securitySchemes", {}))
    return document


def _drop_unknown_schemes(paths: JSON, schemes: Mapping[str, Any]) -> None:
    """Keep only security requirements whose schemes the document defines (a hint may name more)."""
    for item in paths.values():
        for operation in item.values():
            if "security" not in operation:
                continue
            kept = [r for r in operation["security"] if all(name in schemes for name in r)]
            if kept and kept != [{}]:
                operation["security"] = kept
            else:
                del operation["security"]


def _components(schemas: JSON, contributed: Mapping[str, Mapping[str, Any]]) -> JSON:
    """The routes' schemas, then what extensions contribute (copied: the document is the caller's to edit)."""
    merged: JSON = {"schemas": schemas} if schemas else {}
    for section, entries in contributed.items():
        target = merged.setdefault(section, {})
        for name, value in entries.items():
            target.setdefault(name, copy.deepcopy(value))
    return {section: entries for section, entries in merged.items() if entries}


def _compiled(routes: Iterable[Any]) -> list[CompiledRoute]:
    from plait.app import CompiledRoute  # the layer below; imported here, where a document is built

    found = list(routes)
    for route in found:
        if not isinstance(route, CompiledRoute):
            raise ConfigurationError(
                f"get_openapi(routes=...) takes compiled routes, not {type(route).__name__}: pass "
                "routes=app.compiled_routes() (app.routes lists the routes as declared, before compilation)."
            )
    return found


def openapi_path(template: PathTemplate) -> str:
    """``/users/{id:int}`` written the OpenAPI way, ``/users/{id}``."""
    return "/" + "/".join(f"{{{s.name}}}" if s.name else s.text for s in template.segments)


def _explicit_ids(routes: Iterable[CompiledRoute]) -> set[str]:
    seen: dict[str, str] = {}
    for route in routes:
        options = route.placed.route.options
        given = options.get("operation_id")
        if given is None or not options.get("include_in_schema", True):
            continue
        if given in seen:
            raise ConfigurationError(
                f"Two routes have operation_id={given!r} ({seen[given]} and {route.placed.path}); an OpenAPI "
                "operation id must be unique, so change one of them."
            )
        seen[given] = route.placed.path
    return set(seen)


@dataclass(slots=True)
class _Inputs:
    """What an operation reads from the request, gathered from the handler and every provider it runs."""

    values: list[ValueExtractor | ModelExtractor] = field(default_factory=list)
    forms: list[FormFieldExtractor | FormModelExtractor] = field(default_factory=list)
    body: CallPlan | None = None
    hints: list[tuple[CallPlan, Any]] = field(default_factory=list)  # ``__plait_openapi__`` of dependencies

    def walk(self, plan: CallPlan, seen: set[int]) -> None:
        if id(plan) in seen:
            return
        seen.add(id(plan))
        hint = getattr(plan.fn, "__plait_openapi__", None)
        if hint is not None:
            self.hints.append((plan, hint))
        self.values.extend(ex for _, ex in plan.sync_params if isinstance(ex, ValueExtractor | ModelExtractor))
        self.forms.extend(ex for _, ex in plan.async_params)
        if plan.body is not None and self.body is None:
            self.body = plan
        for _, dep in plan.deps:
            if dep.scope != "app":  # app-lifetime providers never read a request
                self.walk(dep.plan, seen)

    @property
    def empty(self) -> bool:
        return not (self.values or self.forms or self.body)


class _Builder:
    """Adds one route at a time to ``paths``, keeping operation ids unique."""

    def __init__(self, registry: SchemaRegistry, reserved: set[str]) -> None:
        self.registry = registry
        self.responses = ResponseBuilder(registry)
        self.paths: dict[str, JSON] = {}
        self.tags: list[str] = []
        self.reserved = reserved
        self.used: set[str] = set()

    def add(self, route: CompiledRoute) -> None:
        options = route.placed.route.options
        methods = [m for m in _METHODS if m in route.placed.route.methods]
        if not methods or not options.get("include_in_schema", True):
            return  # WebSocket routes and hidden ones
        inputs, seen = _Inputs(), set[int]()
        for plan in (*route.guards, route.plan):
            inputs.walk(plan, seen)
        item = self.paths.setdefault(openapi_path(route.template), {})
        for method in methods:
            try:
                operation = self._operation(route, method, len(methods) > 1, inputs)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{method} {route.placed.path} ({route.plan.name}): {exc}") from None
            item.setdefault(method.lower(), operation)
        self.tags.extend(t for t in route.placed.tags if t not in self.tags)

    def _operation(self, route: CompiledRoute, method: str, several: bool, inputs: _Inputs) -> JSON:
        placed = route.placed
        options = placed.route.options
        operation: JSON = {}
        if placed.tags:
            operation["tags"] = list(placed.tags)
        operation.update(_texts(placed.route.endpoint, options, placed.route.name))
        operation["operationId"] = self._operation_id(route, method, several)
        parameters = self._parameters(inputs.values, route.template)
        if parameters:
            operation["parameters"] = parameters
        body = self._request_body(inputs)
        if body is not None:
            operation["requestBody"] = body
        reads = "JSON" if inputs.body is not None else "form" if inputs.forms else None
        operation["responses"] = self.responses.responses(route, reads, not inputs.empty)
        if inputs.hints:
            _apply_hints(operation, inputs.hints, self.responses)
        if options.get("deprecated"):
            operation["deprecated"] = True
        return operation

    def _operation_id(self, route: CompiledRoute, method: str, several: bool) -> str:
        given = route.placed.route.options.get("operation_id")
        if given is not None:
            return given
        base = _UNSAFE_ID.sub("_", route.placed.name).strip("_") or "operation"
        if several:
            base = f"{base}_{method.lower()}"
        candidate, number = base, 2
        while candidate in self.used or candidate in self.reserved:
            candidate, number = f"{base}_{number}", number + 1
        self.used.add(candidate)
        return candidate

    # -- parameters ---------------------------------------------------------------------------------

    def _parameters(self, values: list[ValueExtractor | ModelExtractor], template: PathTemplate) -> list[JSON]:
        converters = {s.name: s.converter for s in template.segments if s.name and s.converter}
        found: dict[tuple[str, str], JSON] = {}
        for ex in values:
            if ex.marker is not None and not ex.marker.include_in_schema:
                continue
            if isinstance(ex, ModelExtractor):
                made = self._model_parameters(ex)
            else:
                made = [self._value_parameter(ex, converters.get(ex.key))]
            for parameter in made:
                name = parameter["name"].lower() if parameter["in"] == "header" else parameter["name"]
                found.setdefault((parameter["in"], name), parameter)
        return sorted(found.values(), key=lambda p: _LOCATIONS[p["in"]])

    def _value_parameter(self, ex: ValueExtractor, converter: Converter | None) -> JSON:
        tp, _ = strip_optional(ex.declared)
        schema = drop_null(self.registry.schema(tp))
        if converter is not None:
            schema = _converter_bounds(schema, converter)
        parameter: JSON = {"name": ex.key, "in": ex.source, "required": ex.source == "path" or ex.default is REQUIRED}
        _set_default(schema, ex.default)
        parameter["schema"] = schema
        _describe_parameter(parameter, ex.marker)
        return parameter

    def _model_parameters(self, ex: ModelExtractor) -> list[JSON]:
        model = self._model_schema(ex.declared)
        properties: dict[str, JSON] = model.get("properties", {})
        required = set(model.get("required", ()))
        parameters = []
        for name in ex.fields:
            schema = drop_null(copy.deepcopy(properties.get(name, {})))
            parameter: JSON = {
                "name": name.replace("_", "-") if ex.source == "header" else name,
                "in": ex.source,
                "required": name in required,
            }
            if "description" in schema:
                parameter["description"] = schema["description"]
            parameter["schema"] = schema
            parameters.append(parameter)
        return parameters

    def _model_schema(self, declared: Any) -> JSON:
        tp, _ = strip_optional(declared)
        return self.registry.resolve(self.registry.schema(tp))

    # -- request bodies -----------------------------------------------------------------------------

    def _request_body(self, inputs: _Inputs) -> JSON | None:
        if inputs.body is not None and inputs.body.body is not None:
            return self._json_body(inputs.body, inputs.body.body)
        if inputs.forms:
            return self._form_body(inputs.forms)
        return None

    def _json_body(self, plan: CallPlan, extractor: BodyExtractor) -> JSON:
        media: JSON = {"schema": self.registry.schema(extractor.tp)}
        body: JSON = {"required": extractor.default is REQUIRED, "content": {_JSON_MEDIA: media}}
        if plan.body_names is not None:  # several parameters merged into one object: document each member
            members = self.registry.resolve(media["schema"]).get("properties", {})
            for member in plan.body_fields:
                if member.marker is not None and member.key in members:
                    _describe_schema(members[member.key], member.marker)
        elif plan.body_fields and plan.body_fields[0].marker is not None:
            marker = plan.body_fields[0].marker
            if marker.description:
                body["description"] = marker.description
            if marker.examples:
                media["examples"] = {f"example{i}": {"value": v} for i, v in enumerate(marker.examples, 1)}
        return body

    def _form_body(self, forms: list[FormFieldExtractor | FormModelExtractor]) -> JSON:
        properties: dict[str, JSON] = {}
        required: list[str] = []
        for ex in forms:
            if isinstance(ex, FormModelExtractor):
                model = self._model_schema(ex.declared)
                members = model.get("properties", {})
                properties.update({name: copy.deepcopy(members.get(name, {})) for name in ex.fields})
                required.extend(name for name in model.get("required", ()) if name in ex.fields)
            elif ex.marker is None or ex.marker.include_in_schema:
                properties[ex.key] = self._form_field(ex)
                if ex.default is REQUIRED:
                    required.append(ex.key)
        schema: JSON = {"type": "object", "properties": properties}
        if required:
            schema["required"] = list(dict.fromkeys(required))
        files = any(_has_binary(s) for s in properties.values())
        media_type = "multipart/form-data" if files else "application/x-www-form-urlencoded"
        return {"required": bool(required), "content": {media_type: {"schema": schema}}}

    def _form_field(self, ex: FormFieldExtractor) -> JSON:
        if ex.is_file:
            schema = {"type": "array", "items": binary_schema()} if ex.many else binary_schema()
        else:
            tp, _ = strip_optional(ex.declared)
            schema = drop_null(self.registry.schema(tp))
            _set_default(schema, ex.default)
        if ex.marker is not None:
            _describe_schema(schema, ex.marker)
        return schema


# -- helpers ----------------------------------------------------------------------------------------

_HINT_KEYS = frozenset({"security", "responses"})


def _apply_hints(operation: JSON, hints: list[tuple[CallPlan, Any]], responses: ResponseBuilder) -> None:
    """Add what dependencies say about themselves (``__plait_openapi__``) to an operation.

    A dependency that authenticates or limits requests documents itself once, wherever it is used
    (route, router or app ``dependencies``, or a provider deep in the tree): ``security`` requirements
    are alternatives (OpenAPI ORs the objects of the list), joined without repeats; ``responses`` add
    codes the route did not declare itself (a route's own ``responses=`` wins). A response given as a
    description only gets the problem body every Plait error has.
    """
    security: list[JSON] = []
    for plan, hint in hints:
        if not isinstance(hint, Mapping) or not _HINT_KEYS.issuperset(hint):
            raise ConfigurationError(
                f"{plan.name}.__plait_openapi__ must be a dict with only the keys 'security' (a list of "
                f"security requirement objects) and 'responses' (status code -> response object), not {hint!r}."
            )
        for requirement in hint.get("security", ()):
            if requirement not in security:
                security.append(copy.deepcopy(dict(requirement)))
        for code, response in hint.get("responses", {}).items():
            if str(code) not in operation["responses"]:
                made = copy.deepcopy(dict(response))
                if "content" not in made:
                    made = responses.problem(made.get("description") or f"Error {code}.") | made
                operation["responses"][str(code)] = made
    operation["responses"] = dict(sorted(operation["responses"].items()))
    if security:
        operation["security"] = security


def _texts(endpoint: Any, options: Mapping[str, Any], name: str) -> JSON:
    """The summary and description of an operation: the route's options, else the handler's docstring.

    The docstring's first line is the summary and the rest the description; when the route gives its
    own ``summary``, the whole docstring is the description.
    """
    first, rest = _documentation(endpoint)
    summary = options.get("summary")
    if summary:
        rest = inspect.getdoc(endpoint) if first else None
    description = options.get("description") or rest
    texts: JSON = {"summary": summary or first or _title(name)}
    if description:
        texts["description"] = description
    return texts


def _documentation(endpoint: Any) -> tuple[str | None, str | None]:
    """The summary (first line) and description (the rest) of a handler's docstring."""
    doc = inspect.getdoc(endpoint) if inspect.isroutine(endpoint) else None
    if not doc:
        return None, None
    first, _, rest = doc.strip().partition("\n")
    return first.strip(), rest.strip() or None


def _title(name: str) -> str:
    """``create_item`` as a summary: ``Create Item``."""
    return " ".join(word.capitalize() for word in name.replace(".", " ").split("_") if word) or name


def _converter_bounds(schema: JSON, converter: Converter) -> JSON:
    """Narrow a path parameter's schema to what its converter matches (``{id:int}`` is never negative)."""
    kind = schema.get("type")
    if isinstance(converter, IntConverter | FloatConverter) and kind in ("integer", "number"):
        if schema.get("minimum", -1) < 0 and schema.get("exclusiveMinimum", -1) < 0:
            schema["minimum"] = 0
    elif kind == "string" and converter.pattern != ".*" and not {"pattern", "format", "enum", "const"} & schema.keys():
        schema["pattern"] = f"^(?:{converter.pattern})$"
    return schema


def _set_default(schema: JSON, default: Any) -> None:
    if default is REQUIRED or default is None:
        return
    value = json_value(default)
    if is_json(value):
        schema["default"] = value


def _examples(marker: Param) -> list[Any]:
    return [v for v in (json_value(e) for e in marker.examples or ()) if is_json(v)]


def _describe_parameter(parameter: JSON, marker: Param | None) -> None:
    if marker is None:
        return
    if marker.description:
        parameter["description"] = marker.description
    if marker.deprecated:
        parameter["deprecated"] = True
    examples = _examples(marker)
    if examples:
        parameter["examples"] = {f"example{i}": {"value": v} for i, v in enumerate(examples, 1)}
    if marker.title:
        parameter["schema"]["title"] = marker.title
    parameter["schema"].update(marker.extra)


def _describe_schema(schema: JSON, marker: Param) -> None:
    """Put a marker's documentation on a schema (form fields and members of a merged body)."""
    for key in ("title", "description"):
        if getattr(marker, key):
            schema[key] = getattr(marker, key)
    if marker.deprecated:
        schema["deprecated"] = True
    examples = _examples(marker)
    if examples:
        schema["examples"] = examples
    schema.update(marker.extra)


def _has_binary(schema: JSON) -> bool:
    """Whether a form member holds files, so the form must be sent as multipart/form-data."""
    if schema.get("format") == "binary":
        return True
    inner = [schema.get("items"), *schema.get("anyOf", ())]
    return any(isinstance(s, dict) and _has_binary(s) for s in inner)
