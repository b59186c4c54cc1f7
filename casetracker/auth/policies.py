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

# Holding any of these means seeing who complained or the evidence: such roles sign in with a
# second factor unless an administrator relaxes it (CJIS multi-factor authentication).
IDENTITY_OR_EVIDENCE = frozenset({P.CASE_VIEW_CONTACT, P.EVIDENCE_READ})


def roles_seeing_identity_or_evidence() -> frozenset[str]:
    return frozenset(role for role, granted in ROLE_PERMISSIONS.items()
                     if granted & IDENTITY_OR_EVIDENCE)


def permissions_for(role: str | None) -> frozenset[P]:
    return ROLE_PERMISSIONS.get(role or "", frozenset())


def has_permission(actor: Actor | None, permission: P) -> bool:
    return actor is not None and permission in permissions_for(actor.role)


def require(actor: Actor | None, permission: P) -> None:
    if not has_permission(actor, permission):
        raise Forbidden("You do not have permission to do that.")


def may_import_registry(actor: Actor | None) -> bool:
    """ICE's lists (sheets, the history file): the command line runs as the system actor;
    staff need the import permission."""
    if actor is not None and actor.id is None and actor.role is None \
            and actor.label != "public":
        return True
    return has_permission(actor, P.REGISTRY_IMPORT)


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


def may_be_given_task(user: Actor | None, case: Any) -> bool:
    """A task on a case may go to any active staff member who may see the case."""
    return user is not None and user.is_staff and may_view_case(user, case)


def may_complete_task(actor: Actor | None, case: Any, task: Any) -> bool:
    """The person the task was given to (while they may see the case), or whoever may complete
    the case's tasks in its current state (the lead, a supervisor)."""
    if actor is None or not may_view_case(actor, case):
        return False
    if actor.id is not None and _field(task, "assignee") == actor.id:
        return True
    return may_act_on_case(actor, case, "complete_task")


def may_view_complainant_contact(actor: Actor | None, case: Any) -> bool:
    """Only the assigned investigator and supervisors (and administrators)."""
    if actor is None or not may_view_case(actor, case):
        return False
    if actor.role in ("supervisor", "administrator"):
        return True
    return actor.role == "investigator" and _lead_id(case) == actor.id


def may_see_complainant_identity(actor: Actor | None) -> bool:
    """Documents that gather many cases (rescission recommendations): the sensitive variant,
    which names complainants, is drafted, previewed and downloaded only by those who hold the
    contact-details permission; everyone else gets the redacted variant."""
    return has_permission(actor, P.CASE_VIEW_CONTACT)


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


# --- case workflow (cases.rules holds the transition table) --------------------------------

def _may_by_rule(actor: Actor | None, case: Any, permission: P, who: str) -> bool:
    if not has_permission(actor, permission):
        return False
    if who == "lead":
        assert actor is not None
        return has_permission(actor, P.CASE_REVIEW) or _lead_id(case) == actor.id
    return True


def may_transition(actor: Actor | None, case: Any, transition: str) -> bool:
    """May ``actor`` make this workflow step on this case now (role, assignment and state)?"""
    from casetracker.cases import rules

    step = rules.TRANSITIONS.get(transition)
    if step is None or not may_view_case(actor, case):
        return False
    if _field(case, "status") not in step.sources:
        return False
    return _may_by_rule(actor, case, step.permission, step.who)


def may_act_on_case(actor: Actor | None, case: Any, action: str) -> bool:
    """May ``actor`` take a non-transition action (note, task, finding...) on this case now?"""
    from casetracker.cases import rules

    if not may_view_case(actor, case):
        return False
    status = _field(case, "status")
    for name in rules.ACTION_ALIASES.get(action, (action,)):
        rule = rules.ACTIONS[name]
        if status in rule.states and _may_by_rule(actor, case, rule.permission, rule.who):
            return True
    return False


def may_confirm_proposed_officers(actor: Actor | None) -> bool:
    """Confirm an officer intake proposed at triage, or merge it with a registry officer:
    supervisors (who assign and review cases) and those who edit the registry."""
    return has_permission(actor, P.REGISTRY_EDIT) or has_permission(actor, P.CASE_REVIEW)


def ensure_may_confirm_proposed_officers(actor: Actor | None) -> None:
    if not may_confirm_proposed_officers(actor):
        raise Forbidden("Only a supervisor may confirm or merge proposed officers.")


def ensure_may_transition(actor: Actor | None, case: Any, transition: str) -> None:
    """404 if the case is hidden from the actor, 403 without the role or assignment,
    409 (InvalidTransition, with the rules' sentence) from the wrong state."""
    from casetracker.cases import rules

    ensure_may_view_case(actor, case)
    step = rules.transition_for(transition)
    if not has_permission(actor, step.permission):
        raise Forbidden("You do not have permission to do that on this case.")
    rules.check_transition(transition, _field(case, "status"))
    if not _may_by_rule(actor, case, step.permission, step.who):
        raise Forbidden("Only the case's lead investigator or a supervisor may do that.")


def ensure_may_act_on_case(actor: Actor | None, case: Any, action: str, what: str = "do that"
                           ) -> None:
    from casetracker.cases import rules

    ensure_may_view_case(actor, case)
    names = rules.ACTION_ALIASES.get(action, (action,))
    status = _field(case, "status")
    if not any(has_permission(actor, rules.ACTIONS[n].permission) for n in names):
        raise Forbidden("You do not have permission to do that on this case.")
    if may_act_on_case(actor, case, action):
        return
    in_state = [n for n in names if status in rules.ACTIONS[n].states]
    if not in_state:
        rules.check_action_state(action, status, what)
    raise Forbidden("Only the case's lead investigator or a supervisor may do that.")


def may_search_witness_names(actor: Actor | None) -> bool:
    """Witnesses are third parties who gave their names to the office: the search box finds
    cases by a witness's name only for those who may see complainants' details."""
    return has_permission(actor, P.CASE_VIEW_CONTACT)


def sees_only_own_cases(actor: Actor | None) -> bool:
    """Whether the actor's cases are those they lead (lists then start from them)."""
    return not has_permission(actor, P.CASE_READ_ALL) and has_permission(
        actor, P.CASE_READ_ASSIGNED)


def may_write_to_complainant(actor: Actor | None, case: Any) -> bool:
    """Letters to the complainant and the contact log: those who may see who the complainant
    is, and intake while the case is in triage (the letters go out without showing them the
    contact details)."""
    if may_view_complainant_contact(actor, case):
        return True
    return (may_view_case(actor, case) and has_permission(actor, P.CASE_TRIAGE)
            and _field(case, "status") in TRIAGE_STATES)
