"""The benchmark endpoints in Litestar: msgspec structs, ``Provide`` dependencies, app-level configs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import shared
from litestar import Litestar, MediaType, Response, Router, get, post
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import Cookie, ResponseHeader, UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body


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


@dataclass
class Upload:
    file: UploadFile


RECORDS = msgspec.convert(shared.nested_records(), list[Record])


@get("/json")
async def json_hello() -> dict[str, str]:
    return {"message": shared.MESSAGE}


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return shared.MESSAGE


@get("/users/{user_id:int}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@get("/search")
async def search(q: str, page: int = 1, limit: int = 10) -> dict[str, str | int]:
    return {"q": q, "page": page, "limit": limit}


@post("/orders", status_code=200)
async def create_order(data: Order) -> dict[str, str | int | float]:
    total = round(sum(line.quantity * line.price for line in data.items), 2)
    return {"customer": data.customer.name, "items": len(data.items), "total": total}


@get("/nested")
async def nested() -> list[Record]:
    return RECORDS


async def level1() -> int:
    return 1


async def level2(one: int) -> int:
    return one + 1


async def level3(two: int) -> int:
    return two + 1


@get(
    "/deps",
    dependencies={"one": Provide(level1), "two": Provide(level2), "three": Provide(level3)},
)
async def dependencies(three: int) -> dict[str, int]:
    return {"depth": three}


@get("/headers")
async def headers_and_cookies() -> Response[dict[str, bool]]:
    name, value = shared.TRACE_HEADER
    session, session_value = shared.SESSION_COOKIE
    theme, theme_value = shared.THEME_COOKIE
    return Response(
        {"ok": True},
        headers={name: value, "cache-control": shared.CACHE_CONTROL},
        cookies=[Cookie(key=session, value=session_value, httponly=True), Cookie(key=theme, value=theme_value)],
    )


@post("/upload", status_code=200)
async def upload(data: Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)]) -> dict[str, str | int]:
    content = await data.file.read()
    return {"filename": data.file.filename, "size": len(content)}


def item_handler(index: int) -> HTTPRouteHandler:
    async def item(item_id: int) -> dict[str, int]:
        return {"route": index, "id": item_id}

    return get(f"{shared.route_path(index)}/{{item_id:int}}", name=f"route{index}")(item)


routes = Router(path="/", route_handlers=[item_handler(i) for i in range(shared.ROUTE_COUNT)])

app = Litestar(
    route_handlers=[
        json_hello,
        plaintext,
        user,
        search,
        create_order,
        nested,
        dependencies,
        headers_and_cookies,
        upload,
        routes,
    ],
)

# -- the middleware scenario -----------------------------------------------------------------------

MIDDLEWARE_PAYLOAD = shared.middleware_payload()


@get("/mw")
async def payload() -> dict[str, Any]:
    return MIDDLEWARE_PAYLOAD


mw_app = Litestar(
    route_handlers=[payload],
    cors_config=CORSConfig(allow_origins=[shared.CORS_ORIGIN]),
    compression_config=CompressionConfig(
        backend="gzip", minimum_size=shared.GZIP_MINIMUM_SIZE, gzip_compress_level=shared.GZIP_LEVEL
    ),
    response_headers=[ResponseHeader(name=name, value=value) for name, value in shared.SECURITY_HEADERS.items()],
)
