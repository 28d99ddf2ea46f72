"""Access and refresh tokens, and the attacks on JWTs that must all be refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from plait.auth.jwt import InvalidToken, TokenCodec, derive_hmac_key
from plait.auth.settings import AuthSettings
from plait.exceptions import ConfigurationError

SECRET = "a test secret key that is long enough"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {"sub": "1", "kind": "access", "iat": now, "nbf": now, "exp": now + timedelta(minutes=5)}
    return base | extra


def hmac_token(payload: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return pyjwt.encode(payload, derive_hmac_key(secret), algorithm=algorithm)


@pytest.fixture(scope="module")
def rsa_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    folder = tmp_path_factory.mktemp("keys")
    private, public = folder / "private.pem", folder / "public.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def test_access_token_round_trip_with_extra_claims() -> None:
    codec = TokenCodec.hmac(SECRET)
    decoded = codec.decode(codec.access_token(42, role="editor"))
    assert (decoded["sub"], decoded["kind"], decoded["role"]) == ("42", "access", "editor")
    assert decoded["exp"] - decoded["iat"] == 15 * 60


def test_extra_claims_cannot_replace_standard_ones() -> None:
    codec = TokenCodec.hmac(SECRET)
    decoded = codec.decode(codec.issue(1, claims={"kind": "refresh", "sub": "999"}))
    assert (decoded["kind"], decoded["sub"]) == ("access", "1")


def test_refresh_token_is_never_an_access_token_and_back() -> None:
    codec = TokenCodec.hmac(SECRET)
    pair = codec.pair(3)
    assert (pair.token_type, pair.expires_in) == ("bearer", 900)
    assert pair.refresh_token is not None
    with pytest.raises(InvalidToken, match="refresh token"):
        codec.decode(pair.refresh_token)
    assert codec.decode(pair.refresh_token, kind="refresh")["sub"] == "3"
    with pytest.raises(InvalidToken, match="an access token; send a refresh token"):
        codec.decode(pair.access_token, kind="refresh")


def test_alg_none_is_refused() -> None:
    codec = TokenCodec.hmac(SECRET)
    payload = json.dumps(claims(exp=9_999_999_999, iat=0, nbf=0)).encode()
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = f"{header}.{_b64(payload)}."
    with pytest.raises(InvalidToken, match="not signed with HS256"):
        codec.decode(unsigned)


def test_rsa_public_key_used_as_hmac_secret_is_refused(rsa_files: tuple[Path, Path]) -> None:
    private, public = rsa_files
    codec = TokenCodec.from_keys("RS256", private_key=str(private), public_key=public.read_text())
    assert codec.decode(codec.access_token(5))["sub"] == "5"
    # The attack: sign HS256 with the (public) PEM bytes as the HMAC secret, hoping the server uses
    # its verifying key with whatever algorithm the header names. Computed by hand: PyJWT refuses to.
    import hashlib
    import hmac

    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims(exp=9_999_999_999, iat=0, nbf=0)).encode())
    signature = hmac.new(public.read_bytes(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{body}.{_b64(signature)}"
    with pytest.raises(InvalidToken, match="not signed with RS256"):
        codec.decode(forged)


def test_verify_only_codec_cannot_issue(rsa_files: tuple[Path, Path]) -> None:
    _, public = rsa_files
    codec = TokenCodec.from_keys("RS256", private_key=None, public_key=str(public))
    with pytest.raises(ConfigurationError, match="PRIVATE_KEY"):
        codec.access_token(1)


def test_es256_from_settings(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = tmp_path / "ec.pem", tmp_path / "ec.pub"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    settings = AuthSettings(
        jwt_algorithm="ES256",
        jwt_private_key_file=str(private),
        jwt_public_key_file=str(public),
        jwt_issuer="me",
    )
    codec = TokenCodec.from_settings(settings, [SECRET])
    assert codec.decode(codec.access_token(9))["iss"] == "me"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (claims(exp=datetime.now(UTC) - timedelta(minutes=1)), "expired"),
        (claims(nbf=datetime.now(UTC) + timedelta(minutes=5)), "not valid yet"),
        (claims(aud="someone-else"), "another audience"),
        ({k: v for k, v in claims().items() if k != "exp"}, "'exp' claim"),
        ({k: v for k, v in claims().items() if k != "kind"}, "'kind' claim"),
    ],
)
def test_bad_claims_are_refused(payload: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason):
        TokenCodec.hmac(SECRET).decode(hmac_token(payload))


def test_audience_and_issuer_are_checked_when_configured() -> None:
    codec = TokenCodec.hmac(SECRET, audience="api", issuer="plait")
    assert codec.decode(codec.access_token(1))["aud"] == "api"
    with pytest.raises(InvalidToken, match="another audience"):
        codec.decode(hmac_token(claims(aud="web", iss="plait")))
    with pytest.raises(InvalidToken, match="issued by someone else"):
        codec.decode(hmac_token(claims(aud="api", iss="evil")))
    with pytest.raises(InvalidToken, match="'aud' claim"):
        codec.decode(hmac_token(claims(iss="plait")))


def test_leeway_accepts_a_token_just_expired() -> None:
    token = hmac_token(claims(exp=datetime.now(UTC) - timedelta(seconds=5)))
    assert TokenCodec.hmac(SECRET, leeway=timedelta(seconds=30)).decode(token)["sub"] == "1"


def test_oversized_and_garbage_tokens() -> None:
    codec = TokenCodec.hmac(SECRET, max_length=200)
    with pytest.raises(InvalidToken, match="longer than 200"):
        codec.decode(codec.access_token(1, padding="x" * 300))
    for garbage in ("", "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln"):
        with pytest.raises(InvalidToken):
            codec.decode(garbage)


def test_a_signed_token_that_is_not_json() -> None:
    signed = pyjwt.api_jws.encode(b"not json", derive_hmac_key(SECRET), algorithm="HS256")
    with pytest.raises(InvalidToken, match="malformed"):
        TokenCodec.hmac(SECRET).decode(signed)


def test_wrong_key_and_key_rotation() -> None:
    old = TokenCodec.hmac("the old secret key")
    token = old.access_token(1)
    with pytest.raises(InvalidToken, match="signature does not match"):
        TokenCodec.hmac(SECRET).decode(token)
    rotated = TokenCodec.hmac(SECRET, "the old secret key")
    assert rotated.decode(token)["sub"] == "1"
    with pytest.raises(InvalidToken):  # new tokens are signed with the newest key only
        TokenCodec.hmac("the old secret key").decode(rotated.access_token(2))


def test_from_settings_hmac_uses_the_dedicated_secret_first() -> None:
    settings = AuthSettings(jwt_secret="dedicated", jwt_access_ttl=60, jwt_leeway=1)
    codec = TokenCodec.from_settings(settings, [SECRET])
    assert TokenCodec.hmac("dedicated").decode(codec.access_token(1))["sub"] == "1"
    assert codec.access_ttl == timedelta(seconds=60)
    fallback = TokenCodec.from_settings(AuthSettings(), [SECRET, "older", ""])
    assert len(fallback.verifying_keys) == 2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TokenCodec.hmac(""), "non-empty secret key"),
        (lambda: TokenCodec.hmac(SECRET, algorithm="RS256"), "HMAC algorithm"),
        (lambda: TokenCodec("none", b"k", [b"k"]), "'none' never is"),
        (lambda: TokenCodec("HS256", b"k", []), "at least one verifying key"),
        (lambda: TokenCodec.from_keys("HS256", private_key=None, public_key="x"), "asymmetric"),
        (lambda: TokenCodec.from_keys("RS256", private_key=None, public_key=""), "PUBLIC_KEY"),
        (lambda: TokenCodec.from_keys("RS256", private_key=None, public_key="/nope.pem"), "Cannot read"),
    ],
)
def test_configuration_errors_name_the_fix(make: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make()


def test_a_file_that_is_not_a_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(ConfigurationError, match="not a PEM key usable with RS256"):
        TokenCodec.from_keys("RS256", private_key=None, public_key=str(bad))


def test_a_bad_pem_text_is_never_echoed_in_the_error() -> None:
    broken = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ConfigurationError, match="given as PEM text") as caught:
        TokenCodec.from_keys("RS256", private_key=broken, public_key=broken)
    assert "MIIE" not in str(caught.value)  # key material stays out of logs
