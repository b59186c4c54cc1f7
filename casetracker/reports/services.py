"""RecommendationService: draft → submitted → approved → issued, corrections, the frozen
documents and their variants. Loaders are in ``sources.py``; ICE's responses in
``responses.py``."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from piccolo.columns import Column

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission as P
from casetracker.cases.tables import Case
from casetracker.errors import Conflict, Forbidden, NotFound, ValidationFailed, found
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.reports import document as documents
from casetracker.reports import rendering, rules
from casetracker.reports.sources import (  # noqa: F401 - re-exported (case_report, controllers)
    _fk_id,
    _officer_labels,
    candidate_cases,
    designated_active,
    load_case_bundle,
    load_determinations,
    load_source,
    sustained_allegations,
)
from casetracker.reports.tables import (
    DocumentSequence,
    Recommendation,
    RecommendationCase,
    RecommendationDetermination,
    RecommendationOfficer,
)
from casetracker.settings import Settings, get_settings, local_today
from casetracker.storage import ObjectMissing, Store, get_store
from casetracker.web.i18n import gettext as _

log = logging.getLogger("casetracker.reports")

NUMBER_PREFIX = "RR"
# What staff edit on a draft. The dates and lengths are the office's requests, empty unless
# entered; text_authors records who last wrote each.
EDITABLE = ("addressee", "sender", "subject", "summary", "grounds", "requested_action",
            "proposed_effective_on", "suspension_days", "response_instructions",
            "corrective_measures", "classification", "timing", "viii_process")
AUTHORED = tuple(f for f in EDITABLE if f != "classification")


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


def _by_name(values: dict[str, Any]) -> dict[Column | str, Any]:
    """Values keyed by column name, as Piccolo's ``update`` takes them (its signature says
    ``Column | str`` keys, which a ``dict[str, ...]`` does not match for mypy)."""
    return cast("dict[Column | str, Any]", values)


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


def sees_identity(actor: Actor, rec: dict[str, Any]) -> bool:
    """Whether this reader gets the sensitive variant of this recommendation."""
    return rec.get("classification") == "sensitive" and policies.may_see_complainant_identity(
        actor)


@dataclass(frozen=True)
class DeterminationInput:
    made: bool
    reason: str


async def plan_for_record(rec: dict[str, Any], values: dict[str, Any] | None = None
                          ) -> rules.Plan:
    """The rules' plan for a stored recommendation (``values``: edits not saved yet)."""
    values = {**rec, **(values or {})}
    agreement = found(await Agreement.select().where(Agreement.id == rec["agreement"]).first(),
                      "There is no such agreement.")
    named = [r["designation"] for r in await RecommendationOfficer.select(
        RecommendationOfficer.designation).where(
        RecommendationOfficer.recommendation == rec["id"])]
    return rules.plan_for(
        agreement["model"], agreement["signed_on"], agreement["revision"], rec["action"],
        officers_named=len(named),
        others_active=await designated_active(agreement["id"], besides=named),
        viii_process=values.get("viii_process") or "", timing=values.get("timing") or "",
        agreement_status=agreement["status"],
        suspension_length_requested=values.get("suspension_days") is not None,
        response_requested=bool((values.get("response_instructions") or "").strip()))


async def offered_determinations(rec: dict[str, Any]) -> tuple[str, ...]:
    """Every determination this recommendation could need, whatever timing or §VIII process
    is chosen (the form asks for them; submitting needs those of the choice made)."""
    keys: list[str] = []
    for viii in ("suspension", "termination"):
        for timing in ("notice_90", "exigent"):
            plan = await plan_for_record(rec, {"viii_process": viii, "timing": timing})
            keys += [k for k in plan.determinations if k not in keys]
    return tuple(keys)


