"""Letters to the complainant: each step's letter in English and Spanish, edited by staff, then
sent by the preferred contact (e-mail job, printed and mailed, phone task, status page), the
contact log, the status page; nothing half-written when sending fails."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as email_policy
from typing import Any

from casetracker import jobs
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.cases.tables import Case, Task
from casetracker.intake import letters
from casetracker.intake.correspondence import public_letters
from casetracker.intake.tables import ComplainantContact, ComplainantLetter, ContactLogEntry
from tests.conftest import Browser, login_as
from tests.factories_cases import add_allegation, make_case, received
from tests.factories_intake import pdf_text

# A phrase each letter must carry, by language: the step it tells about.
EXPECTED = {
    ("received", "en"): "We received your complaint on",
    ("received", "es"): "Recibimos su queja el",
    ("opened", "en"): "We have opened an investigation",
    ("opened", "es"): "Abrimos una investigación",
    ("referred", "en"): "give them their reference number: OIG-77",
    ("referred", "es"): "dé su número de referencia: OIG-77",
    ("declined", "en"): "Why: The events happened in another state.",
    ("declined", "es"): "Motivo: The events happened in another state.",
    ("closed", "en"): "enough evidence that this happened",
    ("closed", "es"): "pruebas suficientes de que esto ocurrió",
}
# Words a letter must never use: nobody made a legal determination.
NEVER = ("guilty", "illegal", "broke the law", "violated the law", "culpable", "ilegal")


def mails_to(settings: Any, address: str) -> list[Any]:
    found = [message_from_bytes(p.read_bytes(), policy=email_policy)
             for p in sorted(settings.outbox_dir.glob("*.eml"))]
    return [m for m in found if m["To"] == address]


async def test_each_letter_in_both_languages(settings: Any) -> None:
    for kind in letters.LETTER_KINDS:
        for language in ("en", "es"):
            facts = letters.LetterFacts(
                kind=kind, language=language, tracking_number="CT-2345-6789",
                received_at=received(2026, 3, 6, 16, 0),
                resolution_due_at=received(2026, 9, 2, 16, 0), referred_to="dhs_oig",
                referral_reference="OIG-77",
                decision_reason="The events happened in another state.",
                findings=(("racial_profiling", "sustained"), ("search", "not_sustained")),
                results_to_ice=True)
            subject, body = letters.letter_text(facts)
            assert "CT-2345-6789" in subject
            assert EXPECTED[(kind, language)] in body, (kind, language, body)
            assert not any(word in body.lower() for word in NEVER), (kind, language)
            pdf = await letters.render_letter_pdf(letters.step_letter(
                language=language, kind=kind, tracking_number="CT-2345-6789",
                subject=subject, body=body, today=received(2026, 3, 9, 10, 0)))
            text = " ".join(pdf_text(pdf).split())
            assert EXPECTED[(kind, language)] in text, (kind, language)
            assert ("Estimada persona denunciante" in text) == (language == "es")
    _subject, body = letters.letter_text(letters.LetterFacts(
        kind="closed", language="en", tracking_number="CT-2345-6789",
        received_at=received(2026, 3, 6, 16, 0),
        findings=(("racial_profiling", "sustained"), ("search", "not_sustained")),
        results_to_ice=True))
    assert "• Treated differently because of who you are: Our investigation found" in body
    assert "• The search: There was not enough evidence" in body
    assert "we report these results to U.S. Immigration and Customs Enforcement" in body
    assert "once that recommendation is issued" in body
    assert "They are not a court decision" in body


async def closed_case(preferred: str, **contact: Any) -> Case:
    case = await make_case(status="closed", outcome="sustained",
                           ice_notification_required=True)
    await add_allegation(case, "racial_profiling", protected_characteristic="ethnicity",
                         final_finding="sustained")
    await ComplainantContact(case=case.id, name="María Hernández", preferred_language="es",
                             preferred_contact=preferred, **contact).save()
    await audit.record("case.closed", actor=Actor.system(), object_type="case",
                       object_id=case.id, case_id=case.id)
    return case


async def prepare(staff: Browser, case_id: int, kind: str) -> str:
    page = await staff.get(f"/cases/{case_id}")
    assert f'name="kind" value="{kind}"' in page.text  # the letter is due
    response = await staff.post(f"/cases/{case_id}/letters/prepare", data={"kind": kind})
    assert response.status_code == 303
    return response.headers["location"]


async def test_an_email_letter_is_edited_sent_logged_and_on_the_status_page(
        browser: Browser, settings: Any) -> None:
    case = await closed_case("email", email="maria@example.net")
    await login_as(browser, "supervisor")
    letter_url = await prepare(browser, case.id, "closed")
    page = await browser.get(letter_url)
    assert page.status_code == 200 and "Spanish" in page.text
    assert "pruebas suficientes de que esto ocurrió" in page.text
    body = re.search(r'<textarea id="body" name="body" rows="18">(.*?)</textarea>', page.text,
                     re.S).group(1)
    edited = body.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&") + \
        "\n\nLa investigadora se llama Ana Ruiz."
    response = await browser.post(letter_url, data={
        "subject": "Resultado de su queja", "body": edited, "action": "send"})
    assert response.status_code == 303
    assert "being e-mailed" in (await browser.get(response.headers["location"])).text
    # Sending twice (a double click) sends once.
    await browser.post(letter_url, data={"subject": "x", "body": "y", "action": "send"})
    await jobs.run_due()
    sent = mails_to(settings, "maria@example.net")
    assert len(sent) == 1 and sent[0]["Subject"] == "Resultado de su queja"
    assert "La investigadora se llama Ana Ruiz." in sent[0].get_content()
    row = await ComplainantLetter.select().where(ComplainantLetter.case == case.id).first()
    assert (row["status"], row["channel"], row["language"]) == ("sent", "email", "es")
    log = await ContactLogEntry.select().where(ContactLogEntry.case == case.id)
    assert [(e["channel"], e["direction"]) for e in log] == [("email", "out")]
    case_page = await browser.get(f"/cases/{case.id}")
    assert "Resultado de su queja" in case_page.text.split('id="contact-log"')[1]
    shown = await public_letters(case.id)
    assert shown[0]["title"] == "Resultado de su queja"


async def test_post_is_queued_for_printing_and_phone_becomes_a_task(browser: Browser) -> None:
    by_post = await closed_case("mail", address="12 Palm St\nMoore Haven, FL 33471")
    by_phone = await closed_case("phone", phone="+1 555 0100")
    await login_as(browser, "supervisor")
    for case in (by_post, by_phone):
        letter_url = await prepare(browser, case.id, "closed")
        page = await browser.get(letter_url)
        body = re.search(r'name="body" rows="18">(.*?)</textarea>', page.text, re.S).group(1)
        response = await browser.post(letter_url, data={
            "subject": "Su queja", "body": body.replace("&#39;", "'"), "action": "send"})
        assert response.status_code == 303
    mailed = await ComplainantLetter.select().where(ComplainantLetter.case == by_post.id).first()
    assert mailed["status"] == "to_print"
    pdf = await browser.client.get(f"/cases/{by_post.id}/letters/{mailed['id']}/letter.pdf")
    assert pdf.status_code == 200
    assert "pruebas suficientes" in " ".join(pdf_text(pdf.content).split())
    await browser.get(f"/cases/{by_post.id}")
    assert (await browser.post(f"/cases/{by_post.id}/letters/{mailed['id']}/done")
            ).status_code == 303
    mailed = await ComplainantLetter.select().where(ComplainantLetter.id == mailed["id"]).first()
    assert mailed["status"] == "mailed"
    log = await ContactLogEntry.select().where(ContactLogEntry.case == by_post.id)
    assert [e["channel"] for e in log] == ["mail"]

    called = await ComplainantLetter.select().where(ComplainantLetter.case == by_phone.id).first()
    assert called["status"] == "to_call"
    task = await Task.select().where(Task.case == by_phone.id).first()
    assert task is not None and "Call the complainant" in task["title"]


async def test_an_anonymous_complainant_reads_letters_on_the_status_page(
        browser: Browser) -> None:
    case = await make_case(status="received", anonymous=True)
    await login_as(browser, "intake")
    letter_url = await prepare(browser, case.id, "received")
    page = await browser.get(letter_url)
    assert "Status page only" in page.text
    body = re.search(r'name="body" rows="18">(.*?)</textarea>', page.text, re.S).group(1)
    await browser.post(letter_url, data={"subject": "Recibimos su queja", "body": body,
                                         "action": "send"})
    shown = await public_letters(case.id)
    assert [s["title"] for s in shown] == ["Recibimos su queja"]
    assert "Recibimos su queja el" in shown[0]["body"]


async def test_nothing_is_half_sent_when_a_step_fails(browser: Browser, settings: Any,
                                                      monkeypatch: Any) -> None:
    from casetracker.intake import correspondence

    case = await closed_case("email", email="maria@example.net")
    await login_as(browser, "supervisor")
    letter_url = await prepare(browser, case.id, "closed")
    real = correspondence.audit.record

    async def failing(action: str, **kwargs: Any) -> Any:
        if action == "letter.sent":
            raise RuntimeError("disk full")
        return await real(action, **kwargs)

    monkeypatch.setattr(correspondence.audit, "record", failing)
    await browser.get(letter_url)
    response = await browser.post(letter_url, data={"subject": "S", "body": "B",
                                                    "action": "send"})
    assert response.status_code == 500
    monkeypatch.undo()
    await jobs.run_due()
    assert mails_to(settings, "maria@example.net") == []
    row = await ComplainantLetter.select().where(ComplainantLetter.case == case.id).first()
    assert row["status"] == "draft" and row["sent_at"] is None
    assert await ContactLogEntry.count().where(ContactLogEntry.case == case.id) == 0
