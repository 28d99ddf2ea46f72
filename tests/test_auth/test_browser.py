"""/docs' Authorize button logs in (OAuth2 password flow) and then calls a protected endpoint, in Chromium.

The model-driven example is migrated, given a superuser and served for real (``plait serve``); the
browser blocks every request that does not go to the server on 127.0.0.1.
"""

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
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "models" / "app.py"
SCREENSHOT = Path("/tmp/plait-parts/docs-authorize.png")
PASSWORD = "browser test superuser password"

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run); never skipped there
    if os.environ.get("CI") == "true":
        raise RuntimeError("Debian's chromium is missing on CI; .ci/run should have installed it.")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


def _run(folder: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [*plait_command(), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("docs_login")
    shutil.copy(EXAMPLE, folder / "app.py")
    env = {
        **os.environ,
        "PLAIT_APP": "app.py",
        "PLAIT_SECRET_KEY": "docs-login-test",
        "PLAIT_SUPERUSER_PASSWORD": PASSWORD,
    }
    env.pop("PLAIT_DATABASE_URL", None)
    env.pop("PLAIT_DATABASE_MIGRATIONS", None)
    for step in (("db", "init"), ("db", "migrate"), ("db", "makemigrations", "-m", "articles"), ("db", "migrate")):
        _run(folder, env, *step)
    _run(folder, env, "createsuperuser", "--no-input", "--username", "ada", "--email", "ada@example.com")
    port = free_port()
    log = (folder / "server.log").open("wb")
    command = [*plait_command(), "serve", "app.py:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        poll(f"http://127.0.0.1:{port}/openapi.json", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def test_authorize_then_call_a_protected_endpoint(base_url: str) -> None:
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
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.route("**/*", only_loopback)
            page.goto(f"{base_url}/docs")
            page.locator("button.authorize").first.click()
            dialog = page.locator(".dialog-ux")
            dialog.locator("#oauth_username").fill("ada@example.com")
            dialog.locator("#oauth_password").fill(PASSWORD)
            with page.expect_response(lambda r: r.url.endswith("/auth/token")) as token_response:
                dialog.locator(".auth-btn-wrapper button.authorize").first.click()
            assert token_response.value.status == 200
            dialog.get_by_text("Authorized", exact=True).first.wait_for(timeout=15_000)  # Swagger took the token
            dialog.locator("button.close-modal").first.click()

            operation = page.locator("#operations-auth-me")
            operation.locator(".opblock-summary").click()
            operation.get_by_role("button", name="Try it out").click()
            with page.expect_response(lambda r: r.url.endswith("/auth/me")) as me_response:
                operation.get_by_role("button", name="Execute").click()
            assert me_response.value.status == 200
            assert me_response.value.request.headers["authorization"].startswith("Bearer ")
            assert me_response.value.json()["username"] == "ada"
            status = operation.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for(timeout=15_000)
            assert status.inner_text().strip() == "200"
            page.screenshot(path=str(SCREENSHOT), full_page=False)
        finally:
            browser.close()
    assert blocked == []
