"""The SQLite ceiling: raw aiosqlite on raw ASGI, a pool of 4 connections per worker.

The same answers as ``raw_app.py`` (its page and JSON code is reused), on the SQLite file
``seed.py`` wrote (WAL). Connections get the pragmas Plait's data layer sets (WAL, a busy timeout,
``synchronous=NORMAL``); updates go out as one ``executemany`` in one transaction.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiosqlite
import msgspec
import raw_app
import tfb

READ_ROW = f"select id, randomnumber from {tfb.WORLD_TABLE} where id = ?"  # noqa: S608
WRITE_ROW = f"update {tfb.WORLD_TABLE} set randomnumber = ? where id = ?"  # noqa: S608
ALL_FORTUNES = f"select id, message from {tfb.FORTUNE_TABLE}"  # noqa: S608

encode = msgspec.json.encode
pool: asyncio.Queue[aiosqlite.Connection] | None = None


async def _row(connection: aiosqlite.Connection, world_id: int) -> tuple[int, int]:
    async with connection.execute(READ_ROW, (world_id,)) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # every id 1..10,000 exists (seed.py)
    return row[0], row[1]


async def single(connection: aiosqlite.Connection) -> bytes:
    world_id, number = await _row(connection, tfb.random_id())
    return encode({"id": world_id, "randomNumber": number})


async def queries(connection: aiosqlite.Connection, count: int) -> bytes:
    worlds = []
    for world_id in tfb.random_ids(count):
        found, number = await _row(connection, world_id)
        worlds.append({"id": found, "randomNumber": number})
    return encode(worlds)


async def updates(connection: aiosqlite.Connection, count: int) -> bytes:
    worlds = []
    for world_id in sorted(tfb.random_ids(count)):
        found, number = await _row(connection, world_id)
        worlds.append({"id": found, "randomNumber": tfb.new_number(number)})
    await connection.executemany(WRITE_ROW, [(world["randomNumber"], world["id"]) for world in worlds])
    await connection.commit()
    return encode(worlds)


async def fortunes(connection: aiosqlite.Connection) -> bytes:
    async with connection.execute(ALL_FORTUNES) as cursor:
        rows = [(row[0], row[1]) for row in await cursor.fetchall()]
    return raw_app.fortunes_page(rows)


async def http(scope: dict[str, Any], send: Any) -> None:
    if pool is None:
        raise RuntimeError("the pool opens at lifespan startup; serve this app with lifespan on")
    path = scope["path"]
    connection = await pool.get()
    try:
        if path == "/db":
            return await raw_app._send(send, 200, raw_app.JSON_HEADERS, await single(connection))
        if path in ("/queries", "/updates"):
            count = raw_app._count(scope["query_string"])
            body = await (queries(connection, count) if path == "/queries" else updates(connection, count))
            return await raw_app._send(send, 200, raw_app.JSON_HEADERS, body)
        if path == "/fortunes":
            return await raw_app._send(send, 200, raw_app.HTML_HEADERS, await fortunes(connection))
    finally:
        pool.put_nowait(connection)
    return await raw_app._send(send, 404, raw_app.TEXT_HEADERS, b"Not Found")


async def _connect() -> aiosqlite.Connection:
    connection = await aiosqlite.connect(tfb.SQLITE_PATH)
    for pragma in ("journal_mode=WAL", "busy_timeout=5000", "synchronous=NORMAL"):
        await connection.execute(f"pragma {pragma}")
    return connection


async def lifespan(receive: Any, send: Any) -> None:
    global pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            pool = asyncio.Queue()
            for _ in range(tfb.POOL_SIZE):
                pool.put_nowait(await _connect())
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            while pool is not None and not pool.empty():
                await pool.get_nowait().close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await http(scope, send)
    elif scope["type"] == "lifespan":
        await lifespan(receive, send)
