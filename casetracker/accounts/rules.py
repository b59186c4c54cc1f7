"""Pure account rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ALWAYS_2FA_ROLES = frozenset({"administrator"})


def roles_requiring_2fa(configured: Iterable[str], *, by_default: Iterable[str] = (),
                        relaxed: Iterable[str] = (), required: Iterable[str] = ()
                        ) -> frozenset[str]:
    """Who must use a second factor: administrators and the ``configured`` roles (server
    setting) always; the roles that need it ``by_default`` (they see complainants' identity or
    evidence) unless an administrator ``relaxed`` it; and any role an administrator
    ``required`` it of."""
    fixed = ALWAYS_2FA_ROLES | frozenset(configured)
    return fixed | (frozenset(by_default) - frozenset(relaxed)) | frozenset(required)


def requires_2fa_enrolment(user: Any, configured_roles: Iterable[str]) -> bool:
    return user.role in roles_requiring_2fa(configured_roles) and not user.totp_enabled


def admin_change_problem(
    *, actor_id: int | None, target_id: int, target_role: str, target_active: bool,
    change: str, new_role: str | None = None, other_active_admins: int = 0,
) -> str | None:
    """Why an administrator may not make this change to a user, or None.

    ``change`` is "role" or "disable". Nobody may disable themselves, and the last active
    administrator can neither be disabled nor lose the role (the office would be locked out).
    """
    if change == "disable" and actor_id == target_id:
        return "You cannot disable your own account."
    last_admin = target_role == "administrator" and target_active and other_active_admins == 0
    if change == "disable" and last_admin:
        return "This is the last active administrator; make someone else an administrator first."
    if change == "role" and last_admin and new_role != "administrator":
        return "This is the last active administrator; make someone else an administrator first."
    return None


# How people read each role (pages print these words, never the stored code).
ROLE_LABELS = {
    "administrator": "Administrator",
    "supervisor": "Supervisor",
    "investigator": "Investigator",
    "intake": "Intake staff",
    "oversight": "Oversight staff",
}


def role_label(role: str | None) -> str:
    """The role in words ("Oversight staff"), in English; templates translate it."""
    return ROLE_LABELS.get(role or "", (role or "").replace("_", " ").capitalize())


def role_labels() -> dict[str, str]:
    """Each role in words, in the reader's language."""
    from casetracker.web.i18n import gettext as _

    return {key: _(label) for key, label in ROLE_LABELS.items()}
