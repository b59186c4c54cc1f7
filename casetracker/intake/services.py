"""Public intake: filing a complaint, looking it up, adding to it, and the per-address limits.

``IntakeService(actor)`` writes a complaint and every part of it (case, officers, witnesses,
contact, evidence records, audit events) in ONE ``db.write_transaction()``; if anything fails,
nothing is stored and the caller removes the evidence files it staged or promoted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker import db, jobs
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.cases import clocks
from casetracker.cases.tables import Case, CaseOfficer, Witness
from casetracker.errors import RateLimited
from casetracker.intake import once, rules
from casetracker.intake.forms import ComplaintInput, OfficerEntry
from casetracker.intake.tables import (
    ComplainantContact,
    ConsentChange,
    FollowUp,
    PublicRateHit,
)
from casetracker.registry import lookup
from casetracker.registry import rules as registry_rules
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.settings import Settings, get_settings
from casetracker.web.i18n import gettext as _

log = logging.getLogger("casetracker.intake")

# Something that stores the request's files for a case inside the open transaction and
# returns how many it stored: (case_id, follow_up_id) -> count.
AttachFiles = Callable[[int, int | None], Awaitable[int]]


# --- the registry ------------------------------------------------------------------------------

def agency_label(row: dict[str, Any]) -> str:
    return f"{row['name']}, {row['state']}"


async def search_agencies(query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Agencies for the public form, by name or state (``registry.lookup``), each office once:
    two spellings the registry flags as "possibly the same office" (names differing only in
    case, spacing or apostrophe style, in one state) are one choice."""
    query = (query or "").strip()[:200]
    if not query:
        return []
    rows = await lookup.search_agencies(query, min(100, limit * 3))
    return _one_per_office(rows)[:limit]


def _one_per_office(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Twins grouped, in the order first seen; the one to link is the spelling with an active
    or pending agreement, else the first recorded."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(registry_rules.similar_agency_key(row["state"], row["name"]),
                          []).append(row)
    chosen = []
    for twins in groups.values():
        best = min(twins, key=lambda r: (0 if r.get("models") else 1, r["id"]))
        chosen.append({"id": best["id"], "name": best["name"], "state": best["state"],
                       "county": best.get("county") or "", "label": agency_label(best)})
    return chosen


async def resolve_officer_agencies(officers: Sequence[OfficerEntry]) -> None:
    """Link each officer's agency to the registry when it is unambiguous.

    An agency chosen from "Find agency" (or kept from an earlier choice while the text still
    shows its name) is the link; typed text that names one office ("Name, ST", or a name
    alone that only one office has; the two spellings of one office count once) is linked;
    anything else stays free text for triage to link."""
    for officer in officers:
        if officer.agency_id is not None:
            row = await Agency.select(Agency.id, Agency.name, Agency.state).where(
                Agency.id == officer.agency_id).first()
            if row is not None and (officer.agency_chosen or not officer.agency
                                    or officer.agency == agency_label(row)):
                officer.agency = agency_label(row)
                continue
            officer.agency_id = None
        if not officer.agency:
            continue
        match = await _office_named(officer.agency)
        if match is not None:
            officer.agency_id = match["id"]
            officer.agency = match["label"]


async def _office_named(text: str) -> dict[str, Any] | None:
    """The one office whose name (with or without ", ST") is ``text``, or None."""
    text = text.strip()
    name, _sep, state = text.rpartition(",")
    wanted_state = registry_rules.state_code(state) if name.strip() else None
    wanted_name = registry_rules.normalise_name(name if wanted_state else text)
    rows = await lookup.search_agencies(name if wanted_state else text, 100)
    exact = [r for r in rows
             if registry_rules.normalise_name(r["name"]) == wanted_name
             and (wanted_state is None or r["state"] == wanted_state)]
    offices = _one_per_office(exact)
    return offices[0] if len(offices) == 1 else None


# --- the ICE notification rule -------------------------------------------------------------

