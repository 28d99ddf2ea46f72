"""Flask quickstart idioms moved to Plait: routes, tuple returns, hooks, g, forms, uploads, url_for, blueprints."""

from pathlib import Path
from typing import Any

from plait import Plait, Request, Response, Router, g
from plait.responses import HTMLResponse, RedirectResponse
from plait.testing import TestClient


def test_hello_variables_and_converters() -> None:
    app = Plait()

    @app.get("/")
    def hello_world() -> str:
        return "<p>Hello, World!</p>"

    @app.get("/user/{username}")
    def show_user_profile(username: str) -> str:
        return f"User {username}"

    @app.get("/post/{post_id:int}")
    def show_post(post_id: int) -> str:
        return f"Post {post_id}"

    @app.get("/path/{subpath:path}")
    def show_subpath(subpath: str) -> str:
        return f"Subpath {subpath}"

    @app.get("/projects/")
    def projects() -> str:
        return "The project page"

    @app.get("/about")
    def about() -> str:
        return "The about page"

    with TestClient(app, follow_redirects=False) as client:
        home = client.get("/")
        # Flask sends str as text/html; Plait sends it as text/plain (use HTMLResponse for markup).
        assert home.headers["content-type"].startswith("text/plain")
        assert home.text == "<p>Hello, World!</p>"
        assert client.get("/user/ann").text == "User ann"
        assert client.get("/post/7").text == "Post 7"
        assert client.get("/post/seven").status_code == 404
        assert client.get("/path/a/b/c").text == "Subpath a/b/c"
        moved = client.get("/projects")
        assert (moved.status_code, moved.headers["location"]) == (308, "/projects/")
        # Flask answers 404 for "/about/"; Plait redirects to the declared spelling, as FastAPI does.
        slashed = client.get("/about/")
        assert (slashed.status_code, slashed.headers["location"]) == (308, "/about")


