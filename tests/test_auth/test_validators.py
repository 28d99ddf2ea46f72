"""Password rules: length, the common-password list, digits only, similarity to the username/email."""

from __future__ import annotations

import pytest

from plait.auth.settings import AuthSettings
from plait.auth.validators import (
    CommonPassword,
    MaximumBytes,
    MinimumLength,
    NotNumeric,
    PasswordValidationError,
    UserAttributeSimilarity,
    common_passwords,
    default_validators,
    validate_password,
)


def test_length_rules() -> None:
    assert MinimumLength(8)("1234567", {}) is not None
    assert MinimumLength(8)("12345678", {}) is None
    assert MaximumBytes(4)("éé", {}) is None
    assert MaximumBytes(4)("ééé", {}) is not None


def test_the_common_list_ships_with_plait() -> None:
    listed = common_passwords()
    assert len(listed) == 5000
    assert {"123456", "password", "qwerty", "iloveyou"} <= listed
    assert CommonPassword()("PassWord", {}) is not None  # compared lower-cased
    assert CommonPassword()("a rather uncommon phrase", {}) is None
    assert CommonPassword(["Hunter22"])("hunter22", {}) is not None
    assert CommonPassword(["Hunter22"])("password", {}) is None  # a list of one's own replaces the shipped one


def test_digits_only() -> None:
    assert NotNumeric()("0123456789", {}) is not None
    assert NotNumeric()("0123456789a", {}) is None


@pytest.mark.parametrize(
    ("password", "attributes", "refused"),
    [
        ("ada.lovelace", {"email": "ada.lovelace@example.com"}, True),
        ("lovelace1815", {"email": "ada.lovelace@example.com"}, True),  # one word of the address
        ("ADA_LOVELACE", {"username": "ada_lovelace"}, True),
        ("xq9-violet-anchor", {"username": "ada", "email": "ada@example.com"}, False),
        ("adalbert is fine", {"username": "ad"}, False),  # too short a value to compare
        ("anything", {}, False),
    ],
)
def test_similarity(password: str, attributes: dict[str, str], refused: bool) -> None:
    assert (UserAttributeSimilarity()(password, attributes) is not None) is refused


def test_similarity_can_be_turned_off() -> None:
    assert UserAttributeSimilarity(max_similarity=1)("ada", {"username": "ada"}) is None


def test_validate_password_reports_every_problem() -> None:
    with pytest.raises(PasswordValidationError) as caught:
        validate_password("1234", {"username": "someone"})
    assert caught.value.messages == [
        "The password is too short: use at least 8 characters.",
        "The password is too common: attackers try it first.",
        "The password is only digits: add letters or symbols.",
    ]
    validate_password("correct horse battery staple")
    validate_password("1234", validators=[])


def test_the_settings_choose_the_rules() -> None:
    names = [type(v).__name__ for v in default_validators(AuthSettings(password_common=False))]
    assert "CommonPassword" not in names
    short = default_validators(AuthSettings(password_min_length=3))
    validate_password("xkcd", validators=short)
