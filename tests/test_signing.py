"""plait.signing: signatures, salts, key rotation, expiry and tampering (property-tested)."""

from __future__ import annotations

import string
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plait.exceptions import ConfigurationError
from plait.settings import Settings
from plait.signing import BadSignature, SignatureExpired, Signer, b64decode, b64encode

SIGNER = Signer(["key"], salt="tests")
TOKEN = SIGNER.sign("value")


def test_sign_and_unsign() -> None:
    value, stamp, signature = TOKEN.split(".")
    assert value == "value"
    assert stamp.isdigit()
    assert len(signature) == 43
    assert SIGNER.unsign(TOKEN) == b"value"
    assert SIGNER.unsign(TOKEN.encode()) == b"value"


def test_values_may_contain_the_separator() -> None:
    assert SIGNER.unsign(SIGNER.sign("a.b.c")) == b"a.b.c"


def test_dumps_and_loads_any_msgspec_value() -> None:
    token = SIGNER.dumps({"user": 1, "tags": ["a", "b"]})
    assert all(char in string.ascii_letters + string.digits + "-_." for char in token)  # cookie- and URL-safe
    assert SIGNER.loads(token) == {"user": 1, "tags": ["a", "b"]}
    assert SIGNER.loads(SIGNER.dumps(7), type=int) == 7
    with pytest.raises(BadSignature, match="does not decode"):
        SIGNER.loads(SIGNER.dumps("text"), type=int)
    with pytest.raises(BadSignature, match="does not decode"):
        SIGNER.loads(SIGNER.sign(b64encode(b"{not json")))


def test_a_salt_separates_purposes() -> None:
    with pytest.raises(BadSignature):
        Signer(["key"], salt="other").unsign(TOKEN)


def test_another_key_is_refused() -> None:
    with pytest.raises(BadSignature, match="altered or signed with another key"):
        Signer(["other-key"], salt="tests").unsign(TOKEN)


def test_rotation_signs_with_the_first_key_and_accepts_the_others() -> None:
    rotated = Signer(["new", "key"], salt="tests")
    assert rotated.unsign(TOKEN) == b"value"  # signed with the old key: still accepted
    fresh = rotated.sign("value")
    assert Signer(["new"], salt="tests").unsign(fresh) == b"value"  # signed with the new one
    with pytest.raises(BadSignature):
        SIGNER.unsign(fresh)  # the old key alone does not accept what the new one signed


def test_from_settings_uses_the_secret_key_then_the_fallbacks() -> None:
    settings = Settings(secret_key="new", secret_key_fallbacks=["key"])
    signer = Signer.from_settings(settings, salt="tests")
    assert signer.unsign(TOKEN) == b"value"
    assert Signer(["new"], salt="tests").unsign(signer.sign("x")) == b"x"


def test_no_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="PLAIT_SECRET_KEY"):
        Signer([], salt="tests")
    with pytest.raises(ConfigurationError, match="PLAIT_SECRET_KEY"):
        Signer.from_settings(Settings(), salt="tests")


def test_max_age() -> None:
    old = SIGNER.sign("value", timestamp=time.time() - 100)
    assert SIGNER.unsign(old, max_age=200) == b"value"
    with pytest.raises(SignatureExpired, match="more than the 50 s allowed") as caught:
        SIGNER.unsign(old, max_age=50)
    assert caught.value.age >= 100
    assert isinstance(caught.value, BadSignature)  # one except clause catches both
    with pytest.raises(SignatureExpired):
        SIGNER.loads(Signer(["key"], salt="tests").sign(b64encode(b"1"), timestamp=0), max_age=10)


@pytest.mark.parametrize("token", ["", "value", "value.sig", "value.notdigits.sig", ".."])
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(BadSignature):
        SIGNER.unsign(token)


def test_b64_round_trip_and_errors() -> None:
    assert b64decode(b64encode(b"\x00\xffdata")) == b"\x00\xffdata"
    assert b"=" not in b64encode(b"a")
    with pytest.raises(BadSignature, match="not valid base64"):
        b64decode(b"a")


@given(st.data())
def test_any_altered_token_is_refused(data: st.DataObject) -> None:
    token = SIGNER.dumps({"user": 1, "admin": False})
    index = data.draw(st.integers(0, len(token) - 1))
    alphabet = string.ascii_letters + string.digits + "-_."
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda char: char != token[index]))
    with pytest.raises(BadSignature):
        SIGNER.loads(token[:index] + replacement + token[index + 1 :])


@given(st.binary(max_size=64))
def test_any_value_round_trips(value: bytes) -> None:
    encoded = b64encode(value)
    assert SIGNER.unsign(SIGNER.sign(encoded)) == encoded
