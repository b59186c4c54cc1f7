"""What every kind of case work shares: loading a case under a lock, the policy checks, the
audit event, notifications, and the two audited reads (the case, the complainant's contact).

Every verb (in triage.py, assignment.py, investigation.py, review.py, referrals.py,
designations.py) loads the case inside one write transaction (locked on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), checks the policy and the pure rules, writes,
and records the audit event in the same transaction: a change and its audit row commit together
or not at all. Notifications are written in that transaction too, and their e-mails are
durable jobs promised in it (sent once it commits; a failed e-mail never undoes a change).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from casetracker import db
from casetracker.accounts.notifications import notify
from casetracker.audit import services as audit
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.cases import clocks, rules
from casetracker.cases.tables import Allegation, Case
from casetracker.errors import NotFound
from casetracker.settings import Settings, get_settings
from casetracker.web.i18n import gettext as _


class CaseWork:
    """The shared base of the case verbs: the acting user, settings, clocks and helpers."""

    def __init__(self, actor: Actor, settings: Settings | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.actor = actor
        self.settings = settings or get_settings()
        self._now = now or (lambda: datetime.now(UTC))
        self.calendar = clocks.BusinessCalendar.from_settings(self.settings)
        self.clock_rules = clocks.ClockRules.from_settings(self.settings)
        # the complainant's follow-ups that the last view_case(opening_page=True) marked read
        self.follow_ups_just_read: list[int] = []

    # --- helpers ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._now()

    def today(self) -> date:
        return self.now().astimezone(ZoneInfo(self.settings.timezone)).date()

    async def _load(self, case_id: int, *, lock: bool = False) -> dict[str, Any]:
        query = Case.select().where(Case.id == case_id)
        if lock and not db.is_sqlite():
            query = query.lock_rows()
        row = await query.first()
        if row is None:
            raise NotFound(_("There is no such case."))
        return row

    async def _audit(self, action: str, case_id: int, object_type: str = "case",
                     object_id: object = "", /, **details: Any) -> None:
        await audit.record(action, actor=self.actor, object_type=object_type,
                           object_id=object_id or case_id, case_id=case_id, details=details)

    async def _update_case(self, case_id: int, values: dict[str, Any]) -> None:
        values = {**values, "updated_at": self.now()}
        await Case.update({getattr(Case, k): v for k, v in values.items()}).where(
            Case.id == case_id)

    async def _allegations(self, case_id: int) -> list[dict[str, Any]]:
        return await Allegation.select().where(Allegation.case == case_id).order_by(Allegation.id)

    async def _transition(self, case_id: int, name: str) -> tuple[dict[str, Any],
                                                                  rules.Transition]:
        case = await self._load(case_id, lock=True)
        policies.ensure_may_transition(self.actor, case, name)
        return case, rules.transition_for(name)

    async def _act(self, case_id: int, action: str, what: str) -> dict[str, Any]:
        case = await self._load(case_id, lock=True)
        policies.ensure_may_act_on_case(self.actor, case, action, what)
        return case

    async def _notify(self, user_id: int, message: str, link: str, subject: str,
                      kind: str = "") -> None:
        """In the app, and by e-mail (a durable job) when the person asked for e-mail, inside
        the change's transaction."""
        await notify(user_id, message, link, subject=subject, kind=kind)

    # --- reading ---------------------------------------------------------------------------

    async def view_case(self, case_id: int, *, opening_page: bool = False) -> dict[str, Any]:
        """The case row, for someone allowed to see it; the read is audited (case.view).
        ``opening_page``: the person opens the case page, which shows the complainant's
        follow-ups, so those unread until now are marked read (in the same transaction)."""
        case = await self._load(case_id)
        policies.ensure_may_view_case(self.actor, case)
        async with db.write_transaction():
            details: dict[str, Any] = {}
            if opening_page and self.actor.is_staff:
                from casetracker.intake.tables import FollowUp

                unread = await FollowUp.select(FollowUp.id).where(
                    FollowUp.read_at.is_null() & (FollowUp.case == case_id))
                self.follow_ups_just_read = [r["id"] for r in unread]
                if unread:
                    await FollowUp.update({FollowUp.read_at: self.now(),
                                           FollowUp.read_by: self.actor.id}).where(
                        FollowUp.id.is_in(self.follow_ups_just_read))
                    details["follow_ups_read"] = len(unread)
            await self._audit("case.view", case_id, **details)
        return case

    async def view_contact(self, case: dict[str, Any]) -> dict[str, Any] | None:
        """The complainant's contact details, only for those allowed; every view is audited."""
        if not policies.may_view_complainant_contact(self.actor, case):
            return None
        from casetracker.intake.tables import ComplainantContact

        contact = await ComplainantContact.select().where(
            ComplainantContact.case == case["id"]).first()
        if contact is None:
            return None
        async with db.write_transaction():
            await self._audit("case.contact.view", case["id"], "complainant_contact",
                              contact["id"])
        return contact

