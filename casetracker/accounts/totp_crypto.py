"""Encryption at rest for TOTP secrets. Pure: no settings, no database, no logging.

AES-256-GCM with a key derived by HKDF-SHA256 from the app's secret key under its own context
string (so the key is never the one that signs sessions or anything else), a random 96-bit
nonce per value, and the user's id as associated data: a value copied to another account does
not open. Stored as a versioned text token, ``"v1:" + base64url(nonce || ciphertext || tag)``
without padding (83 characters for a 160-bit base32 secret).

Changing the secret key makes every stored value unreadable (``UnreadableSecret``): the
people concerned sign in with a recovery code or have an administrator reset their 2FA.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1:"
_HKDF_INFO = b"casetracker accounts totp-secret v1"
_NONCE_BYTES = 12
_TAG_BYTES = 16


class UnreadableSecret(Exception):
    """The stored value does not open: the secret key changed, it belongs to another user,
    it was altered, or it is not a sealed value at all."""


@functools.lru_cache(maxsize=4)
def derive_key(secret_key: str) -> bytes:
    """The 256-bit TOTP encryption key for this app secret key."""
    if not secret_key:
        raise ValueError("the secret key is empty")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return hkdf.derive(secret_key.encode("utf-8"))


def _associated_data(user_id: int) -> bytes:
    return f"ct_user:{int(user_id)}".encode("ascii")


def is_sealed(value: object) -> bool:
    """Whether a stored value is already a sealed token (the migration leaves those alone)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(secret: str, *, user_id: int, key: bytes) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, secret.encode("utf-8"), _associated_data(user_id))
    return PREFIX + base64.urlsafe_b64encode(nonce + ciphertext).decode("ascii").rstrip("=")


def unseal(token: str | None, *, user_id: int, key: bytes) -> str:
    """The clear secret, or ``UnreadableSecret`` (never a partial or unauthenticated value)."""
    if token is None or not is_sealed(token):
        raise UnreadableSecret("not a sealed value")
    body = token[len(PREFIX):]
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnreadableSecret("not valid base64url") from exc
    if len(raw) <= _NONCE_BYTES + _TAG_BYTES:
        raise UnreadableSecret("too short")
    try:
        clear = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:],
                                    _associated_data(user_id))
    except InvalidTag as exc:
        raise UnreadableSecret("authentication failed (wrong key, user or altered)") from exc
    return clear.decode("utf-8")
