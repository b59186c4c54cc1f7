"""Registry services: the ICE sheet import, administrators' edits and designation status verbs.

Every write runs inside ``db.write_transaction()`` with its audit event in the same
transaction. Services take an ``Actor`` and plain values, never a request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission
from casetracker.auth.policies import may_import_registry, require
from casetracker.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from casetracker.registry import rules
from casetracker.registry.history import IMPORT_LOCK_KEY as _IMPORT_LOCK_KEY
from casetracker.registry.history import record_listings
from casetracker.registry.ice_sheet import ParsedSheet, SheetError, read_ice_sheet
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.web.i18n import gettext as _

ProgressCallback = Callable[[int, int], None]

# How many rows go into one INSERT (well under SQLite's bound-variable limit).
_INSERT_CHUNK = 200
# At most this many per-agreement entries are listed in the import's audit event.
_AUDIT_LIST_LIMIT = 500

AGREEMENT_SHEET_FIELDS = ("signed_on", "signed_raw", "moa_url", "moa_pending", "addendum")
AGENCY_SHEET_FIELDS = ("name", "county", "kind")


@dataclass
class ImportSummary:
    source: str
    sheet_kind: str
    published: date | None = None
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    no_longer_listed: int = 0
    agencies_added: int = 0
    agencies_updated: int = 0
    blank_rows: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sheet_kind": self.sheet_kind,
            "published": self.published.isoformat() if self.published else None,
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "no_longer_listed": self.no_longer_listed,
            "agencies_added": self.agencies_added,
            "agencies_updated": self.agencies_updated,
            "blank_rows": self.blank_rows,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "changes": self.changes[:_AUDIT_LIST_LIMIT],
            "changes_truncated": len(self.changes) > _AUDIT_LIST_LIMIT,
        }


def _now() -> datetime:
    return datetime.now(UTC)


def _may_import(actor: Actor) -> bool:
    return may_import_registry(actor)


def _label(agency: dict[str, Any], model: str) -> str:
    return f"{agency['name']} ({agency['state']}) {model}"


class RegistryService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    # --- ICE sheet import -------------------------------------------------------------------

    async def import_ice_sheet(
        self,
        path: str | Path,
        *,
        pending: bool | None = None,
        progress: ProgressCallback | None = None,
        today: date | None = None,
    ) -> ImportSummary:
        """Read an ICE sheet and apply it in one transaction (all or nothing).

        Raises SheetError when the file cannot be read at all, or when not one row of it can
        be imported (so a broken file never marks every agreement "no longer listed")."""
        if not _may_import(self.actor):
            raise Forbidden("You do not have permission to import ICE sheets.")
        sheet = read_ice_sheet(path, pending=pending, today=today)
        return await self.apply_sheet(sheet, progress=progress)

    async def apply_sheet(self, sheet: ParsedSheet, *,
                          progress: ProgressCallback | None = None) -> ImportSummary:
        if not _may_import(self.actor):
            raise Forbidden("You do not have permission to import ICE sheets.")
        if not sheet.rows:
            raise SheetError(f"Not one row of {sheet.source or 'the sheet'} could be imported "
                             f"({len(sheet.rejected)} rejected); nothing was changed.")
        summary = ImportSummary(
            source=sheet.source, sheet_kind=sheet.kind, published=sheet.published,
            rows=len(sheet.rows) + len(sheet.rejected), blank_rows=sheet.blank_rows,
            rejected=[p.as_dict() for p in sheet.rejected],
            warnings=[p.as_dict() for p in sheet.warnings],
        )
        total = len(sheet.rows)
        now = _now()
        async with db.write_transaction():
            if not db.is_sqlite():
                # One import at a time (SQLite's immediate transaction already serialises).
                await Agency.raw("SELECT pg_advisory_xact_lock({})", _IMPORT_LOCK_KEY)
            agencies = await _agencies_by_key()
            # Agencies: the first row of each agency in the sheet describes it.
            sheet_agencies: dict[str, Any] = {}
            for row in sheet.rows:
                first = sheet_agencies.setdefault(row.match_key, row)
                if row.agency_name != first.agency_name:
                    # Case or spacing differs ("SHERIFF'S OFFICE" / "Sheriff's Office"): one
                    # agency, said out loud rather than merged in silence. (Apostrophe styles
                    # are two agencies; the sheet parser warns about those.)
                    summary.warnings.append({"row": row.row_number, "reason": (
                        f"agency spelled {row.agency_name!r} here and {first.agency_name!r} on "
                        f"row {first.row_number}; imported as one agency")})
            new_agencies = []
            for key, row in sheet_agencies.items():
                wanted = {"name": row.agency_name, "county": row.county, "kind": row.kind}
                existing = agencies.get(key)
                if existing is not None and existing["alias_of"] is not None:
                    continue  # a merged record: its agency is the one it was merged into
                if existing is None:
                    new_agencies.append(Agency(state=row.state, match_key=key, created_at=now,
                                               updated_at=now, **wanted))
                    continue
                changed = {k: v for k, v in wanted.items() if existing[k] != v}
                if changed:
                    await Agency.update({**changed, Agency.updated_at: now}).where(
                        Agency.id == existing["id"])
                    summary.agencies_updated += 1
            for start in range(0, len(new_agencies), _INSERT_CHUNK):
                await Agency.insert(*new_agencies[start:start + _INSERT_CHUNK])
            summary.agencies_added = len(new_agencies)
            if new_agencies:
                agencies = await _agencies_by_key()
            agency_by_id = {row["id"]: row for row in agencies.values()}
            # A sheet row naming a merged record belongs to the agency it was merged into.
            for key, row in list(agencies.items()):
                if row["alias_of"] is not None and row["alias_of"] in agency_by_id:
                    agencies[key] = agency_by_id[row["alias_of"]]

            agreements = {
                (row["agency"], row["model"]): row
                for row in await Agreement.select(
                    Agreement.id, Agreement.agency, Agreement.model, Agreement.status,
                    Agreement.signed_on, Agreement.signed_raw, Agreement.moa_url,
                    Agreement.moa_pending, Agreement.addendum, Agreement.last_seen_sheet,
                ).where(Agreement.merged_into.is_null())  # folded into another by a merge
            }
            seen_ids: set[int] = set()
            new_agreements = []
            added_rows: list[tuple[Any, dict[str, Any]]] = []
            for done, row in enumerate(sheet.rows, start=1):
                agency = agencies[row.match_key]
                existing = agreements.get((agency["id"], row.model))
                sheet_values: dict[str, Any] = {}
                if not sheet.is_pending:
                    sheet_values = {"signed_on": row.signed_on, "signed_raw": row.signed_raw,
                                    "moa_url": row.moa_url, "moa_pending": row.moa_pending,
                                    "addendum": row.addendum_url}
                if existing is None:
                    new_agreements.append(Agreement(
                        agency=agency["id"], model=row.model,
                        status="pending" if sheet.is_pending else "active",
                        last_seen_sheet=sheet.source[:120], created_at=now, updated_at=now,
                        **sheet_values))
                    summary.added += 1
                    added_rows.append((row, agency))
                    summary.changes.append({"row": row.row_number, "agreement": _label(
                        agency, row.model), "change": "added"})
                else:
                    seen_ids.add(existing["id"])
                    status = self._status_from_sheet(existing["status"], sheet, row, summary,
                                                     agency)
                    changed = {k: v for k, v in sheet_values.items() if existing[k] != v}
                    if status != existing["status"]:
                        changed["status"] = status
                    if changed:
                        await Agreement.update({**changed, "last_seen_sheet": sheet.source[:120],
                                                "updated_at": now}).where(
                            Agreement.id == existing["id"])
                        summary.updated += 1
                        summary.changes.append({
                            "row": row.row_number, "agreement": _label(agency, row.model),
                            "change": "updated",
                            "fields": {k: [_plain(existing[k]), _plain(v)]
                                       for k, v in changed.items()},
                        })
                    else:
                        summary.unchanged += 1
                if progress is not None:
                    progress(done, total)
            for start in range(0, len(new_agreements), _INSERT_CHUNK):
                await Agreement.insert(*new_agreements[start:start + _INSERT_CHUNK])
            await self._record_listing(sheet, agencies, now)
            # Remember where the unchanged rows were last seen, in bulk.
            stale = [a["id"] for a in agreements.values()
                     if a["id"] in seen_ids and a["last_seen_sheet"] != sheet.source[:120]]
            for start in range(0, len(stale), 500):
                await Agreement.update({Agreement.last_seen_sheet: sheet.source[:120]}).where(
                    Agreement.id.is_in(stale[start:start + 500]))
            if not sheet.is_pending:
                # An active agreement the newer participating sheet no longer lists.
                gone = [a for a in agreements.values()
                        if a["status"] == "active" and a["id"] not in seen_ids]
                for start in range(0, len(gone), 500):
                    await Agreement.update({Agreement.status: "no_longer_listed",
                                            Agreement.updated_at: now}).where(
                        Agreement.id.is_in([a["id"] for a in gone[start:start + 500]]))
                summary.no_longer_listed = len(gone)
                for a in gone:
                    old_agency = agency_by_id[a["agency"]]
                    summary.changes.append({"agreement": _label(old_agency, a["model"]),
                                            "change": "no_longer_listed"})
                    for row, new_agency in added_rows:
                        if (row.model == a["model"] and row.state == old_agency["state"]
                                and rules.probably_renamed(old_agency["name"], row.agency_name)):
                            summary.warnings.append({"row": row.row_number, "reason": (
                                f"{_label(old_agency, a['model'])} is no longer listed and "
                                f"{_label(new_agency, row.model)} is new: probably the same "
                                "agency renamed or re-spelled; check both")})
            await audit.record("registry.import", actor=self.actor, object_type="ice_sheet",
                               object_id=sheet.source[:64], details=summary.as_dict())
        return summary

    @staticmethod
    async def _record_listing(sheet: ParsedSheet, agencies: dict[str, Any],
                              now: datetime) -> None:
        """Every sheet is a dated listing of the agreements it names (history keeps growing
        with each sheet). Named like the snapshot file's lists ("2025-07-18 pm"), so a sheet
        and the same list in the history file are one listing."""
        from casetracker.registry.snapshots import label_from_sheet_name, snapshot_label

        label = (label_from_sheet_name(sheet.source, sheet.published)
                 or snapshot_label(now.date()))
        ids = {(row["agency"], row["model"]): row["id"] for row in await Agreement.select(
            Agreement.id, Agreement.agency, Agreement.model).where(
            Agreement.merged_into.is_null())}
        wanted = [(ids[(agencies[row.match_key]["id"], row.model)], label)
                  for row in sheet.rows]
        await record_listings(wanted, kind=sheet.kind, source=sheet.source, now=now)

    @staticmethod
    def _status_from_sheet(current: str, sheet: ParsedSheet, row: Any, summary: ImportSummary,
                           agency: dict[str, Any]) -> str:
        if current in ("suspended", "terminated"):
            # Set by people here; a sheet does not undo it.
            summary.warnings.append({"row": row.row_number, "reason": (
                f"{_label(agency, row.model)} is listed by ICE but is {current} here; "
                "status kept")})
            return current
        if sheet.is_pending:
            if current == "active":
                summary.warnings.append({"row": row.row_number, "reason": (
                    f"{_label(agency, row.model)} is on the pending sheet but already active "
                    "here (listed by a participating sheet); status kept")})
                return "active"
            return "pending"
        return "active"

    # --- administrators' edits --------------------------------------------------------------

    def _require_edit(self) -> None:
        require(self.actor, Permission.REGISTRY_EDIT)

    async def create_agency(self, *, name: str, state: str, county: str = "",
                            kind: str = "county") -> int:
        self._require_edit()
        key = rules.agency_match_key(state, name)
        async with db.write_transaction():
            await self._ensure_unique_agency(state, name)
            row = Agency(name=rules.clean_text(name), state=state, county=county, kind=kind,
                         match_key=key)
            await row.save()
            await audit.record("registry.agency.create", actor=self.actor, object_type="agency",
                               object_id=row.id, details={"name": row.name, "state": state,
                                                          "county": county, "kind": kind})
        return int(row.id)

    async def update_agency(self, agency_id: int, *, name: str, state: str, county: str = "",
                            kind: str = "county") -> dict[str, Any]:
        self._require_edit()
        values = {"name": rules.clean_text(name), "state": state, "county": county, "kind": kind,
                  "match_key": rules.agency_match_key(state, name)}
        async with db.write_transaction():
            current = await _get(Agency, agency_id, "agency")
            if values["match_key"] != current["match_key"]:
                await self._ensure_unique_agency(state, name, exclude_id=agency_id)
            return await self._update(Agency, current, values, "registry.agency.update",
                                      "agency")

    @staticmethod
    async def _ensure_unique_agency(state: str, name: str, exclude_id: int | None = None) -> None:
        """Refuses a name another agency of the state already has, whatever its case, spacing or
        apostrophe style (people typing a name mean the office; ICE's sheet may list two)."""
        wanted = rules.similar_agency_key(state, name)
        rows = await Agency.select(Agency.id, Agency.name).where(Agency.state == state.upper())
        if any(rules.similar_agency_key(state, r["name"]) == wanted and r["id"] != exclude_id
               for r in rows):
            raise ValidationFailed({"name": _("An agency with this name already exists in this "
                                              "state. Open that agency instead.")})

    async def create_agreement(self, *, agency_id: int, model: str, status: str = "active",
                               signed_on: date | None = None, moa_url: str = "",
                               revision: str = "", addendum: str = "") -> int:
        self._require_edit()
        async with db.write_transaction():
            await _get(Agency, agency_id, "agency")
            await self._ensure_unique_agreement(agency_id, model)
            row = Agreement(agency=agency_id, model=model, status=status, signed_on=signed_on,
                            moa_url=moa_url, revision=revision, addendum=addendum)
            await row.save()
            await audit.record("registry.agreement.create", actor=self.actor,
                               object_type="agreement", object_id=row.id,
                               details={"agency_id": agency_id, "model": model, "status": status,
                                        "signed_on": signed_on, "moa_url": moa_url,
                                        "revision": revision, "addendum": addendum})
        return int(row.id)

    async def update_agreement(self, agreement_id: int, **values: Any) -> dict[str, Any]:
        self._require_edit()
        allowed = {"model", "status", "signed_on", "moa_url", "revision", "addendum"}
        values = {k: v for k, v in values.items() if k in allowed}
        async with db.write_transaction():
            current = await _get(Agreement, agreement_id, "agreement")
            if "model" in values and values["model"] != current["model"]:
                await self._ensure_unique_agreement(current["agency"], values["model"])
            if values.get("signed_on") != current["signed_on"] and "signed_on" in values:
                values["signed_raw"] = ""  # a person has now entered the real date
            if values.get("moa_url"):
                values["moa_pending"] = False
            return await self._update(Agreement, current, values, "registry.agreement.update",
                                      "agreement")

    @staticmethod
    async def _ensure_unique_agreement(agency_id: int, model: str) -> None:
        if await Agreement.exists().where((Agreement.agency == agency_id)
                                          & (Agreement.model == model)):
            raise ValidationFailed({"model": _("This agency already has an agreement for this "
                                               "model. Edit that agreement instead.")})

    async def create_officer(self, *, agency_id: int, name: str, badge_number: str = "",
                             rank: str = "", active: bool = True) -> int:
        self._require_edit()
        async with db.write_transaction():
            await _get(Agency, agency_id, "agency")
            row = Officer(agency=agency_id, name=rules.clean_text(name),
                          badge_number=rules.clean_text(badge_number), rank=rank, active=active)
            await row.save()
            await audit.record("registry.officer.create", actor=self.actor,
                               object_type="officer", object_id=row.id,
                               details={"agency_id": agency_id, "name": row.name,
                                        "badge_number": row.badge_number, "rank": rank,
                                        "active": active})
        return int(row.id)

    async def update_officer(self, officer_id: int, **values: Any) -> dict[str, Any]:
        self._require_edit()
        allowed = {"agency", "name", "badge_number", "rank", "active"}
        values = {k: v for k, v in values.items() if k in allowed}
        async with db.write_transaction():
            current = await _get(Officer, officer_id, "officer")
            if "agency" in values and values["agency"] != current["agency"]:
                await _get(Agency, values["agency"], "agency")
                if await Designation.exists().where(Designation.officer == officer_id):
                    # Designations belong to the old agency's agreements.
                    raise ValidationFailed({"agency_id": _(
                        "This officer holds designations under the current agency's "
                        "agreements; add the officer again under the new agency instead.")})
            return await self._update(Officer, current, values, "registry.officer.update",
                                      "officer")

    async def create_designation(self, *, officer_id: int, agreement_id: int,
                                 authorised_on: date | None = None,
                                 authorisation_expires_on: date | None = None,
                                 training_completed_on: date | None = None,
                                 last_refresher_on: date | None = None) -> int:
        self._require_edit()
        async with db.write_transaction():
            officer = await _get(Officer, officer_id, "officer")
            agreement = await _get(Agreement, agreement_id, "agreement")
            if agreement["agency"] != officer["agency"]:
                raise ValidationFailed({"agreement_id": _("Choose an agreement of the "
                                                          "officer's own agency.")})
            if await Designation.exists().where((Designation.officer == officer_id)
                                                & (Designation.agreement == agreement_id)):
                raise ValidationFailed({"agreement_id": _("The officer is already "
                                                          "designated under this agreement.")})
            row = Designation(officer=officer_id, agreement=agreement_id,
                              authorised_on=authorised_on,
                              authorisation_expires_on=authorisation_expires_on,
                              training_completed_on=training_completed_on,
                              last_refresher_on=last_refresher_on, status="active")
            await row.save()
            await audit.record("registry.designation.create", actor=self.actor,
                               object_type="designation", object_id=row.id,
                               details={"officer_id": officer_id, "agreement_id": agreement_id,
                                        "authorised_on": authorised_on,
                                        "authorisation_expires_on": authorisation_expires_on,
                                        "training_completed_on": training_completed_on,
                                        "last_refresher_on": last_refresher_on})
        return int(row.id)

    async def update_designation(self, designation_id: int, **values: Any) -> dict[str, Any]:
        """Dates only; status changes go through suspend/lift/revoke."""
        self._require_edit()
        allowed = {"authorised_on", "authorisation_expires_on", "training_completed_on",
                   "last_refresher_on"}
        values = {k: v for k, v in values.items() if k in allowed}
        async with db.write_transaction():
            current = await _get(Designation, designation_id, "designation")
            return await self._update(Designation, current, values,
                                      "registry.designation.update", "designation")

    async def _update(self, table: Any, current: dict[str, Any], values: dict[str, Any],
                      action: str, object_type: str) -> dict[str, Any]:
        changed = {k: v for k, v in values.items() if current.get(k) != v}
        if changed:
            await table.update({**changed, "updated_at": _now()}).where(
                table.id == current["id"])
            await audit.record(action, actor=self.actor, object_type=object_type,
                               object_id=current["id"],
                               details={k: [_plain(current.get(k)), _plain(v)]
                                        for k, v in changed.items()})
        return changed

    # --- designation status verbs (called from case pages too) -----------------------------

    async def suspend_designation(self, designation_id: int, *, on: date, reason: str,
                                  case_id: int | None = None) -> None:
        """Suspend an officer's 287(g) designation pending adjudication."""
        await self._change_designation_status(designation_id, "suspend", on=on, reason=reason,
                                              case_id=case_id)

    async def lift_suspension(self, designation_id: int, *, on: date, reason: str,
                              case_id: int | None = None) -> None:
        """End a suspension: the designation is active again."""
        await self._change_designation_status(designation_id, "lift", on=on, reason=reason,
                                              case_id=case_id)

    async def revoke_designation(self, designation_id: int, *, on: date, reason: str,
                                 case_id: int | None = None) -> None:
        """Revoke the designation (from active or suspended); final."""
        await self._change_designation_status(designation_id, "revoke", on=on, reason=reason,
                                              case_id=case_id)

    async def _change_designation_status(self, designation_id: int, verb: str, *, on: date,
                                         reason: str, case_id: int | None,
                                         permission: Permission = Permission.DESIGNATION_SUSPEND
                                         ) -> None:
        require(self.actor, permission)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationFailed({"reason": _("Give the reason for the change.")})
        if not isinstance(on, date):
            raise ValidationFailed({"on": _("Enter the date of the change.")})
        async with db.write_transaction():
            current = await _get(Designation, designation_id, "designation")
            new_status = rules.next_designation_status(current["status"], verb)
            values: dict[str, Any] = {"status": new_status, "status_changed_on": on,
                                      "status_reason": reason, "status_case_id": case_id,
                                      "updated_at": _now()}
            if verb == "suspend":
                values["suspended_on"] = on
                values["suspension_lifted_on"] = None
            elif verb == "lift":
                values["suspension_lifted_on"] = on
            else:
                values["revoked_on"] = on
            await Designation.update(values).where(Designation.id == designation_id)
            action = {"suspend": "registry.designation.suspend",
                      "lift": "registry.designation.lift_suspension",
                      "revoke": "registry.designation.revoke"}[verb]
            await audit.record(action, actor=self.actor, object_type="designation",
                               object_id=designation_id, case_id=case_id,
                               details={"from": current["status"], "to": new_status,
                                        "on": on, "reason": reason,
                                        "officer_id": current["officer"],
                                        "agreement_id": current["agreement"]})

    # --- following ICE's response to a rescission recommendation (reports package) --------

    async def apply_ice_response(self, *, designation_id: int | None = None,
                                 agreement_id: int | None = None, outcome: str, on: date,
                                 reason: str) -> str:
        """ICE revoked or suspended a designation, or suspended or terminated an agreement, as
        recorded against an issued recommendation by those who issue them: the registry follows,
        audited. Returns what changed ("" when the registry already showed it)."""
        require(self.actor, Permission.RECOMMENDATION_ISSUE)
        if designation_id is not None:
            verb = {"revoked": "revoke", "suspended": "suspend"}.get(outcome)
            if verb is None:
                raise ValidationFailed({"outcome": _("An officer's authority is revoked or "
                                                     "suspended.")})
            current = await _get(Designation, designation_id, "designation")
            try:
                rules.next_designation_status(current["status"], verb)
            except InvalidTransition:
                return ""  # already revoked (or suspended): nothing to change
            await self._change_designation_status(
                designation_id, verb, on=on, reason=reason, case_id=None,
                permission=Permission.RECOMMENDATION_ISSUE)
            return f"designation {rules.next_designation_status(current['status'], verb)}"
        status = {"suspended": "suspended", "terminated": "terminated"}.get(outcome)
        if status is None or agreement_id is None:
            raise ValidationFailed({"outcome": _("An agreement is suspended or terminated.")})
        async with db.write_transaction():
            current = await _get(Agreement, agreement_id, "agreement")
            if current["status"] == status or current["status"] == "terminated":
                return ""
            await Agreement.update({Agreement.status: status, Agreement.updated_at: _now()}
                                   ).where(Agreement.id == agreement_id)
            await audit.record("registry.agreement.status", actor=self.actor,
                               object_type="agreement", object_id=agreement_id,
                               details={"from": current["status"], "to": status, "on": on,
                                        "reason": reason})
        return f"agreement {status}"


async def _agencies_by_key() -> dict[str, dict[str, Any]]:
    """Every agency by match key; ``alias_of`` is the agency a merged record now belongs to."""
    rows = await Agency.select(Agency.id, Agency.name, Agency.state, Agency.county,
                               Agency.kind, Agency.match_key, Agency.merged_into)
    return {row["match_key"]: {**row, "alias_of": row.pop("merged_into")} for row in rows}


async def last_import() -> dict[str, Any] | None:
    """The latest ICE sheet import (from the audit log): when, by whom, and its summary."""
    import json

    from casetracker.audit.tables import AuditEvent

    row = await (
        AuditEvent.select(AuditEvent.occurred_at, AuditEvent.actor_label, AuditEvent.details)
        .where(AuditEvent.action == "registry.import")
        .order_by(AuditEvent.seq, ascending=False)
        .first()
    )
    if row is None:
        return None
    row["details"] = json.loads(row["details"] or "{}")
    return row


async def _get(table: Any, object_id: int, noun: str) -> dict[str, Any]:
    row = await table.select().where(table.id == object_id).first()
    if row is None:
        raise NotFound(f"There is no such {noun}.")
    return row


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
