"""The admin in Debian's Chromium: log in, create (a validation error first), search, filter, sort, edit, delete.

A real server (``plait serve``) runs an app with two models registered; the browser blocks every
request that does not go to it (the admin needs no CDN). Screenshots of the dashboard, the list and
the form, light and dark, are saved to /tmp/plait-parts/admin-*.png.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from tests.test_cli.test_serve_e2e import poll, stop
from tests.test_hardening.server import free_port, plait_command

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/plait-parts")
PASSWORD = "browser test password"

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run); never skipped there
    if os.environ.get("CI") == "true":
        raise RuntimeError("Debian's chromium is missing on CI; .ci/run should have installed it.")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

APP = """
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plait import Plait
from plait.admin import Admin, InlineAdmin, ModelAdmin, action
from plait.auth import Auth, AuthSettings
from plait.csrf import CSRF
from plait.db import Database, Model
from plait.sessions import Sessions


class Status(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Author(Model):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))

    def __str__(self) -> str:
        return self.name


class Article(Model):
    __tablename__ = "article"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[Status] = mapped_column(default=Status.DRAFT)
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship(Author, lazy="raise_on_sql")

    def __str__(self) -> str:
        return self.title


class Comment(Model):
    __tablename__ = "comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(String(500))
    approved: Mapped[bool] = mapped_column(default=False)


class CommentInline(InlineAdmin):
    model = Comment


admin = Admin()


@action("Mark as published")
async def publish(request, db, articles):
    for article in articles:
        article.published = True


@admin.register(Article)
class ArticleAdmin(ModelAdmin):
    list_display = ("title", "author_id", "status", "published", "published_at")
    search_fields = ("title", "body")
    list_filter = ("published", "status", "author_id")
    prepopulated_fields = {"slug": ("title",)}
    fieldsets = [(None, ["title", "slug", "author_id"]), ("Publishing", ["status", "published", "published_at"]),
                 ("Text", ["body"])]
    actions = [publish]
    inlines = [CommentInline]


admin.register(Author)

database = Database()
auth = Auth(login_field="username", settings=AuthSettings(argon2_time_cost=1, argon2_memory_cost=8,
                                                          argon2_parallelism=1))
app = Plait(extensions=[database, Sessions(), CSRF(), auth, admin])


@app.on_startup
async def seed() -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(Model.metadata.create_all)
    async with AsyncSession(database.engine) as db:
        if (await db.scalars(select(Author))).first() is not None:
            return
        await auth.create_user(db, username="ada", email="ada@example.com", password=PASSWORD, validate=False,
                               is_staff=True, is_superuser=True)
        await auth.create_user(db, username="clerk", email="clerk@example.com", password=PASSWORD,
                               validate=False, is_staff=True)
        grace, hedy = Author(name="Grace Hopper"), Author(name="Hedy Lamarr")
        db.add_all([grace, hedy])
        await db.flush()
        for n, title in enumerate(["Weaving the web", "Looms and logic", "Punch cards", "Threads of thought"]):
            db.add(Article(title=title, slug=f"a{n}", author_id=(grace, hedy)[n % 2].id, published=n % 2 == 0,
                           status=Status.PUBLISHED if n % 2 == 0 else Status.DRAFT,
                           published_at=datetime(2026, 1 + n, 3, 9, 30) if n % 2 == 0 else None))
        await db.flush()
        db.add(Comment(article_id=1, name="Ada", text="Lovely <b>looms</b>", approved=True))
        await db.commit()
"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("admin_site")
    (root / "app.py").write_text(textwrap.dedent(APP).replace("PASSWORD", repr(PASSWORD)))
    port = free_port()
    env = {
        **os.environ,
        "PLAIT_SECRET_KEY": "admin-browser-test",
        "PLAIT_DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
    }
    log = (root / "server.log").open("wb")
    command = [*plait_command(), "serve", "app.py:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        poll(f"http://127.0.0.1:{port}/admin/login", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-quic"]
        )
        try:
            yield launched
        finally:
            launched.close()


def open_page(browser: Browser, blocked: list[str], *, dark: bool = False) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme="dark" if dark else "light")
    page = context.new_page()

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # pragma: no cover - the admin loads nothing from elsewhere
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    return page


