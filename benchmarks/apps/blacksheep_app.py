"""The benchmark endpoints in BlackSheep: ``FromJSON`` with pydantic, rodi services, its own middlewares.

BlackSheep's dependency injection (rodi) resolves services by type and its factories are
synchronous, so the three nested "dependencies" here are three scoped services that need each other.
"""

from __future__ import annotations

from typing import Any

import shared
from blacksheep import Application, Cookie, FromFiles, FromJSON, Request, Response, Router, json, text
from blacksheep.server.compression import GzipMiddleware
from pydantic import BaseModel


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


class Level1:
    def __init__(self) -> None:
        self.value = 1


class Level2:
    def __init__(self, level1: Level1) -> None:
        self.value = level1.value + 1


class Level3:
    def __init__(self, level2: Level2) -> None:
        self.value = level2.value + 1


RECORDS = shared.nested_records()

app = Application(router=Router())
app.services.add_scoped(Level1)
app.services.add_scoped(Level2)
app.services.add_scoped(Level3)
get = app.router.get
post = app.router.post


@get("/json")
async def json_hello() -> Response:
    return json({"message": shared.MESSAGE})


@get("/plaintext")
async def plaintext() -> Response:
    return text(shared.MESSAGE)


@get("/users/{int:user_id}")
async def user(user_id: int) -> Response:
    return json({"id": user_id})


@get("/search")
async def search(q: str, page: int = 1, limit: int = 10) -> Response:
    return json({"q": q, "page": page, "limit": limit})


@post("/orders")
async def create_order(body: FromJSON[Order]) -> Response:
    order = body.value
    total = round(sum(line.quantity * line.price for line in order.items), 2)
    return json({"customer": order.customer.name, "items": len(order.items), "total": total})


@get("/nested")
async def nested() -> Response:
    return json(RECORDS)


@get("/deps")
async def dependencies(level3: Level3) -> Response:
    return json({"depth": level3.value})


@get("/headers")
async def headers_and_cookies() -> Response:
    name, value = shared.TRACE_HEADER
    response = json({"ok": True})
    response.add_header(name.encode(), value.encode())
    response.add_header(b"cache-control", shared.CACHE_CONTROL.encode())
    response.set_cookie(Cookie(*shared.SESSION_COOKIE, http_only=True))
    response.set_cookie(Cookie(*shared.THEME_COOKIE))
    return response


@post("/upload")
async def upload(files: FromFiles) -> Response:
    part = files.value[0]
    filename = part.file_name.decode() if part.file_name else ""
    return json({"filename": filename, "size": len(part.data)})


def item_handler(index: int) -> Any:
    async def item(item_id: int) -> Response:
        return json({"route": index, "id": item_id})

    return item


for i in range(shared.ROUTE_COUNT):
    get(f"{shared.route_path(i)}/{{int:item_id}}")(item_handler(i))

# -- the middleware scenario -----------------------------------------------------------------------

MIDDLEWARE_PAYLOAD = shared.middleware_payload()
SECURITY_HEADERS = [(name.encode(), value.encode()) for name, value in shared.SECURITY_HEADERS.items()]


async def security_headers(request: Request, handler: Any) -> Response:
    response: Response = await handler(request)
    for name, value in SECURITY_HEADERS:
        response.add_header(name, value)
    return response


mw_app = Application(router=Router())
mw_app.use_cors(allow_methods="GET", allow_origins=shared.CORS_ORIGIN)
mw_app.middlewares.append(GzipMiddleware(min_size=shared.GZIP_MINIMUM_SIZE, comp_level=shared.GZIP_LEVEL))
mw_app.middlewares.append(security_headers)


@mw_app.router.get("/mw")
async def payload() -> Response:
    return json(MIDDLEWARE_PAYLOAD)
