"""The single answer to "may this user do this (to this object)".

Guards (route level) use ``has_permission``; ``provide_<object>`` dependencies and services
use the per-object functions below. Objects a user may not know exist answer 404 (NotFound),
the rest 403 (Forbidden).
"""

from __future__ import annotations

from typing import Any

from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission as P
from casetracker.errors import Forbidden, NotFound

_ALL = frozenset(P)

ROLE_PERMISSIONS: dict[str, frozenset[P]] = {
    "administrator": _ALL,
    "supervisor": frozenset({
        P.API_TOKENS_OWN, P.REGISTRY_READ, P.DESIGNATION_SUSPEND,
        P.CASE_READ_ALL, P.CASE_TRIAGE, P.CASE_ASSIGN, P.CASE_INVESTIGATE, P.CASE_REVIEW,
        P.CASE_EXPORT, P.CASE_VIEW_CONTACT,
        P.EVIDENCE_READ, P.EVIDENCE_UPLOAD, P.EVIDENCE_WITHDRAW, P.EVIDENCE_VERIFY,
        P.REPORT_CASE, P.RECOMMENDATION_DRAFT, P.RECOMMENDATION_APPROVE,
        P.RECOMMENDATION_ISSUE, P.OVERSIGHT_METRICS, P.OVERSIGHT_FLAGS,
    }),
    "investigator": frozenset({
        P.API_TOKENS_OWN, P.REGISTRY_READ, P.CASE_READ_ASSIGNED, P.CASE_INVESTIGATE,
        P.CASE_VIEW_CONTACT, P.EVIDENCE_READ, P.EVIDENCE_UPLOAD, P.REPORT_CASE,
    }),
    "intake": frozenset({
        P.API_TOKENS_OWN, P.REGISTRY_READ, P.CASE_READ_TRIAGE, P.CASE_TRIAGE,
        P.EVIDENCE_READ, P.EVIDENCE_UPLOAD,
    }),
    "oversight": frozenset({
        P.API_TOKENS_OWN, P.REGISTRY_READ, P.CASE_READ_ALL, P.CASE_EXPORT, P.EVIDENCE_READ,
        P.REPORT_CASE, P.RECOMMENDATION_DRAFT, P.RECOMMENDATION_ISSUE,
        P.OVERSIGHT_METRICS, P.OVERSIGHT_FLAGS, P.OVERSIGHT_IMPORT,
    }),
}

TRIAGE_STATES = frozenset({"received", "in_triage"})


def permissions_for(role: str | None) -> frozenset[P]:
    return ROLE_PERMISSIONS.get(role or "", frozenset())


def has_permission(actor: Actor | None, permission: P) -> bool:
    return actor is not None and permission in permissions_for(actor.role)


def require(actor: Actor | None, permission: P) -> None:
    if not has_permission(actor, permission):
        raise Forbidden("You do not have permission to do that.")


# --- cases -------------------------------------------------------------------------------

def _field(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _lead_id(case: Any) -> int | None:
    lead = _field(case, "lead_investigator")
    if isinstance(lead, dict):
        return lead.get("id")
    return getattr(lead, "id", lead)


def may_view_case(actor: Actor | None, case: Any) -> bool:
    """``case`` is a Case row or a dict with at least status and lead_investigator."""
    if actor is None:
        return False
    if has_permission(actor, P.CASE_READ_ALL):
        return True
    if has_permission(actor, P.CASE_READ_ASSIGNED) and _lead_id(case) == actor.id:
        return True
    return has_permission(actor, P.CASE_READ_TRIAGE) and _field(case, "status") in TRIAGE_STATES


def ensure_may_view_case(actor: Actor | None, case: Any) -> None:
    if not may_view_case(actor, case):
        # Denied looks like "not found": the user may not learn the case exists.
        raise NotFound("There is no such case.")


def may_view_complainant_contact(actor: Actor | None, case: Any) -> bool:
    """Only the assigned investigator and supervisors (and administrators)."""
    if actor is None or not may_view_case(actor, case):
        return False
    if actor.role in ("supervisor", "administrator"):
        return True
    return actor.role == "investigator" and _lead_id(case) == actor.id


def case_visibility_filter(actor: Actor) -> Any | None:
    """A where-clause for lists: None means "all cases"; raises Forbidden for no access."""
    from casetracker.cases.tables import Case

    if has_permission(actor, P.CASE_READ_ALL):
        return None
    if has_permission(actor, P.CASE_READ_ASSIGNED):
        return Case.lead_investigator == actor.id
    if has_permission(actor, P.CASE_READ_TRIAGE):
        return Case.status.is_in(sorted(TRIAGE_STATES))
    raise Forbidden("You do not have permission to see cases.")
