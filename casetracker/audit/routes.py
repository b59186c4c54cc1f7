"""The audit log for administrators: filter, page back in time (keyset on seq), verify."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.params import FromQuery

from casetracker.audit.services import verify_chain
from casetracker.audit.tables import AuditEvent
from casetracker.auth.guards import requires
from casetracker.auth.permissions import Permission
from casetracker.settings import get_settings
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

PAGE_SIZE = 50


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _local_midnight_utc(day: date) -> datetime:
    """A calendar day is a day in the office's time zone."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(get_settings().timezone))


def _like_escape(text: str) -> str:
    # "_" stays: it matches itself (and any one character), which only widens a search.
    return text.replace("%", "")



# Details that hold role codes: shown as the role's words ("Oversight staff")
ROLE_DETAILS = {"role", "require_2fa_before", "require_2fa_after", "relaxed"}


def _detail_value(action: str, key: str, value: Any) -> str:
    from casetracker.web.templating import role_label

    if key in ROLE_DETAILS or (action == "user.role_change" and key in ("from", "to")):
        if isinstance(value, list):
            return "; ".join(role_label(str(v)) for v in value) or "—"
        return role_label(str(value))
    return str(value)


class AuditLogController(Controller):
    path = "/admin/audit"
    guards = [requires(Permission.AUDIT_READ)]  # noqa: RUF012 - Litestar reads this

    @get("/", name="admin.audit")
    async def index(
        self,
        action: FromQuery[str | None] = None,
        actor: FromQuery[str | None] = None,
        object_type: FromQuery[str | None] = None,
        object_id: FromQuery[str | None] = None,
        case_id: FromQuery[str | None] = None,
        date_from: FromQuery[str | None] = None,
        date_to: FromQuery[str | None] = None,
        before: FromQuery[int | None] = None,
    ) -> Template:
        filters = {k: (v or "").strip()[:100] for k, v in {
            "action": action, "actor": actor, "object_type": object_type,
            "object_id": object_id, "case_id": case_id, "date_from": date_from,
            "date_to": date_to}.items()}
        errors: dict[str, str] = {}
        clauses: list[Any] = []
        if filters["action"]:
            clauses.append(AuditEvent.action.like(_like_escape(filters["action"]) + "%"))
        if filters["actor"]:
            if filters["actor"].isdigit():
                clauses.append(AuditEvent.actor_id == int(filters["actor"]))
            else:
                clauses.append(AuditEvent.actor_label.ilike(
                    "%" + _like_escape(filters["actor"]) + "%"))
        if filters["object_type"]:
            clauses.append(AuditEvent.object_type == filters["object_type"])
        if filters["object_id"]:
            clauses.append(AuditEvent.object_id == filters["object_id"])
        if filters["case_id"]:
            if filters["case_id"].isdigit():
                clauses.append(AuditEvent.case_id == int(filters["case_id"]))
            else:
                errors["case_id"] = _("Enter the case number as digits.")
        day_from, day_to = _parse_date(filters["date_from"]), _parse_date(filters["date_to"])
        if filters["date_from"] and day_from is None:
            errors["date_from"] = _("Enter a date like 2026-01-31.")
        if filters["date_to"] and day_to is None:
            errors["date_to"] = _("Enter a date like 2026-01-31.")
        if day_from:
            clauses.append(AuditEvent.occurred_at >= _local_midnight_utc(day_from))
        if day_to:
            clauses.append(AuditEvent.occurred_at < _local_midnight_utc(day_to + timedelta(days=1)))
        if before:
            clauses.append(AuditEvent.seq < before)
        query = AuditEvent.select(
            AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor_id, AuditEvent.actor_label,
            AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id, AuditEvent.case_id,
            AuditEvent.ip_address, AuditEvent.details,
        )
        for clause in clauses:
            query = query.where(clause)
        rows = [] if errors else await query.order_by(AuditEvent.seq, ascending=False).limit(
            PAGE_SIZE + 1)
        has_more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        for row in rows:
            try:
                details = json.loads(row["details"] or "{}")
            except ValueError:
                details = {"raw": row["details"]}
            row["details_text"] = ", ".join(
                f"{k}: {_detail_value(row['action'], k, v)}" for k, v in sorted(details.items()))
        active = {k: v for k, v in filters.items() if v}
        return Template("audit/index.html.j2", status_code=422 if errors else 200, context={
            "events": rows, "filters": filters, "errors": errors,
            "next_before": rows[-1]["seq"] if has_more and rows else None,
            "active_filters": active, "is_first_page": not before})

    @get("/verify", name="admin.audit.verify")
    async def verify(self) -> Template:
        result = await verify_chain()
        return Template("audit/verify.html.j2", context={"result": result})


ROUTE_HANDLERS = [AuditLogController]