def log_in(page: Page, base_url: str, username: str, screenshot: str | None = None) -> None:
    page.goto(f"{base_url}/admin")
    expect(page).to_have_url(f"{base_url}/admin/login?next=/admin")
    if screenshot is not None:
        page.screenshot(path=str(SHOTS / screenshot))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # the form works from the keyboard
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_a_superuser_manages_articles(browser: Browser, base_url: str) -> None:
    blocked: list[str] = []
    page = open_page(browser, blocked)
    log_in(page, base_url, "ada")
    expect(page.locator(".models")).to_contain_text("Articles")
    page.screenshot(path=str(SHOTS / "admin-dashboard.png"))

    # Create, with a validation error fixed on the second try; the slug follows the title.
    page.get_by_role("navigation", name="Models").get_by_role("link", name="Articles").click()
    page.get_by_role("link", name="Add article").click()
    page.wait_for_load_state()  # the page's script is in place before typing (it fills the slug)
    page.get_by_label("Title").fill("Jacquard's <loom>")
    expect(page.get_by_label("Slug")).to_have_value("jacquard-s-loom")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".form-errors")).to_be_visible()
    expect(page.locator("#id_author_id-error")).to_have_text("This field is required.")
    page.screenshot(path=str(SHOTS / "admin-form-error.png"), full_page=True)
    page.get_by_label("Author").select_option(label="Hedy Lamarr")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".message-success")).to_contain_text("was added")
    row = page.locator("table.results tbody tr", has_text="Jacquard's <loom>")
    expect(row).to_contain_text("Hedy Lamarr")

    # Search, filter and sort.
    page.get_by_role("searchbox").fill("jacquard")
    page.get_by_role("searchbox").press("Enter")
    expect(page.locator("table.results tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Clear").click()
    page.locator(".filters").get_by_role("link", name="Grace Hopper").click()
    expect(page.locator("table.results tbody tr")).to_have_count(2)
    page.locator(".filters").get_by_role("link", name="All").nth(2).click()
    page.get_by_role("link", name="Title").click()
    expect(page.locator("th[aria-sort='ascending']")).to_have_text("Title ▲")
    titles = page.locator("table.results tbody th").all_inner_texts()
    assert titles == sorted(titles)
    page.screenshot(path=str(SHOTS / "admin-list.png"))

    # Edit.
    page.get_by_role("link", name="Jacquard's <loom>").click()
    page.get_by_label("Title").fill("Jacquard's loom")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".message-success")).to_contain_text("was changed")
    page.get_by_role("link", name="Jacquard's loom").click()
    page.screenshot(path=str(SHOTS / "admin-form.png"), full_page=True)
    page.get_by_role("link", name="History").click()
    expect(page.locator("table.history")).to_contain_text("Jacquard's <loom>")
    page.screenshot(path=str(SHOTS / "admin-history.png"))

    # Bulk delete, with its confirmation page.
    page.goto(f"{base_url}/admin/article")
    page.get_by_label("Select Jacquard's loom").check()
    page.get_by_label("Action").select_option("delete_selected")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", name="Delete 1 articles?")).to_be_visible()
    expect(page.locator(".doomed")).to_contain_text("Jacquard's loom")
    page.get_by_role("button", name="Yes, delete them").click()
    expect(page.locator(".message-success")).to_contain_text("Deleted 1 articles.")
    expect(page.locator("table.results")).not_to_contain_text("Jacquard")
    assert blocked == []


def test_dark_screenshots(browser: Browser, base_url: str) -> None:
    blocked: list[str] = []
    page = open_page(browser, blocked, dark=True)
    log_in(page, base_url, "ada", screenshot="admin-login-dark.png")
    page.wait_for_load_state("load")  # the stylesheet too, on a busy machine
    expect(page.locator("body")).to_have_css("background-color", "rgb(18, 21, 27)")
    page.screenshot(path=str(SHOTS / "admin-dashboard-dark.png"))
    page.goto(f"{base_url}/admin/article")
    page.screenshot(path=str(SHOTS / "admin-list-dark.png"))
    page.goto(f"{base_url}/admin/article/1/change")
    expect(page.locator("fieldset.inline")).to_contain_text("Comments")
    expect(page.locator("#id_comment-0-text")).to_have_value("Lovely <b>looms</b>")
    page.screenshot(path=str(SHOTS / "admin-form-dark.png"), full_page=True)
    # A phone: the side navigation folds above the page and the table scrolls inside its frame.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base_url}/admin/article")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.screenshot(path=str(SHOTS / "admin-list-phone-dark.png"), full_page=True)
    assert blocked == []


def test_a_staff_user_without_permission_gets_403(browser: Browser, base_url: str) -> None:
    blocked: list[str] = []
    page = open_page(browser, blocked)
    log_in(page, base_url, "clerk")
    expect(page.locator(".card").first).to_contain_text("You do not have permission to see any model yet.")
    response = page.goto(f"{base_url}/admin/article")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    expect(page.locator("main")).to_contain_text("You do not have permission to view articles.")
    assert blocked == []
