"""Notifications: in the app always, by e-mail for those who turned it on (on their account
page), sent by the durable job system once the change commits; one daily digest of deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from typing import Any

from casetracker import jobs
from casetracker.accounts.tables import Notification, User
from casetracker.audit.tables import AuditEvent
from casetracker.cases.jobs import send_digests
from casetracker.cases.tables import Allegation, Task
from casetracker.jobs.tables import Job
from tests.conftest import login_as
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.factories_cases import make_case, received
from tests.factories_intake import (
    ACCESS,
    TRACKING,
    complaint_fields,
    look_up,
    post_follow_up,
    send_complaint,
)
from tests.functional.test_reports_pages import form_values, world  # noqa: F401 - fixture


def mails(settings: Any) -> list[Any]:
    return [message_from_bytes(p.read_bytes(), policy=email_policy)
            for p in sorted(settings.outbox_dir.glob("*.eml"))]


def mails_to(settings: Any, address: str) -> list[Any]:
    return [m for m in mails(settings) if m["To"] == address]


async def kinds_for(user_id: int) -> list[str]:
    rows = await Notification.select(Notification.kind).where(
        Notification.user == user_id).order_by(Notification.id)
    return [r["kind"] for r in rows]


async def test_e_mail_is_off_until_the_person_turns_it_on(new_browser: Any,
                                                          settings: Any) -> None:
    investigator_b = new_browser("198.51.100.61")
    investigator = await login_as(investigator_b, "investigator")
    page = (await investigator_b.get("/account")).text
    assert "E-mail me my notifications" in page and 'value="on" checked' not in page

    supervisor_b = new_browser("198.51.100.62")
    await login_as(supervisor_b, "supervisor")
    first = await make_case(status="open", tracking_number="CT-N-0001")
    await Allegation(case=first.id, allegation_type="force").save()
    response = await supervisor_b.submit(f"/cases/{first.id}/assign",
                                         data={"investigator": str(investigator.id)})
    assert response.status_code == 303
    await jobs.run_due()
    assert await kinds_for(investigator.id) == ["case_assigned"]
    assert mails_to(settings, investigator.email) == []  # e-mail is off

    response = await investigator_b.submit("/account", "/account/notifications",
                                           data={"email_notifications": "on"})
    assert response.status_code == 303
    page = (await investigator_b.get("/account")).text
    assert 'value="on" checked' in page
    assert await AuditEvent.count().where(
        AuditEvent.action == "account.notification_email_changed") == 1

    second = await make_case(status="open", tracking_number="CT-N-0002")
    await Allegation(case=second.id, allegation_type="force").save()
    await supervisor_b.submit(f"/cases/{second.id}/assign",
                              data={"investigator": str(investigator.id)})
    # promised in the assignment's transaction: a job, sent when the jobs run
    assert await Job.count().where(Job.name == "mail.send") == 1
    assert mails_to(settings, investigator.email) == []
    await jobs.run_due()
    sent = mails_to(settings, investigator.email)
    assert len(sent) == 1 and sent[0]["Subject"] == "Case CT-N-0002 assigned to you"
    body = sent[0].get_content()
    assert "You are now the lead investigator on case CT-N-0002." in body
    assert f"/cases/{second.id}" in body
    await jobs.run_due()
    assert len(mails_to(settings, investigator.email)) == 1  # never twice

    # turned off again: in the app only
    await investigator_b.submit("/account", "/account/notifications", data={})
    assert not (await User.objects().where(User.id == investigator.id).first()
                ).email_notifications


async def test_findings_submitted_and_case_returned(new_browser: Any, settings: Any) -> None:
    investigator_b = new_browser("198.51.100.63")
    investigator = await login_as(investigator_b, "investigator", name="Ivan Investigator",
                                  email_notifications=True)
    reviewer = await make_user("supervisor", email_notifications=True)
    quiet = await make_user("supervisor")  # in the app only
    case = await make_case(status="under_investigation", lead_investigator=investigator.id,
                           tracking_number="CT-N-0101")
    allegation = await Allegation(case=case.id, allegation_type="force",
                                  recommended_finding="sustained",
                                  recommended_rationale="Video shows it.").save()
    assert allegation is not None
    response = await investigator_b.submit(f"/cases/{case.id}",
                                           f"/cases/{case.id}/submit-findings")
    assert response.status_code == 303
    assert await kinds_for(reviewer.id) == ["findings_submitted"]
    assert await kinds_for(quiet.id) == ["findings_submitted"]
    assert await kinds_for(investigator.id) == []  # not told of their own step
    await jobs.run_due()
    sent = mails_to(settings, reviewer.email)
    assert len(sent) == 1 and sent[0]["Subject"] == "Findings on case CT-N-0101 await review"
    assert "Ivan Investigator submitted findings on case CT-N-0101 for review." in \
        sent[0].get_content()
    assert mails_to(settings, quiet.email) == []

    reviewer_b = new_browser("198.51.100.64")
    await reviewer_b.login(reviewer.email, DEFAULT_PASSWORD)
    assert (await reviewer_b.submit(f"/cases/{case.id}", f"/cases/{case.id}/start-review")
            ).status_code == 303
    assert (await reviewer_b.submit(f"/cases/{case.id}", f"/cases/{case.id}/return",
                                    data={"comments": "Interview the second deputy."})
            ).status_code == 303
    assert await kinds_for(investigator.id) == ["case_returned"]
    await jobs.run_due()
    sent = mails_to(settings, investigator.email)
    assert len(sent) == 1 and sent[0]["Subject"] == "Case CT-N-0101 returned to investigation"
    assert "Interview the second deputy." in sent[0].get_content()


async def test_a_recommendation_s_steps_notify(world: dict[str, Any], browser: Any,  # noqa: F811
                                               new_browser: Any, settings: Any) -> None:
    author = await login_as(browser, "oversight", name="Olga Oversight",
                            email_notifications=True)
    approver = await make_user("supervisor", name="Ana Approver", email_notifications=True)
    issuer = await make_user("supervisor", name="Ian Issuer")
    page = f"/recommendations/new?agreement_id={world['agreement']}&kind=officers"
    response = await browser.submit(page, "/recommendations/new", data={
        "agreement_id": str(world["agreement"]), "kind": "officers", "action": "revocation",
        "designation_ids": [str(world["designation"])], "case_ids": [str(world["case"].case_id)]})
    detail = response.headers["location"]
    values = {**form_values((await browser.get(detail)).text),
              "summary": "The office recommends revocation."}

    async def submit() -> None:
        current = {**form_values((await browser.get(detail)).text),
                   "summary": "The office recommends revocation."}
        assert (await browser.submit(detail, f"{detail}/edit",
                                     data={**current, "then": "submit"})).status_code == 303

    assert values
    await submit()
    assert await kinds_for(approver.id) == ["recommendation_submitted"]
    assert await kinds_for(issuer.id) == ["recommendation_submitted"]
    assert await kinds_for(author.id) == []
    note = await Notification.select().where(Notification.user == approver.id).first()
    assert note["message"].startswith("Olga Oversight submitted the recommendation")
    assert note["link"] == detail

    approver_b = new_browser("198.51.100.65")
    await approver_b.login(approver.email, DEFAULT_PASSWORD)
    assert (await approver_b.submit(detail, f"{detail}/return",
                                    data={"comment": "Cite the second allegation."})
            ).status_code == 303
    assert await kinds_for(author.id) == ["recommendation_returned"]
    await submit()
    assert (await approver_b.submit(detail, f"{detail}/approve", data={"comment": "Good."})
            ).status_code == 303
    assert await kinds_for(author.id) == ["recommendation_returned", "recommendation_approved"]

    issuer_b = new_browser("198.51.100.66")
    await issuer_b.login(issuer.email, DEFAULT_PASSWORD)
    assert (await issuer_b.submit(detail, f"{detail}/issue")).status_code == 303
    assert (await kinds_for(author.id))[-1] == "recommendation_issued"
    assert (await kinds_for(approver.id))[-1] == "recommendation_issued"
    issued = await Notification.select().where(
        (Notification.user == author.id) & (Notification.kind == "recommendation_issued")
    ).first()
    assert "Ian Issuer issued recommendation RR-" in issued["message"]

    await jobs.run_due()
    subjects = [m["Subject"] for m in mails_to(settings, author.email)]
    assert any(s.startswith("Recommendation returned to draft") for s in subjects)
    assert any(s.startswith("Recommendation approved") for s in subjects)
    assert any(s.startswith("Recommendation RR-") and s.endswith("issued") for s in subjects)
    assert any(s.startswith("Recommendation awaiting your approval")
               for s in (m["Subject"] for m in mails_to(settings, approver.email)))


async def test_a_follow_up_from_the_complainant_notifies_the_lead(browser: Any,
                                                                   new_browser: Any,
                                                                   settings: Any) -> None:
    confirmation = await send_complaint(browser, complaint_fields())
    number = TRACKING.search(confirmation.text).group(1)
    code = ACCESS.search(confirmation.text).group(1)
    lead = await make_user("investigator", email_notifications=True)
    from casetracker.cases.tables import Case

    await Case.update({Case.lead_investigator: lead.id, Case.status: "under_investigation"}
                      ).where(Case.tracking_number == number)
    public = new_browser("198.51.100.67")
    await look_up(public, number, code)
    await post_follow_up(public, "I remembered the patrol car's number: 2291.")
    assert await kinds_for(lead.id) == ["follow_up"]
    await jobs.run_due()
    sent = mails_to(settings, lead.email)
    assert len(sent) == 1 and number in sent[0]["Subject"]
    assert "The complainant added information" in sent[0].get_content()


async def case_due(**fields: Any) -> Any:
    """A case with its clocks set as given (the factory computes them from receipt)."""
    from casetracker.cases.tables import Case

    clock_fields = {k: fields.pop(k) for k in list(fields) if k.endswith("_due_at")
                    or k == "ice_notification_required"}
    case = await make_case(**fields)
    await Case.update({getattr(Case, k): v for k, v in clock_fields.items()}).where(
        Case.id == case.id)
    return case


async def test_one_daily_digest_of_deadlines(settings: Any) -> None:
    lead = await make_user("investigator", email_notifications=True)
    elsewhere = await make_user("investigator")
    # Monday 7 December 2026, 8:00 local: the digest covers three business days (to Thursday)
    now = received(2026, 12, 7, 8, 0)
    await case_due(status="under_investigation", lead_investigator=lead.id,
                    tracking_number="CT-N-0301", resolution_due_at=now + timedelta(days=1),
                    ice_notification_required=True,
                    ice_notification_due_at=received(2026, 12, 7, 9, 12))
    await case_due(status="under_investigation", lead_investigator=lead.id,
                    tracking_number="CT-N-0302", resolution_due_at=now - timedelta(days=2))
    await case_due(status="under_investigation", lead_investigator=lead.id,
                    tracking_number="CT-N-0303", resolution_due_at=now + timedelta(days=30))
    later = await case_due(status="under_investigation", lead_investigator=elsewhere.id,
                            tracking_number="CT-N-0304", resolution_due_at=now + timedelta(days=60))
    await Task(case=later.id, title="Not due yet", assignee=elsewhere.id,
               due_on=(now + timedelta(days=20)).date()).save()

    assert await send_digests(now=received(2026, 12, 7, 6, 30), settings=settings) == 0
    assert await send_digests(now=now, settings=settings) == 1
    assert await send_digests(now=now + timedelta(hours=3), settings=settings) == 0  # once a day
    notes = await Notification.select().where(Notification.user == lead.id)
    assert len(notes) == 1 and notes[0]["kind"] == "deadline_digest"
    assert notes[0]["message"] == ("Your deadlines: 3 deadlines by December 10, 2026; "
                                   "1 overdue.")
    assert await Notification.count().where(Notification.user == elsewhere.id) == 0
    await jobs.run_due()
    sent = mails_to(settings, lead.email)
    assert len(sent) == 1
    assert sent[0]["Subject"] == "Your deadlines for Monday, December 7, 2026"
    body = sent[0].get_content()
    assert ("ICE notification due Monday, December 7, 2026, 9:12 AM EST: case CT-N-0301"
            in body)
    assert "Resolution due Saturday, December 5, 2026, 8:00 AM EST: case CT-N-0302 (overdue)" \
        in body
    assert "CT-N-0303" not in body and "CT-N-0304" not in body
    assert body.index("CT-N-0302") < body.index("ICE notification due")  # soonest first
    # the next day: a new digest
    assert await send_digests(now=now + timedelta(days=1), settings=settings) == 1
    assert datetime.now(UTC)  # (the digest's clock is the one given, not the machine's)
