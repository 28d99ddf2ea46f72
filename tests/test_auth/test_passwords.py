"""argon2id hashing: verify, re-hash on changed parameters, the dummy check, the length cap."""

from __future__ import annotations

import pytest

from plait.auth.models import User
from plait.auth.passwords import (
    Argon2Hasher,
    PasswordTooLong,
    check_password,
    default_hasher,
    hash_password,
    verify_password,
)
from plait.auth.settings import AuthSettings

pytestmark = pytest.mark.anyio

FAST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def test_hash_and_verify() -> None:
    hasher = Argon2Hasher(**FAST)
    stored = hasher.hash("pässwörd ok")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert stored != hasher.hash("pässwörd ok")  # a fresh salt each time
    assert hasher.verify(stored, "pässwörd ok")
    assert not hasher.verify(stored, "pässwörd ok ")
    assert not hasher.verify("not a hash", "x")  # a broken stored value is a mismatch, not a crash
    assert not hasher.verify("", "x")


def test_the_length_cap_refuses_before_hashing() -> None:
    hasher = Argon2Hasher(**FAST, max_bytes=16)
    hasher.hash("x" * 16)
    with pytest.raises(PasswordTooLong, match="17 bytes long; at most 16"):
        hasher.hash("x" * 17)
    with pytest.raises(PasswordTooLong):
        hasher.verify(hasher.hash("short"), "é" * 9)  # 18 bytes in UTF-8
    with pytest.raises(PasswordTooLong):
        hasher.dummy_verify("x" * 100)


def test_needs_rehash_follows_the_parameters() -> None:
    old = Argon2Hasher(**FAST)
    new = Argon2Hasher(time_cost=2, memory_cost=8, parallelism=1)
    stored = old.hash("s3cret-enough")
    assert not old.needs_rehash(stored)
    assert new.needs_rehash(stored)
    assert new.needs_rehash("garbage")
    matches, rehashed = verify_password(stored, "s3cret-enough", new)
    assert matches
    assert rehashed is not None
    assert "t=2" in rehashed
    assert verify_password(stored, "wrong", new) == (False, None)


def test_settings_and_the_default_hasher() -> None:
    hasher = Argon2Hasher.from_settings(AuthSettings(argon2_time_cost=2, password_max_bytes=100))
    assert hasher.max_bytes == 100
    assert "t=2" in hasher.hash("abc")
    assert default_hasher() is default_hasher()
    assert hash_password("abc", Argon2Hasher(**FAST)).startswith("$argon2id$")


async def test_check_password_does_one_verification_either_way() -> None:
    calls: list[str] = []

    class Recording(Argon2Hasher):
        def verify(self, hashed: str, password: str) -> bool:
            calls.append(hashed[:9])
            return super().verify(hashed, password)

    hasher = Recording(**FAST)
    stored = hasher.hash("pw-1234567")
    assert await check_password(stored, "pw-1234567", hasher) == (True, None)
    assert await check_password(None, "pw-1234567", hasher) == (False, None)  # the dummy check
    assert await check_password("", "pw-1234567", hasher) == (False, None)
    assert calls == ["$argon2id"] * 3
    assert hasher._dummy_hash() == hasher._dummy_hash()  # made once


def test_the_model_sets_and_reports_passwords() -> None:
    user = User(username="ada", email="ada@example.com")
    assert not user.has_usable_password()
    user.set_password("long enough passphrase")
    assert user.has_usable_password()
    assert default_hasher().verify(user.password, "long enough passphrase")
    user.set_password(None)
    assert user.password == ""
    assert not user.has_usable_password()
