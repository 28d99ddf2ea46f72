"""Conduit in Debian's Chromium, served for real the way ``make demo`` serves it: migrate, seed, serve.

The walk: sign up, write an article in markdown (tags entered one by one), comment on it, favorite
and follow on someone else's article, find that author's articles in "Your Feed", edit the settings,
sign out. Screenshots go to ``$CONDUIT_SCREENSHOTS`` (a temporary folder unless set).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.test_cli.test_serve_e2e import poll, stop
from tests.test_conduit.conftest import EXAMPLES
from tests.test_hardening.server import free_port, plait_command

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run); never skipped there
    if os.environ.get("CI") == "true":
        raise RuntimeError("Debian's chromium is missing on CI; .ci/run should have installed it.")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, cwd=EXAMPLES, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("conduit-browser")
    env = {
        **os.environ,
        "PLAIT_APP": "conduit/app.py",
        "PLAIT_SECRET_KEY": "conduit browser test",
        "PLAIT_DATABASE_URL": f"sqlite:///{root / 'conduit.sqlite3'}",
    }
    plait = plait_command()
    run([*plait, "db", "migrate"], env)
    assert "Demo data added" in run([*plait, "conduit", "seed"], env)
    assert "no demo data added" in run([*plait, "conduit", "seed"], env)  # a second run changes nothing
    port = free_port()
    log = (root / "server.log").open("wb")
    command = [*plait, "serve", "conduit/app.py:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, cwd=EXAMPLES, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        poll(f"http://127.0.0.1:{port}/", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def shoot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"conduit-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_a_new_member_walks_through_the_site(base_url: str, tmp_path: Path) -> None:
    shots = Path(os.environ.get("CONDUIT_SCREENSHOTS") or tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            walk(page, base_url, shots)
            assert errors == []
        finally:
            browser.close()


def walk(page: Page, base: str, shots: Path) -> None:
    page.goto(base + "/")
    expect(page.locator(".banner__brand")).to_have_text("conduit")
    expect(page.locator(".preview h2").first).to_be_visible()
    shoot(page, shots, "home")

    # Sign up: the session signs the new member in at once.
    page.get_by_role("link", name="Sign up").click()
    page.get_by_placeholder("Username").fill("walker")
    page.get_by_placeholder("Email").fill("walker@example.com")
    page.get_by_placeholder("Password").fill("Long-walks-2024")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".flash")).to_contain_text("Welcome to Conduit, walker!")
    expect(page.locator(".nav__user")).to_have_text("walker")

    # Write an article in markdown; the tags are entered one by one, and one is removed again.
    page.get_by_role("link", name="New Article").click()
    page.get_by_placeholder("Article Title").fill("Walking <b>the</b> plait")
    page.get_by_placeholder("What's this article about?").fill("A stroll through a framework")
    page.get_by_placeholder("Write your article (in markdown)").fill(
        "## Step one\n\nIt is **woven**, not *knitted*.\n\n<script>window.pwned = 1</script>\n\n- one\n- two\n"
    )
    tags = page.get_by_placeholder("Enter tags")
    for tag in ("plait", "walking", "oops"):
        tags.fill(tag)
        tags.press("Enter")
    page.get_by_role("button", name="Remove tag oops").click()
    expect(page.locator("[data-tag-list] .tag")).to_have_count(2)
    shoot(page, shots, "editor")
    page.get_by_role("button", name="Publish Article").click()
    expect(page).to_have_url(base + "/article/walking-b-the-b-plait")
    expect(page.locator(".article-body h2")).to_have_text("Step one")
    expect(page.locator(".article-body strong")).to_have_text("woven")
    expect(page.locator(".banner h1")).to_have_text("Walking <b>the</b> plait")  # escaped, shown as typed
    assert page.evaluate("() => window.pwned === undefined")  # the script in the markdown never ran
    assert page.locator(".article-body script").count() == 0
    expect(page.locator(".tags").first).to_contain_text("plait")

    # Comment on it.
    page.get_by_placeholder("Write a comment...").fill("First! (my own article)")
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator(".comments .card__body").last).to_have_text("First! (my own article)")
    shoot(page, shots, "article")

    # Someone else's article: favorite it and follow its author.
    page.goto(base + "/?tab=global")
    page.get_by_role("link", name="A nanosecond is this long").click()
    page.get_by_role("button", name="Favorite Article").first.click()
    expect(page.get_by_role("button", name="Unfavorite Article").first).to_contain_text(
        "(3)"
    )  # ada and linus favorited it in the demo data
    page.get_by_role("button", name="+ Follow grace").first.click()
    expect(page.get_by_role("button", name="Unfollow grace").first).to_be_visible()
    shoot(page, shots, "favorited")

    # Your Feed now has grace's articles (and not the others').
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("link", name="Your Feed")).to_have_attribute("aria-current", "page")
    authors = page.locator(".preview .meta__author").all_inner_texts()
    assert authors
    assert set(authors) == {"grace"}
    shoot(page, shots, "feed")

    # My profile lists my article; the favorites tab lists grace's.
    page.locator(".nav__user").click()
    expect(page.locator(".preview h2")).to_have_text(["Walking <b>the</b> plait"])
    page.get_by_role("link", name="Favorited Articles").click()
    expect(page.locator(".preview h2")).to_have_text(["A nanosecond is this long"])

    # Settings: a bio, shown on the profile.
    page.get_by_role("link", name="⚙ Settings", exact=True).click()
    page.get_by_placeholder("Short bio about you").fill("I walk, therefore I plait.")
    page.get_by_role("button", name="Update Settings").click()
    expect(page.locator(".flash")).to_contain_text("Your settings are saved.")
    expect(page.locator(".profile-banner")).to_contain_text("I walk, therefore I plait.")
    shoot(page, shots, "profile")

    # Sign out.
    page.get_by_role("link", name="⚙ Settings", exact=True).click()
    page.get_by_role("button", name="Or click here to logout.").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.locator(".nav__user")).to_have_count(0)
    shoot(page, shots, "signed-out")


def test_the_docs_authorize_with_a_token_and_call_the_api(base_url: str, tmp_path: Path) -> None:
    shots = Path(os.environ.get("CONDUIT_SCREENSHOTS") or tmp_path)
    login = {"user": {"email": "ada@conduit.example", "password": "conduit-demo-2024"}}
    token = httpx.post(f"{base_url}/api/users/login", json=login).json()["user"]["token"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{base_url}/docs")
            page.locator("button.authorize").first.click()
            # The token scheme is an "Authorization" header typed in full: "Token eyJ...".
            page.locator(".modal-ux input").first.fill(f"Token {token}")
            page.locator(".modal-ux button.authorize").first.click()
            page.locator(".modal-ux button.close-modal").click()
            operation = page.locator("#operations-User_and_Authentication-GetCurrentUser")
            operation.click()
            operation.locator("button.try-out__btn").click()
            operation.locator("button.execute").click()
            status = operation.locator(".live-responses-table tbody .response-col_status").first
            expect(status).to_have_text("200")
            expect(operation.locator(".live-responses-table tbody")).to_contain_text('"username": "ada"')
            shoot(page, shots, "docs")
        finally:
            browser.close()


def test_staff_edit_an_article_in_the_admin(base_url: str, tmp_path: Path) -> None:
    shots = Path(os.environ.get("CONDUIT_SCREENSHOTS") or tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{base_url}/admin/login")
            page.locator("input[name=username]").fill("admin@conduit.example")
            page.locator("input[name=password]").fill("conduit-demo-2024")
            page.locator("button[type=submit]").click()
            page.goto(f"{base_url}/admin/article")
            page.get_by_role("link", name="Release early, release often").click()
            page.locator("input[name=title]").fill("Release early, release very often")
            shoot(page, shots, "admin-article")
            page.get_by_role("button", name="Save", exact=True).click()
            expect(page.get_by_text("Release early, release very often").first).to_be_visible()
            page.goto(f"{base_url}/article/release-early-release-often")
            expect(page.locator(".banner h1")).to_have_text("Release early, release very often")
        finally:
            browser.close()
