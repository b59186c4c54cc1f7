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
