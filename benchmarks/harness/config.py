"""What is measured, on what, and for how long: frameworks, scenarios and the two plans (full, quick)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from apps import shared

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BENCH_DIR.parent
APPS_DIR = BENCH_DIR / "apps"
PEERS_DIR = BENCH_DIR / ".venv-peers"
GENERATED_DIR = BENCH_DIR / ".generated"
RESULTS_DIR = BENCH_DIR / "results"
REQUIREMENTS = BENCH_DIR / "requirements-peers.txt"

SERVER_CORE = "0"
CLIENT_CORE = "1"
CONNECTIONS = 64
HOST = "127.0.0.1"
BASE_PORT = 18100  # framework i of phase p listens on BASE_PORT + 20 * p + i
BOUNDARY = "PlaitBenchBoundary7MA4YWxkTrZu0gW"


@dataclass(frozen=True)
class Framework:
    key: str
    title: str
    module: str
    interface: str = "asgi"  # or "wsgi"
    distribution: str = ""  # the PyPI name whose version the report shows

    def target(self, attribute: str) -> str:
        return f"{self.module}:{attribute}"


RAW = "raw"
PLAIT = "plait"

FRAMEWORKS: tuple[Framework, ...] = (
    Framework(RAW, "raw ASGI", "raw_asgi", distribution="msgspec"),
    Framework(PLAIT, "Plait", "plait_app", distribution="plait"),
    Framework("blacksheep", "BlackSheep", "blacksheep_app", distribution="blacksheep"),
    Framework("starlette", "Starlette", "starlette_app", distribution="starlette"),
    Framework("litestar", "Litestar", "litestar_app", distribution="litestar"),
    Framework("fastapi", "FastAPI", "fastapi_app", distribution="fastapi"),
    Framework("flask", "Flask (WSGI)", "flask_app", interface="wsgi", distribution="flask"),
    Framework("django", "Django (WSGI)", "django_app", interface="wsgi", distribution="django"),
)
BY_KEY = {f.key: f for f in FRAMEWORKS}


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str
    method: str = "GET"
    body: str = ""  # a file name under .generated/, sent as the request body
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    target: str = "app"  # the module attribute served: "app", or "mw_app" for the middleware scenario
    expect_status: int = 200


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("json", "JSON hello", "/json"),
    Scenario("plaintext", "plaintext", "/plaintext"),
    Scenario("path", "int path parameter", f"/users/{shared.USER_ID}"),
    Scenario("query", "query parameters", f"/search?{urlencode(shared.QUERY)}"),
    Scenario("post_1k", "POST 1 kB JSON → model", "/orders", "POST", "order-1k.json", "application/json"),
    Scenario("post_10k", "POST 10 kB JSON → model", "/orders", "POST", "order-10k.json", "application/json"),
    Scenario("nested", "100 nested objects", "/nested"),
    Scenario("deps", "3 nested async dependencies", "/deps"),
    Scenario("headers", "headers + cookies", "/headers"),
    Scenario(
        "upload",
        "1 kB multipart upload",
        "/upload",
        "POST",
        "upload-1k.bin",
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
    Scenario("not_found", "404", "/no/such/page", expect_status=404),
    Scenario(
        "routes",
        f"{shared.ROUTE_COUNT} routes, hit the last",
        f"{shared.route_path(shared.ROUTE_COUNT - 1)}/{shared.LAST_ROUTE_ITEM}",
    ),
    Scenario(
        "middleware",
        "CORS + GZip + security headers",
        "/mw",
        headers={"Origin": shared.CORS_ORIGIN, "Accept-Encoding": "gzip"},
        target="mw_app",
    ),
)
SCENARIO_BY_KEY = {s.key: s for s in SCENARIOS}
# Scenarios held to "≥ 0.93x raw ASGI"; every other one to "overhead ≤ half of Litestar's, below every peer".
CEILING_SCENARIOS = ("json", "plaintext")
CEILING_RATIO = 0.93


@dataclass(frozen=True)
class Plan:
    name: str
    frameworks: tuple[Framework, ...]
    scenarios: tuple[Scenario, ...]
    rounds: int
    duration: int  # seconds of wrk per timed cell
    warmup: int  # seconds of wrk per warm-up cell
    import_runs: int
    startup_frameworks: tuple[str, ...] = (PLAIT, "fastapi", "litestar")

    @property
    def phases(self) -> list[tuple[str, tuple[Scenario, ...]]]:
        """Scenarios grouped by the app attribute they need; each group gets its own server fleet."""
        targets = dict.fromkeys(s.target for s in self.scenarios)
        return [(t, tuple(s for s in self.scenarios if s.target == t)) for t in targets]


FULL = Plan("full", FRAMEWORKS, SCENARIOS, rounds=5, duration=3, warmup=1, import_runs=11)
QUICK = Plan(
    "quick",
    tuple(BY_KEY[k] for k in (RAW, PLAIT, "starlette", "fastapi")),
    tuple(SCENARIO_BY_KEY[k] for k in ("json", "path", "post_1k", "deps")),
    rounds=3,
    duration=3,
    warmup=1,
    import_runs=5,
)
