"""TOTP secrets sealed at rest: AES-256-GCM, key from HKDF, user id as associated data."""

from __future__ import annotations

import base64

import pyotp
import pytest

from casetracker.accounts.totp_crypto import (
    PREFIX,
    UnreadableSecret,
    derive_key,
    is_sealed,
    seal,
    unseal,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
KEY = derive_key("app-secret-key-for-unit-tests-0123456789")


def test_round_trip_and_format() -> None:
    token = seal(SECRET, user_id=7, key=KEY)
    assert token.startswith(PREFIX) and is_sealed(token)
    assert SECRET not in token
    assert len(token) <= 128  # fits User.totp_secret
    raw = base64.urlsafe_b64decode(token[len(PREFIX):] + "=" * (-len(token) % 4))
    assert len(raw) == 12 + len(SECRET) + 16  # nonce, ciphertext, tag
    assert unseal(token, user_id=7, key=KEY) == SECRET


def test_fresh_nonce_for_every_value() -> None:
    assert seal(SECRET, user_id=7, key=KEY) != seal(SECRET, user_id=7, key=KEY)


def test_key_derivation_is_stable_distinct_and_sized() -> None:
    assert derive_key("app-secret-key-for-unit-tests-0123456789") == KEY
    assert len(KEY) == 32
    assert derive_key("another key") != KEY
    # The derived key is not the app key itself, nor a plain hash of it.
    assert KEY != b"app-secret-key-for-unit-tests-0123456789"[:32]
    with pytest.raises(ValueError):
        derive_key("")


def test_another_user_cannot_open_it() -> None:
    token = seal(SECRET, user_id=7, key=KEY)
    with pytest.raises(UnreadableSecret):
        unseal(token, user_id=8, key=KEY)


def test_another_key_cannot_open_it() -> None:
    token = seal(SECRET, user_id=7, key=KEY)
    with pytest.raises(UnreadableSecret):
        unseal(token, user_id=7, key=derive_key("the key after a rotation"))


def _flip(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token[len(PREFIX):] + "=" * (-len(token) % 4)))
    raw[index] ^= 0x01
    return PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize("index", [0, 11, 12, 30, -1])  # nonce, ciphertext, tag
def test_any_altered_byte_is_refused(index: int) -> None:
    token = seal(SECRET, user_id=7, key=KEY)
    with pytest.raises(UnreadableSecret):
        unseal(_flip(token, index), user_id=7, key=KEY)


@pytest.mark.parametrize("stored", [
    None, "", SECRET, "v2:" + "A" * 80, "v1:", "v1:AAAA", "v1:not base64!!", "v1:" + "A" * 40,
])
def test_anything_but_a_sealed_value_is_refused(stored: str | None) -> None:
    with pytest.raises(UnreadableSecret):
        unseal(stored, user_id=7, key=KEY)


def test_only_sealed_tokens_count_as_sealed() -> None:
    assert not is_sealed(None) and not is_sealed(SECRET) and not is_sealed("")
    assert not is_sealed(pyotp.random_base32())  # base32 has no ":" so never looks sealed
