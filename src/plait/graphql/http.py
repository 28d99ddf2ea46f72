"""GraphQL over HTTP: ``GET`` (queries only), ``POST`` JSON, and multipart uploads.

A ``GET`` carries ``query``, ``variables`` (JSON) and ``operationName`` in the query string and may
only run queries: a mutation over GET is refused with 405, since links, prefetchers and caches
issue GETs without asking anyone. A ``POST`` carries a JSON object with the same members
(``Content-Type: application/json``). Uploads follow the GraphQL multipart request spec: a
``multipart/form-data`` POST with an ``operations`` field (the JSON request, files as ``null``), a
``map`` field (``{"0": ["variables.file"]}``) and the files under the map's keys. A form post is
what any web page can make a browser send to another site, so a multipart request must also carry
a header a page cannot add without a CORS preflight (``GraphQL-Require-Preflight: 1``, or Apollo's
``Apollo-Require-Preflight``/``X-Apollo-Operation-Name``); without it, it is refused with 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from plait.datastructures import UploadFile
from plait.exceptions import HTTPException
from plait.responses import Response

if TYPE_CHECKING:
    from plait.graphql.extension import GraphQL
    from plait.requests import Request

PREFLIGHT_HEADERS = ("graphql-require-preflight", "apollo-require-preflight", "x-apollo-operation-name")
_QUERIES = frozenset({OperationType.QUERY})
_ALL = frozenset({OperationType.QUERY, OperationType.MUTATION})


class BadRequest(Exception):
    """A request that is not a GraphQL request; answered with ``status`` and one error, as GraphQL JSON."""

    def __init__(self, message: str, status: int = 400, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


def json_response(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(content), status, headers, media_type="application/json")


def error_response(exc: BadRequest) -> Response:
    body = {"data": None, "errors": [{"message": str(exc), "extensions": {"code": "BAD_REQUEST"}}]}
    return json_response(body, exc.status, exc.headers)


async def handle(ext: GraphQL, request: Request) -> Response:
    """Answer one HTTP request to the GraphQL path."""
    try:
        if request.method in ("GET", "HEAD"):
            if "query" not in request.query_params and ext.wants_graphiql(request):
                return ext.graphiql_page(request)
            params, allowed = _from_query(request), _QUERIES
        else:
            params, allowed = await _from_body(ext, request), _ALL
        return await _run(ext, request, params, allowed)
    except BadRequest as exc:
        return error_response(exc)


async def _run(ext: GraphQL, request: Request, params: dict[str, Any], allowed: Iterable[OperationType]) -> Response:
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise BadRequest("No GraphQL query: send one as `query` (the query string of a GET, or a JSON body).")
    if len(query.encode("utf-8", "surrogatepass")) > ext.max_document_size:
        raise BadRequest(
            f"The GraphQL document is larger than {ext.max_document_size} bytes (GraphQL(max_document_size=...)).",
            413,
        )
    variables = params.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("`variables` must be a JSON object.")
    name = params.get("operationName")
    if name is not None and not isinstance(name, str):
        raise BadRequest("`operationName` must be a string.")
    try:
        body = await ext.executor.execute(request, query, variables, name, allowed)
    except InvalidOperationTypeError as exc:
        if exc.operation_type is OperationType.SUBSCRIPTION:
            raise BadRequest("Subscriptions run over the WebSocket (graphql-transport-ws), not HTTP.") from None
        raise BadRequest("Mutations are not allowed over GET; send them as a POST.", 405, {"Allow": "POST"}) from None
    except (MissingQueryError, CannotGetOperationTypeError) as exc:
        raise BadRequest(str(exc) or "Cannot tell which operation to run; send operationName.") from None
    return json_response(body)


def _from_query(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    text = params.get("variables")
    if text:
        params["variables"] = _decode(text, "variables")
    return params


async def _from_body(ext: GraphQL, request: Request) -> dict[str, Any]:
    content_type = request.content_type.split(";", 1)[0].strip().lower()
    if content_type in ("application/json", "application/graphql-response+json"):
        try:
            body = await request.json()
        except HTTPException as exc:
            raise BadRequest(str(exc.detail), exc.status_code) from None
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object with `query` (batched requests are not supported).")
        return body
    if content_type == "multipart/form-data":
        return await _multipart(ext, request)
    raise BadRequest(
        "Send GraphQL requests as application/json (or multipart/form-data for uploads).",
        415,
    )


async def _multipart(ext: GraphQL, request: Request) -> dict[str, Any]:
    if not ext.uploads:
        raise BadRequest("Uploads are turned off (GraphQL(uploads=False)); send application/json.", 415)
    # Why: a form POST is a "simple" cross-site request that needs no preflight; a custom header
    # makes the browser ask first, which CORS then refuses for other origins (Apollo does the same).
    if not any(name in request.headers for name in PREFLIGHT_HEADERS):
        raise BadRequest("A multipart GraphQL request needs the header `GraphQL-Require-Preflight: 1` (CSRF guard).")
    try:
        form = await request.form()
    except HTTPException as exc:
        raise BadRequest(str(exc.detail), exc.status_code) from None
    operations = _decode(_text(form.get("operations"), "operations"), "operations")
    mapping = _decode(_text(form.get("map"), "map"), "map")
    if not isinstance(operations, dict) or not isinstance(mapping, dict):
        raise BadRequest("`operations` and `map` must be JSON objects (GraphQL multipart request spec).")
    for key, paths in mapping.items():
        upload = form.get(key)
        if not isinstance(upload, UploadFile):
            raise BadRequest(f"`map` names the file {key!r}, which the request does not hold.")
        if not isinstance(paths, list) or not paths:
            raise BadRequest(f"`map[{key!r}]` must be a list of paths such as ['variables.file'].")
        for path in paths:
            _place(operations, path, upload)
    return operations


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"A multipart GraphQL request needs the form field `{name}` (GraphQL multipart request spec).")
    return value


def _decode(text: str, name: str) -> Any:
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        raise BadRequest(f"`{name}` is not valid JSON.") from None


def _place(operations: dict[str, Any], path: Any, upload: UploadFile) -> None:
    """Put ``upload`` where ``path`` (``variables.files.0``) points; only ``variables`` may hold files."""
    if not isinstance(path, str) or not path.startswith("variables."):
        raise BadRequest(f"Cannot place a file at {path!r}: map paths start with 'variables.'.")
    *parents, last = path.split(".")
    target: Any = operations
    for part in parents:
        target = _step(target, part, path)
    if isinstance(target, dict) and last in target and target[last] is None:
        target[last] = upload
    elif isinstance(target, list) and last.isdigit() and int(last) < len(target) and target[int(last)] is None:
        target[int(last)] = upload
    else:
        raise BadRequest(f"Cannot place a file at {path!r}: the operations hold no null there.")


def _step(target: Any, part: str, path: str) -> Any:
    if isinstance(target, dict) and part in target:
        return target[part]
    if isinstance(target, list) and part.isdigit() and int(part) < len(target):
        return target[int(part)]
    raise BadRequest(f"Cannot place a file at {path!r}: the operations have nothing at {part!r}.")
