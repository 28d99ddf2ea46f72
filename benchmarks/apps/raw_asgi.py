"""The ceiling: the same endpoints as bare ASGI callables, with msgspec for JSON.

No framework at all — a dict of routes, hand-written parsing, pre-encoded headers — so the
distance between this app and any framework is that framework's overhead.
"""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import msgspec
import shared

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
_encode = msgspec.json.encode


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


_decode_order = msgspec.json.Decoder(Order).decode
RECORDS = shared.nested_records()
MIDDLEWARE_PAYLOAD = shared.middleware_payload()


async def respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def json_hello(scope: Scope, receive: Receive, send: Send) -> None:
    await respond(send, 200, JSON_HEADERS, _encode({"message": shared.MESSAGE}))


async def plaintext(scope: Scope, receive: Receive, send: Send) -> None:
    await respond(send, 200, TEXT_HEADERS, shared.MESSAGE.encode())


async def search(scope: Scope, receive: Receive, send: Send) -> None:
    params = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    try:
        result = {"q": params["q"], "page": int(params.get("page", 1)), "limit": int(params.get("limit", 10))}
    except (KeyError, ValueError):
        await respond(send, 422, TEXT_HEADERS, b"bad query")
        return
    await respond(send, 200, JSON_HEADERS, _encode(result))


async def create_order(scope: Scope, receive: Receive, send: Send) -> None:
    try:
        order = _decode_order(await read_body(receive))
    except msgspec.ValidationError:
        await respond(send, 422, TEXT_HEADERS, b"invalid order")
        return
    total = round(sum(line.quantity * line.price for line in order.items), 2)
    result = {"customer": order.customer.name, "items": len(order.items), "total": total}
    await respond(send, 200, JSON_HEADERS, _encode(result))


async def nested(scope: Scope, receive: Receive, send: Send) -> None:
    await respond(send, 200, JSON_HEADERS, _encode(RECORDS))


async def level1() -> int:
    return 1


async def level2() -> int:
    return await level1() + 1


async def level3() -> int:
    return await level2() + 1


async def dependencies(scope: Scope, receive: Receive, send: Send) -> None:
    await respond(send, 200, JSON_HEADERS, _encode({"depth": await level3()}))


async def headers_and_cookies(scope: Scope, receive: Receive, send: Send) -> None:
    name, value = shared.TRACE_HEADER
    session, session_value = shared.SESSION_COOKIE
    theme, theme_value = shared.THEME_COOKIE
    headers = [
        *JSON_HEADERS,
        (name.encode(), value.encode()),
        (b"cache-control", shared.CACHE_CONTROL.encode()),
        (b"set-cookie", f"{session}={session_value}; HttpOnly; Path=/; SameSite=Lax".encode()),
        (b"set-cookie", f"{theme}={theme_value}; Path=/".encode()),
    ]
    await respond(send, 200, headers, _encode({"ok": True}))


def multipart_file(content_type: bytes, body: bytes) -> tuple[str, int] | None:
    """The first file part of a multipart body as (filename, size): just enough parsing for the ceiling."""
    _, _, boundary = content_type.partition(b"boundary=")
    delimiter = b"--" + boundary.strip(b'"')
    for part in body.split(delimiter)[1:-1]:
        head, _, data = part.partition(b"\r\n\r\n")
        _, found, rest = head.partition(b'filename="')
        if found:
            return rest.partition(b'"')[0].decode(), len(data) - 2  # the part ends with CRLF
    return None


async def upload(scope: Scope, receive: Receive, send: Send) -> None:
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    found = multipart_file(content_type, await read_body(receive))
    if found is None:
        await respond(send, 422, TEXT_HEADERS, b"no file")
        return
    await respond(send, 200, JSON_HEADERS, _encode({"filename": found[0], "size": found[1]}))


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await respond(send, 404, TEXT_HEADERS, b"Not Found")


STATIC: dict[str, Handler] = {
    "/json": json_hello,
    "/plaintext": plaintext,
    "/search": search,
    "/orders": create_order,
    "/nested": nested,
    "/deps": dependencies,
    "/headers": headers_and_cookies,
    "/upload": upload,
}
ROUTES = {shared.route_path(i).lstrip("/"): i for i in range(shared.ROUTE_COUNT)}


async def dynamic(path: str, send: Send) -> bool:
    """``/users/{id}`` and ``/route{i}/{item_id}``: split once, look the head up in a dict."""
    head, _, tail = path[1:].partition("/")
    if not tail.isdigit():
        return False
    if head == "users":
        await respond(send, 200, JSON_HEADERS, _encode({"id": int(tail)}))
        return True
    index = ROUTES.get(head)
    if index is None:
        return False
    await respond(send, 200, JSON_HEADERS, _encode({"route": index, "id": int(tail)}))
    return True


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    path = scope["path"]
    handler = STATIC.get(path)
    if handler is not None:
        await handler(scope, receive, send)
    elif not await dynamic(path, send):
        await not_found(scope, receive, send)


# -- the middleware scenario: CORS, gzip and security headers done inline, once -------------------


async def mw_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    request_headers = dict(scope["headers"])
    body = _encode(MIDDLEWARE_PAYLOAD)
    headers = [*JSON_HEADERS, *((k.encode(), v.encode()) for k, v in shared.SECURITY_HEADERS.items())]
    if request_headers.get(b"origin") == shared.CORS_ORIGIN.encode():
        headers += [(b"access-control-allow-origin", shared.CORS_ORIGIN.encode()), (b"vary", b"Origin")]
    if b"gzip" in request_headers.get(b"accept-encoding", b"") and len(body) >= shared.GZIP_MINIMUM_SIZE:
        body = gzip.compress(body, compresslevel=shared.GZIP_LEVEL, mtime=0)
        headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
    await respond(send, 200, headers, body)