def _norm_name(value: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", value.lower()).split())


async def match_designated_officer(officer: OfficerEntry) -> int | None:
    """The registry officer this description names, if it names exactly one with an active
    (or suspended) designation: same agency and the same badge number, or (without a badge)
    the same name."""
    if officer.agency_id is None or not (officer.badge or officer.name):
        return None
    rows = await Officer.select(Officer.id, Officer.name, Officer.badge_number).where(
        Officer.agency == officer.agency_id)
    if officer.badge:
        badge = officer.badge.strip().lower()
        matches = [r for r in rows if (r["badge_number"] or "").strip().lower() == badge]
    else:
        wanted = _norm_name(officer.name)
        matches = [r for r in rows if _norm_name(r["name"] or "") == wanted]
    if len(matches) != 1:
        return None
    # A suspended designation (removed pending adjudication) still counts, as in triage
    # (cases.rules.ice_notification_required): the officer is designated.
    designated = await Designation.exists().where(
        (Designation.officer == matches[0]["id"])
        & Designation.status.is_in(["active", "suspended"]))
    return matches[0]["id"] if designated else None


async def agency_has_active_agreement(agency_id: int) -> bool:
    return await Agreement.exists().where(
        (Agreement.agency == agency_id) & (Agreement.status == "active"))


async def ice_notice_rule(officers: Sequence[OfficerEntry]) -> tuple[bool, dict[int, int]]:
    """Whether the 48-hour ICE notification clock starts, and registry links by position.

    Rule (docs/intake.md): required when a described officer matches exactly one registry
    officer with an active 287(g) designation. When a described officer's agency holds an
    active agreement but the officer cannot be matched (no name or badge, or no unique match),
    we cannot rule designation out at intake, so the clock starts too: missing a 48-hour
    deadline is worse than triage clearing one that proves unnecessary."""
    links: dict[int, int] = {}
    required = False
    for position, officer in enumerate(officers):
        matched = await match_designated_officer(officer)
        if matched is not None:
            links[position] = matched
            required = True
        elif officer.agency_id is not None and await agency_has_active_agreement(officer.agency_id):
            required = True
    return required, links


def attach_staged(files: Sequence[Any], actor: Actor) -> AttachFiles | None:
    """The hook that stores staged files as the complainant's evidence inside the filing's
    transaction (None when there are none)."""
    if not files:
        return None

    async def attach(case_id: int, follow_up_id: int | None) -> int:
        from casetracker.evidence.ingest import EvidenceService

        items = await EvidenceService(actor).attach(
            case_id, list(files), source="complainant", follow_up_id=follow_up_id)
        return len(items)

    return attach


def _transaction(*, with_files: bool) -> Any:
    """One write transaction; with files, the evidence module's variant that also removes
    the files it stored when the transaction fails."""
    if with_files:
        from casetracker.evidence.ingest import ingest_transaction

        return ingest_transaction()
    return db.write_transaction()


# --- filing ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FiledComplaint:
    case_id: int
    tracking_number: str
    access_code: str  # never stored in clear; "" when a replay comes after it was forgotten
    received_at: datetime
    triage_due_at: datetime | None
    resolution_due_at: datetime | None
    files_stored: int
    language: str
    replayed: bool = False  # a one-time key seen before: nothing was filed this time
    email_given: bool = False  # an e-mail address came with it (the receipt goes there)

    def answer(self) -> dict[str, Any]:
        """What a replay of the same submission shows again (sealed with its key)."""
        return {"case_id": self.case_id, "tracking_number": self.tracking_number,
                "access_code": self.access_code, "received_at": self.received_at.isoformat(),
                "triage_due_at": _iso(self.triage_due_at),
                "resolution_due_at": _iso(self.resolution_due_at),
                "files_stored": self.files_stored, "language": self.language}

    @classmethod
    def from_previous(cls, previous: once.Previous, case: dict[str, Any], *,
                      email_given: bool = False) -> FiledComplaint:
        answer = previous.answer or {}
        return cls(case_id=case["id"], tracking_number=case["tracking_number"],
                   access_code=str(answer.get("access_code") or ""),
                   received_at=case["received_at"], triage_due_at=case["triage_due_at"],
                   resolution_due_at=case["resolution_due_at"],
                   files_stored=int(answer.get("files_stored") or 0),
                   language=case["language"], replayed=True, email_given=email_given)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# A new case row, or None when its tracking number is already taken (then another is drawn).
_INSERT_CASE = db.FastInsert(Case, skip_on_conflict="tracking_number")
_INSERT_CONTACT = db.FastInsert(ComplainantContact)


class IntakeService:
    def __init__(self, actor: Actor, settings: Settings | None = None) -> None:
        self.actor = actor
        self.settings = settings or get_settings()

    async def file_complaint(self, data: ComplaintInput, *, channel: str = "web",
                             attach_files: AttachFiles | None = None,
                             once_key: once.OnceKey | None = None,
                             received_at: datetime | None = None,
                             rate_limit: tuple[str, str | None] | None = None) -> FiledComplaint:
        """Store the complaint and all its parts in one transaction, or nothing.

        With ``once_key``, a key seen before files nothing and gives the first filing back
        (``replayed``); the key is recorded in the same transaction as the case. With
        ``rate_limit`` (bucket, address), the filing counts against that address's hourly
        limit in the same transaction (one commit, not two: raises RateLimited)."""
        officers = data.named_officers
        witnesses = data.named_witnesses
        await resolve_officer_agencies(officers)
        ice_required, officer_links = await ice_notice_rule(officers)
        received_at = received_at or datetime.now(UTC)
        deadlines = clocks.intake_deadlines(
            received_at, ice_notice_required=ice_required,
            calendar=clocks.BusinessCalendar.from_settings(self.settings),
            rules=clocks.ClockRules.from_settings(self.settings),
        )
        access_code = rules.new_access_code()
        first_agency = next((o.agency_id for o in officers if o.agency_id is not None), None)
        files_stored = 0
        async with _transaction(with_files=attach_files is not None):
            if once_key is not None:
                previous = await once.claim(once_key, self.settings)
                if previous is not None:
                    replay = await self.filed_complaint(previous)
                    if replay is not None:
                        return replay
            if rate_limit is not None and not await rate_limit_allows(*rate_limit):
                raise RateLimited(_("Too many complaints were sent from this connection in "
                                    "the last hour."))
            case_values = dict(
                status="received",
                channel=channel,
                language=data.language,
                received_at=received_at,
                incident_date=data.incident_date,
                incident_date_precision=data.incident_date_precision,
                incident_time=data.incident_time,
                incident_location=data.incident_location,
                incident_city=data.incident_city,
                incident_state=data.incident_state,
                incident_setting=data.incident_setting or "other",
                context_287g=data.context_287g or "unknown",
                narrative=data.narrative,
                checklist=list(data.checklist),
                protected_characteristics=list(data.protected),
                protected_other=data.protected_other,
                harm=data.harm,
                complainant_role=data.complainant_role,
                anonymous=data.anonymous,
                consent_share_agency=data.consent_share_agency and not data.anonymous,
                consent_share_ice=data.consent_share_ice and not data.anonymous,
                late_filing=clocks.is_late_filing(data.incident_date, received_at,
                                                  self.settings.late_filing_days),
                agency=first_agency,
                officer_unidentified=not any(o.name or o.badge for o in officers),
                ice_notification_required=ice_required,
                triage_due_at=deadlines["triage_due_at"],
                ice_notification_due_at=deadlines["ice_notification_due_at"],
                resolution_due_at=deadlines["resolution_due_at"],
                updated_at=received_at,
            )
            case_id, tracking_number = await self._insert_case(case_values, access_code)
            for position, officer in enumerate(officers):
                await CaseOfficer(
                    case=case_id, position=position, name=officer.name,
                    badge_number=officer.badge, agency=officer.agency_id,
                    agency_text=officer.agency, rank=officer.rank,
                    description=officer.description, vehicle=officer.vehicle,
                    officer=officer_links.get(position),
                    unidentified=not (officer.name or officer.badge),
                ).save()
            for position, witness in enumerate(witnesses):
                await Witness(case=case_id, position=position, name=witness.name,
                              contact=witness.contact, statement=witness.statement).save()
            if not data.anonymous:
                await _INSERT_CONTACT(
                    case=case_id, name=data.name, email=data.email, phone=data.phone,
                    address=data.address,
                    preferred_language=(data.preferred_language_other
                                        if data.preferred_language == "other"
                                        else data.preferred_language),
                    preferred_contact=data.preferred_contact, safety_notes=data.safety_notes,
                    interpreter_needed=data.interpreter_needed,
                    relationship=data.relationship if data.complainant_role == "third_party"
                    else "",
                    victim_name=data.victim_name if data.complainant_role == "third_party"
                    else "",
                )
            if attach_files is not None:
                files_stored = await attach_files(case_id, None)
            if data.email and not data.anonymous:
                # Promised with the complaint: sent by a worker once this commits.
                await jobs.enqueue("intake.send_receipt",
                                   {"case_id": case_id, "language": data.language},
                                   key=f"receipt:{case_id}")
            await audit.record(
                "complaint.filed", actor=self.actor, object_type="case", object_id=case_id,
                case_id=case_id,
                details={"tracking_number": tracking_number, "channel": channel,
                         "language": data.language, "officers": len(officers),
                         "witnesses": len(witnesses), "files": files_stored,
                         "anonymous": data.anonymous, "late_filing": case_values["late_filing"],
                         "ice_notification_required": ice_required},
            )
            filed = FiledComplaint(
                case_id=case_id, tracking_number=tracking_number, access_code=access_code,
                received_at=received_at, triage_due_at=deadlines["triage_due_at"],
                resolution_due_at=deadlines["resolution_due_at"], files_stored=files_stored,
                language=data.language, email_given=bool(data.email and not data.anonymous),
            )
            if once_key is not None:
                await once.record(once_key, case_id=case_id, answer=filed.answer(),
                                  settings=self.settings)
        return filed

    async def filed_complaint(self, previous: once.Previous) -> FiledComplaint | None:
        """The complaint a one-time key filed before, as it was answered then (the access
        code only while the answer is kept)."""
        if previous.case_id is None:
            return None
        case = await Case.select().where(Case.id == previous.case_id).first()
        if case is None:
            return None
        email_given = await ComplainantContact.exists().where(
            (ComplainantContact.case == case["id"]) & (ComplainantContact.email != ""))
        return FiledComplaint.from_previous(previous, case, email_given=email_given)

    async def file_draft(self, data: ComplaintInput, *, token: str, review_token: str,
                         files: Sequence[Any],
                         rate_limit: tuple[str, str | None] | None = None
                         ) -> FiledComplaint | None:
        """Send a complaint draft (``intake.drafts``): the complaint, its files and the
        draft's removal in one transaction, once per draft. A second send of the same draft
        gives the first filing back (``replayed``); None when the draft is gone or changed
        since its review page was shown (``review_token``)."""
        from casetracker.evidence.ingest import ingest_transaction
        from casetracker.intake import drafts

        key = drafts.form_key(token)
        async with ingest_transaction():
            row = await drafts.locked_row(token, self.settings)
            if row is None:
                previous = await once.previous(key, self.settings)
                return await self.filed_complaint(previous) if previous else None
            if not drafts.review_token_matches(row["review_token_hash"], review_token,
                                               self.settings):
                return None
            filed = await self.file_complaint(
                data, channel="web", attach_files=attach_staged(files, self.actor),
                once_key=key, rate_limit=rate_limit)
            await drafts.delete_row(token, self.settings)
        return filed

    async def _insert_case(self, values: dict[str, Any], access_code: str) -> tuple[int, str]:
        """Insert the case under a new random tracking number; a number already taken is
        skipped by the insert itself (its unique index) and another is drawn."""
        for _attempt in range(20):
            number = rules.new_tracking_number()
            case_id = await _INSERT_CASE.insert(
                **values, tracking_number=number,
                access_code_hash=rules.access_code_hash(self.settings.secret_key, number,
                                                        access_code))
            if case_id is not None:
                return case_id, number
        raise RuntimeError("could not find an unused tracking number")  # pragma: no cover

    # --- tracking --------------------------------------------------------------------------

    async def find_case(self, tracking_number: str, access_code: str) -> dict[str, Any] | None:
        """The case for this number and code, or None. Unknown numbers and wrong codes take
        the same path (an HMAC and a constant-time comparison) and give the same answer."""
        number = rules.normalise_tracking_number(tracking_number)
        row = None
        if number:
            row = await Case.select().where(Case.tracking_number == number).first()
        stored = row["access_code_hash"] if row else ""
        ok = rules.access_code_matches(self.settings.secret_key, number or "CT-0000-0000",
                                       access_code, stored)
        if not ok or row is None or not stored:
            return None
        return row

    async def public_case(self, case_id: int) -> dict[str, Any] | None:
        """The case as its status page shows it (the cookie already proved the codes)."""
        return await Case.select().where(Case.id == case_id).first()

    async def public_history(self, case_id: int) -> dict[str, list[dict[str, Any]]]:
        """What the status page lists: the dates of the person's additions (and, once letters
        exist, what we told them)."""
        follow_ups = await FollowUp.select(FollowUp.id, FollowUp.received_at).where(
            FollowUp.case == case_id).order_by(FollowUp.received_at)
        from casetracker.intake.correspondence import public_letters

        return {"follow_ups": follow_ups, "letters": await public_letters(case_id)}

    async def follow_up_summary(self, case_id: int, follow_up_id: int) -> dict[str, Any] | None:
        """For the "we added this" message after the redirect: when, and how many files."""
        from casetracker.evidence.tables import EvidenceItem

        row = await FollowUp.select(FollowUp.id, FollowUp.received_at).where(
            (FollowUp.id == follow_up_id) & (FollowUp.case == case_id)).first()
        if row is None:
            return None
        files = await EvidenceItem.count().where(EvidenceItem.follow_up == follow_up_id)
        return {"id": row["id"], "received_at": row["received_at"], "files": files}

    async def add_follow_up(self, case_id: int, message: str, *, language: str,
                            attach_files: AttachFiles | None = None,
                            once_key: once.OnceKey | None = None) -> dict[str, Any]:
        """The complainant's addition, its files, the audit event and a notification to the
        lead investigator (or, with none, the intake staff), in one transaction. With
        ``once_key``, a second send of the same form adds nothing."""
        received_at = datetime.now(UTC)
        async with _transaction(with_files=attach_files is not None):
            if once_key is not None:
                previous = await once.claim(once_key, self.settings)
                if previous is not None and previous.answer:
                    return {"id": previous.answer.get("follow_up_id"),
                            "received_at": received_at, "files": 0, "replayed": True}
            follow_up = FollowUp(case=case_id, received_at=received_at, message=message,
                                 language=language)
            await follow_up.save()
            files_stored = 0
            if attach_files is not None:
                files_stored = await attach_files(case_id, follow_up.id)
            await audit.record("complaint.follow_up", actor=self.actor, object_type="follow_up",
                               object_id=follow_up.id, case_id=case_id,
                               details={"files": files_stored, "characters": len(message)})
            await _tell_staff_about_follow_up(case_id, files_stored)
            if once_key is not None:
                await once.record(once_key, case_id=case_id,
                                  answer={"follow_up_id": follow_up.id}, settings=self.settings)
        return {"id": follow_up.id, "received_at": received_at, "files": files_stored}

    async def change_consent(self, case_id: int, *, share_agency: bool, share_ice: bool,
                             recorded_by: int | None = None) -> bool:
        """The complainant's choice about sharing their identity, as a dated change (no row
        when nothing changed). False for anonymous complaints: there is no identity."""
        async with db.write_transaction():
            case = await Case.select(Case.anonymous, Case.consent_share_agency,
                                     Case.consent_share_ice).where(Case.id == case_id).first()
            if case is None or case["anonymous"]:
                return False
            if (case["consent_share_agency"], case["consent_share_ice"]) == (share_agency,
                                                                            share_ice):
                return False
            now = datetime.now(UTC)
            await Case.update({Case.consent_share_agency: share_agency,
                               Case.consent_share_ice: share_ice, Case.updated_at: now}).where(
                Case.id == case_id)
            await ConsentChange.insert(ConsentChange(
                case=case_id, share_agency=share_agency, share_ice=share_ice, changed_at=now,
                source="staff" if recorded_by else "complainant", recorded_by=recorded_by))
            await audit.record("complaint.consent_changed", actor=self.actor,
                               object_type="case", object_id=case_id, case_id=case_id,
                               details={"share_agency": share_agency, "share_ice": share_ice,
                                        "before": {"share_agency": case["consent_share_agency"],
                                                   "share_ice": case["consent_share_ice"]}})
        return True


async def _tell_staff_about_follow_up(case_id: int, files: int) -> None:
    """A notification to the lead investigator, or to every active intake staff member when
    the case has no lead yet (inside the caller's transaction)."""
    from casetracker.accounts.notifications import notify
    from casetracker.accounts.tables import User
    from casetracker.web.i18n import DEFAULT_LANGUAGE, using_language
    from casetracker.web.i18n import gettext as _

    case = await Case.select(Case.tracking_number, Case.lead_investigator).where(
        Case.id == case_id).first()
    if case is None:
        return
    with using_language(DEFAULT_LANGUAGE):  # for staff, whatever the complainant's language
        message = _("The complainant added information to %(number)s.",
                    number=case["tracking_number"])
        if files:
            message += " " + _("Files attached: %(count)s.", count=files)
    link = f"/cases/{case_id}#follow-ups"
    subject = f"{case['tracking_number']}: {message}"
    if case["lead_investigator"] is not None:
        await notify(case["lead_investigator"], message, link, subject=subject, kind="follow_up")
        return
    intake_staff = await User.select(User.id).where(
        (User.role == "intake") & (User.active == True))  # noqa: E712 - SQL, not Python
    for user in intake_staff:
        await notify(user["id"], message, link, subject=subject, kind="follow_up")


# --- rate limits -------------------------------------------------------------------------------

RATE_WINDOW = timedelta(hours=1)


# Drafts started per address and hour, as a multiple of the filing limit: people start again
# and correct mistakes, but each draft may hold files.
DRAFTS_PER_FILING = 3


async def rate_limit_allows(bucket: str, address: str | None, *,
                            settings: Settings | None = None, record: bool = True) -> bool:
    """Count one public action for this address; False once the hourly limit is reached.

    Only the last hour's rows count; older ones are deleted by the periodic job
    ``intake.prune_rate_hits`` (so hashed addresses are kept little more than an hour), not
    here: a delete over the whole table in every filing was work the filing need not wait for."""
    settings = settings or get_settings()
    limit = settings.public_rate_limit_per_hour
    if bucket == "draft":
        limit *= DRAFTS_PER_FILING
    if limit <= 0:
        return True
    key = rules.address_key(settings.secret_key, address)
    now = datetime.now(UTC)
    async with db.write_transaction():
        # Count and insert as one step per (bucket, address): otherwise concurrent requests
        # (several workers, or one worker's pool) all count below the limit and all pass.
        await db.lock_in_transaction(db.LOCK_RATE_LIMIT, f"{bucket}:{key}")
        count = await PublicRateHit.count().where(
            (PublicRateHit.key_hash == key) & (PublicRateHit.bucket == bucket)
            & (PublicRateHit.at >= now - RATE_WINDOW))
        if count >= limit:
            return False
        if record:
            await PublicRateHit.insert(PublicRateHit(bucket=bucket, key_hash=key, at=now))
    return True


async def prune_rate_hits(now: datetime | None = None) -> int:
    """Forget rate-limit rows older than the window; returns how many went."""
    cutoff = (now or datetime.now(UTC)) - RATE_WINDOW
    async with db.write_transaction():
        old = await PublicRateHit.count().where(PublicRateHit.at < cutoff)
        if old:
            await PublicRateHit.delete().where(PublicRateHit.at < cutoff)
    return old
