"""A templated page in Debian's Chromium: the layout, the cache-busted stylesheet, a flash, an inert script."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.test_cli.test_serve_e2e import poll, stop
from tests.test_hardening.server import free_port, plait_command
from tests.test_templates.conftest import write

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run); never skipped there
    if os.environ.get("CI") == "true":
        raise RuntimeError("Debian's chromium is missing on CI; .ci/run should have installed it.")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

APP = '''
from collections.abc import Mapping
from typing import Any

from plait import Plait
from plait.extensions import Extension
from plait.requests import Request
from plait.templates import Templates, render


class Flash(Extension):
    """Stands in for the sessions battery's flashed messages."""

    name = "flash"

    async def template_context(self, request: Request) -> Mapping[str, Any]:
        return {"messages": [m for m in [request.query_params.get("flash")] if m]}


app = Plait(extensions=[Templates(), Flash()])


@app.get("/articles", name="articles")
def articles() -> object:
    titles = ["Weaving a web framework", "<script>window.pwned = true</script>"]
    return render("articles.html", {"articles": titles})
'''

TEMPLATES = {
    "templates/layout.html": """\
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>{% block title %}{% endblock %} · Plait</title>
          <link rel="stylesheet" href="{{ static('css/site.css') }}">
        </head>
        <body>
          <header><a href="{{ url_for('articles') }}">Plait News</a></header>
          {% for message in messages %}<p class="flash" role="status">{{ message }}</p>{% endfor %}
          <main>{% block main %}{% endblock %}</main>
        </body>
        </html>
    """,
    "templates/articles.html": """\
        {% extends "layout.html" %}
        {% block title %}Articles{% endblock %}
        {% block main %}
          <h1>Articles</h1>
          <ul>{% for title in articles %}<li>{{ title }}</li>{% endfor %}</ul>
        {% endblock %}
    """,
    "static/css/site.css": """\
        body { font-family: sans-serif; margin: 0; background: rgb(250, 247, 240); color: rgb(34, 34, 34); }
        header { background: rgb(20, 90, 110); padding: 1rem 2rem; }
        header a { color: white; font-weight: bold; text-decoration: none; }
        main { padding: 0 2rem; }
        .flash { margin: 1rem 2rem; padding: 0.75rem 1rem; background: rgb(220, 240, 225);
                 border-left: 4px solid rgb(40, 140, 70); }
    """,
}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    write(root, {name: textwrap.dedent(text) for name, text in TEMPLATES.items()})
    (root / "app.py").write_text(textwrap.dedent(APP))
    port = free_port()
    env = {**os.environ, "PLAIT_SECRET_KEY": "browser-test"}
    log = (root / "server.log").open("wb")
    command = [*plait_command(), "serve", f"{root / 'app.py'}:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        poll(f"http://127.0.0.1:{port}/articles", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def test_a_templated_page_renders_in_chromium(base_url: str, tmp_path: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 800, "height": 420})
            stylesheet: list[str] = []
            page.on("response", lambda r: stylesheet.append(r.url) if ".css" in r.url else None)
            page.goto(f"{base_url}/articles?flash=Article+saved.")
            assert page.title() == "Articles · Plait"
            assert page.locator(".flash").inner_text() == "Article saved."
            # The stylesheet arrived, cache-busted, and applies.
            assert len(stylesheet) == 1
            assert "/static/css/site.css?v=" in stylesheet[0]
            header = page.locator("header").evaluate("e => getComputedStyle(e).backgroundColor")
            assert header == "rgb(20, 90, 110)"
            # A title holding a script shows as text and never runs.
            items = page.locator("li").all_inner_texts()
            assert items == ["Weaving a web framework", "<script>window.pwned = true</script>"]
            assert page.evaluate("() => window.pwned === undefined")
            page.screenshot(path=str(tmp_path / "templates.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "templates.png").read_bytes().startswith(b"\x89PNG")
