"""Folders: routers ship their own templates and static files, the app's win, reloading, cache-busting."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

import anyio
import pytest

from plait import Plait
from plait.exceptions import ConfigurationError
from plait.routing.router import Router
from plait.templates import Templates, add_router_folders, render
from plait.templates.loader import router_folders
from plait.templates.static import StaticVersions
from plait.testing import TestClient
from tests.test_templates.conftest import write


def blog_router(root: Path) -> Router:
    write(
        root,
        {
            "blog/templates/blog/post.html": '<p>post</p><link href="{{ static("blog.css", router="blog") }}">',
            "blog/templates/blog/footer.html": "blog footer",
            "blog/static/blog.css": "p { margin: 0 }",
        },
    )
    blog = Router(prefix="/blog", name="blog")
    add_router_folders(blog, templates=root / "blog/templates", static=root / "blog/static")

    @blog.get("/post")
    def post() -> object:
        return render("blog/post.html")

    @blog.get("/footer")
    def footer() -> object:
        return render("blog/footer.html")

    return blog


def test_a_router_brings_templates_and_static_files(tmp_path: Path) -> None:
    write(tmp_path, {"templates/blog/footer.html": "the app's own footer"})
    app = Plait()
    templates = app.install(Templates(tmp_path / "templates", static=None))
    app.include_router(blog_router(tmp_path))
    with TestClient(app) as client:
        page = client.get("/blog/post").text
        href = page.split('href="')[1].split('"')[0]
        assert href.startswith("/blog/static/blog.css?v=")
        assert client.get(href).text == "p { margin: 0 }"
        # The app's folder is searched first, so its file overrides the router's.
        assert client.get("/blog/footer").text == "the app's own footer"
    assert templates.folders == [str((tmp_path / "templates").resolve()), str(tmp_path / "blog/templates")]


def test_router_folders_are_relative_to_the_calling_module(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=f"templates folder '{Path(__file__).parent / 'templates'}'"):
        add_router_folders(Router(name="x"))  # there is no tests/test_templates/templates
    write(tmp_path, {"templates/x.html": "x"})
    module = tmp_path / "routes.py"
    module.write_text(
        "from plait.routing.router import Router\nfrom plait.templates import add_router_folders\n"
        "router = Router(name='x')\nadd_router_folders(router)\n"
    )
    router = runpy.run_path(str(module))["router"]  # the module's __file__ is tmp_path/routes.py
    assert router_folders(router)[0].templates == str(tmp_path / "templates")


def test_a_router_may_bring_static_files_only(tmp_path: Path) -> None:
    write(tmp_path, {"templates/p.html": '{{ static("logo.svg", router="brand") }}', "brand/logo.svg": "<svg/>"})
    brand = Router(prefix="/brand", name="brand")
    add_router_folders(brand, templates=None, static=tmp_path / "brand")
    app = Plait()
    templates = app.install(Templates(tmp_path / "templates", static=None))
    app.include_router(brand)
    app.build()
    assert anyio.run(templates.render_string, "p.html").startswith("/brand/static/logo.svg?v=")
    assert templates.folders == [str((tmp_path / "templates").resolve())]


def test_the_default_folders_sit_next_to_the_apps_module(tmp_path: Path) -> None:
    write(tmp_path, {"templates/t.html": "{{ static('a.css') }}", "static/a.css": "a"})
    module = tmp_path / "site.py"
    module.write_text(
        "from plait import Plait\nfrom plait.templates import Templates\napp = Plait(extensions=[Templates()])\n"
    )
    app = runpy.run_path(str(module))["app"]
    app.build()
    templates: Templates = app.extensions["templates"]
    assert templates.folders == [str(tmp_path / "templates")]
    assert anyio.run(templates.render_string, "t.html").startswith("/static/a.css?v=")


def test_router_static_needs_a_named_router_and_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match='name="admin"'):
        add_router_folders(Router(prefix="/admin"), templates=None, static=tmp_path)
    with pytest.raises(ConfigurationError, match="does not exist"):
        add_router_folders(Router(prefix="/admin", name="admin"), templates=None, static=tmp_path / "gone")


def test_a_router_included_twice_is_searched_once(tmp_path: Path) -> None:
    write(tmp_path, {"templates/a.html": "a", "r/templates/b.html": "b"})
    router = Router(name="r")
    add_router_folders(router, templates=tmp_path / "r/templates")
    parent = Router(prefix="/p")
    parent.include_router(router)
    app = Plait()
    templates = app.install(Templates(tmp_path / "templates", static=None))
    app.include_router(parent)
    app.include_router(router, prefix="/again")
    app.build()
    assert templates.folders == [str((tmp_path / "templates").resolve()), str(tmp_path / "r/templates")]


def test_several_app_folders_are_searched_in_order(tmp_path: Path) -> None:
    write(tmp_path, {"one/a.html": "one", "two/a.html": "two", "two/b.html": "b"})
    app = Plait()
    templates = app.install(Templates([tmp_path / "one", tmp_path / "two"], static=None))
    app.build()
    assert anyio.run(templates.render_string, "a.html") == "one"
    assert anyio.run(templates.render_string, "b.html") == "b"


def reloading_app(site: Path, **options: Any) -> tuple[Plait[Any], Templates]:
    app = Plait(**options)
    templates = app.install(Templates(site / "templates", static=site / "static"))
    app.build()
    return app, templates


def touch_later(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # no sleep to change the mtime


def test_in_debug_a_changed_template_and_static_file_are_picked_up(site: Path) -> None:
    write(site, {"templates/v.html": 'v1 {{ static("css/site.css") }}'})
    _, templates = reloading_app(site, debug=True)
    first = anyio.run(templates.render_string, "v.html")
    assert anyio.run(templates.render_string, "v.html") == first  # unchanged files: the same page
    touch_later(site / "templates/v.html", 'v2 {{ static("css/site.css") }}')
    touch_later(site / "static/css/site.css", "body { color: red }")
    second = anyio.run(templates.render_string, "v.html")
    assert first.startswith("v1 ")
    assert second.startswith("v2 ")
    assert first.split("?v=")[1] != second.split("?v=")[1]


def test_in_production_compiled_templates_and_hashes_are_kept(site: Path) -> None:
    write(site, {"templates/v.html": 'v1 {{ static("css/site.css") }}'})
    _, templates = reloading_app(site)
    first = anyio.run(templates.render_string, "v.html")
    touch_later(site / "templates/v.html", "v2")
    touch_later(site / "static/css/site.css", "body { color: red }")
    assert anyio.run(templates.render_string, "v.html") == first


@pytest.mark.parametrize(
    ("debug", "variable", "given", "expected"),
    [
        (False, None, True, True),
        (True, None, False, False),  # the argument wins over everything
        (True, "false", None, False),
        (False, "true", None, True),  # a development server can turn it on without debug
        (True, None, None, True),
        (False, None, None, False),
    ],
)
def test_auto_reload_is_chosen_by_argument_then_variable_then_debug(
    site: Path, monkeypatch: pytest.MonkeyPatch, debug: bool, variable: str | None, given: bool | None, expected: bool
) -> None:
    if variable is not None:
        monkeypatch.setenv("PLAIT_TEMPLATES_AUTO_RELOAD", variable)
    app = Plait(debug=debug)
    templates = app.install(Templates(site / "templates", static=None, auto_reload=given))
    app.build()
    assert templates.environment.auto_reload is expected
    assert templates.versions.check is expected


def test_static_without_a_known_folder_links_without_a_version(tmp_path: Path) -> None:
    write(tmp_path, {"templates/p.html": '{{ static("app.js") }} {{ static("missing.css") }}', "assets/app.js": "1"})
    app = Plait()
    app.mount_static("/static", str(tmp_path / "assets"), name="static")  # served by the app itself
    templates = app.install(Templates(tmp_path / "templates", static=None))
    app.build()
    assert anyio.run(templates.render_string, "p.html") == "/static/app.js /static/missing.css"


def test_static_versions_refuse_paths_that_climb_out(tmp_path: Path) -> None:
    write(tmp_path, {"static/a.css": "a", "secret.txt": "s"})
    versions = StaticVersions()
    folder = str(tmp_path / "static")
    assert versions.version(folder, "../secret.txt") is None
    assert versions.version(folder, "") is None
    assert versions.version(folder, ".") is None
    (tmp_path / "static/dir").mkdir()
    assert versions.version(folder, "dir") is None  # a directory has no content to hash
    assert versions.version(folder, "a.css") == versions.version(folder, "/a.css")
