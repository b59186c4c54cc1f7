"""Loading what documents print: sustained findings against a target, the cases, the pattern,
and everything a recommendation's view-model needs (``load_source``). Reads only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker.accounts.tables import User
from casetracker.cases.tables import Allegation, Case, CaseOfficer, Referral
from casetracker.errors import NotFound, found
from casetracker.registry.program_managers import field_program_manager
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.reports.document import RecommendationSource
from casetracker.reports.tables import (
    Recommendation,
    RecommendationCase,
    RecommendationDetermination,
    RecommendationOfficer,
)
from casetracker.settings import Settings, get_settings


def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return []
    return value or []


def _fk_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


# --- what counts as "sustained against the target" -----------------------------------------

async def sustained_allegations(case_ids: list[int], *, kind: str, officer_ids: list[int],
                                agreement: dict[str, Any]) -> list[dict[str, Any]]:
    """Allegations with a final finding of sustained, in these cases, against the target: one
    of the officers, or (agreement) any allegation in a case of that agreement or agency."""
    if not case_ids:
        return []
    rows = await Allegation.select().where(
        Allegation.case.is_in(case_ids) & (Allegation.final_finding == "sustained")
    ).order_by(Allegation.case).order_by(Allegation.id)
    if kind == "officers":
        return [r for r in rows if r["officer"] in set(officer_ids)]
    cases = {c["id"]: c for c in await Case.select(Case.id, Case.agency, Case.agreement).where(
        Case.id.is_in(case_ids))}
    return [r for r in rows
            if cases[r["case"]]["agreement"] == agreement["id"]
            or cases[r["case"]]["agency"] == agreement["agency"]]


async def candidate_cases(*, kind: str, officer_ids: list[int], agreement_id: int | None
                          ) -> list[dict[str, Any]]:
    """Cases with sustained final findings against the target (for the "new" form)."""
    query = Allegation.select(Allegation.case, Allegation.officer).where(
        Allegation.final_finding == "sustained")
    if kind == "officers":
        if not officer_ids:
            return []
        query = query.where(Allegation.officer.is_in(officer_ids))
    rows = await query
    case_ids = sorted({r["case"] for r in rows})
    if not case_ids:
        return []
    cases = await Case.select(Case.id, Case.tracking_number, Case.received_at, Case.status,
                              Case.agency, Case.agreement).where(Case.id.is_in(case_ids))
    if kind == "agreement" and agreement_id:
        agreement = await Agreement.select().where(Agreement.id == agreement_id).first()
        if agreement is None:
            return []
        cases = [c for c in cases if c["agreement"] == agreement_id
                 or c["agency"] == agreement["agency"]]
    return sorted(cases, key=lambda c: c["tracking_number"])


# --- loaders --------------------------------------------------------------------------------

async def _evidence_rows(case_id: int) -> list[dict[str, Any]]:
    try:
        from casetracker.evidence.services import evidence_index
    except ImportError:  # pragma: no cover - the evidence package is present
        return []
    return await evidence_index(case_id)


async def _officer_labels(officer_ids: set[int]) -> dict[int, str]:
    if not officer_ids:
        return {}
    rows = await Officer.select(Officer.id, Officer.name, Officer.badge_number).where(
        Officer.id.is_in(sorted(officer_ids)))
    return {r["id"]: f"{r['name']}" + (f" (badge {r['badge_number']})" if r["badge_number"]
                                       else "") for r in rows}


async def load_case_bundle(case_id: int, *, allegations: list[dict[str, Any]] | None = None,
                           with_contact: bool = True) -> dict[str, Any]:
    case = await Case.select().where(Case.id == case_id).first()
    if case is None:
        raise NotFound("There is no such case.")
    if allegations is None:
        allegations = await Allegation.select().where(Allegation.case == case_id).order_by(
            Allegation.id)
    labels = await _officer_labels({a["officer"] for a in allegations if a["officer"]})
    case_officers = {}
    if any(a.get("case_officer") for a in allegations):
        for co in await CaseOfficer.select().where(CaseOfficer.case == case_id):
            case_officers[co["id"]] = co
    for a in allegations:
        label = labels.get(a["officer"]) if a["officer"] else None
        if not label and a.get("case_officer") in case_officers:
            co = case_officers[a["case_officer"]]
            label = co["name"] or (f"badge {co['badge_number']}" if co["badge_number"] else "")
        a["officer_label"] = label or "Not identified"
    case["allegations"] = allegations
    case["checklist"] = _loads(case.get("checklist"))
    case["protected_characteristics"] = _loads(case.get("protected_characteristics"))
    case["contact"] = None
    if with_contact:
        from casetracker.intake.tables import ComplainantContact

        case["contact"] = await ComplainantContact.select().where(
            ComplainantContact.case == case_id).first()
    case["evidence"] = await _evidence_rows(case_id)
    case["referrals"] = await Referral.select().where(Referral.case == case_id).order_by(
        Referral.id)
    return case


async def _pattern(kind: str, officers: list[dict[str, Any]], agreement: dict[str, Any],
                   agency: dict[str, Any], now: datetime) -> dict[str, Any]:
    start = now - timedelta(days=365)

    async def officer_counts(officer_id: int) -> tuple[int, int]:
        named = await CaseOfficer.select(CaseOfficer.case).where(CaseOfficer.officer == officer_id)
        alleged = await Allegation.select(Allegation.case).where(Allegation.officer == officer_id)
        ids = sorted({r["case"] for r in named} | {r["case"] for r in alleged})
        complaints = 0
        if ids:
            complaints = await Case.count().where(Case.id.is_in(ids) & (Case.received_at >= start))
        profiling = await Allegation.count().where(
            (Allegation.officer == officer_id) & (Allegation.final_finding == "sustained")
            & (Allegation.allegation_type == "racial_profiling") & (Allegation.final_at >= start))
        return complaints, profiling

    async def agency_counts(agency_id: int) -> tuple[int, int]:
        complaints = await Case.count().where((Case.agency == agency_id)
                                              & (Case.received_at >= start))
        case_ids = [r["id"] for r in await Case.select(Case.id).where(Case.agency == agency_id)]
        profiling = 0
        if case_ids:
            profiling = await Allegation.count().where(
                Allegation.case.is_in(case_ids) & (Allegation.final_finding == "sustained")
                & (Allegation.allegation_type == "racial_profiling")
                & (Allegation.final_at >= start))
        return complaints, profiling

    targets = []
    peers: dict[str, Any] = {"label": "", "count": 0, "complaints": 0, "sustained_profiling": 0}
    if kind == "officers":
        target_ids = {o["officer"] for o in officers}
        for o in officers:
            complaints, profiling = await officer_counts(o["officer"])
            targets.append({"subject": o["officer_name"], "complaints": complaints,
                            "sustained_profiling": profiling})
        same_model = [a["id"] for a in await Agreement.select(Agreement.id).where(
            (Agreement.agency == agency["id"]) & (Agreement.model == agreement["model"]))]
        peer_ids = sorted({d["officer"] for d in await Designation.select(
            Designation.officer).where(Designation.agreement.is_in(same_model or [0]))}
            - target_ids)
        peers["label"] = (f"Other designated officers of {agency['name']} "
                          f"under the {agreement['model']} model")
        for peer_id in peer_ids:
            complaints, profiling = await officer_counts(peer_id)
            peers["complaints"] += complaints
            peers["sustained_profiling"] += profiling
        peers["count"] = len(peer_ids)
    else:
        complaints, profiling = await agency_counts(agency["id"])
        targets.append({"subject": f"{agency['name']} ({agreement['model']})",
                        "complaints": complaints, "sustained_profiling": profiling})
        peer_agencies = sorted({a["agency"] for a in await Agreement.select(Agreement.agency).where(
            Agreement.model == agreement["model"])} - {agency["id"]})
        peers["label"] = f"Other agencies holding a {agreement['model']} agreement"
        for peer_id in peer_agencies:
            complaints, profiling = await agency_counts(peer_id)
            peers["complaints"] += complaints
            peers["sustained_profiling"] += profiling
        peers["count"] = len(peer_agencies)
    return {"window_start": start, "window_end": now, "targets": targets, "peers": peers}


async def designated_active(agreement_id: int, *, besides: list[int] | None = None) -> int:
    """Active designations under the agreement (``besides``: not counting these)."""
    query = Designation.count().where((Designation.agreement == agreement_id)
                                      & (Designation.status == "active"))
    if besides:
        query = query.where(Designation.id.not_in(besides))
    return await query


async def load_determinations(recommendation_id: int) -> dict[str, dict[str, Any]]:
    rows = await RecommendationDetermination.select().where(
        RecommendationDetermination.recommendation == recommendation_id).order_by(
        RecommendationDetermination.id)
    return {r["key"]: r for r in rows}


async def load_source(recommendation_id: int, *, redacted: bool = False,
                      now: datetime | None = None,
                      settings: Settings | None = None) -> RecommendationSource:
    """Everything the document prints. ``redacted``: the variant without complainant identity
    (complainant contact details are then not even read)."""
    settings = settings or get_settings()
    rec = await Recommendation.select().where(Recommendation.id == recommendation_id).first()
    if rec is None:
        raise NotFound("There is no such recommendation.")
    agreement = found(await Agreement.select().where(Agreement.id == rec["agreement"]).first(),
                      "There is no such agreement.")
    agency = found(await Agency.select().where(Agency.id == rec["agency"]).first(),
                   "There is no such agency.")
    agreement["designated_officers"] = await designated_active(agreement["id"])
    manager = await field_program_manager(agreement["id"])
    agreement["field_program_manager"] = (
        f"{manager['name']}" + (f", {manager['area']}" if manager["area"] else "")
        if manager else "")
    links = await RecommendationOfficer.select().where(
        RecommendationOfficer.recommendation == recommendation_id).order_by(
        RecommendationOfficer.id)
    agreement["other_active_officers"] = await designated_active(
        agreement["id"], besides=[link["designation"] for link in links])
    officers = []
    for link in links:
        designation = found(await Designation.select().where(
            Designation.id == link["designation"]).first(), "There is no such designation.")
        officer = found(await Officer.select().where(
            Officer.id == designation["officer"]).first(), "There is no such officer.")
        officers.append({**designation, "officer_name": officer["name"],
                         "badge_number": officer["badge_number"], "rank": officer["rank"]})
    case_links = await RecommendationCase.select().where(
        RecommendationCase.recommendation == recommendation_id).order_by(RecommendationCase.id)
    case_ids = [c["case"] for c in case_links]
    sustained = await sustained_allegations(case_ids, kind=rec["kind"],
                                            officer_ids=[o["officer"] for o in officers],
                                            agreement=agreement)
    redacted = redacted or rec["classification"] == "public"
    cases = []
    for case_id in case_ids:
        mine = [a for a in sustained if a["case"] == case_id]
        cases.append(await load_case_bundle(case_id, allegations=mine,
                                            with_contact=not redacted))
    determinations = await load_determinations(recommendation_id)
    moment = now or rec.get("issued_at") or datetime.now(UTC)
    people_ids = {_fk_id(rec[k]) for k in ("author", "submitted_by", "approved_by", "issued_by")
                  if rec.get(k)}
    people_ids |= {d["decided_by"] for d in determinations.values() if d.get("decided_by")}
    people_ids |= {a[k] for a in sustained for k in ("final_by", "recommended_by") if a.get(k)}
    try:
        people_ids |= {v for v in json.loads(rec.get("text_authors") or "{}").values()
                       if isinstance(v, int)}
    except ValueError:
        pass
    people = {u["id"]: u for u in await User.select(User.id, User.name, User.email, User.role)
              .where(User.id.is_in(sorted(people_ids) or [0]))}
    supersedes = None
    if rec.get("supersedes"):
        supersedes = await Recommendation.select(
            Recommendation.number, Recommendation.issued_at).where(
            Recommendation.id == rec["supersedes"]).first()
    return RecommendationSource(
        recommendation=rec, agency=agency, agreement=agreement, officers=officers, cases=cases,
        pattern=await _pattern(rec["kind"], officers, agreement, agency, moment),
        people=people, determinations=determinations, supersedes=supersedes,
        organisation=settings.organisation_name, timezone=settings.timezone,
        training_cycle_days=settings.training_cycle_days, now=moment, redacted=redacted,
    )
