"""Complaints staff enter for people who did not use the web form (docs/intake.md, "Complaints
received by other channels").

``StaffIntakeService(actor).enter_complaint`` files through the public filing service
(``IntakeService.file_complaint``: the same case, officers, witnesses, contact, clocks and the
``complaint.filed`` event, here with the staff member as its actor) with the case received when
the complaint actually reached us, and adds, in the same transaction, the ``StaffIntake`` row
and a ``complaint.entered_by_staff`` audit event saying it was filed on the complainant's
behalf. The access code exists only in the answer sealed with the form's one-time token, for the
hour in which staff print the letter that gives it to the complainant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from casetracker import db
from casetracker.accounts.tables import User
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission as P
from casetracker.auth.policies import require
from casetracker.intake import once
from casetracker.intake.forms import ComplaintInput
from casetracker.intake.services import FiledComplaint, IntakeService
from casetracker.intake.staff_forms import HowReceived
from casetracker.intake.tables import StaffIntake
from casetracker.settings import Settings, get_settings

# Who may enter a complaint received by another channel: the intake work's permission.
ENTER_PERMISSION = P.CASE_TRIAGE


def once_key(token: str) -> once.OnceKey:
    """The entry form's one-time token: a double click or a reload files once; the answer
    (with the access code, for the letter) is kept one hour."""
    return once.OnceKey(kind="staff", key=token, answer_for=timedelta(hours=1),
                        remember_for=timedelta(hours=24))


@dataclass(frozen=True)
class EnteredComplaint:
    filed: FiledComplaint
    letter_language: str


async def staff_choices() -> list[dict[str, Any]]:
    """Active staff who may have taken a complaint, by name."""
    return await User.select(User.id, User.name).where(
        (User.active == True) & User.role.is_in(  # noqa: E712 - SQL, not Python
            ["intake", "supervisor", "investigator", "administrator"])).order_by(User.name)


class StaffIntakeService:
    def __init__(self, actor: Actor, settings: Settings | None = None) -> None:
        self.actor = actor
        self.settings = settings or get_settings()

    async def enter_complaint(self, data: ComplaintInput, how: HowReceived, *, token: str,
                              letter_language: str) -> FiledComplaint:
        """File the complaint as received (``how.received_at`` starts its clocks), once per
        form token. Everything in one transaction, or nothing."""
        require(self.actor, ENTER_PERMISSION)
        assert how.received_at is not None  # the form checked it
        key = once_key(token)
        async with db.write_transaction():
            filed = await IntakeService(self.actor, self.settings).file_complaint(
                data, channel=how.channel, received_at=how.received_at, once_key=key)
            if filed.replayed or await StaffIntake.exists().where(
                    StaffIntake.case == filed.case_id):
                return filed
            await StaffIntake.insert(StaffIntake(
                case=filed.case_id, channel=how.channel, received_at=how.received_at,
                referring_body=how.referring_body,
                referring_body_other=how.referring_body_other,
                referring_reference=how.referring_reference, taken_by=how.taken_by,
                entered_by=self.actor.id))
            await audit.record(
                "complaint.entered_by_staff", actor=self.actor, object_type="case",
                object_id=filed.case_id, case_id=filed.case_id,
                details={"on_behalf_of": "complainant", "channel": how.channel,
                         "received_at": how.received_at.isoformat(),
                         "referring_body": how.referring_body or None,
                         "referring_reference": how.referring_reference or None,
                         "taken_by": how.taken_by, "letter_language": letter_language})
        return filed

    async def entered(self, token: str) -> FiledComplaint | None:
        """The complaint this form token filed, with its access code while it is kept."""
        previous = await once.previous(once_key(token), self.settings)
        if previous is None:
            return None
        return await IntakeService(self.actor, self.settings).filed_complaint(previous)


async def how_received(case_id: int) -> dict[str, Any] | None:
    """The staff entry record of a case (for the case page), with the names of who took it
    and who entered it."""
    row = await StaffIntake.select(
        *StaffIntake.all_columns(), StaffIntake.taken_by.name.as_alias("taken_by_name"),
        StaffIntake.entered_by.name.as_alias("entered_by_name")).where(
        StaffIntake.case == case_id).first()
    return row
