"""Staff portfolios ("my agencies"): the agencies a member of staff follows. Dashboards,
queues and flags can be filtered to them, and early-intervention flags about them notify the
portfolio's owner (a periodic job, once per flag)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission
from casetracker.auth.policies import require
from casetracker.errors import NotFound
from casetracker.oversight.tables import FlagNotice, PortfolioAgency
from casetracker.registry.tables import Agency


class PortfolioService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def add(self, agency_id: int) -> bool:
        require(self.actor, Permission.OVERSIGHT_FLAGS)
        assert self.actor.id is not None
        async with db.write_transaction():
            if not await Agency.exists().where(Agency.id == agency_id):
                raise NotFound("There is no such agency.")
            if await PortfolioAgency.exists().where(
                    (PortfolioAgency.user == self.actor.id)
                    & (PortfolioAgency.agency == agency_id)):
                return False
            await PortfolioAgency(user=self.actor.id, agency=agency_id,
                                  added_at=datetime.now(UTC)).save()
            await audit.record("oversight.portfolio.add", actor=self.actor,
                               object_type="agency", object_id=agency_id)
        return True

    async def remove(self, agency_id: int) -> None:
        require(self.actor, Permission.OVERSIGHT_FLAGS)
        async with db.write_transaction():
            await PortfolioAgency.delete().where((PortfolioAgency.user == self.actor.id)
                                                 & (PortfolioAgency.agency == agency_id))
            await audit.record("oversight.portfolio.remove", actor=self.actor,
                               object_type="agency", object_id=agency_id)


async def my_agency_ids(user_id: int | None) -> tuple[int, ...]:
    """The agencies in the user's portfolio (an agency merged into another counts as that
    one: the merge moves portfolio rows too)."""
    if user_id is None:
        return ()
    rows = await PortfolioAgency.select(PortfolioAgency.agency).where(
        PortfolioAgency.user == user_id)
    return tuple(sorted({r["agency"] for r in rows}))


async def my_agencies(user_id: int) -> list[dict[str, Any]]:
    return await PortfolioAgency.select(
        PortfolioAgency.agency.id.as_alias("id"), PortfolioAgency.agency.name.as_alias("name"),
        PortfolioAgency.agency.state.as_alias("state")).where(
        PortfolioAgency.user == user_id).order_by(PortfolioAgency.agency.name)


async def owners_by_agency(agency_ids: list[int]) -> dict[int, list[int]]:
    owners: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(agency_ids), 500):
        for row in await PortfolioAgency.select(PortfolioAgency.user, PortfolioAgency.agency
                                                ).where(PortfolioAgency.agency.is_in(
                                                    agency_ids[start:start + 500])):
            owners[row["agency"]].append(row["user"])
    return owners


def flag_agency_id(flag: dict[str, Any]) -> int | None:
    """The agency a flag concerns: the agency itself, or the flagged officer's agency."""
    if flag["subject"] == "agency":
        return int(flag["subject_id"])
    agency = flag.get("subject_detail", {}).get("agency_id")
    return int(agency) if agency is not None else None


async def notify_flag_owners(as_of: Any = None) -> int:
    """Notify each portfolio owner once of every raised, unacknowledged flag about one of their
    agencies; returns how many notifications were sent."""
    from casetracker.accounts.notifications import notify
    from casetracker.oversight.flag_services import current_flags
    from casetracker.web.i18n import gettext as _

    flags = await current_flags(as_of, include_acknowledged=False)
    by_agency = {f["key"]: flag_agency_id(f) for f in flags}
    owners = await owners_by_agency(sorted({a for a in by_agency.values() if a is not None}))
    if not owners:
        return 0
    keys = [f["key"] for f in flags]
    done: set[tuple[str, int]] = set()
    for start in range(0, len(keys), 500):
        for row in await FlagNotice.select(FlagNotice.flag_key, FlagNotice.user).where(
                FlagNotice.flag_key.is_in(keys[start:start + 500])):
            done.add((row["flag_key"], row["user"]))
    sent = 0
    async with db.write_transaction():
        for flag in flags:
            agency_id = by_agency[flag["key"]]
            for user_id in owners.get(agency_id, []) if agency_id is not None else []:
                if (flag["key"], user_id) in done:
                    continue
                level = _("Critical") if flag["level"] == "critical" else _("Warning")
                what = (_("officer %(name)s", name=flag["subject_label"])
                        if flag["subject"] == "officer" else flag["subject_label"])
                await notify(user_id, _("%(level)s early-intervention flag in your agencies: "
                                        "%(what)s, %(count)s (threshold %(threshold)s).",
                                        level=level, what=what, count=flag["count"],
                                        threshold=flag["threshold"]),
                             link="/oversight/flags?mine=1")
                await FlagNotice(flag_key=flag["key"], user=user_id,
                                 notified_at=datetime.now(UTC)).save()
                sent += 1
    return sent
