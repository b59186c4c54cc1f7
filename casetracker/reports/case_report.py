"""The case report: the full case file as a PDF, for staff who may see the case."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from casetracker.audit import services as audit
from casetracker.audit.tables import AuditEvent
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission as P
from casetracker.cases import rules as case_rules
from casetracker.cases.rules import event_label
from casetracker.cases.tables import Case, Witness
from casetracker.errors import NotFound
from casetracker.registry.tables import Agency, Agreement
from casetracker.reports import rendering, viewmodels
from casetracker.reports.services import load_case_bundle
from casetracker.settings import Settings, get_settings
from casetracker.web.i18n import get_language, set_language
from casetracker.web.templating import long_datetime

ACTION_LABELS = {
    "case.file": "Complaint received", "case.start_triage": "Triage started",
    "case.open": "Investigation opened", "case.assign": "Investigator assigned",
    "case.close": "Case closed", "case.refer": "Referred", "case.decline": "Declined",
}


def _timeline_label(row: dict[str, Any]) -> str:
    action = row["action"]
    # The case page's names for the events (cases.rules), in English like the rest of the file.
    previous = get_language()
    set_language("en")
    try:
        known = event_label(action)
    finally:
        set_language(previous)
    label = (known if known != action else None) or ACTION_LABELS.get(action) or \
        action.split(".", 1)[-1].replace("_", " ").capitalize()
    who = row.get("actor_label") or "system"
    return f"{label} — {who}"


class CaseReportService:
    def __init__(self, actor: Actor, settings: Settings | None = None) -> None:
        self.actor = actor
        self.settings = settings or get_settings()

    async def source(self, case_id: int) -> tuple[dict[str, Any], bool]:
        policies.require(self.actor, P.REPORT_CASE)
        head = await Case.select(Case.id, Case.status, Case.lead_investigator).where(
            Case.id == case_id).first()
        if head is None:
            raise NotFound("There is no such case.")
        policies.ensure_may_view_case(self.actor, head)
        show_contact = policies.may_view_complainant_contact(self.actor, head)
        case = await load_case_bundle(case_id, with_contact=show_contact)
        from casetracker.intake import additions

        case["follow_ups"] = await additions.follow_ups(case_id)
        case["consent_changes"] = (await additions.consent_changes(case_id)
                                   if show_contact else [])
        case["witnesses"] = await Witness.select().where(Witness.case == case_id).order_by(
            Witness.position, Witness.id)
        if case.get("agency"):
            agency = await Agency.select(Agency.name, Agency.state).where(
                Agency.id == case["agency"]).first()
            case["agency_name"] = f"{agency['name']} ({agency['state']})" if agency else ""
        if case.get("agreement"):
            agreement = await Agreement.select(Agreement.model, Agreement.signed_on).where(
                Agreement.id == case["agreement"]).first()
            if agreement:
                case["agreement_label"] = (
                    f"{viewmodels.MODEL_LABELS.get(agreement['model'], agreement['model'])}"
                    f" ({agreement['model']})"
                    + (f", signed {viewmodels.iso(agreement['signed_on'])}"
                       if agreement["signed_on"] else ""))
        events = await AuditEvent.select(AuditEvent.occurred_at, AuditEvent.action,
                                         AuditEvent.actor_label).where(
            AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
        case["timeline"] = [{"at": e["occurred_at"], "what": _timeline_label(e)}
                            for e in events if not e["action"].startswith("case.report")]
        return case, show_contact

    async def build(self, case_id: int, now: datetime | None = None, *,
                    with_access_rows: bool = False) -> viewmodels.CaseReportDocument:
        case, show_contact = await self.source(case_id)
        document = viewmodels.build_case_report(
            case, now=now or datetime.now(UTC), zone=self.settings.timezone,
            organisation=self.settings.organisation_name, show_contact=show_contact,
            generated_by=self.actor.name or self.actor.label)
        from casetracker.intake import forms as intake_forms
        from casetracker.reports.case_file import load_case_file

        checklist = dict(intake_forms.CHECKLIST)
        settings_words = dict(intake_forms.SETTINGS)
        return dataclasses.replace(
            document,
            status=str(case_rules.status_label(case.get("status") or "")),
            checklist=tuple(str(checklist.get(str(x), str(x))) for x in case.get("checklist")
                            or []),
            case=dataclasses.replace(document.case, setting=str(settings_words.get(
                case.get("incident_setting") or "", document.case.setting)),
                received=long_datetime(case.get("received_at"))),
            file=await load_case_file(case, with_access_rows=with_access_rows))

    async def render(self, case_id: int, *, with_access_rows: bool = False
                     ) -> tuple[str, bytes]:
        document = await self.build(case_id, with_access_rows=with_access_rows)
        data = await rendering.render_pdf(
            "case_report.html.j2", {"doc": document}, title=document.title,
            attachment_json=viewmodels.document_json(document))
        await audit.record("case.report", actor=self.actor, object_type="case",
                           object_id=case_id, case_id=case_id,
                           details={"contact_included": bool(document.contact_lines),
                                    "sha256": rendering.sha256_hex(data)})
        items = [int(e.item[2:]) for e in document.case.evidence]
        if items:
            from casetracker.evidence.services import record_export

            await record_export(items, self.actor, f"Case report {document.number}")
        return document.number, data
