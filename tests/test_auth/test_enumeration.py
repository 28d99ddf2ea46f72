"""Nobody can learn which accounts exist from the flows: same status, headers, body and hashing work.

Each test sends the same request for a known and an unknown account and compares the whole answer
(status, every header, the body byte for byte) and the argon2 work the server did, counted by a
hasher that counts. Timing itself is not asserted (too noisy for a test); the work that dominates
it, the password hashing, is.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plait.auth import Auth, MemoryMailSender
from plait.sessions import Sessions
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import FAST, PASSWORD, add_user, make_app
from tests.test_auth.test_extension import CountingHasher

pytestmark = pytest.mark.anyio


def answer(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    """Everything a client sees of a response."""
    return response.status_code, dict(response.headers), response.content


def counting_app(url: str, mailbox: MemoryMailSender) -> tuple[Any, CountingHasher]:
    hasher = CountingHasher(time_cost=1, memory_cost=8, parallelism=1)
    # Sessions installed: a session or cookie touched for one kind of account only would show in the headers.
    app = make_app(url, auth=Auth(settings=FAST, hasher=hasher, mail=mailbox), extensions=[Sessions()])
    return app, hasher


async def test_signup_answers_and_hashes_the_same_for_known_and_unknown_emails(auth_database_url: str) -> None:
    mailbox = MemoryMailSender()
    app, hasher = counting_app(auth_database_url, mailbox)
    async with AsyncTestClient(app) as client:
        await add_user(app)
        seen = []
        for email in ("ada@example.com", "newcomer@example.com"):
            hasher.hashes = hasher.verifies = 0
            response = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
            seen.append((answer(response), hasher.hashes, hasher.verifies))
    known, unknown = seen
    assert known[0][0] == 202
    assert known == unknown  # the known address is hashed too: skipping it would make its answer faster
    assert [message.to for message in mailbox.outbox] == ["ada@example.com", "newcomer@example.com"]


async def test_reset_answers_the_same_for_known_unknown_and_inactive_accounts(auth_database_url: str) -> None:
    mailbox = MemoryMailSender()
    app, hasher = counting_app(auth_database_url, mailbox)
    async with AsyncTestClient(app) as client:
        await add_user(app)
        await add_user(app, "bob", "bob@example.com", is_active=False)
        hasher.hashes = hasher.verifies = 0
        answers = [
            answer(await client.post("/auth/password/reset", json={"email": email}))
            for email in ("ada@example.com", "nobody@example.com", "bob@example.com")
        ]
    assert answers[0][0] == 202
    assert answers[0] == answers[1] == answers[2]
    assert [message.to for message in mailbox.outbox] == ["ada@example.com"]  # only the owner learns more
    assert (hasher.hashes, hasher.verifies) == (0, 0)


async def test_login_answers_and_verifies_the_same_for_every_kind_of_failure(auth_database_url: str) -> None:
    app, hasher = counting_app(auth_database_url, MemoryMailSender())
    async with AsyncTestClient(app) as client:
        await add_user(app)
        await add_user(app, "bob", "bob@example.com", is_active=False)
        await add_user(app, "eve", "eve@example.com", password=None)
        seen = []
        for email, password in (
            ("ada@example.com", "not the password"),  # existing, wrong password
            ("nobody@example.com", PASSWORD),  # missing
            ("bob@example.com", PASSWORD),  # inactive, right password
            ("eve@example.com", PASSWORD),  # no usable password
        ):
            hasher.hashes = hasher.verifies = 0
            response = await client.post("/auth/login", json={"email": email, "password": password})
            seen.append((answer(response), hasher.hashes, hasher.verifies))
    assert seen[0][0][0] == 401
    assert (seen[0][1], seen[0][2]) == (0, 1)  # exactly one argon2 verification, no hash
    assert all(entry == seen[0] for entry in seen)


async def test_an_email_shaped_username_never_says_whether_that_email_is_registered(auth_database_url: str) -> None:
    app, _ = counting_app(auth_database_url, MemoryMailSender())
    async with AsyncTestClient(app) as client:
        # Registered without a username: its username is its email address.
        await client.post("/auth/register", json={"email": "ada@example.com", "password": PASSWORD})
        probes = [
            await client.post(
                "/auth/register", json={"email": "mallory@example.com", "username": target, "password": PASSWORD}
            )
            for target in ("ada@example.com", "nobody@example.com")
        ]
        # One's own address given as the username is the same as leaving it out: the usual 202.
        own = [
            await client.post("/auth/register", json={"email": email, "username": email.upper(), "password": PASSWORD})
            for email in ("ada@example.com", "grace@example.com")
        ]
        taken = await client.post(
            "/auth/register", json={"email": "other@example.com", "username": "grace@example.com", "password": PASSWORD}
        )
    assert probes[0].status_code == 422
    assert answer(probes[0]) == answer(probes[1])
    assert probes[0].json()["errors"][0]["loc"] == ["body", "username"]
    assert answer(own[0]) == answer(own[1])
    assert own[0].status_code == 202
    assert taken.status_code == 422  # not 409: grace@example.com's account stays unconfirmed
