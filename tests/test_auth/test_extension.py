"""``Auth``: requirements, settings, providers, and authenticate() doing one hash per attempt."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait, Request
from plait.auth import Argon2Hasher, Auth, AuthSettings, OptionalUser, User
from plait.auth.extension import MIGRATIONS
from plait.auth.identity import issue_tokens
from plait.auth.throttle import DatabaseThrottle, RedisThrottle
from plait.db import Database
from plait.exceptions import ConfigurationError
from plait.settings import Settings
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import FAST, PASSWORD, SECRET, add_user, make_app

pytestmark = pytest.mark.anyio


class CountingHasher(Argon2Hasher):
    """Counts the argon2 operations: the proof that login costs the same for every kind of account."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.verifies = 0
        self.hashes = 0

    def verify(self, hashed: str, password: str) -> bool:
        self.verifies += 1
        return super().verify(hashed, password)

    def hash(self, password: str) -> str:
        self.hashes += 1
        return super().hash(password)


def test_auth_needs_the_database() -> None:
    app = Plait(settings=Settings(secret_key=SECRET), extensions=[Auth(settings=FAST)])
    with pytest.raises(ConfigurationError, match=r"install it first.*Database\(\)"):
        app.build()


def test_bad_options_are_refused_naming_the_fix() -> None:
    with pytest.raises(ConfigurationError, match="'email' or 'username'"):
        Auth(login_field="phone")
    with pytest.raises(ConfigurationError, match=r"must subclass plait\.auth\.User"):
        Auth(user_model=dict)


def test_settings_come_from_plait_auth_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("PLAIT_AUTH_PASSWORD_MIN_LENGTH", "12")
    monkeypatch.setenv("PLAIT_AUTH_THROTTLE_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("PLAIT_SECRET_KEY", "a-secret-for-the-token-codec")
    app = Plait(extensions=[Database(f"sqlite:///{tmp_path / 'x.db'}"), Auth()])
    app.build()
    auth: Auth = app.extensions["auth"]
    assert auth.settings.password_min_length == 12
    assert isinstance(auth.throttle, RedisThrottle)
    assert auth.validators[1]("x" * 11, {}) is not None  # the MinimumLength validator took the setting


def test_defaults_and_the_migrations_folder(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_SECRET_KEY", "a-secret-for-the-token-codec")
    app = Plait(extensions=[Database(f"sqlite:///{tmp_path / 'x.db'}"), Auth(settings=AuthSettings())])
    app.build()
    auth: Auth = app.extensions["auth"]
    assert auth.user_model is User
    assert auth.token_scheme == "Bearer"
    assert isinstance(auth.throttle, DatabaseThrottle)
    assert auth.hasher.max_bytes == 4096
    assert (MIGRATIONS / "plait_auth_0001_tables.py").is_file()
    assert {"auth_user", "auth_apikey", "auth_throttle"} <= Auth.migrations_tables
    assert [c.name for c in auth.commands()] == ["createsuperuser", "changepassword", "apikeys"]


async def test_a_handler_can_ask_for_the_extension(auth_database_url: str) -> None:
    app = make_app(auth_database_url, router=False)

    @app.get("/field")
    async def field(auth: Auth) -> str:
        return auth.login_field

    async with AsyncTestClient(app) as client:
        assert (await client.get("/field")).text == "email"


@pytest.mark.parametrize("case", ["existing", "wrong password", "missing", "inactive", "no password"])
async def test_authenticate_verifies_exactly_one_hash_whoever_asks(auth_database_url: str, case: str) -> None:
    hasher = CountingHasher(time_cost=1, memory_cost=8, parallelism=1)
    app = make_app(auth_database_url, auth=Auth(settings=FAST, hasher=hasher), router=False)
    async with AsyncTestClient(app):
        await add_user(app)
        await add_user(app, "bob", "bob@example.com", is_active=False)
        await add_user(app, "eve", "eve@example.com", password=None)
        login, password = {
            "existing": ("ada@example.com", PASSWORD),
            "wrong password": ("ada@example.com", "not the password"),
            "missing": ("nobody@example.com", PASSWORD),
            "inactive": ("bob@example.com", PASSWORD),
            "no password": ("eve@example.com", ""),
        }[case]
        hasher.verifies = hasher.hashes = 0
        auth: Auth = app.extensions["auth"]
        async with AsyncSession(app.extensions["database"].engine) as db:
            user = await auth.authenticate(db, login, password)
    assert (user is not None) == (case == "existing")
    assert (hasher.verifies, hasher.hashes) == (1, 0)


async def test_login_through_http_also_hashes_once_for_missing_users(auth_database_url: str) -> None:
    hasher = CountingHasher(time_cost=1, memory_cost=8, parallelism=1)
    app = make_app(auth_database_url, auth=Auth(settings=FAST, hasher=hasher))
    async with AsyncTestClient(app) as client:
        await add_user(app)
        counts = []
        for email in ("ada@example.com", "nobody@example.com"):
            hasher.verifies = 0
            await client.post("/auth/login", json={"email": email, "password": "wrong one"})
            counts.append(hasher.verifies)
    assert counts == [1, 1]


async def test_a_login_rehashes_a_password_made_with_older_parameters(auth_database_url: str) -> None:
    stronger = FAST.__class__(argon2_time_cost=2, argon2_memory_cost=16, argon2_parallelism=1)
    app = make_app(auth_database_url, auth=Auth(settings=stronger))
    async with AsyncTestClient(app) as client:
        old = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)
        user = await add_user(app, password=None)
        async with AsyncSession(app.extensions["database"].engine) as db:
            stored = await db.get(User, user.id)
            assert stored is not None
            stored.password = old.hash(PASSWORD)
            await db.commit()
        response = await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        async with AsyncSession(app.extensions["database"].engine) as db:
            after = await db.get(User, user.id)
    assert response.status_code == 200
    assert after is not None
    assert "m=16,t=2,p=1" in after.password
    assert Argon2Hasher(time_cost=2, memory_cost=16, parallelism=1).verify(after.password, PASSWORD)


async def test_create_user_and_set_password_check_the_rules(auth_database_url: str) -> None:
    from plait.auth import PasswordValidationError

    app = make_app(auth_database_url, router=False)
    async with AsyncTestClient(app):
        auth: Auth = app.extensions["auth"]
        async with AsyncSession(app.extensions["database"].engine) as db:
            with pytest.raises(PasswordValidationError, match="too common"):
                await auth.create_user(db, username="ada", email="ada@example.com", password="qwerty123")
            user = await auth.create_user(db, username="ada", email=" ADA@example.com", password=PASSWORD)
            assert user.id is not None
            assert user.email == "ada@example.com"
            with pytest.raises(PasswordValidationError, match="similar"):
                await auth.set_password(user, "ada@example.com1")
            await auth.set_password(user, "a different passphrase")
            assert auth.hasher.verify(user.password, "a different passphrase")


def test_openapi_lists_the_security_schemes(tmp_path: Any) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}")
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes


