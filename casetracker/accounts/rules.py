"""Pure account rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ALWAYS_2FA_ROLES = frozenset({"administrator"})


def roles_requiring_2fa(configured: Iterable[str]) -> frozenset[str]:
    """Administrators always need a second factor; other roles when an administrator says so."""
    return ALWAYS_2FA_ROLES | frozenset(configured)


def requires_2fa_enrolment(user: Any, configured_roles: Iterable[str]) -> bool:
    return user.role in roles_requiring_2fa(configured_roles) and not user.totp_enabled
