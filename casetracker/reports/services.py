"""RecommendationService (draft → submitted → approved → issued, corrections) and the loaders
that read the database into the plain values the view-model builders take."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker import db
from casetracker.accounts.tables import User
from casetracker.audit import services as audit
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission as P
from casetracker.cases.tables import Allegation, Case, CaseOfficer, Referral
from casetracker.errors import Conflict, NotFound, ValidationFailed
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.reports import rendering, rules, viewmodels
from casetracker.reports.tables import (
    DocumentSequence,
    Recommendation,
    RecommendationCase,
    RecommendationOfficer,
)
from casetracker.settings import Settings, get_settings
from casetracker.storage import ObjectMissing, Store, get_store

log = logging.getLogger("casetracker.reports")

NUMBER_PREFIX = "RR"
EDITABLE = ("addressee", "sender", "subject", "summary", "grounds", "requested_action",
            "proposed_effective_on", "suspension_days", "notice_days", "response_instructions",
            "corrective_measures", "classification")


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
    peers = {"label": "", "count": 0, "complaints": 0, "sustained_profiling": 0}
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


async def load_source(recommendation_id: int, *, now: datetime | None = None,
                      settings: Settings | None = None) -> viewmodels.RecommendationSource:
    settings = settings or get_settings()
    rec = await Recommendation.select().where(Recommendation.id == recommendation_id).first()
    if rec is None:
        raise NotFound("There is no such recommendation.")
    agreement = await Agreement.select().where(Agreement.id == rec["agreement"]).first()
    agency = await Agency.select().where(Agency.id == rec["agency"]).first()
    agreement["designated_officers"] = await Designation.count().where(
        (Designation.agreement == agreement["id"]) & (Designation.status == "active"))
    links = await RecommendationOfficer.select().where(
        RecommendationOfficer.recommendation == recommendation_id).order_by(
        RecommendationOfficer.id)
    officers = []
    for link in links:
        designation = await Designation.select().where(
            Designation.id == link["designation"]).first()
        officer = await Officer.select().where(Officer.id == designation["officer"]).first()
        officers.append({**designation, "officer_name": officer["name"],
                         "badge_number": officer["badge_number"], "rank": officer["rank"]})
    case_links = await RecommendationCase.select().where(
        RecommendationCase.recommendation == recommendation_id).order_by(RecommendationCase.id)
    case_ids = [c["case"] for c in case_links]
    sustained = await sustained_allegations(case_ids, kind=rec["kind"],
                                            officer_ids=[o["officer"] for o in officers],
                                            agreement=agreement)
    public = rec["classification"] == "public"
    cases = []
    for case_id in case_ids:
        mine = [a for a in sustained if a["case"] == case_id]
        cases.append(await load_case_bundle(case_id, allegations=mine, with_contact=not public))
    moment = now or rec.get("issued_at") or datetime.now(UTC)
    people_ids = {_fk_id(rec[k]) for k in ("author", "submitted_by", "approved_by", "issued_by")
                  if rec.get(k)}
    people = {u["id"]: u for u in await User.select(User.id, User.name, User.email, User.role)
              .where(User.id.is_in(sorted(people_ids) or [0]))}
    supersedes = None
    if rec.get("supersedes"):
        supersedes = await Recommendation.select(
            Recommendation.number, Recommendation.issued_at).where(
            Recommendation.id == rec["supersedes"]).first()
    return viewmodels.RecommendationSource(
        recommendation=rec, agency=agency, agreement=agreement, officers=officers, cases=cases,
        pattern=await _pattern(rec["kind"], officers, agreement, agency, moment),
        people=people, supersedes=supersedes, organisation=settings.organisation_name,
        timezone=settings.timezone, training_cycle_days=settings.training_cycle_days,
        now=moment,
    )


# --- storage of issued documents -------------------------------------------------------------

def documents_store(settings: Settings | None = None) -> Store:
    """Issued documents: the ``documents`` area of the configured store (var/documents/ on
    the local backend, ``documents/`` in the bucket), content-addressed and written once.

    Not the evidence area: its sweep removes stored files no evidence record points to."""
    return get_store(settings or get_settings(), "documents")


async def store_document(data: bytes, settings: Settings | None = None) -> tuple[str, str]:
    sha = rendering.sha256_hex(data)
    key = f"{sha[:2]}/{sha}.pdf"
    # Write-once: an existing object under this key already holds these very bytes.
    await documents_store(settings).put_bytes(key, data, write_once=True)
    return key, sha


async def read_document(key: str, settings: Settings | None = None) -> bytes:
    return await documents_store(settings).get_bytes(key)


# --- the service -----------------------------------------------------------------------------

@dataclass
class DraftValues:
    kind: str
    action: str
    agreement_id: int | None
    designation_ids: tuple[int, ...]
    case_ids: tuple[int, ...]


def _require_reader(actor: Actor) -> None:
    """Who may read recommendations: those who draft, approve or issue them."""
    if not any(policies.has_permission(actor, p) for p in (
            P.RECOMMENDATION_DRAFT, P.RECOMMENDATION_APPROVE, P.RECOMMENDATION_ISSUE)):
        policies.require(actor, P.RECOMMENDATION_DRAFT)


class RecommendationService:
    def __init__(self, actor: Actor, settings: Settings | None = None) -> None:
        self.actor = actor
        self.settings = settings or get_settings()

    def _now(self) -> datetime:
        return datetime.now(UTC)

    async def _load(self, recommendation_id: int) -> dict[str, Any]:
        rec = await Recommendation.select().where(Recommendation.id == recommendation_id).first()
        if rec is None:
            raise NotFound("There is no such recommendation.")
        return rec

    async def _audit(self, verb: str, rec_id: int, **details: Any) -> None:
        await audit.record(f"recommendation.{verb}", actor=self.actor,
                           object_type="recommendation", object_id=rec_id, details=details)

    async def _resolve_target(self, values: DraftValues
                              ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        designations: list[dict[str, Any]] = []
        if values.kind == "officers":
            designations = await Designation.select().where(
                Designation.id.is_in(list(values.designation_ids)))
            if len(designations) != len(set(values.designation_ids)):
                raise ValidationFailed({"designation_ids": "A chosen designation does not exist."})
            agreement_ids = {d["agreement"] for d in designations}
            if len(agreement_ids) != 1:
                raise ValidationFailed({"designation_ids": "Choose designations under one "
                                        "agreement: the MOA sections differ between them."})
            agreement_id = agreement_ids.pop()
        else:
            agreement_id = values.agreement_id
        agreement = await Agreement.select().where(Agreement.id == agreement_id).first()
        if agreement is None:
            raise ValidationFailed({"agreement_id": "The chosen agreement does not exist."})
        agency = await Agency.select().where(Agency.id == agreement["agency"]).first()
        return agreement, agency, designations

    async def draft(self, values: DraftValues) -> int:
        """Create a draft and propose its text from the sustained findings."""
        policies.require(self.actor, P.RECOMMENDATION_DRAFT)
        rules.validate_target(rules.DraftInput(values.kind, values.action, values.agreement_id,
                                               values.designation_ids, values.case_ids))
        agreement, agency, designations = await self._resolve_target(values)
        officer_ids = [d["officer"] for d in designations]
        sustained = await sustained_allegations(list(values.case_ids), kind=values.kind,
                                                officer_ids=officer_ids, agreement=agreement)
        without = sorted(set(values.case_ids) - {a["case"] for a in sustained})
        if without:
            numbers = [c["tracking_number"] for c in await Case.select(Case.tracking_number).where(
                Case.id.is_in(without))]
            raise ValidationFailed({"case_ids": "These cases have no sustained final finding "
                                    f"against the target: {', '.join(numbers)}."})
        officers = await Officer.select().where(Officer.id.is_in(officer_ids or [0]))
        names = {o["id"]: o["name"] for o in officers}
        tracking = {c["id"]: c["tracking_number"] for c in await Case.select(
            Case.id, Case.tracking_number).where(Case.id.is_in(list(values.case_ids)))}
        labels = await _officer_labels({a["officer"] for a in sustained if a["officer"]})
        today = self._now().date()
        proposal = rules.propose(
            kind=values.kind, action=values.action, model=agreement["model"],
            agency_name=agency["name"], officer_names=[names[i] for i in officer_ids],
            grounds=[rules.Ground(tracking[a["case"]], a["allegation_type"],
                                  labels.get(a["officer"], ""),
                                  a["final_at"].date() if a["final_at"] else None,
                                  a["final_rationale"]) for a in sustained],
            today=today, signed_on=agreement["signed_on"], revision=agreement["revision"])
        async with db.write_transaction():
            rec = Recommendation(
                kind=values.kind, action=values.action, status="draft",
                agency=agency["id"], agreement=agreement["id"],
                addressee=("Field Office Director, U.S. Immigration and Customs Enforcement, "
                           "Enforcement and Removal Operations"
                           if values.kind == "officers" else
                           "Director, U.S. Immigration and Customs Enforcement (through the "
                           "Executive Associate Director, Enforcement and Removal Operations)"),
                sender=self.settings.organisation_name,
                subject=proposal.subject, summary=proposal.summary, grounds=proposal.grounds,
                requested_action=proposal.requested_action,
                response_instructions=proposal.response_instructions,
                corrective_measures=proposal.corrective_measures,
                proposed_effective_on=proposal.proposed_effective_on,
                suspension_days=proposal.suspension_days, notice_days=proposal.notice_days,
                author=self.actor.id,
            )
            await rec.save()
            for designation in designations:
                await RecommendationOfficer(recommendation=rec.id,
                                            designation=designation["id"]).save()
            for case_id in dict.fromkeys(values.case_ids):
                await RecommendationCase(recommendation=rec.id, case=case_id).save()
            await self._audit("draft", rec.id, kind=values.kind, requested=values.action,
                              agreement=agreement["id"], designations=list(values.designation_ids),
                              cases=list(values.case_ids))
        return int(rec.id)

    async def update(self, recommendation_id: int, values: dict[str, Any]) -> None:
        policies.require(self.actor, P.RECOMMENDATION_DRAFT)
        async with db.write_transaction():
            rec = await self._load(recommendation_id)
            rules.next_status(rec["status"], "edit")
            errors = rules.validate_text(values, kind=rec["kind"], action=rec["action"])
            if values.get("classification") not in ("sensitive", "public"):
                errors["classification"] = "Choose the classification."
            if errors:
                raise ValidationFailed(errors)
            changes = {k: values.get(k) for k in EDITABLE}
            changed = sorted(k for k in EDITABLE if rec.get(k) != changes[k])
            await Recommendation.update({**changes, "updated_at": self._now()}).where(
                Recommendation.id == recommendation_id)
            await self._audit("edit", recommendation_id, fields=changed)

    async def _step(self, recommendation_id: int, verb: str, permission: P,
                    **extra: Any) -> dict[str, Any]:
        policies.require(self.actor, permission)
        rec = await self._load(recommendation_id)
        new_status = rules.next_status(rec["status"], verb)
        return {"rec": rec, "status": new_status, **extra}

    async def submit(self, recommendation_id: int) -> None:
        async with db.write_transaction():
            step = await self._step(recommendation_id, "submit", P.RECOMMENDATION_DRAFT)
            await Recommendation.update({"status": step["status"], "submitted_at": self._now(),
                                         "submitted_by": self.actor.id}).where(
                Recommendation.id == recommendation_id)
            await self._audit("submit", recommendation_id)

    async def approve(self, recommendation_id: int, comment: str = "") -> None:
        async with db.write_transaction():
            step = await self._step(recommendation_id, "approve", P.RECOMMENDATION_APPROVE)
            rules.ensure_not_author(_fk_id(step["rec"]["author"]), self.actor.id)
            await Recommendation.update({
                "status": step["status"], "approved_at": self._now(),
                "approved_by": self.actor.id, "approval_comment": comment[:4000],
            }).where(Recommendation.id == recommendation_id)
            await self._audit("approve", recommendation_id, comment=comment[:4000])

    async def return_to_draft(self, recommendation_id: int, comment: str) -> None:
        async with db.write_transaction():
            step = await self._step(recommendation_id, "return", P.RECOMMENDATION_APPROVE)
            await Recommendation.update({
                "status": step["status"], "approved_at": None, "approved_by": None,
                "submitted_at": None, "submitted_by": None, "approval_comment": comment[:4000],
            }).where(Recommendation.id == recommendation_id)
            await self._audit("return", recommendation_id, comment=comment[:4000])

    async def _next_number(self, year: int) -> str:
        key = f"{NUMBER_PREFIX}-{year}"
        for _attempt in range(3):
            async with db.write_transaction():
                row = await DocumentSequence.select().where(DocumentSequence.key == key).first()
                if row is not None:
                    # The update takes the row lock on PostgreSQL; SQLite writers are serialised.
                    await DocumentSequence.update({DocumentSequence.last: DocumentSequence.last + 1}
                                                  ).where(DocumentSequence.key == key)
                    row = await DocumentSequence.select().where(DocumentSequence.key == key).first()
                    return rules.format_number(NUMBER_PREFIX, year, row["last"])
                try:
                    await DocumentSequence(prefix=NUMBER_PREFIX, year=year, last=1, key=key).save()
                    return rules.format_number(NUMBER_PREFIX, year, 1)
                except Exception as exc:
                    if not db.is_unique_violation(exc):
                        raise
        raise Conflict("Could not assign a document number; try again.")

    async def issue(self, recommendation_id: int) -> str:
        """Assign the number, render the PDF once, store it with its SHA-256, freeze it."""
        policies.require(self.actor, P.RECOMMENDATION_ISSUE)
        rec = await self._load(recommendation_id)
        rules.next_status(rec["status"], "issue")
        now = self._now()
        issue_date = viewmodels.local_date(now, self.settings.timezone) or now.date()
        number = await self._next_number(issue_date.year)
        # Render outside any transaction: SQLite would hold its write lock for seconds.
        source = await load_source(recommendation_id, now=now, settings=self.settings)
        source.recommendation = {**source.recommendation, "number": number, "issued_at": now,
                                 "issued_by": self.actor.id, "status": "issued"}
        source.people.setdefault(self.actor.id, {"id": self.actor.id, "name": self.actor.name,
                                                 "email": self.actor.label,
                                                 "role": self.actor.role})
        document = viewmodels.build_recommendation(source)
        pdf = await rendering.render_pdf(
            "recommendation.html.j2", {"doc": document}, title=f"{number} — {document.title}",
            attachment_json=viewmodels.document_json(document))
        signed = ""
        if self.settings.signing_cert and self.settings.signing_key:
            from casetracker.reports import signing

            pdf = await asyncio.to_thread(signing.sign_pdf, pdf, self.settings,
                                          reason=f"Issued {number}")
            signed = "pyhanko"
        key, sha = await store_document(pdf, self.settings)
        evidence_ids = [int(e.item[2:]) for c in document.cases for e in c.evidence]
        async with db.write_transaction():
            current = await self._load(recommendation_id)
            rules.next_status(current["status"], "issue")  # nobody issued it meanwhile
            await Recommendation.update({
                "status": "issued", "number": number, "issued_at": now,
                "issued_by": self.actor.id, "document_sha256": sha, "document_key": key,
                "document_size": len(pdf), "document_signed": signed,
            }).where(Recommendation.id == recommendation_id)
            await self._audit("issue", recommendation_id, number=number, sha256=sha,
                              size=len(pdf), signed=bool(signed))
        if evidence_ids:
            from casetracker.evidence.services import record_export

            await record_export(evidence_ids, self.actor, f"Recommendation {number}")
        return number

    async def correct(self, recommendation_id: int, reason: str) -> int:
        """A new draft that will supersede this issued recommendation."""
        policies.require(self.actor, P.RECOMMENDATION_DRAFT)
        if not reason.strip():
            raise ValidationFailed({"correction_reason": "Say what the correction changes."})
        async with db.write_transaction():
            rec = await self._load(recommendation_id)
            rules.next_status(rec["status"], "correct")
            copy = {k: rec[k] for k in (*EDITABLE, "kind", "action", "agency", "agreement")}
            new = Recommendation(**copy, status="draft", author=self.actor.id,
                                 version=int(rec["version"]) + 1, supersedes=rec["id"],
                                 correction_reason=reason.strip()[:4000])
            await new.save()
            for link in await RecommendationOfficer.select().where(
                    RecommendationOfficer.recommendation == recommendation_id):
                await RecommendationOfficer(recommendation=new.id,
                                            designation=link["designation"]).save()
            for link in await RecommendationCase.select().where(
                    RecommendationCase.recommendation == recommendation_id):
                await RecommendationCase(recommendation=new.id, case=link["case"]).save()
            await self._audit("correct", int(new.id), supersedes=recommendation_id,
                              supersedes_number=rec["number"], reason=reason.strip()[:4000])
        return int(new.id)

    async def issued_document(self, recommendation_id: int) -> tuple[dict[str, Any], bytes]:
        """The frozen bytes of an issued recommendation (audited as a download)."""
        _require_reader(self.actor)
        rec = await self._load(recommendation_id)
        if rec["status"] != "issued" or not rec["document_key"]:
            raise NotFound("This recommendation has not been issued.")
        try:
            data = await read_document(rec["document_key"], self.settings)
        except ObjectMissing as exc:
            log.error("issued document %s is missing from the store (%s)", rec["number"],
                      rec["document_key"])
            raise Conflict("The stored document is missing; the administrator has been "
                           "told.") from exc
        if rendering.sha256_hex(data) != rec["document_sha256"]:
            log.error("issued document %s does not match its SHA-256", rec["number"])
            raise Conflict("The stored document does not match its recorded hash; the "
                           "administrator has been told.")
        await self._audit("download", recommendation_id, number=rec["number"])
        return rec, data

    async def preview(self, recommendation_id: int) -> bytes:
        """A draft rendering (no number, marked as a draft), for review before issue."""
        _require_reader(self.actor)
        source = await load_source(recommendation_id, settings=self.settings)
        document = viewmodels.build_recommendation(source)
        await self._audit("preview", recommendation_id)
        return await rendering.render_pdf(
            "recommendation.html.j2", {"doc": document}, title=f"Draft — {document.title}",
            attachment_json=viewmodels.document_json(document))


async def find_by_sha256(sha: str) -> dict[str, Any] | None:
    return await Recommendation.select(Recommendation.id, Recommendation.number,
                                       Recommendation.issued_at, Recommendation.status).where(
        Recommendation.document_sha256 == sha).first()


