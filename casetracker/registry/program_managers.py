"""ICE's 287(g) program managers (national and field) and the agreements each monitors.
Administrators record them (``registry:edit``); every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from piccolo.columns import Column

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission
from casetracker.auth.policies import require
from casetracker.errors import NotFound, ValidationFailed
from casetracker.registry import rules
from casetracker.registry.tables import Agreement, AgreementMonitor, ProgramManager
from casetracker.web.i18n import gettext as _

FIELDS = ("name", "level", "area", "email", "phone", "active")


def validate(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A program manager form -> (values, errors by field)."""
    values: dict[str, Any] = {
        "name": rules.clean_text(data.get("name", ""))[:200],
        "level": str(data.get("level", "")).strip(),
        "area": rules.clean_text(data.get("area", ""))[:300],
        "email": rules.clean_text(data.get("email", ""))[:254],
        "phone": rules.clean_text(data.get("phone", ""))[:40],
        "active": str(data.get("active", "")) in ("1", "on", "true", "yes"),
    }
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = _("Enter the program manager's name.")
    if values["level"] not in ("national", "field"):
        errors["level"] = _("Choose national or field.")
    if values["level"] == "field" and not values["area"]:
        errors["area"] = _("Enter the field office and the area it is responsible for.")
    if values["email"] and "@" not in values["email"]:
        errors["email"] = _("Enter an e-mail address like name@ice.dhs.gov, or leave it empty.")
    return values, errors


class ProgramManagerService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def save(self, program_manager_id: int | None, data: dict[str, Any]) -> int:
        require(self.actor, Permission.REGISTRY_EDIT)
        values, errors = validate(data)
        if errors:
            raise ValidationFailed(errors)
        now = datetime.now(UTC)
        async with db.write_transaction():
            if program_manager_id is None:
                row = ProgramManager(**values, created_at=now, updated_at=now)
                await row.save()
                await audit.record("registry.program_manager.create", actor=self.actor,
                                   object_type="program_manager", object_id=row.id,
                                   details=values)
                return int(row.id)
            current = await _get(program_manager_id)
            changed = {k: v for k, v in values.items() if current[k] != v}
            if changed:
                await ProgramManager.update(cast("dict[Column | str, Any]", {
                    **changed, "updated_at": now})).where(
                    ProgramManager.id == program_manager_id)
                await audit.record("registry.program_manager.update", actor=self.actor,
                                   object_type="program_manager", object_id=program_manager_id,
                                   details={k: [current[k], v] for k, v in changed.items()})
            return program_manager_id

    async def monitor(self, program_manager_id: int, agreement_id: int) -> bool:
        """Record that the program manager monitors the agreement; False when already so."""
        require(self.actor, Permission.REGISTRY_EDIT)
        async with db.write_transaction():
            await _get(program_manager_id)
            if not await Agreement.exists().where(Agreement.id == agreement_id):
                raise ValidationFailed({"agreement_id": _("Choose one of the registry's "
                                                          "agreements.")})
            if await AgreementMonitor.exists().where(
                    (AgreementMonitor.program_manager == program_manager_id)
                    & (AgreementMonitor.agreement == agreement_id)):
                return False
            await AgreementMonitor(program_manager=program_manager_id,
                                   agreement=agreement_id).save()
            await audit.record("registry.program_manager.monitor", actor=self.actor,
                               object_type="program_manager", object_id=program_manager_id,
                               details={"agreement_id": agreement_id})
        return True

    async def stop_monitoring(self, program_manager_id: int, agreement_id: int) -> None:
        require(self.actor, Permission.REGISTRY_EDIT)
        async with db.write_transaction():
            await AgreementMonitor.delete().where(
                (AgreementMonitor.program_manager == program_manager_id)
                & (AgreementMonitor.agreement == agreement_id))
            await audit.record("registry.program_manager.stop_monitoring", actor=self.actor,
                               object_type="program_manager", object_id=program_manager_id,
                               details={"agreement_id": agreement_id})


async def _get(program_manager_id: int) -> dict[str, Any]:
    row = await ProgramManager.select().where(ProgramManager.id == program_manager_id).first()
    if row is None:
        raise NotFound("There is no such program manager.")
    return row


async def list_program_managers() -> list[dict[str, Any]]:
    rows = await ProgramManager.select().order_by(ProgramManager.level, ascending=False
                                                  ).order_by(ProgramManager.name)
    counts: dict[int, int] = {}
    for row in await AgreementMonitor.select(AgreementMonitor.program_manager):
        counts[row["program_manager"]] = counts.get(row["program_manager"], 0) + 1
    for row in rows:
        row["agreements"] = counts.get(row["id"], 0)
    return rows


async def program_manager_detail(program_manager_id: int) -> dict[str, Any]:
    row = await _get(program_manager_id)
    row["monitored"] = await AgreementMonitor.select(
        AgreementMonitor.agreement, AgreementMonitor.agreement.model,
        AgreementMonitor.agreement.status, AgreementMonitor.agreement._.agency._.name,
        AgreementMonitor.agreement._.agency._.state).where(
        AgreementMonitor.program_manager == program_manager_id).order_by(
        AgreementMonitor.agreement._.agency._.name)
    return row


async def monitors_of(agreement_id: int) -> list[dict[str, Any]]:
    """The program managers monitoring an agreement (field ones first)."""
    rows = await AgreementMonitor.select(
        AgreementMonitor.program_manager.id.as_alias("id"),
        AgreementMonitor.program_manager.name.as_alias("name"),
        AgreementMonitor.program_manager.level.as_alias("level"),
        AgreementMonitor.program_manager.area.as_alias("area"),
        AgreementMonitor.program_manager.email.as_alias("email"),
        AgreementMonitor.program_manager.active.as_alias("active")).where(
        AgreementMonitor.agreement == agreement_id)
    return sorted(rows, key=lambda r: (r["level"] != "field", r["name"]))


async def field_program_manager(agreement_id: int) -> dict[str, Any] | None:
    """The field program manager responsible for the agreement (see
    ``rules.responsible_field_manager``), or None when none is recorded."""
    return rules.responsible_field_manager(await monitors_of(agreement_id))