async def test_a_throttle_of_ones_own_is_used_and_closed(tmp_path: Any) -> None:
    class Never:
        closed = False

        async def failures(self, key: str, window: float) -> tuple[int, float]:
            return 0, 0.0

        async def fail(self, key: str, window: float) -> None:
            return None

        async def clear(self, key: str) -> None:
            return None

        async def aclose(self) -> None:
            self.closed = True

    never = Never()
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", auth=Auth(settings=FAST, throttle=never))
    async with AsyncTestClient(app) as client:
        for _ in range(12):  # more than the account limit: this throttle never blocks
            response = await client.post("/auth/login", json={"email": "ada@example.com", "password": "x"})
            assert response.status_code == 401
        assert app.extensions["auth"].throttle is never
    assert never.closed


async def test_templates_see_the_user_the_request_resolved(auth_database_url: str) -> None:
    app = make_app(auth_database_url, router=False)

    @app.get("/page")
    async def page(request: Request, user: OptionalUser) -> dict[str, Any]:
        context = await app.extensions["auth"].template_context(request)
        current = context["current_user"]
        return {"user": None if current is None else current.username}

    async with AsyncTestClient(app) as client:
        await add_user(app)
        anonymous = (await client.get("/page")).json()
        auth: Auth = app.extensions["auth"]
        async with AsyncSession(app.extensions["database"].engine) as db:
            stored = await db.get(User, 1)
            token = issue_tokens(auth, stored).access_token
        known = (await client.get("/page", headers={"Authorization": f"Bearer {token}"})).json()
    assert anonymous == {"user": None}
    assert known == {"user": "ada"}


def test_the_core_never_imports_auth_and_a_missing_dependency_names_the_extra() -> None:
    import subprocess
    import sys

    core = (
        "import sys, plait, plait.app, plait.cli; plait.Plait().build(); print([m for m in sys.modules if 'auth' in m])"
    )
    result = subprocess.run([sys.executable, "-c", core], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    missing = "import sys; sys.modules['argon2'] = None; import plait.auth"
    result = subprocess.run([sys.executable, "-c", missing], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "pip install 'plait[auth]'" in result.stderr


def test_an_app_without_a_secret_key_fails_at_startup_naming_the_fix(tmp_path: Any) -> None:
    app = Plait(extensions=[Database(f"sqlite:///{tmp_path / 'x.db'}"), Auth(settings=AuthSettings())])
    with pytest.raises(ConfigurationError, match="PLAIT_SECRET_KEY"):
        app.build()
