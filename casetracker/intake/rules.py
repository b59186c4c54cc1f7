"""Pure rules of public intake: tracking numbers, access codes, text hygiene, status wording.

No I/O here; everything is unit-tested in tests/unit/test_intake_rules.py.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

# Crockford-like: digits and capitals without the ones people confuse when reading aloud or
# copying by hand (0/O, 1/I/L, U/V).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
TRACKING_RE = re.compile(rf"^CT-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")
ACCESS_CODE_GROUPS = 5  # 5 groups of 4 characters from a 29-letter alphabet: 97 bits
ACCESS_CODE_LENGTH = ACCESS_CODE_GROUPS * 4


def _random_chars(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def new_tracking_number() -> str:
    """``CT-XXXX-XXXX``: 29**8 (about 5e11) values; the caller retries on a collision."""
    return f"CT-{_random_chars(4)}-{_random_chars(4)}"


def new_access_code() -> str:
    """A secret of 20 characters (about 97 bits), grouped for reading: ``XXXX-XXXX-…``."""
    raw = _random_chars(ACCESS_CODE_LENGTH)
    return "-".join(raw[i:i + 4] for i in range(0, ACCESS_CODE_LENGTH, 4))


_SEPARATORS = re.compile(r"[\s\-_.]+")


def normalise_tracking_number(value: str) -> str:
    """What a person types ("ct 7kq3 m9xp", "CT7KQ3M9XP") to the stored form, or ""."""
    compact = _SEPARATORS.sub("", (value or "")[:40]).upper()
    if compact.startswith("CT"):
        compact = compact[2:]
    if len(compact) != 8:
        return ""
    candidate = f"CT-{compact[:4]}-{compact[4:]}"
    return candidate if TRACKING_RE.match(candidate) else ""


def normalise_access_code(value: str) -> str:
    return _SEPARATORS.sub("", (value or "")[:80]).upper()


def access_code_hash(secret_key: str, tracking_number: str, access_code: str) -> str:
    """HMAC-SHA256 keyed with the app's secret; only this is stored (Case.access_code_hash)."""
    message = f"access-code:{tracking_number}:{normalise_access_code(access_code)}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def access_code_matches(secret_key: str, tracking_number: str, access_code: str,
                        stored_hash: str) -> bool:
    expected = access_code_hash(secret_key, tracking_number, access_code)
    return hmac.compare_digest(expected, stored_hash or "0" * 64)


def address_key(secret_key: str, address: str | None) -> str:
    """A salted hash of a client address for rate limiting: the address itself is not kept."""
    message = f"rate:{address or 'unknown'}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


# --- text hygiene ---------------------------------------------------------------------------

_ALLOWED_CONTROLS = {"\n", "\t"}
# Bidirectional overrides and isolates: they make text display differently from what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_characters(value: str) -> bool:
    """Control and format characters other than newline and tab (\\r is normalised first)."""
    for char in value.replace("\r\n", "\n").replace("\r", "\n"):
        if char in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co", "Cn") or char in _BIDI_CONTROLS:
            return True
    return False


def clean_text(value: object, *, multiline: bool = False) -> str:
    """Normalise one submitted value: NFC, \\r\\n to \\n, trimmed; single-line fields lose
    newlines. Control characters are *not* removed here: ``has_control_characters`` reports
    them so the person is told (we refuse rather than silently change what they wrote)."""
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return text.strip()


# --- status in plain words --------------------------------------------------------------------

# Case.status → (public stage key). Public stages are deliberately coarse.
STATUS_STAGE = {
    "received": "received",
    "in_triage": "reviewing",
    "declined": "closed",
    "referred": "referred",
    "open": "investigating",
    "under_investigation": "investigating",
    "findings_submitted": "investigating",
    "under_review": "investigating",
    "returned": "investigating",
    "closed": "closed",
}


def public_stage(status: str) -> str:
    return STATUS_STAGE.get(status or "", "reviewing")


# --- drafts and one-time submission keys ------------------------------------------------------
# A key the visitor holds (the draft cookie's token, an API client's Idempotency-Key) is never
# stored: rows are found by an HMAC of it, and what they keep for the visitor is sealed with a
# key derived from it. Reading the database (or a backup) shows neither drafts nor access codes.

SEALED_PREFIX = "s1:"


def key_hash(secret_key: str, kind: str, key: str) -> str:
    """The stored form of a visitor's key: HMAC-SHA256(secret, "<kind>:<key>")."""
    message = f"{kind}:{key}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _sealing_key(secret_key: str, kind: str, key: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=secret_key.encode(),
                info=f"casetracker intake {kind} v1".encode())
    return hkdf.derive(key.encode())


def seal(text: str, *, secret_key: str, kind: str, key: str) -> str:
    """AES-256-GCM under a key derived from the visitor's key and the app's secret."""
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    box = AESGCM(_sealing_key(secret_key, kind, key)).encrypt(nonce, text.encode(), kind.encode())
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + box).decode("ascii")


def unseal(token: str, *, secret_key: str, kind: str, key: str) -> str | None:
    """The sealed text, or None when it does not open (another key, altered, blanked)."""
    import base64
    import binascii

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not token or not token.startswith(SEALED_PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(token[len(SEALED_PREFIX):].encode("ascii"))
        clear = AESGCM(_sealing_key(secret_key, kind, key)).decrypt(raw[:12], raw[12:],
                                                                     kind.encode())
    except (binascii.Error, ValueError, InvalidTag):
        return None
    return clear.decode()


def fingerprint(value: object) -> str:
    """SHA-256 of a JSON-able value written canonically (sorted keys, no spaces)."""
    import json

    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{16,255}$")


def valid_idempotency_key(value: str) -> bool:
    """16 to 255 visible ASCII characters: a UUID or another random value the client made."""
    return bool(IDEMPOTENCY_KEY_RE.match(value or ""))


def signed_cookie_value(secret_key: str, name: str, token: str, expires_epoch: int) -> str:
    """``token.expiry.signature``: a cookie that says when it stops being valid."""
    body = f"{token}.{expires_epoch}"
    signature = hmac.new(secret_key.encode(), f"cookie:{name}:{body}".encode(),
                         hashlib.sha256).hexdigest()[:32]
    return f"{body}.{signature}"


def read_signed_cookie(secret_key: str, name: str, value: str | None, now_epoch: float
                       ) -> str | None:
    """The token of a cookie made by ``signed_cookie_value``, or None (forged, expired)."""
    if not value or value.count(".") != 2:
        return None
    token, expiry, signature = value.split(".")
    if not expiry.isdigit() or int(expiry) < now_epoch or not token:
        return None
    expected = signed_cookie_value(secret_key, name, token, int(expiry)).rsplit(".", 1)[1]
    return token if hmac.compare_digest(expected, signature) else None