def test_tuple_returns_and_methods() -> None:
    app = Plait()

    @app.route("/login", methods=["GET", "POST"])
    async def login(request: Request) -> Any:
        if request.method == "POST":
            form = await request.form()
            return {"logged_in": form["username"]}, 201, {"X-Flask": "yes"}
        return "show the login form", 200

    @app.get("/teapot")
    def teapot() -> Any:
        return "I'm a teapot", 418

    @app.get("/with-headers")
    def with_headers() -> Any:
        return {"ok": True}, {"X-Extra": "1"}

    @app.get("/array")
    def array() -> Any:
        return (1, 2)

    with TestClient(app) as client:
        created = client.post("/login", data={"username": "ann"})
        assert created.status_code == 201
        assert created.json() == {"logged_in": "ann"}
        assert created.headers["x-flask"] == "yes"
        assert client.get("/login").text == "show the login form"
        missing = client.post("/login", data={"user": "ann"})
        assert missing.status_code == 400
        assert "username" in missing.json()["detail"]
        assert client.get("/teapot").status_code == 418
        assert client.get("/with-headers").headers["x-extra"] == "1"
        assert client.get("/array").json() == [1, 2]
        allowed = client.options("/login")
        assert allowed.status_code == 204
        assert set(allowed.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST", "OPTIONS"}
        assert client.put("/login").status_code == 405


def test_request_args_form_and_files(tmp_path: Path) -> None:
    app = Plait()

    @app.get("/search")
    def search(request: Request) -> dict[str, str | None]:
        return {"key": request.query_params.get("key"), "q": request.query_params["q"]}

    @app.post("/upload")
    async def upload_file(request: Request) -> dict[str, str]:
        form = await request.form()
        f = form["the_file"]
        assert not isinstance(f, str)
        assert f.filename is not None
        await f.save(tmp_path / f.filename)
        return {"saved": f.filename}

    with TestClient(app) as client:
        assert client.get("/search?q=x").json() == {"key": None, "q": "x"}
        no_q = client.get("/search")
        assert no_q.status_code == 400
        assert "'q'" in no_q.json()["detail"]
        saved = client.post("/upload", files={"the_file": ("uploaded_file.txt", b"contents")})
        assert saved.json() == {"saved": "uploaded_file.txt"}
        assert client.post("/upload", data={"other": "x"}).status_code == 400
    assert (tmp_path / "uploaded_file.txt").read_bytes() == b"contents"


def test_hooks_g_and_teardown() -> None:
    app = Plait()
    torn_down: list[str] = []

    @app.before_request
    def load_user(request: Request) -> None:
        g.user = request.headers.get("x-user")

    @app.before_request
    def require_login(request: Request) -> Any:
        if g.user is None and request.url.path.startswith("/private"):
            return RedirectResponse("/login", status_code=302)
        return None

    @app.after_request
    def add_header(response: Response) -> Response:
        response.headers["x-user"] = str(g.user)
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(type(exc).__name__ if exc else "ok")

    @app.get("/private/data")
    def private() -> dict[str, str]:
        return {"user": g.user}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        assert client.get("/private/data", headers={"x-user": "ann"}).json() == {"user": "ann"}
        refused = client.get("/private/data")
        assert (refused.status_code, refused.headers["location"]) == (302, "/login")
        assert refused.headers["x-user"] == "None"
        assert client.get("/boom").status_code == 500
    assert torn_down == ["ok", "ok", "RuntimeError"]


def test_url_for_static_external_and_blueprints(tmp_path: Path) -> None:
    (tmp_path / "style.css").write_text("body {}")
    app = Plait()
    app.mount_static("/static", str(tmp_path), name="static")
    admin = Router(prefix="/admin")  # a Flask blueprint

    @admin.get("/users/{user_id:int}", name="admin_user")
    def admin_user(user_id: int) -> str:
        return f"user {user_id}"

    @admin.before_request
    def only_admins(request: Request) -> Any:
        if request.headers.get("x-admin") != "1":
            return HTMLResponse("<h1>Forbidden</h1>", status_code=403)
        return None

    app.include_router(admin)

    @app.get("/links")
    def links(request: Request) -> dict[str, str]:
        return {
            "css": app.url_for("static", path="style.css"),
            "user": app.url_for("admin_user", user_id=7),
            "external": request.url_for("admin_user", user_id=7),
        }

    with TestClient(app) as client:
        assert client.get("/links").json() == {
            "css": "/static/style.css",
            "user": "/admin/users/7",
            "external": "http://testserver/admin/users/7",
        }
        assert client.get("/static/style.css").text == "body {}"
        assert client.get("/admin/users/7").status_code == 403
        assert client.get("/admin/users/7", headers={"x-admin": "1"}).text == "user 7"
        # The blueprint's hook guards its own routes only.
        assert client.get("/links").status_code == 200


def test_cookies_and_sessions_habit() -> None:
    app = Plait()

    @app.post("/login")
    def login(response: Response) -> dict[str, bool]:
        response.set_cookie("username", "ann", secure=False)
        return {"ok": True}

    @app.get("/whoami")
    def whoami(request: Request) -> str:
        return request.cookies.get("username", "nobody")

    with TestClient(app) as client:
        assert client.post("/login").headers["set-cookie"].startswith("username=ann")
        assert client.get("/whoami").text == "ann"


def test_abort_and_errorhandler() -> None:
    from plait import HTTPException

    app = Plait()

    @app.exception_handler(404)
    async def page_not_found(request: Request, exc: Exception) -> Response:
        return HTMLResponse("<h1>page not found</h1>", status_code=404)

    @app.get("/secret")
    def secret() -> None:
        raise HTTPException(401)  # Flask: abort(401)

    with TestClient(app) as client:
        missing = client.get("/nowhere")
        assert (missing.status_code, missing.text) == (404, "<h1>page not found</h1>")
        assert client.get("/secret").status_code == 401
