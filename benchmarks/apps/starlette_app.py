"""The benchmark endpoints in Starlette: a route list, pydantic for the body, plain calls for "dependencies"."""

from __future__ import annotations

from typing import Any

import shared
from asgi_security import SecurityHeadersMiddleware
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


class Line(BaseModel):
    sku: str
    quantity: int
    price: float


class Customer(BaseModel):
    name: str
    email: str


class Order(BaseModel):
    customer: Customer
    items: list[Line]
    note: str = ""


RECORDS = shared.nested_records()


async def json_hello(request: Request) -> Response:
    return JSONResponse({"message": shared.MESSAGE})


async def plaintext(request: Request) -> Response:
    return PlainTextResponse(shared.MESSAGE)


async def user(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["user_id"]})


async def search(request: Request) -> Response:
    params = request.query_params
    try:
        result = {"q": params["q"], "page": int(params.get("page", 1)), "limit": int(params.get("limit", 10))}
    except (KeyError, ValueError):
        return PlainTextResponse("bad query", status_code=422)
    return JSONResponse(result)


async def create_order(request: Request) -> Response:
    try:
        order = Order.model_validate_json(await request.body())
    except ValidationError as exc:
        return JSONResponse(exc.errors(include_url=False), status_code=422)
    total = round(sum(line.quantity * line.price for line in order.items), 2)
    return JSONResponse({"customer": order.customer.name, "items": len(order.items), "total": total})


async def nested(request: Request) -> Response:
    return JSONResponse(RECORDS)


async def level1() -> int:
    return 1


async def level2() -> int:
    return await level1() + 1


async def level3() -> int:
    return await level2() + 1


async def dependencies(request: Request) -> Response:
    return JSONResponse({"depth": await level3()})


async def headers_and_cookies(request: Request) -> Response:
    name, value = shared.TRACE_HEADER
    response = JSONResponse({"ok": True}, headers={name: value, "cache-control": shared.CACHE_CONTROL})
    response.set_cookie(*shared.SESSION_COOKIE, httponly=True)
    response.set_cookie(*shared.THEME_COOKIE)
    return response


async def upload(request: Request) -> Response:
    async with request.form() as form:
        file = form[shared.UPLOAD_FIELD]
        if not isinstance(file, UploadFile):
            return PlainTextResponse("no file", status_code=422)
        data = await file.read()
        return JSONResponse({"filename": file.filename, "size": len(data)})


def item_handler(index: int) -> Any:
    async def item(request: Request) -> Response:
        return JSONResponse({"route": index, "id": request.path_params["item_id"]})

    return item


routes = [
    Route("/json", json_hello),
    Route("/plaintext", plaintext),
    Route("/users/{user_id:int}", user),
    Route("/search", search),
    Route("/orders", create_order, methods=["POST"]),
    Route("/nested", nested),
    Route("/deps", dependencies),
    Route("/headers", headers_and_cookies),
    Route("/upload", upload, methods=["POST"]),
    *(Route(f"{shared.route_path(i)}/{{item_id:int}}", item_handler(i)) for i in range(shared.ROUTE_COUNT)),
]
app = Starlette(routes=routes)

# -- the middleware scenario -----------------------------------------------------------------------

MIDDLEWARE_PAYLOAD = shared.middleware_payload()


async def payload(request: Request) -> Response:
    return JSONResponse(MIDDLEWARE_PAYLOAD)


mw_app = Starlette(
    routes=[Route("/mw", payload)],
    middleware=[
        Middleware(CORSMiddleware, allow_origins=[shared.CORS_ORIGIN]),
        Middleware(GZipMiddleware, minimum_size=shared.GZIP_MINIMUM_SIZE, compresslevel=shared.GZIP_LEVEL),
        Middleware(SecurityHeadersMiddleware),
    ],
)
