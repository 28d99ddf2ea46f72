"""The benchmark endpoints in Plait, written as the README teaches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import shared

from plait import Depends, JSONResponse, Middleware, Plait, Router, UploadFile


class Line(msgspec.Struct):
    sku: str
    quantity: int
    price: float


class Customer(msgspec.Struct):
    name: str
    email: str


class Order(msgspec.Struct):
    customer: Customer
    items: list[Line]
    note: str = ""


class Address(msgspec.Struct):
    street: str
    city: str
    zip: str


class Record(msgspec.Struct):
    id: int
    name: str
    active: bool
    tags: list[str]
    address: Address
    scores: list[float]


RECORDS = msgspec.convert(shared.nested_records(), list[Record])

app = Plait()


@app.get("/json")
async def json_hello() -> dict[str, str]:
    return {"message": shared.MESSAGE}


@app.get("/plaintext")
async def plaintext() -> str:
    return shared.MESSAGE


@app.get("/users/{user_id:int}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@app.get("/search")
async def search(q: str, page: int = 1, limit: int = 10) -> dict[str, str | int]:
    return {"q": q, "page": page, "limit": limit}


@app.post("/orders")
async def create_order(order: Order) -> dict[str, str | int | float]:
    total = round(sum(line.quantity * line.price for line in order.items), 2)
    return {"customer": order.customer.name, "items": len(order.items), "total": total}


@app.get("/nested")
async def nested() -> list[Record]:
    return RECORDS


async def level1() -> int:
    return 1


async def level2(value: Annotated[int, Depends(level1)]) -> int:
    return value + 1


async def level3(value: Annotated[int, Depends(level2)]) -> int:
    return value + 1


@app.get("/deps")
async def dependencies(depth: Annotated[int, Depends(level3)]) -> dict[str, int]:
    return {"depth": depth}


@app.get("/headers")
async def headers_and_cookies() -> JSONResponse:
    name, value = shared.TRACE_HEADER
    response = JSONResponse({"ok": True}, headers={name: value, "cache-control": shared.CACHE_CONTROL})
    response.set_cookie(*shared.SESSION_COOKIE, secure=False)
    response.set_cookie(*shared.THEME_COOKIE, secure=False, httponly=False)
    return response


@app.post("/upload")
async def upload(file: UploadFile) -> dict[str, str | int]:
    return {"filename": file.filename or "", "size": len(await file.read())}


def item_handler(index: int) -> Callable[[int], Any]:
    async def item(item_id: int) -> dict[str, int]:
        return {"route": index, "id": item_id}

    return item


routes = Router()
for i in range(shared.ROUTE_COUNT):
    routes.add_route(f"{shared.route_path(i)}/{{item_id:int}}", item_handler(i), name=f"route{i}")
app.include_router(routes)


# -- the middleware scenario -----------------------------------------------------------------------

MIDDLEWARE_PAYLOAD = shared.middleware_payload()


def build_middleware_app() -> Any:
    try:
        from plait.middleware import CORSMiddleware, GZipMiddleware, SecurityHeadersMiddleware
    except ImportError as exc:
        return unavailable(f"plait.middleware is not importable yet: {exc}")
    # The order plait.middleware recommends, outermost first (a constructor list reads outermost first).
    mw = Plait(
        middleware=[
            Middleware(
                SecurityHeadersMiddleware,
                frame_options=shared.SECURITY_HEADERS["x-frame-options"],
                referrer_policy=shared.SECURITY_HEADERS["referrer-policy"],
            ),
            Middleware(CORSMiddleware, allow_origins=[shared.CORS_ORIGIN]),
            Middleware(GZipMiddleware, minimum_size=shared.GZIP_MINIMUM_SIZE, compresslevel=shared.GZIP_LEVEL),
        ]
    )

    @mw.get("/mw")
    async def payload() -> dict[str, Any]:
        return MIDDLEWARE_PAYLOAD

    return mw


def unavailable(reason: str) -> Any:
    """An app that answers 501 with the reason, so the harness reports the scenario as n/a."""
    body = reason.encode()

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 501, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return asgi


mw_app = build_middleware_app()
