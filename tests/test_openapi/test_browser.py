"""The docs pages of the demo app render in a real browser with every non-loopback request blocked."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route, sync_playwright

from tests.test_cli.test_serve_e2e import poll, stop
from tests.test_hardening.server import free_port, plait_command

CHROMIUM = "/usr/bin/chromium"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run); never skipped there
    if os.environ.get("CI") == "true":
        raise RuntimeError("Debian's chromium is missing on CI; .ci/run should have installed it.")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PLAIT_SECRET_KEY": "browser-test"}
    log = (tmp_path_factory.mktemp("serve") / "server.log").open("wb")
    command = [*plait_command(), "serve", f"{EXAMPLE}:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        poll(f"http://127.0.0.1:{port}/", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def render(url: str, ready: str) -> tuple[int, list[str]]:
    """Open ``url`` offline; return how many ``ready`` elements appeared and what was blocked."""
    blocked: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.route("**/*", only_loopback)
            page.goto(url)
            page.wait_for_selector(ready, timeout=15_000)
            return page.locator(ready).count(), blocked
        finally:
            browser.close()


def test_swagger_ui_renders_every_operation_offline(base_url: str) -> None:
    count, blocked = render(f"{base_url}/docs", ".opblock")
    assert count == 5  # /, /hello/{name}, /search, /items, /api/me
    assert blocked == []


def test_redoc_renders_offline(base_url: str) -> None:
    count, blocked = render(f"{base_url}/redoc", "li[data-item-id^='operation/']")
    assert count == 5
    # ReDoc's footer links its maker's logo from the web; it is the only outside request and hides itself.
    assert all(urlsplit(url).path.endswith((".png", ".svg")) for url in blocked)


def test_chromium_is_debians() -> None:
    assert shutil.which("chromium") == CHROMIUM
