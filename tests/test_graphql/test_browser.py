"""GraphiQL works offline: the model-driven example served for real, Chromium with every non-local request aborted."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Response, Route, sync_playwright

from tests.test_cli.test_serve_e2e import poll, stop
from tests.test_hardening.server import free_port, plait_command

CHROMIUM = "/usr/bin/chromium"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "models" / "app.py"
SCREENSHOT = Path("/tmp/plait-parts/graphiql.png")

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run); never skipped there
    if os.environ.get("CI") == "true":
        raise RuntimeError("Debian's chromium is missing on CI; .ci/run should have installed it.")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("graphiql")
    shutil.copy(EXAMPLE, folder / "app.py")
    # Debug mode turns GraphiQL on (it is off in production unless GraphQL(graphiql=True)).
    env = {**os.environ, "PLAIT_APP": "app.py", "PLAIT_SECRET_KEY": "graphiql-test", "PLAIT_DEBUG": "true"}
    env.pop("PLAIT_DATABASE_URL", None)
    env.pop("PLAIT_DATABASE_MIGRATIONS", None)
    for step in (("db", "init"), ("db", "migrate"), ("db", "makemigrations", "-m", "articles"), ("db", "migrate")):
        done = subprocess.run([*plait_command(), *step], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    log = (folder / "server.log").open("wb")
    command = [*plait_command(), "serve", "app.py:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    try:
        poll(f"http://127.0.0.1:{port}/openapi.json", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def ours(response: Response) -> bool:
    """The answer to the query typed in (GraphiQL also posts its own introspection query)."""
    request = response.request
    return response.url.endswith("/graphql") and request.method == "POST" and "articles" in (request.post_data or "")


def test_graphiql_loads_offline_and_runs_a_query(base_url: str) -> None:
    blocked: list[str] = []
    loaded: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            loaded.append(route.request.url)
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.route("**/*", only_loopback)
            page.goto(f"{base_url}/graphql")
            editor = page.locator(".graphiql-query-editor .CodeMirror").first
            editor.wait_for(timeout=15_000)
            editor.evaluate("(node) => node.CodeMirror.setValue('{ articles { total items { title } } }')")
            with page.expect_response(ours) as answer:
                page.locator(".graphiql-execute-button").first.click()
            assert answer.value.json() == {"data": {"articles": {"total": 0, "items": []}}}
            result = page.locator(".result-window")
            result.get_by_text('"total": 0').wait_for(timeout=15_000)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert blocked == []
    assert any(url.endswith("/graphql/graphiql/graphiql.min.js") for url in loaded)
