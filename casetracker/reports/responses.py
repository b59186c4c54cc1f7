"""What ICE did about an issued recommendation, target by target, and what follows from it.

After issue the office records ICE's response for each target (an officer's designation, or
the agreement): authority revoked or suspended, agreement suspended or terminated (with the date
it took effect), or declined (with ICE's reason). The office sets the date by which it follows
up; a target with no response by then is overdue and appears in the oversight queue
(``/oversight/ice-responses``). The registry follows each recorded action, through the
registry's own service (``RegistryService.apply_ice_response``), audited there; the response
itself is audited here (``recommendation.ice_response``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission as P
from casetracker.errors import NotFound, ValidationFailed
from casetracker.registry.tables import Agreement
from casetracker.reports import rules
from casetracker.reports.tables import IceResponse, Recommendation, RecommendationOfficer
from casetracker.settings import local_today

OUTCOME_LABELS = {
    "revoked": "authority revoked",
    "suspended": "suspended",
    "terminated": "agreement terminated",
    "declined": "declined",
}
STATE_LABELS = {"acted": "ICE acted", "declined": "ICE declined", "overdue": "overdue",
                "awaiting": "awaiting ICE's answer"}


def outcome_label(outcome: str, target_kind: str, model: str) -> str:
    if outcome == "revoked" and model == "WSO":
        return "authorization withdrawn"
    if outcome == "suspended":
        return "agreement suspended" if target_kind == "agreement" else "authority suspended"
    return OUTCOME_LABELS.get(outcome, outcome)


def _fk(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _local(value: Any) -> date | None:
    from casetracker.reports.viewmodels import local_date
    from casetracker.settings import get_settings

    return local_date(value, get_settings().timezone)


# --- reading ---------------------------------------------------------------------------------

async def targets_for(recs: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Each recommendation's targets (two queries for any number of recommendations): each
    officer's designation it names, and the agreement when it asks for the agreement's
    suspension or termination (or its revocations amount to that)."""
    out: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in recs}
    officer_recs = [r["id"] for r in recs if r["kind"] == "officers"]
    if officer_recs:
        links = await RecommendationOfficer.select(
            RecommendationOfficer.recommendation, RecommendationOfficer.designation,
            RecommendationOfficer.designation.status,
            RecommendationOfficer.designation.officer,
            RecommendationOfficer.designation._.officer._.name,
            RecommendationOfficer.designation._.officer._.badge_number).where(
            RecommendationOfficer.recommendation.is_in(officer_recs)).order_by(
            RecommendationOfficer.id)
        for link in links:
            badge = link["designation.officer.badge_number"]
            out[link["recommendation"]].append({
                "kind": "designation", "id": link["designation"],
                "officer": link["designation.officer"],
                "label": link["designation.officer.name"] + (f" (badge {badge})" if badge
                                                             else ""),
                "registry_status": link["designation.status"]})
    agreement_recs = {r["id"]: _fk(r["agreement"]) for r in recs
                      if r["kind"] == "agreement" or r.get("viii_process")}
    if agreement_recs:
        rows = await Agreement.select(Agreement.id, Agreement.model, Agreement.status,
                                      Agreement.agency.name).where(
            Agreement.id.is_in(sorted(set(agreement_recs.values()))))
        by_id = {row["id"]: row for row in rows}
        for rec_id, agreement_id in agreement_recs.items():
            row = by_id[agreement_id]
            out[rec_id].append({"kind": "agreement", "id": agreement_id,
                                "label": f"{row['agency.name']} — {row['model']} agreement",
                                "registry_status": row["status"]})
    return out


async def targets_of(rec: dict[str, Any]) -> list[dict[str, Any]]:
    return (await targets_for([rec]))[rec["id"]]


