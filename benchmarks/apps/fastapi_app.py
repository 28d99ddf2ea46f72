"""The benchmark endpoints in FastAPI: pydantic models, ``Depends``, ``response_model`` by annotation."""

from __future__ import annotations

from typing import Annotated, Any

import shared
from asgi_security import SecurityHeadersMiddleware
from fastapi import APIRouter, Depends, FastAPI, UploadFile
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
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


class OrderSummary(BaseModel):
    customer: str
    items: int
    total: float


class Address(BaseModel):
    street: str
    city: str
    zip: str


class Record(BaseModel):
    id: int
    name: str
    active: bool
    tags: list[str]
    address: Address
    scores: list[float]


RECORDS = [Record.model_validate(record) for record in shared.nested_records()]

app = FastAPI()


@app.get("/json")
async def json_hello() -> dict[str, str]:
    return {"message": shared.MESSAGE}


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return shared.MESSAGE


@app.get("/users/{user_id}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@app.get("/search")
async def search(q: str, page: int = 1, limit: int = 10) -> dict[str, str | int]:
    return {"q": q, "page": page, "limit": limit}


@app.post("/orders")
async def create_order(order: Order) -> OrderSummary:
    total = round(sum(line.quantity * line.price for line in order.items), 2)
    return OrderSummary(customer=order.customer.name, items=len(order.items), total=total)


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
    response.set_cookie(*shared.SESSION_COOKIE, httponly=True)
    response.set_cookie(*shared.THEME_COOKIE)
    return response


@app.post("/upload")
async def upload(file: UploadFile) -> dict[str, str | int]:
    return {"filename": file.filename or "", "size": len(await file.read())}


def item_handler(index: int) -> Any:
    async def item(item_id: int) -> dict[str, int]:
        return {"route": index, "id": item_id}

    return item


router = APIRouter()
for i in range(shared.ROUTE_COUNT):
    router.add_api_route(f"{shared.route_path(i)}/{{item_id}}", item_handler(i), name=f"route{i}")
app.include_router(router)

# -- the middleware scenario -----------------------------------------------------------------------

MIDDLEWARE_PAYLOAD = shared.middleware_payload()

mw_app = FastAPI()
# add_middleware puts the last one added outermost: this order gives CORS → GZip → security headers.
mw_app.add_middleware(SecurityHeadersMiddleware)
mw_app.add_middleware(GZipMiddleware, minimum_size=shared.GZIP_MINIMUM_SIZE, compresslevel=shared.GZIP_LEVEL)
mw_app.add_middleware(CORSMiddleware, allow_origins=[shared.CORS_ORIGIN])


@mw_app.get("/mw")
async def payload() -> dict[str, Any]:
    return MIDDLEWARE_PAYLOAD
