"""The ceiling: raw asyncpg on raw ASGI, PostgreSQL only, a pool of 4 connections per worker.

Every statement is prepared once per connection (asyncpg's statement cache); updates go out as one
``executemany`` batch, which the published rules allow.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import msgspec
import tfb

READ_ROW = f"select id, randomnumber from {tfb.WORLD_TABLE} where id = $1"  # noqa: S608
WRITE_ROW = f"update {tfb.WORLD_TABLE} set randomnumber = $2 where id = $1"  # noqa: S608
ALL_FORTUNES = f"select id, message from {tfb.FORTUNE_TABLE}"  # noqa: S608

JSON_HEADERS = [(b"content-type", b"application/json")]
HTML_HEADERS = [(b"content-type", tfb.HTML_TYPE.encode())]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]

encode = msgspec.json.encode
pool: asyncpg.Pool | None = None


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _count(query_string: bytes) -> int:
    values = parse_qs(query_string.decode("latin-1")).get("queries")
    return tfb.query_count(values[0] if values else None)


async def single(connection: asyncpg.Connection) -> bytes:
    row = await connection.fetchrow(READ_ROW, tfb.random_id())
    return encode({"id": row[0], "randomNumber": row[1]})


async def queries(connection: asyncpg.Connection, count: int) -> bytes:
    statement = await connection.prepare(READ_ROW)
    worlds = []
    for world_id in tfb.random_ids(count):
        row = await statement.fetchrow(world_id)
        worlds.append({"id": row[0], "randomNumber": row[1]})
    return encode(worlds)


async def updates(connection: asyncpg.Connection, count: int) -> bytes:
    statement = await connection.prepare(READ_ROW)
    worlds = []
    for world_id in sorted(tfb.random_ids(count)):  # sorted: concurrent batches lock rows in one order
        row = await statement.fetchrow(world_id)
        worlds.append({"id": row[0], "randomNumber": tfb.new_number(row[1])})
    await connection.executemany(WRITE_ROW, [(world["id"], world["randomNumber"]) for world in worlds])
    return encode(worlds)


def fortunes_page(rows: list[tuple[int, str]]) -> bytes:
    cells = "".join(f"<tr><td>{i}</td><td>{escape(message)}</td></tr>" for i, message in tfb.sorted_fortunes(rows))
    return (
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        f"<tr><th>id</th><th>message</th></tr>{cells}</table></body></html>"
    ).encode()


async def http(scope: dict[str, Any], send: Any) -> None:
    if pool is None:
        raise RuntimeError("the pool opens at lifespan startup; serve this app with lifespan on")
    path = scope["path"]
    async with pool.acquire() as connection:
        if path == "/db":
            return await _send(send, 200, JSON_HEADERS, await single(connection))
        if path == "/queries":
            return await _send(send, 200, JSON_HEADERS, await queries(connection, _count(scope["query_string"])))
        if path == "/updates":
            return await _send(send, 200, JSON_HEADERS, await updates(connection, _count(scope["query_string"])))
        if path == "/fortunes":
            rows = [(row[0], row[1]) for row in await connection.fetch(ALL_FORTUNES)]
            return await _send(send, 200, HTML_HEADERS, fortunes_page(rows))
    return await _send(send, 404, TEXT_HEADERS, b"Not Found")


async def lifespan(receive: Any, send: Any) -> None:
    global pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            pool = await asyncpg.create_pool(tfb.POSTGRES_DSN, min_size=tfb.POOL_SIZE, max_size=tfb.POOL_SIZE)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if pool is not None:
                await pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await http(scope, send)
    elif scope["type"] == "lifespan":
        await lifespan(receive, send)
