"""Create and fill the TechEmpower tables: ``python benchmarks/db/seed.py [postgres|sqlite|both]``.

Idempotent: the tables are dropped and rebuilt, ``World`` with 10,000 rows of random numbers
1..10,000, ``Fortune`` with the 12 standard rows. SQLite is switched to WAL, as it is served.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys

import tfb


def _worlds() -> list[tuple[int, int]]:
    return [(i, tfb.random_id()) for i in range(1, tfb.WORLD_ROWS + 1)]


def _ddl() -> list[str]:
    return [
        f"drop table if exists {tfb.WORLD_TABLE}",
        f"drop table if exists {tfb.FORTUNE_TABLE}",
        f"create table {tfb.WORLD_TABLE} (id integer primary key, randomnumber integer not null)",
        f"create table {tfb.FORTUNE_TABLE} (id integer primary key, message varchar(2048) not null)",
    ]


async def seed_postgres() -> None:
    import asyncpg

    connection = await asyncpg.connect(tfb.POSTGRES_DSN, timeout=5)
    try:
        async with connection.transaction():
            for statement in _ddl():
                await connection.execute(statement)
            await connection.copy_records_to_table(tfb.WORLD_TABLE, records=_worlds())
            await connection.copy_records_to_table(tfb.FORTUNE_TABLE, records=tfb.FORTUNES)
        await connection.execute(f"analyze {tfb.WORLD_TABLE}; analyze {tfb.FORTUNE_TABLE}")
    finally:
        await connection.close()


def seed_sqlite() -> None:
    tfb.SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(tfb.SQLITE_PATH)
    try:
        connection.execute("pragma journal_mode=wal")
        with connection:
            for statement in _ddl():
                connection.execute(statement)
            connection.executemany(f"insert into {tfb.WORLD_TABLE} values (?, ?)", _worlds())  # noqa: S608
            connection.executemany(f"insert into {tfb.FORTUNE_TABLE} values (?, ?)", tfb.FORTUNES)  # noqa: S608
    finally:
        connection.close()


def main(which: str = "both") -> None:
    if which not in ("postgres", "sqlite", "both"):
        raise SystemExit("usage: seed.py [postgres|sqlite|both]")
    if which in ("postgres", "both"):
        asyncio.run(seed_postgres())
        print(f"postgres: {tfb.WORLD_TABLE} ({tfb.WORLD_ROWS} rows), {tfb.FORTUNE_TABLE} ({len(tfb.FORTUNES)} rows)")
    if which in ("sqlite", "both"):
        seed_sqlite()
        print(f"sqlite {tfb.SQLITE_PATH}: {tfb.WORLD_TABLE}, {tfb.FORTUNE_TABLE}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
