"""ICE program managers, the agreements they monitor, staff portfolios ("my agencies") and
early-intervention flags notified to the portfolio's owner, on both engines."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from casetracker.accounts.tables import Notification
from casetracker.auth.actor import Actor
from casetracker.errors import Forbidden, ValidationFailed
from casetracker.oversight import flag_services, services
from casetracker.oversight.metrics import Period, Scope
from casetracker.oversight.portfolio import PortfolioService, my_agency_ids, notify_flag_owners
from casetracker.registry.program_managers import (
    ProgramManagerService,
    field_program_manager,
    monitors_of,
)
from casetracker.reports import document
from casetracker.reports.services import DraftValues, RecommendationService
from casetracker.reports.sources import load_source
from tests.factories import make_user
from tests.factories_reports import (
    make_agency,
    make_agreement,
    make_designated_officer,
    make_sustained_case,
)
from tests.integration.test_oversight_services import build_world

PM = {"name": "Lena Ortiz", "level": "field", "area": "ERO Houston: 54 counties of Texas",
      "email": "lena.ortiz@ice.example", "phone": "", "active": "1"}


async def test_program_managers_monitor_agreements_and_a_recommendation_names_one(
        settings: Any) -> None:
    admin = Actor.from_user(await make_user("administrator"))
    service = ProgramManagerService(admin)
    with pytest.raises(ValidationFailed) as bad:
        await service.save(None, {"name": "", "level": "field", "area": ""})
    assert set(bad.value.errors) == {"name", "area"}
    with pytest.raises(Forbidden):
        await ProgramManagerService(Actor.from_user(await make_user("oversight"))).save(None, PM)

    agency = await make_agency("Waller County Sheriff's Office", "TX")
    agreement = await make_agreement(agency, "WSO")
    field_pm = await service.save(None, PM)
    national = await service.save(None, {"name": "Aaron Abbott", "level": "national",
                                         "area": "287(g) Program, Washington", "active": "1"})
    assert await service.monitor(field_pm, agreement) is True
    assert await service.monitor(field_pm, agreement) is False  # once
    await service.monitor(national, agreement)
    assert [m["name"] for m in await monitors_of(agreement)] == ["Lena Ortiz", "Aaron Abbott"]
    assert (await field_program_manager(agreement))["name"] == "Lena Ortiz"

    author = Actor.from_user(await make_user("supervisor"))
    officer, designation = await make_designated_officer(agency, agreement, "Wes Waller", "W-1")
    case = await make_sustained_case(agency, agreement, [officer])
    rec_id = await RecommendationService(author).draft(DraftValues(
        "officers", "revocation", None, (designation,), (case.case_id,)))
    doc = document.build(await load_source(rec_id))
    assert doc.agreement.field_program_manager == "Lena Ortiz, ERO Houston: 54 counties of Texas"

    await service.stop_monitoring(field_pm, agreement)
    assert await field_program_manager(agreement) is None


async def test_my_agencies_filter_the_dashboard_and_flags_notify_the_owner(
        settings: Any) -> None:
    w = await build_world()
    staff = await make_user("oversight")
    other = await make_user("oversight")
    me = Actor.from_user(staff)
    await PortfolioService(me).add(w["a"].id)
    await PortfolioService(Actor.from_user(other)).add(w["b"].id)
    assert await my_agency_ids(staff.id) == (w["a"].id,)

    period = Period(date(2024, 1, 1), date(2024, 12, 31))
    everyone = await services.load_metrics(period, Scope())
    mine = await services.load_metrics(period, Scope(agency_ids=(w["a"].id,)))
    nothing = await services.load_metrics(period, Scope(agency_ids=()))
    assert everyone["received"] > mine["received"] > 0 and nothing["received"] == 0

    as_of = date(2024, 12, 31)
    flags = await flag_services.current_flags(as_of)
    assert len(flags) == 4  # three about officer o1 of agency A, one about agency A
    sent = await notify_flag_owners(as_of)
    assert sent == 4
    notes = await Notification.select().where(Notification.user == staff.id)
    assert len(notes) == 4 and all(n["link"] == "/oversight/flags?mine=1" for n in notes)
    assert any("Critical early-intervention flag in your agencies" in n["message"]
               for n in notes)
    assert await Notification.count().where(Notification.user == other.id) == 0
    assert await notify_flag_owners(as_of) == 0  # each flag once

    await PortfolioService(me).remove(w["a"].id)
    assert await my_agency_ids(staff.id) == ()
