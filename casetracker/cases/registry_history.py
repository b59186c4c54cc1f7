"""What the registry's officer and agency pages show of the cases: the complaint history
(each allegation with its findings), the early-intervention flags, and the rescission
recommendations with their status. Only cases the reader may see are listed (the rest are
counted), flags only for those who may read them, recommendations only for those who may
read recommendations."""

from __future__ import annotations

from typing import Any

from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission as P
from casetracker.cases import rules
from casetracker.cases.tables import Allegation, Case, CaseOfficer

_STATUS_WORDS = {"draft": "Draft", "submitted": "Awaiting approval", "approved": "Approved",
                 "issued": "Issued", "returned": "Returned to the author",
                 "withdrawn": "Withdrawn", "superseded": "Superseded"}


def _word(mapping: dict[str, Any], key: str | None) -> str:
    if not key:
        return ""
    label = mapping.get(key)
    return str(label) if label is not None else key.replace("_", " ").capitalize()


def _allegation_words(a: dict[str, Any]) -> str:
    words = _word(rules.ALLEGATION_LABELS, a["allegation_type"])
    if a["protected_characteristic"]:
        words += f" ({_word(rules.PROTECTED_CHARACTERISTICS, a['protected_characteristic'])})"
    return words


async def complaint_history(actor: Actor | None, *, officer_id: int | None = None,
                            agency_id: int | None = None) -> dict[str, Any]:
    """``{"rows": [...], "hidden": n}``: one row per allegation (or per case without one),
    newest case first."""
    if officer_id is not None:
        case_ids = {r["case"] for r in await CaseOfficer.select(CaseOfficer.case).where(
            CaseOfficer.officer == officer_id)}
        case_ids |= {r["case"] for r in await Allegation.select(Allegation.case).where(
            Allegation.officer == officer_id)}
        where: Any = Case.id.is_in(sorted(case_ids)) if case_ids else None
    else:
        where = Case.agency == agency_id
    if where is None:
        return {"rows": [], "hidden": 0}
    cases = await Case.select(Case.id, Case.tracking_number, Case.status, Case.received_at,
                              Case.lead_investigator, Case.outcome).where(where).order_by(
        Case.received_at, ascending=False).limit(500)
    visible = [c for c in cases if policies.may_view_case(actor, c)]
    hidden = len(cases) - len(visible)
    allegations: dict[int, list[dict[str, Any]]] = {}
    if visible:
        query = Allegation.select(Allegation.case, Allegation.allegation_type,
                                  Allegation.protected_characteristic,
                                  Allegation.recommended_finding, Allegation.final_finding,
                                  Allegation.officer).where(
            Allegation.case.is_in([c["id"] for c in visible])).order_by(Allegation.id)
        for row in await query:
            if officer_id is not None and row["officer"] not in (officer_id, None):
                continue  # another officer's allegation on the same case
            allegations.setdefault(row["case"], []).append(row)
    out = []
    for case in visible:
        base = {"case_id": case["id"], "tracking_number": case["tracking_number"],
                "received_at": case["received_at"],
                "status": str(rules.status_label(case["status"]))}
        on_case = allegations.get(case["id"])
        found: list[dict[str, Any] | None] = list(on_case) if on_case else [None]
        for a in found:
            out.append({**base,
                        "allegation": "" if a is None else _allegation_words(a),
                        "recommended": "" if a is None else _word(rules.FINDING_LABELS,
                                                                  a["recommended_finding"]),
                        "final": "" if a is None else _word(rules.FINDING_LABELS,
                                                            a["final_finding"]),
                        "sustained": a is not None and a["final_finding"] == "sustained"})
    return {"rows": out, "hidden": hidden}


async def flags_for(actor: Actor | None, subject: str, subject_id: int) -> list[dict[str, Any]]:
    if not policies.has_permission(actor, P.OVERSIGHT_FLAGS):
        return []
    from casetracker.oversight.flag_services import current_flags

    return [f for f in await current_flags()
            if f["subject"] == subject and f["subject_id"] == subject_id]


async def recommendations_for(actor: Actor | None, *, officer_id: int | None = None,
                              agency_id: int | None = None) -> list[dict[str, Any]]:
    """Every recommendation naming the officer (through a designation) or about the agency,
    with its status in words."""
    if actor is None or not any(policies.has_permission(actor, p) for p in (
            P.RECOMMENDATION_DRAFT, P.RECOMMENDATION_APPROVE, P.RECOMMENDATION_ISSUE)):
        return []
    from casetracker.reports.tables import Recommendation, RecommendationOfficer

    if officer_id is not None:
        ids = sorted({r["recommendation"] for r in await RecommendationOfficer.select(
            RecommendationOfficer.recommendation).where(
            RecommendationOfficer.designation.officer == officer_id)})
        if not ids:
            return []
        where: Any = Recommendation.id.is_in(ids)
    else:
        where = Recommendation.agency == agency_id
    rows = await Recommendation.select(
        Recommendation.id, Recommendation.number, Recommendation.status,
        Recommendation.action, Recommendation.kind, Recommendation.issued_at,
        Recommendation.created_at).where(where).order_by(Recommendation.id, ascending=False)
    for row in rows:
        row["status_label"] = _STATUS_WORDS.get(row["status"], row["status"].capitalize())
    return rows
