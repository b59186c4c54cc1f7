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
from casetracker.intake import rules
from casetracker.intake.forms import ComplaintInput, OfficerEntry
from casetracker.intake.tables import ComplainantContact, FollowUp, PublicRateHit
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.settings import Settings, get_settings

log = logging.getLogger("casetracker.intake")

# Something that stores the request's files for a case inside the open transaction and
# returns how many it stored: (case_id, follow_up_id) -> count.
AttachFiles = Callable[[int, int | None], Awaitable[int]]


# --- the registry ------------------------------------------------------------------------------

def agency_label(row: dict[str, Any]) -> str:
    return f"{row['name']}, {row['state']}"


async def search_agencies(query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Agencies by name or state. Uses the registry's search when it exists."""
    query = (query or "").strip()[:200]
    if not query:
        return []
    registry_search = None
    for module_name in ("casetracker.registry.lookup", "casetracker.registry.services"):
        try:
            module = __import__(module_name, fromlist=["search_agencies"])
        except ImportError:
            continue
        registry_search = getattr(module, "search_agencies", None)
        if registry_search is not None:
            break
    if registry_search is not None:
        try:
            rows = await registry_search(query, limit)
            return [_agency_dict(row) for row in rows][:limit]
        except Exception:
            log.exception("registry search_agencies failed; using the intake fallback")
    return await _search_agencies_fallback(query, limit)


def _agency_dict(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k, None)
    return {"id": get("id"), "name": get("name") or "", "state": get("state") or "",
            "county": get("county") or ""}


async def _search_agencies_fallback(query: str, limit: int) -> list[dict[str, Any]]:
    cols = (Agency.id, Agency.name, Agency.state, Agency.county)
    name_part, _sep, state_part = query.rpartition(",")
    if state_part.strip() and len(state_part.strip()) == 2 and name_part.strip():
        rows = await Agency.select(*cols).where(
            (Agency.state == state_part.strip().upper())
            & (_ilike(Agency.name, f"%{_like_escape(name_part.strip())}%"))
        ).order_by(Agency.name).limit(limit)
        if rows:
            return rows
    clause = _ilike(Agency.name, f"%{_like_escape(query)}%")
    if len(query) == 2 and query.isalpha():
        clause = clause | (Agency.state == query.upper())
    return await Agency.select(*cols).where(clause).order_by(Agency.state, Agency.name).limit(limit)


def _ilike(column: Any, pattern: str) -> Any:
    """Case-insensitive LIKE: SQLite's LIKE already ignores ASCII case (Piccolo warns on ILIKE
    there); PostgreSQL needs ILIKE."""
    return column.like(pattern) if db.is_sqlite() else column.ilike(pattern)


def _like_escape(text: str) -> str:
    return re.sub(r"[%_\\]", " ", text)


async def resolve_officer_agencies(officers: Sequence[OfficerEntry]) -> None:
    """Link each officer's typed agency to the registry when it is unambiguous.

    A chosen id is kept when it exists (and the text shows its name); typed text that equals
    one agency's "Name, ST" or, alone, one agency's name, is linked; anything else stays free
    text for triage to link."""
    for officer in officers:
        if officer.agency_id is not None:
            row = await Agency.select(Agency.id, Agency.name, Agency.state).where(
                Agency.id == officer.agency_id).first()
            if row is not None and (not officer.agency or officer.agency == agency_label(row)):
                officer.agency = agency_label(row)
                continue
            officer.agency_id = None
        if not officer.agency:
            continue
        text = officer.agency.strip()
        name, _sep, state = text.rpartition(",")
        candidates: list[dict[str, Any]] = []
        if name.strip() and len(state.strip()) == 2:
            candidates = await Agency.select(Agency.id, Agency.name, Agency.state).where(
                (Agency.state == state.strip().upper()) & (_ilike(Agency.name,
                    _like_escape(name.strip())))
            ).limit(2)
        if not candidates:
            candidates = await Agency.select(Agency.id, Agency.name, Agency.state).where(
                _ilike(Agency.name, _like_escape(text))).limit(2)
        if len(candidates) == 1:
            officer.agency_id = candidates[0]["id"]
            officer.agency = agency_label(candidates[0])


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
    access_code: str  # shown once, never stored
    received_at: datetime
    triage_due_at: datetime | None
    resolution_due_at: datetime | None
    files_stored: int
    language: str


class IntakeService:
    def __init__(self, actor: Actor, settings: Settings | None = None) -> None:
        self.actor = actor
        self.settings = settings or get_settings()

    async def file_complaint(self, data: ComplaintInput, *, channel: str = "web",
                             attach_files: AttachFiles | None = None) -> FiledComplaint:
        """Store the complaint and all its parts in one transaction, or nothing."""
        officers = data.named_officers
        witnesses = data.named_witnesses
        await resolve_officer_agencies(officers)
        ice_required, officer_links = await ice_notice_rule(officers)
        received_at = datetime.now(UTC)
        deadlines = clocks.intake_deadlines(
            received_at, ice_notice_required=ice_required,
            calendar=clocks.BusinessCalendar.from_settings(self.settings),
            rules=clocks.ClockRules.from_settings(self.settings),
        )
        access_code = rules.new_access_code()
        first_agency = next((o.agency_id for o in officers if o.agency_id is not None), None)
        files_stored = 0
        async with _transaction(with_files=attach_files is not None):
            tracking_number = await self._unused_tracking_number()
            case = Case(
                tracking_number=tracking_number,
                access_code_hash=rules.access_code_hash(self.settings.secret_key,
                                                        tracking_number, access_code),
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
            await case.save()
            for position, officer in enumerate(officers):
                await CaseOfficer(
                    case=case.id, position=position, name=officer.name,
                    badge_number=officer.badge, agency=officer.agency_id,
                    agency_text=officer.agency, rank=officer.rank,
                    description=officer.description, vehicle=officer.vehicle,
                    officer=officer_links.get(position),
                    unidentified=not (officer.name or officer.badge),
                ).save()
            for position, witness in enumerate(witnesses):
                await Witness(case=case.id, position=position, name=witness.name,
                              contact=witness.contact, statement=witness.statement).save()
            if not data.anonymous:
                await ComplainantContact(
                    case=case.id, name=data.name, email=data.email, phone=data.phone,
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
                ).save()
            if attach_files is not None:
                files_stored = await attach_files(case.id, None)
            if data.email and not data.anonymous:
                # Promised with the complaint: sent by a worker once this commits.
                await jobs.enqueue("intake.send_receipt",
                                   {"case_id": case.id, "language": data.language},
                                   key=f"receipt:{case.id}")
            await audit.record(
                "complaint.filed", actor=self.actor, object_type="case", object_id=case.id,
                case_id=case.id,
                details={"tracking_number": tracking_number, "channel": channel,
                         "language": data.language, "officers": len(officers),
                         "witnesses": len(witnesses), "files": files_stored,
                         "anonymous": data.anonymous, "late_filing": case.late_filing,
                         "ice_notification_required": ice_required},
            )
        return FiledComplaint(
            case_id=case.id, tracking_number=tracking_number, access_code=access_code,
            received_at=received_at, triage_due_at=deadlines["triage_due_at"],
            resolution_due_at=deadlines["resolution_due_at"], files_stored=files_stored,
            language=data.language,
        )

    async def _unused_tracking_number(self) -> str:
        for _attempt in range(20):
            candidate = rules.new_tracking_number()
            if not await Case.exists().where(Case.tracking_number == candidate):
                return candidate
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

    async def add_follow_up(self, case_id: int, message: str, *, language: str,
                            attach_files: AttachFiles | None = None) -> dict[str, Any]:
        received_at = datetime.now(UTC)
        async with _transaction(with_files=attach_files is not None):
            follow_up = FollowUp(case=case_id, received_at=received_at, message=message,
                                 language=language)
            await follow_up.save()
            files_stored = 0
            if attach_files is not None:
                files_stored = await attach_files(case_id, follow_up.id)
            await audit.record("complaint.follow_up", actor=self.actor, object_type="follow_up",
                               object_id=follow_up.id, case_id=case_id,
                               details={"files": files_stored, "characters": len(message)})
        return {"id": follow_up.id, "received_at": received_at, "files": files_stored}


# --- rate limits -------------------------------------------------------------------------------

RATE_WINDOW = timedelta(hours=1)


async def rate_limit_allows(bucket: str, address: str | None, *,
                            settings: Settings | None = None, record: bool = True) -> bool:
    """Count one public action for this address; False once the hourly limit is reached.

    Rows older than the window are deleted here, so hashed addresses are kept at most an hour."""
    settings = settings or get_settings()
    limit = settings.public_rate_limit_per_hour
    if limit <= 0:
        return True
    key = rules.address_key(settings.secret_key, address)
    now = datetime.now(UTC)
    async with db.write_transaction():
        # Count and insert as one step per (bucket, address): otherwise concurrent requests
        # (several workers, or one worker's pool) all count below the limit and all pass.
        await db.lock_in_transaction(db.LOCK_RATE_LIMIT, f"{bucket}:{key}")
        await PublicRateHit.delete().where(PublicRateHit.at < now - RATE_WINDOW)
        count = await PublicRateHit.count().where(
            (PublicRateHit.bucket == bucket) & (PublicRateHit.key_hash == key))
        if count >= limit:
            return False
        if record:
            await PublicRateHit.insert(PublicRateHit(bucket=bucket, key_hash=key, at=now))
    return True
