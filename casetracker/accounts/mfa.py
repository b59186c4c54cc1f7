"""Two-factor sign-in: TOTP secrets, QR codes and single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import pyotp
import segno

RECOVERY_CODE_COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ISSUER = "casetracker"


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters, 160 bits


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images and no inline script)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped_secret(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def totp_step(secret: str | None, code: str, now: float | None = None) -> int | None:
    """The time step (30 s) whose code this is, or None. One step either side of now is
    accepted, which tolerates a phone clock a little off."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if not secret or len(digits) != 6 or len(code.strip()) > 12:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.fromtimestamp(now if now is not None else time.time(), UTC))
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            found = step
    return found


def verify_totp(secret: str | None, code: str) -> bool:
    return totp_step(secret, code) is not None


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Distinct codes of 10 characters in two groups, each holding a letter: a code of digits
    only would be taken for an authenticator code (see :func:`looks_like_recovery_code`)."""
    codes: list[str] = []
    while len(codes) < count:
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        if looks_like_recovery_code(code) and code not in codes:
            codes.append(code)
    return codes


def normalise_recovery_code(code: str) -> str:
    clean = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"{clean[:5]}-{clean[5:]}" if len(clean) == 10 else clean


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_recovery_code(code).encode("utf-8")).hexdigest()


def stored_codes(value: Any) -> list[str]:
    """User.recovery_codes as a list (SQLite hands JSON back as text)."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return list(value or [])


def match_recovery_code(stored: list[str], code: str) -> str | None:
    """The stored hash this code matches, or None (compared in constant time)."""
    candidate = hash_recovery_code(code)
    found = None
    for digest in stored:
        if hmac.compare_digest(digest, candidate):
            found = digest
    return found


def looks_like_recovery_code(code: str) -> bool:
    clean = "".join(ch for ch in code if ch.isalnum())
    return len(clean) == 10 and not clean.isdigit()
