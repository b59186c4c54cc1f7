"""Referrals and the ICE clocks: each referral (to whom, when, their number, acknowledgment,
outcome), the ICE notification within 48 weekday hours, results reported to ICE."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from casetracker import db
from casetracker.cases import rules
from casetracker.cases.casework import CaseWork
from casetracker.cases.tables import Referral
from casetracker.errors import NotFound, ValidationFailed
from casetracker.web.i18n import gettext as _


class ReferralVerbs(CaseWork):
    """Referrals to other bodies, the ICE notification and results reported to ICE."""

    def _notified_at(self, sent_on: date, sent_time: time | None) -> datetime:
        """When the ICE notice went out: the time given; otherwise now (sent today) or the end
        of that day (we never claim an earlier time than we know)."""
        zone = ZoneInfo(self.settings.timezone)
        if sent_time is not None:
            return datetime.combine(sent_on, sent_time, zone).astimezone(UTC)
        if sent_on == self.today():
            return self.now()
        return datetime.combine(sent_on, time(23, 59), zone).astimezone(UTC)

    async def _insert_referral(self, case: dict[str, Any], *, body: str, body_other: str = "",
                               sent_on: date | None = None, sent_time: time | None = None,
                               reference_number: str = "", acknowledged_on: date | None = None,
                               outcome: str = "", outcome_on: date | None = None,
                               is_ice_notification: bool | None = None) -> int:
        if is_ice_notification is None:
            is_ice_notification = body in rules.ICE_BODIES and case["ice_notification_required"]
        if is_ice_notification and body not in rules.ICE_BODIES:
            raise ValidationFailed({"is_ice_notification": _(
                "Only a referral to an ICE officer or ICE OPR is the ICE notification.")})
        if is_ice_notification and sent_on is None:
            raise ValidationFailed({"sent_on": _(
                "Give the date the ICE notification was sent.")})
        if sent_on is not None and sent_on > self.today():
            raise ValidationFailed({"sent_on": _("The date sent cannot be in the future.")})
        rows = await Referral.insert(Referral(
            case=case["id"], body=body, body_other=body_other.strip(), sent_on=sent_on,
            reference_number=reference_number.strip(), acknowledged_on=acknowledged_on,
            outcome=outcome.strip(), outcome_on=outcome_on,
            is_ice_notification=bool(is_ice_notification), created_by=self.actor.id,
            created_at=self.now(),
        )).returning(Referral.id)
        if is_ice_notification and case["ice_notified_at"] is None and sent_on is not None:
            notified_at = self._notified_at(sent_on, sent_time)
            await self._update_case(case["id"], {"ice_notified_at": notified_at})
            await self._audit("case.ice_notified", case["id"], "referral", rows[0]["id"],
                              notified_at=notified_at,
                              due_at=case["ice_notification_due_at"])
        return rows[0]["id"]

    async def record_referral(self, case_id: int, *, body: str, body_other: str = "",
                              sent_on: date | None = None, sent_time: time | None = None,
                              reference_number: str = "", acknowledged_on: date | None = None,
                              outcome: str = "", outcome_on: date | None = None,
                              is_ice_notification: bool = False) -> int:
        rules.require_referral_body(body, body_other)
        async with db.write_transaction():
            case = await self._act(case_id, "record_referral", _("record referrals"))
            referral_id = await self._insert_referral(
                case, body=body, body_other=body_other, sent_on=sent_on, sent_time=sent_time,
                reference_number=reference_number, acknowledged_on=acknowledged_on,
                outcome=outcome, outcome_on=outcome_on,
                is_ice_notification=is_ice_notification)
            await self._audit("case.referral_recorded", case_id, "referral", referral_id,
                              body=body, body_other=body_other.strip(), sent_on=sent_on,
                              reference_number=reference_number.strip(),
                              is_ice_notification=is_ice_notification)
            return referral_id

    async def update_referral(self, case_id: int, referral_id: int, *,
                              reference_number: str | None = None,
                              acknowledged_on: date | None = None, outcome: str | None = None,
                              outcome_on: date | None = None) -> None:
        async with db.write_transaction():
            await self._act(case_id, "record_referral", _("update referrals"))
            referral = await Referral.select().where(
                (Referral.id == referral_id) & (Referral.case == case_id)).first()
            if referral is None:
                raise NotFound(_("There is no such referral on this case."))
            if acknowledged_on and referral["sent_on"] and acknowledged_on < referral["sent_on"]:
                raise ValidationFailed({"acknowledged_on": _(
                    "The acknowledgment cannot be earlier than the date sent.")})
            values: dict[Any, Any] = {}
            if reference_number is not None:
                values[Referral.reference_number] = reference_number.strip()
            if acknowledged_on is not None:
                values[Referral.acknowledged_on] = acknowledged_on
            if outcome is not None:
                values[Referral.outcome] = outcome.strip()
            if outcome_on is not None:
                values[Referral.outcome_on] = outcome_on
            if values:
                await Referral.update(values).where(Referral.id == referral_id)
            await self._audit("case.referral_updated", case_id, "referral", referral_id,
                              **{k._meta.name: v for k, v in values.items()})

    async def record_results_reported(self, case_id: int, reported_on: date | None = None
                                      ) -> None:
        """The investigation's results went to ICE (due 30 days after resolution)."""
        async with db.write_transaction():
            case = await self._act(case_id, "record_results_reported",
                                   _("record that results were reported to ICE"))
            if case["results_reported_at"] is not None:
                raise ValidationFailed({"reported_on": _(
                    "The results were already recorded as reported.")})
            reported_on = reported_on or self.today()
            if reported_on > self.today():
                raise ValidationFailed({"reported_on": _("The date cannot be in the future.")})
            reported_at = self._notified_at(reported_on, None)
            await self._update_case(case_id, {"results_reported_at": reported_at})
            await self._audit("case.results_reported", case_id, reported_at=reported_at,
                              due_at=case["results_due_at"])
