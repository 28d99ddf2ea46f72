"""Masked tokens: a fresh mask each time, always the same secret, nothing else accepted."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from plait.csrf import tokens
from plait.signing import b64decode, b64encode

SECRET = tokens.new_secret()


def test_a_secret_is_32_random_bytes() -> None:
    assert len(b64decode(SECRET.encode())) == 32
    assert tokens.new_secret() != SECRET


def test_tokens_differ_every_time_and_all_match() -> None:
    made = {tokens.mask(SECRET) for _ in range(20)}
    assert len(made) == 20
    assert all(tokens.matches(token, SECRET) for token in made)
    assert all(tokens.unmask(token) == b64decode(SECRET.encode()) for token in made)


def test_the_bare_secret_is_not_a_token() -> None:
    assert not tokens.matches(SECRET, SECRET)


def test_malformed_inputs_never_match() -> None:
    assert tokens.unmask("é") is None
    assert not tokens.matches("é", SECRET)
    assert not tokens.matches(tokens.mask(SECRET), "é")
    assert not tokens.matches(tokens.mask(SECRET), "%%%")


@given(st.data())
def test_any_altered_token_is_refused(data: st.DataObject) -> None:
    raw = bytearray(b64decode(tokens.mask(SECRET).encode()))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 255))  # flip at least one bit
    assert not tokens.matches(b64encode(bytes(raw)).decode(), SECRET)


@given(st.text(string.ascii_letters + string.digits + "-_", max_size=120))
def test_random_strings_are_refused(text: str) -> None:
    assert not tokens.matches(text, SECRET)