class RecommendationService:
    def __init__(self, actor: Actor, settings: Settings | None = None) -> None:
        self.actor = actor
        self.settings = settings or get_settings()

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _today(self) -> date:
        return local_today(self.settings)

    async def _load(self, recommendation_id: int) -> dict[str, Any]:
        rec = await Recommendation.select().where(Recommendation.id == recommendation_id).first()
        if rec is None:
            raise NotFound("There is no such recommendation.")
        return rec

    async def _audit(self, verb: str, rec_id: int, **details: Any) -> None:
        await audit.record(f"recommendation.{verb}", actor=self.actor,
                           object_type="recommendation", object_id=rec_id, details=details)

    async def _tell(self, rec: dict[str, Any], user_ids: list[int], message: str,
                    subject: str, kind: str) -> None:
        """Notify (in the app; by e-mail for those who asked) inside the change's transaction;
        never the person who made the change."""
        from casetracker.accounts.notifications import notify_many

        await notify_many(user_ids, message, f"/recommendations/{rec['id']}", subject=subject,
                          kind=kind, skip=self.actor.id)

    @staticmethod
    def _title(rec: dict[str, Any]) -> str:
        return rec.get("number") or rec.get("subject") or _("recommendation %(id)s",
                                                            id=rec["id"])

    def _ensure_may_draft_variant(self, rec: dict[str, Any]) -> None:
        """The sensitive variant is drafted only by those who may see complainant identity."""
        if rec.get("classification") == "sensitive" and not (
                policies.may_see_complainant_identity(self.actor)):
            raise Forbidden("This draft is the sensitive version, which names complainants: "
                            "only staff who may see complainant contact details can change or "
                            "submit it. Ask a supervisor to make it the public version.")

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
                                        "agreement: the agreement's provisions differ between "
                                        "them."})
            agreement_id = agreement_ids.pop()
        else:
            agreement_id = values.agreement_id
        agreement = await Agreement.select().where(Agreement.id == agreement_id).first()
        if agreement is None:
            raise ValidationFailed({"agreement_id": "The chosen agreement does not exist."})
        agency = found(await Agency.select().where(Agency.id == agreement["agency"]).first(),
                       "There is no such agency.")
        return agreement, agency, designations

    async def draft(self, values: DraftValues) -> int:
        """Create a draft: the target, the cases and the text the registry gives (subject,
        addressee, sender). Everything the office states or requests is left for staff."""
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
        model = agreement["model"]
        async with db.write_transaction():
            rec = Recommendation(
                kind=values.kind, action=values.action, status="draft",
                classification=("sensitive" if policies.may_see_complainant_identity(self.actor)
                                else "public"),
                agency=agency["id"], agreement=agreement["id"],
                addressee=rules.proposed_addressee(values.kind, values.action, model),
                sender=self.settings.organisation_name,
                subject=rules.proposed_subject(values.kind, values.action, model, agency["name"],
                                               [names[i] for i in officer_ids]),
                summary="", grounds="", requested_action="", response_instructions="",
                corrective_measures="", proposed_effective_on=None, suspension_days=None,
                notice_days=None, text_authors="{}", author=self.actor.id,
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

    async def update(self, recommendation_id: int, values: dict[str, Any],
                     determinations: dict[str, DeterminationInput] | None = None) -> None:
        """Save a draft's text, choices and determinations. Whoever changes a field or a
        determination becomes its author."""
        policies.require(self.actor, P.RECOMMENDATION_DRAFT)
        determinations = determinations or {}
        async with db.write_transaction():
            rec = await self._load(recommendation_id)
            rules.next_status(rec["status"], "edit")
            self._ensure_may_draft_variant(rec)
            plan = await plan_for_record(rec, values)
            errors = rules.validate_text(values, plan=plan, document_date=self._today())
            classification = values.get("classification")
            if classification not in ("sensitive", "public"):
                errors["classification"] = "Choose the version."
            elif classification == "sensitive" and not policies.may_see_complainant_identity(
                    self.actor):
                errors["classification"] = ("Only staff who may see complainant contact "
                                            "details can choose the sensitive version.")
            if plan.amounts_to_agreement_action:
                if values.get("viii_process") not in ("", None, "suspension", "termination"):
                    errors["viii_process"] = "Choose suspension or termination."
            offered = await offered_determinations(rec)
            for key, given in determinations.items():
                if key not in offered:
                    continue
                problem = rules.validate_determination(given.made, given.reason)
                if problem:
                    errors[f"determination_{key}"] = problem
            if errors:
                raise ValidationFailed(errors)
            changes = {k: values.get(k) for k in EDITABLE}
            if not plan.amounts_to_agreement_action:
                changes["viii_process"] = ""
            if not plan.timing_choices:
                changes["timing"] = ""
            changed = sorted(k for k in EDITABLE if (rec.get(k) or None) != (changes[k] or None))
            authors = documents.text_authors(rec)
            for name in changed:
                if name in AUTHORED:
                    authors[name] = int(self.actor.id)  # type: ignore[arg-type]
            await Recommendation.update(_by_name({**changes, "text_authors": json.dumps(authors),
                                                  "updated_at": self._now()})).where(
                Recommendation.id == recommendation_id)
            decided = await self._save_determinations(recommendation_id, offered,
                                                      determinations)
            await self._audit("edit", recommendation_id, fields=changed, determinations=decided)

    async def _save_determinations(self, rec_id: int, offered: tuple[str, ...],
                                   given: dict[str, DeterminationInput]) -> dict[str, str]:
        current = await load_determinations(rec_id)
        out: dict[str, str] = {}
        for key in offered:
            if key not in given:
                continue
            wanted, existing = given[key], current.get(key)
            reason = wanted.reason.strip()
            if wanted.made and existing and existing["reason"] == reason:
                continue
            if existing:
                await RecommendationDetermination.delete().where(
                    RecommendationDetermination.id == existing["id"])
            if wanted.made:
                await RecommendationDetermination(recommendation=rec_id, key=key, reason=reason,
                                                  decided_by=self.actor.id,
                                                  decided_at=self._now()).save()
                out[key] = "made"
            elif existing:
                out[key] = "withdrawn"
        return out

    async def _submit_problems(self, rec: dict[str, Any]) -> dict[str, str]:
        plan = await plan_for_record(rec)
        stored = await load_determinations(rec["id"])
        problems = rules.submit_problems(
            rec, plan, {k: {"made": True, "reason": v["reason"]} for k, v in stored.items()},
            viii_process=rec.get("viii_process") or "")
        problems.update(rules.validate_text(rec, plan=plan, document_date=self._today()))
        return problems

    async def submit(self, recommendation_id: int) -> None:
        async with db.write_transaction():
            policies.require(self.actor, P.RECOMMENDATION_DRAFT)
            rec = await self._load(recommendation_id)
            status = rules.next_status(rec["status"], "submit")
            self._ensure_may_draft_variant(rec)
            problems = await self._submit_problems(rec)
            if problems:
                raise ValidationFailed(problems)
            await Recommendation.update({"status": status, "submitted_at": self._now(),
                                         "submitted_by": self.actor.id}).where(
                Recommendation.id == recommendation_id)
            await self._audit("submit", recommendation_id)
            from casetracker.accounts.notifications import staff_with_role

            approvers = [uid for uid in await staff_with_role("supervisor", "administrator")
                         if uid != _fk_id(rec["author"])]
            await self._tell(rec, approvers, _(
                "%(name)s submitted the recommendation \u201c%(title)s\u201d for approval.",
                name=self.actor.name, title=self._title(rec)),
                _("Recommendation awaiting your approval: %(title)s", title=self._title(rec)),
                "recommendation_submitted")

    async def save_and_submit(self, recommendation_id: int, values: dict[str, Any],
                              determinations: dict[str, DeterminationInput] | None = None
                              ) -> None:
        """What "Submit for approval" does: save what is on the form, then submit, in one
        transaction (nothing is saved when submitting is refused)."""
        async with db.write_transaction():
            await self.update(recommendation_id, values, determinations)
            await self.submit(recommendation_id)

    async def approve(self, recommendation_id: int, comment: str = "") -> None:
        async with db.write_transaction():
            policies.require(self.actor, P.RECOMMENDATION_APPROVE)
            rec = await self._load(recommendation_id)
            status = rules.next_status(rec["status"], "approve")
            rules.ensure_not_author(_fk_id(rec["author"]), self.actor.id)
            problems = await self._submit_problems(rec)
            if problems:
                raise Conflict("The registry changed since this was submitted, and it now needs "
                               "more before it can be approved: return it to draft. "
                               + " ".join(problems.values()))
            await Recommendation.update({
                "status": status, "approved_at": self._now(),
                "approved_by": self.actor.id, "approval_comment": comment[:4000],
            }).where(Recommendation.id == recommendation_id)
            await self._audit("approve", recommendation_id, comment=comment[:4000])
            await self._tell(rec, [_fk_id(rec["author"])], _(
                "%(name)s approved your recommendation \u201c%(title)s\u201d; it can be issued.",
                name=self.actor.name, title=self._title(rec)),
                _("Recommendation approved: %(title)s", title=self._title(rec)),
                "recommendation_approved")

    async def return_to_draft(self, recommendation_id: int, comment: str) -> None:
        async with db.write_transaction():
            policies.require(self.actor, P.RECOMMENDATION_APPROVE)
            rec = await self._load(recommendation_id)
            status = rules.next_status(rec["status"], "return")
            await Recommendation.update({
                "status": status, "approved_at": None, "approved_by": None,
                "submitted_at": None, "submitted_by": None, "approval_comment": comment[:4000],
            }).where(Recommendation.id == recommendation_id)
            await self._audit("return", recommendation_id, comment=comment[:4000])
            await self._tell(rec, [_fk_id(rec["author"])], _(
                "%(name)s returned your recommendation \u201c%(title)s\u201d to draft: "
                "%(comment)s", name=self.actor.name, title=self._title(rec),
                comment=comment[:4000]),
                _("Recommendation returned to draft: %(title)s", title=self._title(rec)),
                "recommendation_returned")

    async def _next_number(self, year: int) -> str:
        key = f"{NUMBER_PREFIX}-{year}"
        for _attempt in range(3):
            async with db.write_transaction():
                row = await DocumentSequence.select().where(DocumentSequence.key == key).first()
                if row is not None:
                    # The update takes the row lock on PostgreSQL; SQLite writers are serialised.
                    await DocumentSequence.update({DocumentSequence.last: DocumentSequence.last + 1}
                                                  ).where(DocumentSequence.key == key)
                    row = found(await DocumentSequence.select().where(
                        DocumentSequence.key == key).first(), "The document sequence vanished.")
                    return rules.format_number(NUMBER_PREFIX, year, row["last"])
                try:
                    await DocumentSequence(prefix=NUMBER_PREFIX, year=year, last=1, key=key).save()
                    return rules.format_number(NUMBER_PREFIX, year, 1)
                except Exception as exc:
                    if not db.is_unique_violation(exc):
                        raise
        raise Conflict("Could not assign a document number; try again.")

    async def _render_issued(self, recommendation_id: int, *, redacted: bool, now: datetime,
                             number: str) -> tuple[bytes, documents.RecommendationDocument]:
        source = await load_source(recommendation_id, redacted=redacted, now=now,
                                   settings=self.settings)
        source.recommendation = {**source.recommendation, "number": number, "issued_at": now,
                                 "issued_by": self.actor.id, "status": "issued"}
        if self.actor.id is not None:  # issuing takes a signed-in person
            source.people.setdefault(self.actor.id, {
                "id": self.actor.id, "name": self.actor.name, "email": self.actor.label,
                "role": self.actor.role})
        document = documents.build(source)
        pdf = await rendering.render_pdf(
            "recommendation.html.j2", {"doc": document}, title=f"{number} — {document.title}",
            attachment_json=documents.document_json(document))
        if self.settings.signing_cert and self.settings.signing_key:
            from casetracker.reports import signing

            variant = " (redacted version)" if redacted and source.recommendation[
                "classification"] == "sensitive" else ""
            pdf = await asyncio.to_thread(signing.sign_pdf, pdf, self.settings,
                                          reason=f"Issued {number}{variant}")
        return pdf, document

    async def issue(self, recommendation_id: int) -> str:
        """Assign the number, render the PDF once (a sensitive one also as the redacted
        variant), store each with its SHA-256, freeze it."""
        policies.require(self.actor, P.RECOMMENDATION_ISSUE)
        rec = await self._load(recommendation_id)
        rules.next_status(rec["status"], "issue")
        problems = await self._submit_problems(rec)
        if problems:
            raise Conflict("This recommendation needs more before it can be issued: return it "
                           "to draft. " + " ".join(problems.values()))
        now = self._now()
        issue_date = documents.local_date(now, self.settings.timezone) or now.date()
        number = await self._next_number(issue_date.year)
        # Render outside any transaction: SQLite would hold its write lock for seconds.
        sensitive = rec["classification"] == "sensitive"
        pdf, document = await self._render_issued(recommendation_id, redacted=not sensitive,
                                                  now=now, number=number)
        key, sha = await store_document(pdf, self.settings)
        redacted_values: dict[str, Any] = {}
        if sensitive:
            redacted_pdf, _doc = await self._render_issued(recommendation_id, redacted=True,
                                                           now=now, number=number)
            r_key, r_sha = await store_document(redacted_pdf, self.settings)
            redacted_values = {"redacted_sha256": r_sha, "redacted_key": r_key,
                               "redacted_size": len(redacted_pdf)}
        signed = "pyhanko" if self.settings.signing_cert and self.settings.signing_key else ""
        evidence_ids = [int(e.item[2:]) for c in document.cases for e in c.evidence]
        async with db.write_transaction():
            current = await self._load(recommendation_id)
            rules.next_status(current["status"], "issue")  # nobody issued it meanwhile
            await Recommendation.update(_by_name({
                "status": "issued", "number": number, "issued_at": now,
                "issued_by": self.actor.id, "document_sha256": sha, "document_key": key,
                "document_size": len(pdf), "document_signed": signed, **redacted_values,
            })).where(Recommendation.id == recommendation_id)
            await self._audit("issue", recommendation_id, number=number, sha256=sha,
                              size=len(pdf), signed=bool(signed),
                              redacted_sha256=redacted_values.get("redacted_sha256", ""))
            people = [_fk_id(current["author"])]
            if current.get("approved_by"):
                people.append(_fk_id(current["approved_by"]))
            await self._tell(current, people, _(
                "%(name)s issued recommendation %(number)s (\u201c%(title)s\u201d).",
                name=self.actor.name, number=number,
                title=current.get("subject") or number),
                _("Recommendation %(number)s issued", number=number), "recommendation_issued")
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
            copy = {k: rec[k] for k in (*EDITABLE, "kind", "action", "agency", "agreement",
                                        "notice_days")}
            if not policies.may_see_complainant_identity(self.actor):
                copy["classification"] = "public"
            authors = documents.text_authors(rec)
            authors["correction_reason"] = int(self.actor.id)  # type: ignore[arg-type]
            new = Recommendation(**copy, status="draft", author=self.actor.id,
                                 version=int(rec["version"]) + 1, supersedes=rec["id"],
                                 correction_reason=reason.strip()[:4000],
                                 text_authors=json.dumps(authors))
            await new.save()
            for link in await RecommendationOfficer.select().where(
                    RecommendationOfficer.recommendation == recommendation_id):
                await RecommendationOfficer(recommendation=new.id,
                                            designation=link["designation"]).save()
            for link in await RecommendationCase.select().where(
                    RecommendationCase.recommendation == recommendation_id):
                await RecommendationCase(recommendation=new.id, case=link["case"]).save()
            for row in (await load_determinations(recommendation_id)).values():
                # still that person's determination, with its date
                await RecommendationDetermination(
                    recommendation=new.id, key=row["key"], reason=row["reason"],
                    decided_by=row["decided_by"], decided_at=row["decided_at"]).save()
            await self._audit("correct", int(new.id), supersedes=recommendation_id,
                              supersedes_number=rec["number"], reason=reason.strip()[:4000])
        return int(new.id)

    async def issued_document(self, recommendation_id: int) -> tuple[dict[str, Any], bytes]:
        """The frozen bytes of an issued recommendation, in the variant this reader may have
        (audited as a download)."""
        _require_reader(self.actor)
        rec = await self._load(recommendation_id)
        if rec["status"] != "issued" or not rec["document_key"]:
            raise NotFound("This recommendation has not been issued.")
        redacted = rec["classification"] == "sensitive" and not sees_identity(self.actor, rec)
        key, sha = ((rec["redacted_key"], rec["redacted_sha256"]) if redacted
                    else (rec["document_key"], rec["document_sha256"]))
        if not key:
            # issued before variants were stored: nobody without the permission gets it
            raise Forbidden("This recommendation was issued only in its sensitive version, "
                            "which names complainants; you may not download it.")
        try:
            data = await read_document(key, self.settings)
        except ObjectMissing as exc:
            log.error("issued document %s is missing from the store (%s)", rec["number"], key)
            raise Conflict("The stored document is missing; the administrator has been "
                           "told.") from exc
        if rendering.sha256_hex(data) != sha:
            log.error("issued document %s does not match its SHA-256", rec["number"])
            raise Conflict("The stored document does not match its recorded hash; the "
                           "administrator has been told.")
        variant = "redacted" if redacted or rec["classification"] == "public" else "sensitive"
        await self._audit("download", recommendation_id, number=rec["number"], variant=variant)
        return {**rec, "variant": variant}, data

    async def document_view(self, recommendation_id: int) -> documents.RecommendationDocument:
        """The document as this reader may see it (for the review pages; not audited)."""
        _require_reader(self.actor)
        rec = await self._load(recommendation_id)
        source = await load_source(recommendation_id, redacted=not sees_identity(self.actor, rec),
                                   settings=self.settings)
        return documents.build(source)

    async def preview(self, recommendation_id: int) -> bytes:
        """A draft rendering (no number, marked as a draft) in the variant this reader may
        have, for review before issue."""
        _require_reader(self.actor)
        rec = await self._load(recommendation_id)
        redacted = not sees_identity(self.actor, rec)
        source = await load_source(recommendation_id, redacted=redacted, settings=self.settings)
        document = documents.build(source)
        await self._audit("preview", recommendation_id,
                          variant="redacted" if redacted else "sensitive")
        return await rendering.render_pdf(
            "recommendation.html.j2", {"doc": document}, title=f"Draft — {document.title}",
            attachment_json=documents.document_json(document))


async def find_by_sha256(sha: str) -> dict[str, Any] | None:
    """The issued recommendation a file is (either variant), with which variant it is."""
    row = await Recommendation.select(Recommendation.id, Recommendation.number,
                                      Recommendation.issued_at, Recommendation.status,
                                      Recommendation.classification).where(
        Recommendation.document_sha256 == sha).first()
    if row is not None:
        return {**row, "variant": "sensitive" if row["classification"] == "sensitive"
                else "public"}
    row = await Recommendation.select(Recommendation.id, Recommendation.number,
                                      Recommendation.issued_at, Recommendation.status,
                                      Recommendation.classification).where(
        (Recommendation.redacted_sha256 == sha) & (Recommendation.redacted_sha256 != "")).first()
    return {**row, "variant": "redacted"} if row is not None else None
