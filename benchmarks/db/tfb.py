"""What every database app serves and the checker expects: the TechEmpower tables, rules and page.

The tables carry a ``bench_`` prefix so they never meet the test suite's tables in the shared
PostgreSQL ``test`` database. The backend is chosen by ``BENCH_DB`` (``postgres`` or ``sqlite``).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

WORLD_TABLE = "bench_world"
FORTUNE_TABLE = "bench_fortune"
WORLD_ROWS = 10_000
MAX_QUERIES = 500
POOL_SIZE = 4  # connections per worker, the same for every app

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SQLITE_PATH = Path(__file__).resolve().parent.parent / ".generated" / "tfb.sqlite3"

# The 12 rows of the TechEmpower Fortune table; the <script> row checks escaping, the last one UTF-8.
FORTUNES = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
]
ADDED_FORTUNE = (0, "Additional fortune added at request time.")

# The page of the published rules; Jinja2 escapes each cell (autoescape on).
FORTUNES_TEMPLATE = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
    "{% for id, message in fortunes %}<tr><td>{{ id }}</td><td>{{ message }}</td></tr>{% endfor %}"
    "</table></body></html>"
)
HTML_TYPE = "text/html; charset=utf-8"


def backend() -> str:
    """``postgres`` or ``sqlite``, from ``BENCH_DB`` (default ``postgres``)."""
    name = os.environ.get("BENCH_DB", "postgres")
    if name not in ("postgres", "sqlite"):
        raise SystemExit(f"BENCH_DB={name!r}: use postgres or sqlite")
    return name


def sqlalchemy_url() -> str:
    """The URL Plait's ``Database()`` takes for the chosen backend."""
    return POSTGRES_DSN if backend() == "postgres" else f"sqlite:///{SQLITE_PATH}"


def random_id() -> int:
    return random.randint(1, WORLD_ROWS)  # noqa: S311 - benchmark data, not security


def random_ids(count: int) -> list[int]:
    """``count`` distinct ids (TechEmpower: each query of one request reads a different row)."""
    return random.sample(range(1, WORLD_ROWS + 1), count)


def new_number(old: int) -> int:
    """A random number that differs from ``old``, so every update really changes the row."""
    number = random_id()
    return number if number != old else number % WORLD_ROWS + 1


def query_count(raw: str | None) -> int:
    """``?queries=``: an integer clamped to 1..500; anything else counts as 1 (the published rule)."""
    try:
        count = int(raw) if raw is not None else 1
    except ValueError:
        return 1
    return min(max(count, 1), MAX_QUERIES)


def sorted_fortunes(rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The rows plus the one added at request time, sorted by message."""
    return sorted([*rows, ADDED_FORTUNE], key=lambda row: row[1])
