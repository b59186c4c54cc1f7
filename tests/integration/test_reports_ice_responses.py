"""What ICE did: responses recorded per target, the registry following them (audited), the
dashboard's figures and the queue of overdue answers, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from casetracker.errors import Forbidden, ValidationFailed
from casetracker.oversight import services as oversight
from casetracker.oversight.metrics import Period, Scope
from casetracker.registry.tables import Agreement, Designation
from casetracker.reports import responses
from casetracker.reports.responses import IceResponseService
from casetracker.reports.tables import IceResponse, Recommendation, RecommendationOfficer
from casetracker.settings import local_today
from tests.factories import make_user
from tests.factories_reports import make_agency, make_agreement, make_designated_officer

pytestmark = pytest.mark.asyncio

TODAY = local_today()


async def _issued(agency: int, agreement: int, *, kind: str, action: str, author: int,
                  designations: tuple[int, ...] = (), days_ago: int = 30,
                  follow_up_in: int | None = None, number: str = "RR-2026-0001",
                  viii_process: str = "") -> dict[str, Any]:
    issued_at = datetime.now(UTC) - timedelta(days=days_ago)
    rec = Recommendation(kind=kind, action=action, status="issued", agency=agency,
                         agreement=agreement, author=author, subject="S", number=number,
                         issued_at=issued_at, created_at=issued_at, viii_process=viii_process,
                         follow_up_on=(TODAY + timedelta(days=follow_up_in)
                                       if follow_up_in is not None else None))
    await rec.save()
    for designation in designations:
        await RecommendationOfficer(recommendation=rec.id, designation=designation).save()
    return await Recommendation.select().where(Recommendation.id == rec.id).first()


@pytest.fixture
async def world(settings: Any) -> dict[str, Any]:
    oversight_user = await make_user("oversight", name="Olive Oversight")
    agency = await make_agency("Montgomery County Sheriff's Office", "TX")
    jem = await make_agreement(agency, "JEM", signed_on=date(2020, 9, 14))
    wso = await make_agreement(agency, "WSO", signed_on=date(2025, 4, 9))
    _o1, d1 = await make_designated_officer(agency, jem, "Dan Deputy", "D-1")
    _o2, d2 = await make_designated_officer(agency, jem, "Eve Deputy", "D-2")
    officers = await _issued(agency, jem, kind="officers", action="revocation",
                             author=oversight_user.id, designations=(d1, d2), days_ago=40,
                             follow_up_in=-5, number="RR-2026-0001")
    suspension = await _issued(agency, wso, kind="agreement", action="suspension",
                               author=oversight_user.id, days_ago=20, follow_up_in=10,
                               number="RR-2026-0002")
    return {"actor": Actor.from_user(oversight_user), "agency": agency, "jem": jem, "wso": wso,
            "d1": d1, "d2": d2, "officers": officers, "suspension": suspension}


async def test_recorded_action_updates_the_registry_and_is_audited(
        world: dict[str, Any]) -> None:
    service = IceResponseService(world["actor"])
    rec = world["officers"]
    acted = TODAY - timedelta(days=3)
    change = await service.record(rec["id"], target="designation", target_id=world["d1"],
                                  outcome="revoked", acted_on=acted,
                                  ice_reference="ERO-HOU-2026-17")
    assert change == "designation revoked"
    row = await Designation.select().where(Designation.id == world["d1"]).first()
    assert (row["status"], row["revoked_on"]) == ("revoked", acted)
    assert "RR-2026-0001" in row["status_reason"] and "ERO-HOU-2026-17" in row["status_reason"]
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).order_by(
        AuditEvent.seq)]
    assert actions[-2:] == ["registry.designation.revoke", "recommendation.ice_response"]
    # recorded twice (a correction of the record): the registry already shows it
    assert await service.record(rec["id"], target="designation", target_id=world["d1"],
                                outcome="revoked", acted_on=acted) == ""

    # declined needs ICE's reason; a target of another recommendation is refused
    with pytest.raises(ValidationFailed) as refused:
        await service.record(rec["id"], target="designation", target_id=world["d2"],
                             outcome="declined", acted_on=TODAY)
    assert set(refused.value.errors) == {"reason"}
    with pytest.raises(ValidationFailed) as refused:
        await service.record(rec["id"], target="agreement", target_id=world["jem"],
                             outcome="suspended", acted_on=TODAY)
    assert "target" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        await service.record(rec["id"], target="designation", target_id=world["d2"],
                             outcome="revoked", acted_on=TODAY + timedelta(days=1))
    assert "acted_on" in refused.value.errors
    await service.record(rec["id"], target="designation", target_id=world["d2"],
                         outcome="declined", acted_on=TODAY,
                         reason="ICE found the conduct outside the 287(g) functions.")
    assert (await Designation.select().where(Designation.id == world["d2"]).first()
            )["status"] == "active"  # declining changes nothing in the registry

    view = await responses.response_view(rec)
    assert [t["state"] for t in view["targets"]] == ["acted", "declined"]
    assert view["state"] == "acted" and view["days_to_action"] == 37

    # the agreement: suspended on ICE's notice, the registry follows
    wso = world["suspension"]
    assert await service.record(wso["id"], target="agreement", target_id=world["wso"],
                                outcome="suspended", acted_on=TODAY) == "agreement suspended"
    assert (await Agreement.select().where(Agreement.id == world["wso"]).first()
            )["status"] == "suspended"
    events = await AuditEvent.select().where(AuditEvent.action == "registry.agreement.status")
    assert len(events) == 1 and events[0]["object_id"] == str(world["wso"])


async def test_only_issuers_record_and_only_after_issue(world: dict[str, Any]) -> None:
    investigator = Actor.from_user(await make_user("investigator"))
    with pytest.raises(Forbidden):
        await IceResponseService(investigator).record(
            world["officers"]["id"], target="designation", target_id=world["d1"],
            outcome="revoked", acted_on=TODAY)
    await Recommendation.update({Recommendation.status: "approved"}).where(
        Recommendation.id == world["suspension"]["id"])
    with pytest.raises(ValidationFailed):
        await IceResponseService(world["actor"]).record(
            world["suspension"]["id"], target="agreement", target_id=world["wso"],
            outcome="suspended", acted_on=TODAY)
    assert await IceResponse.count() == 0


async def test_follow_up_dates_and_the_overdue_queue(world: dict[str, Any]) -> None:
    service = IceResponseService(world["actor"])
    queue = await responses.overdue_queue()
    assert [(r["number"], r["state"]) for r in queue] == [("RR-2026-0001", "overdue"),
                                                          ("RR-2026-0002", "awaiting")]
    assert queue[0]["overdue_days"] == 5
    assert [t["label"] for t in queue[0]["waiting"]] == ["Dan Deputy (badge D-1)",
                                                         "Eve Deputy (badge D-2)"]
    with pytest.raises(ValidationFailed):
        await service.set_follow_up(world["officers"]["id"], TODAY - timedelta(days=400))
    await service.set_follow_up(world["officers"]["id"], TODAY + timedelta(days=7))
    queue = await responses.overdue_queue()
    assert [r["state"] for r in queue] == ["awaiting", "awaiting"]
    # answered: gone from the queue
    for designation in (world["d1"], world["d2"]):
        await service.record(world["officers"]["id"], target="designation",
                             target_id=designation, outcome="revoked", acted_on=TODAY)
    assert [r["number"] for r in await responses.overdue_queue()] == ["RR-2026-0002"]


async def test_dashboard_counts_what_ice_did(world: dict[str, Any]) -> None:
    service = IceResponseService(world["actor"])
    author = world["actor"].id
    declined = await _issued(world["agency"], world["jem"], kind="officers",
                             action="revocation", author=author, designations=(world["d2"],),
                             days_ago=10, number="RR-2026-0003")
    await service.record(declined["id"], target="designation", target_id=world["d2"],
                         outcome="declined", acted_on=TODAY, reason="No grounds, ICE says.")
    await service.record(world["officers"]["id"], target="designation", target_id=world["d1"],
                         outcome="revoked", acted_on=TODAY - timedelta(days=30))
    await service.record(world["suspension"]["id"], target="agreement",
                         target_id=world["wso"], outcome="suspended",
                         acted_on=TODAY - timedelta(days=4))
    period = Period(TODAY - timedelta(days=365), TODAY)
    metrics = await oversight.load_metrics(period, Scope())
    r = metrics["recommendations"]
    assert (r["issued"], r["acted"], r["declined"], r["unanswered"], r["overdue"]) == (
        3, 2, 1, 0, 0)
    # issue to action: 10 days (officers: issued 40 days ago, acted 30 days ago) and 16 days
    assert r["median_days_to_action"] == 13
    issued = await oversight.issued_recommendations(period, Scope())
    words = {x["number"]: x["outcome"] for x in issued}
    assert words["RR-2026-0003"].startswith("Eve Deputy (badge D-2): declined (")
    assert "agreement suspended" in words["RR-2026-0002"]
    # the registry pages' view of it
    mine = await responses.for_officer((await Designation.select().where(
        Designation.id == world["d1"]).first())["officer"])
    assert [(m["number"], m["state"], m["outcome"]) for m in mine] == [
        ("RR-2026-0001", "acted", "authority revoked")]
    about = await responses.for_agreement(world["wso"])
    assert [(m["number"], m["outcome"]) for m in about] == [("RR-2026-0002",
                                                            "agreement suspended")]
