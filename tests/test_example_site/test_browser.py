"""The Notebook example in Debian's Chromium, served by ``plait serve`` after ``plait db migrate`` and
``plait createsuperuser``: log in, a form refused then fixed, the redirect and its flash, a confirmed
delete, log out. Screenshots go to ``$PLAIT_SCREENSHOT_DIR`` when set (for people to look at), else
to the test's temporary folder.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.test_cli.test_serve_e2e import poll, stop
from tests.test_example_site.conftest import PASSWORD, SITE
from tests.test_hardening.server import free_port, plait_command

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run); never skipped there
    if os.environ.get("CI") == "true":
        raise RuntimeError("Debian's chromium is missing on CI; .ci/run should have installed it.")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("notebook-browser")
    env = {
        **os.environ,
        "PLAIT_APP": str(SITE / "app.py"),
        "PLAIT_DATABASE_URL": f"sqlite:///{root / 'notebook.sqlite3'}",
        "PLAIT_SECRET_KEY": "notebook browser test",
        "PLAIT_SUPERUSER_PASSWORD": PASSWORD,
    }
    # The steps of the example's docstring, as a user runs them.
    subprocess.run([*plait_command(), "db", "migrate"], env=env, check=True, capture_output=True)
    # The migration in examples/site was written by `plait db makemigrations`, and still matches the models.
    subprocess.run([*plait_command(), "db", "check"], env=env, check=True, capture_output=True)
    create = [*plait_command(), "createsuperuser", "--no-input", "--username", "ada", "--email", "ada@example.com"]
    subprocess.run(create, env=env, check=True, capture_output=True)
    port = free_port()
    log = (root / "server.log").open("wb")
    command = [*plait_command(), "serve", str(SITE / "app.py"), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        poll(f"http://127.0.0.1:{port}/", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def flash(page: Page) -> str:
    return page.locator(".flash").inner_text()


def test_a_visit_from_login_to_logout(base_url: str, tmp_path: Path) -> None:
    shots = Path(os.environ.get("PLAIT_SCREENSHOT_DIR") or tmp_path)

    def shot(name: str, page: Page) -> None:
        page.screenshot(path=str(shots / f"site-{name}.png"), full_page=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 640})
            # A page that needs a user leads to the login form, which leads back to it.
            page.goto(f"{base_url}/notes/new")
            assert page.url == f"{base_url}/login?next=%2Fnotes%2Fnew"
            page.get_by_label("Email").fill("ada@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            shot("login", page)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(f"{base_url}/notes/new")
            assert flash(page) == "Welcome, ada."

            # Spaces satisfy the browser's `required`; the server strips them and refuses the title.
            page.get_by_label("Title").fill("   ")
            page.get_by_label("Body").fill("Tea with Grace on Friday, <b>four</b> o'clock.")
            page.get_by_role("button", name="Save note").click()
            expect(page.locator("#id_title-error")).to_have_text("This field is required.")
            assert page.get_by_label("Title").get_attribute("aria-invalid") == "true"
            assert page.get_by_label("Body").input_value() == "Tea with Grace on Friday, <b>four</b> o'clock."
            shot("form-error", page)

            page.get_by_label("Title").fill("Tea on Friday")
            page.get_by_role("button", name="Save note").click()
            expect(page).to_have_url(f"{base_url}/notes/1")  # Post/Redirect/Get
            assert flash(page) == "Note saved."
            assert page.locator(".note h1").inner_text() == "Tea on Friday"
            assert page.locator(".note .body").inner_text() == "Tea with Grace on Friday, <b>four</b> o'clock."
            shot("detail", page)

            page.get_by_role("link", name="← All notes").click()
            expect(page.locator(".card h2")).to_have_text(["Tea on Friday"])
            assert page.locator(".flash").count() == 0  # shown once, on the page after the redirect
            shot("list", page)

            page.get_by_role("link", name="Tea on Friday").click()
            page.get_by_role("link", name="Delete").click()
            expect(page.locator("h1")).to_have_text("Delete “Tea on Friday”?")
            shot("delete", page)
            page.get_by_role("button", name="Delete").click()
            expect(page).to_have_url(f"{base_url}/")
            assert flash(page) == "Deleted “Tea on Friday”."
            expect(page.locator(".empty")).to_contain_text("No notes yet.")

            page.goto(f"{base_url}/notes/1")  # deleted: the site's own 404 page
            expect(page.locator("h1")).to_have_text("Not found")
            shot("not-found", page)
            page.get_by_role("link", name="← All notes").click()

            page.get_by_role("button", name="Log out").click()
            expect(page.locator(".flash")).to_have_text("You are logged out.")
            expect(page.get_by_role("link", name="Log in")).to_be_visible()
            shot("logged-out", page)
        finally:
            browser.close()
    assert (shots / "site-detail.png").read_bytes().startswith(b"\x89PNG")