async def responses_of(rec_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every recorded response of these recommendations, oldest first, with who recorded it."""
    if not rec_ids:
        return {}
    rows = await IceResponse.select(
        *IceResponse.all_columns(), IceResponse.recorded_by.name).where(
        IceResponse.recommendation.is_in(rec_ids)).order_by(IceResponse.recorded_at).order_by(
        IceResponse.id)
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        row["target_kind"] = "designation" if row["designation"] else "agreement"
        out.setdefault(row["recommendation"], []).append(row)
    return out


def _target_key(row: dict[str, Any]) -> tuple[str, int]:
    if row.get("designation"):
        return "designation", int(row["designation"])
    return "agreement", int(row["agreement"])


def summarise(rec: dict[str, Any], targets: list[dict[str, Any]],
              responses: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """Each target's state and latest response; the recommendation's state; days from issue to
    ICE's first action (None until ICE acts)."""
    follow_up = rec.get("follow_up_on")
    by_target: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in responses:
        by_target.setdefault(_target_key(row), []).append(row)
    states = []
    for target in targets:
        history = by_target.get((target["kind"], target["id"]), [])
        target["history"] = history
        target["latest"] = history[-1] if history else None
        target["state"] = rules.response_state([h["outcome"] for h in history], follow_up, today)
        states.append(target["state"])
    acted_dates = [r["acted_on"] for r in responses
                   if r["outcome"] in rules.ACTED and r["acted_on"] is not None]
    issued = _local(rec.get("issued_at"))
    first_action = min(acted_dates) if acted_dates else None
    return {
        "targets": targets, "state": rules.recommendation_state(states),
        "first_action_on": first_action,
        "days_to_action": (first_action - issued).days if first_action and issued else None,
        "overdue_days": (today - follow_up).days if follow_up and follow_up < today else 0,
    }


async def response_view(rec: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    today = today or local_today()
    targets = await targets_of(rec)
    responses = (await responses_of([rec["id"]])).get(rec["id"], [])
    return summarise(rec, targets, responses, today)


async def outcomes_for(recs: list[dict[str, Any]], today: date | None = None
                       ) -> dict[int, dict[str, Any]]:
    """The summary of each issued recommendation (for the dashboard and the queue)."""
    today = today or local_today()
    issued = [r for r in recs if r.get("status") == "issued"]
    responses = await responses_of([r["id"] for r in issued])
    targets = await targets_for(issued)
    return {rec["id"]: summarise(rec, targets[rec["id"]], responses.get(rec["id"], []), today)
            for rec in issued}


def outcome_words(rec: dict[str, Any], summary: dict[str, Any]) -> str:
    """What ICE did, in words, for the periodic report: "authority revoked (March 2, 2026)"."""
    from casetracker.reports.viewmodels import long_date

    model = rec.get("model") or rec.get("agreement.model") or ""
    if summary["state"] in ("acted", "declined"):
        parts = []
        for target in summary["targets"]:
            latest = target.get("latest")
            if latest:
                when = f" ({long_date(latest['acted_on'])})" if latest["acted_on"] else ""
                parts.append(f"{target['label']}: "
                             f"{outcome_label(latest['outcome'], target['kind'], model)}{when}")
        return "; ".join(parts)
    if summary["state"] == "overdue":
        return f"no answer from ICE; follow-up date passed {summary['overdue_days']} days ago"
    return "awaiting ICE's answer"


async def overdue_queue(today: date | None = None, limit: int = 2000) -> list[dict[str, Any]]:
    """Issued recommendations with a target ICE has not answered: overdue first (the follow-up
    date passed, longest overdue first), then those awaiting, soonest follow-up first, then
    those without a follow-up date. The ``limit`` most recently issued are checked (a handful
    of queries whatever their number)."""
    today = today or local_today()
    recs = await Recommendation.select(
        Recommendation.id, Recommendation.number, Recommendation.kind, Recommendation.action,
        Recommendation.status, Recommendation.subject, Recommendation.issued_at,
        Recommendation.follow_up_on, Recommendation.agreement, Recommendation.viii_process,
        Recommendation.agency.name, Recommendation.agency.state,
        Recommendation.agreement.model).where(
        Recommendation.status == "issued").order_by(Recommendation.issued_at,
                                                    ascending=False).limit(limit)
    summaries = await outcomes_for(recs, today)
    rows = []
    for rec in recs:
        summary = summaries[rec["id"]]
        waiting = [t for t in summary["targets"] if t["state"] in ("overdue", "awaiting")]
        if not waiting:
            continue
        rows.append({**rec, **summary, "waiting": waiting})
    far = date.max
    rows.sort(key=lambda r: (0 if r["state"] == "overdue" else 1,
                             -r["overdue_days"], r["follow_up_on"] or far, r["id"]))
    return rows


async def for_registry_page(actor: Actor | None, *, officer_id: int | None = None,
                            agreement_id: int | None = None) -> list[dict[str, Any]]:
    """What the registry's officer or agreement page shows of recommendations: nothing to
    those who may not read recommendations."""
    if actor is None or not any(policies.has_permission(actor, p) for p in (
            P.RECOMMENDATION_DRAFT, P.RECOMMENDATION_APPROVE, P.RECOMMENDATION_ISSUE)):
        return []
    if officer_id is not None:
        return await for_officer(officer_id)
    return await for_agreement(agreement_id) if agreement_id is not None else []


async def for_officer(officer_id: int) -> list[dict[str, Any]]:
    """Issued recommendations naming one of this officer's designations, with ICE's latest
    response about that designation (for the registry's officer page)."""
    links = await RecommendationOfficer.select(
        RecommendationOfficer.recommendation, RecommendationOfficer.designation).where(
        RecommendationOfficer.designation.officer == officer_id)
    return await _registry_rows({link["recommendation"]: ("designation", link["designation"])
                                 for link in links})


async def for_agreement(agreement_id: int) -> list[dict[str, Any]]:
    """Issued recommendations about this agreement or its officers (for the agreement page)."""
    recs = await Recommendation.select(Recommendation.id, Recommendation.kind).where(
        (Recommendation.agreement == agreement_id) & (Recommendation.status == "issued"))
    return await _registry_rows({r["id"]: ("agreement", agreement_id) for r in recs})


async def _registry_rows(wanted: dict[int, tuple[str, int]]) -> list[dict[str, Any]]:
    if not wanted:
        return []
    recs = await Recommendation.select(
        Recommendation.id, Recommendation.number, Recommendation.kind, Recommendation.action,
        Recommendation.status, Recommendation.issued_at, Recommendation.follow_up_on,
        Recommendation.agreement, Recommendation.viii_process,
        Recommendation.agreement.model).where(
        Recommendation.id.is_in(sorted(wanted)) & (Recommendation.status == "issued")).order_by(
        Recommendation.issued_at, ascending=False)
    summaries = await outcomes_for(recs)
    out = []
    for rec in recs:
        summary = summaries[rec["id"]]
        kind, target_id = wanted[rec["id"]]
        target = next((t for t in summary["targets"] if (t["kind"], t["id"]) == (kind, target_id)),
                      None)
        latest = target["latest"] if target else None
        out.append({
            **rec, "state": target["state"] if target else summary["state"],
            "overall_state": summary["state"],
            "outcome": (outcome_label(latest["outcome"], latest["target_kind"],
                                      rec["agreement.model"]) if latest else ""),
            "acted_on": latest["acted_on"] if latest else None,
            "reason": latest["reason"] if latest else "",
        })
    return out


# --- writing -----------------------------------------------------------------------------------

class IceResponseService:
    """Record what ICE did; set the date the office follows up. Recording and following up
    belong to those who issue recommendations (``recommendation:issue``)."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def _issued(self, rec_id: int) -> dict[str, Any]:
        rec = await Recommendation.select().where(Recommendation.id == rec_id).first()
        if rec is None:
            raise NotFound("There is no such recommendation.")
        if rec["status"] != "issued":
            raise ValidationFailed({"form": "ICE's response is recorded once the "
                                             "recommendation is issued."})
        return rec

    async def set_follow_up(self, rec_id: int, follow_up_on: date | None) -> None:
        policies.require(self.actor, P.RECOMMENDATION_ISSUE)
        async with db.write_transaction():
            rec = await self._issued(rec_id)
            problem = rules.validate_follow_up(follow_up_on, _local(rec["issued_at"]))
            if problem:
                raise ValidationFailed({"follow_up_on": problem})
            await Recommendation.update({Recommendation.follow_up_on: follow_up_on}).where(
                Recommendation.id == rec_id)
            await audit.record("recommendation.follow_up", actor=self.actor,
                               object_type="recommendation", object_id=rec_id,
                               details={"number": rec["number"], "from": rec["follow_up_on"],
                                        "to": follow_up_on})

    async def record(self, rec_id: int, *, target: str, target_id: int | None, outcome: str,
                     acted_on: date | None, reason: str = "", ice_reference: str = "") -> str:
        """One response of ICE about one target; the registry follows (audited there).
        Returns what the registry changed ("" when nothing)."""
        from casetracker.registry.services import RegistryService

        policies.require(self.actor, P.RECOMMENDATION_ISSUE)
        reason, ice_reference = reason.strip(), ice_reference.strip()[:120]
        async with db.write_transaction():
            rec = await self._issued(rec_id)
            targets = await targets_of(rec)
            match = next((t for t in targets if (t["kind"], t["id"]) == (target, target_id)),
                         None)
            if match is None:
                raise ValidationFailed({"target": "Choose one of this recommendation's targets."})
            errors = rules.validate_response(target, outcome, acted_on, reason, local_today(),
                                             _local(rec["issued_at"]))
            if errors:
                raise ValidationFailed(errors)
            change = ""
            if outcome != "declined":
                assert acted_on is not None
                change = await RegistryService(self.actor).apply_ice_response(
                    designation_id=target_id if target == "designation" else None,
                    agreement_id=target_id if target == "agreement" else None,
                    outcome=outcome, on=acted_on,
                    reason=f"ICE's response to recommendation {rec['number']}"
                           + (f" (ICE reference {ice_reference})" if ice_reference else ""))
            row = IceResponse(recommendation=rec_id,
                              designation=target_id if target == "designation" else None,
                              agreement=target_id if target == "agreement" else None,
                              outcome=outcome, acted_on=acted_on, reason=reason[:4000],
                              ice_reference=ice_reference, registry_change=change,
                              recorded_by=self.actor.id, recorded_at=datetime.now(UTC))
            await row.save()
            await audit.record("recommendation.ice_response", actor=self.actor,
                               object_type="recommendation", object_id=rec_id,
                               details={"number": rec["number"], "target": target,
                                        "target_id": target_id, "outcome": outcome,
                                        "acted_on": acted_on, "reason": reason[:4000],
                                        "ice_reference": ice_reference,
                                        "registry_change": change})
        return change

