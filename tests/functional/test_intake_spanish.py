"""What a Spanish-speaking complainant reads is Spanish: the receipt PDF (labels of the answers
they chose, dates), the confirmation and status pages, and the e-mail.

Complaints go through the real form with the real CSRF token; the receipt is read with
pypdf (tests/pdf.py). Expected dates are written here by hand (month names below), not by the
code under test."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from casetracker import jobs
from casetracker.cases.tables import Case
from tests.conftest import Browser
from tests.factories_intake import (
    ACCESS,
    RECEIPT_LINK,
    TRACKING,
    complaint_fields,
    look_up,
    pdf_text,
    png_bytes,
    post_follow_up,
    send_complaint,
)

MESES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
         "septiembre", "octubre", "noviembre", "diciembre"]
ENGLISH_MONTHS = re.compile(r"\b(January|February|March|April|May|June|July|August|September|"
                            r"October|November|December)\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}(-\d{2})?\b")

# Every answer the form offers, as the English labels that used to leak into Spanish documents.
SPANISH_ANSWERS = {
    "incident_setting": ("traffic_stop", "Una parada de tráfico", "A traffic stop"),
    "context_287g": ("jail_screening", "Preguntas o revisión dentro de una cárcel",
                     "Questions or screening inside a jail"),
    "complainant_role": ("third_party", "Le pasó a otra persona",
                         "It happened to someone else"),
    "preferred_contact": ("email", "Correo electrónico", "E-mail"),
}
SPANISH_CHECKLIST = {
    "stopped": ("Me pararon o me hicieron detener el auto", "I was stopped or pulled over"),
    "questioned_status": ("Me preguntaron por mi estatus migratorio o mis papeles",
                          "Asked about immigration status or papers"),
    "force": ("Usaron la fuerza", "Force was used"),
}
SPANISH_PROTECTED = {
    "ethnicity": ("Origen étnico", "Ethnicity"),
    "language": ("Idioma o inglés limitado", "Language or limited English"),
}
# Headings and labels of the receipt that must not appear in English in the Spanish copy.
ENGLISH_RECEIPT_WORDS = ["Receipt for your complaint", "Tracking number", "What happened",
                         "Officers", "Witnesses", "About you", "We aim to finish by",
                         "First review by", "Your copy", "Page 1 of"]


def en_palabras(day: date) -> str:
    return f"{day.day} de {MESES[day.month - 1]} de {day.year}"


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo("America/New_York")).date()


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def spanish_complaint(**overrides: Any) -> dict[str, Any]:
    fields = complaint_fields(
        **{key: value for key, (value, _es, _en) in SPANISH_ANSWERS.items()},
        checklist=list(SPANISH_CHECKLIST), protected=list(SPANISH_PROTECTED),
        victim_name="Juan López", relationship="hermano", incident_state="NY",
        narrative="Me pidieron los papeles delante de mis hijos.")
    fields.update(overrides)
    return fields


async def file_complaint(browser: Browser, fields: dict[str, Any], lang: str,
                         files: Any = None) -> Any:
    response = await send_complaint(browser, fields, files, lang)
    assert response.status_code == 200, response.text[:3000]
    return response


def assert_spanish_receipt(text: str, case: dict[str, Any]) -> None:
    flat = one_line(text)
    assert "Recibo de su queja" in flat
    for _key, (_value, spanish, english) in SPANISH_ANSWERS.items():
        assert spanish in flat, spanish
        assert english not in flat, english
    for spanish, english in [*SPANISH_CHECKLIST.values(), *SPANISH_PROTECTED.values()]:
        assert spanish in flat, spanish
        assert english not in flat, english
    for english in ENGLISH_RECEIPT_WORDS:
        assert english not in flat, english
    # Dates in words, in Spanish: when it happened, when it was received, the promised dates.
    assert en_palabras(case["incident_date"]) in flat
    assert en_palabras(local_day(case["received_at"])) in flat
    assert en_palabras(local_day(case["triage_due_at"])) in flat
    assert en_palabras(local_day(case["resolution_due_at"])) in flat
    assert not ENGLISH_MONTHS.search(flat), ENGLISH_MONTHS.search(flat)
    assert not ISO_DATE.search(flat), ISO_DATE.search(flat)


async def test_spanish_receipt_shows_answers_and_dates_in_spanish(browser: Browser,
                                                                  settings: Any) -> None:
    response = await file_complaint(browser, spanish_complaint(), "es", files=[
        ("files", ("foto.png", png_bytes(), "image/png"))])
    number = TRACKING.search(response.text).group(1)
    case = await Case.select().where(Case.tracking_number == number).first()

    pdf = await browser.client.get(RECEIPT_LINK.search(response.text).group(1) + "?lang=es")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert f'filename="recibo-{number}.pdf"' in pdf.headers["content-disposition"]
    assert_spanish_receipt(pdf_text(pdf.content), case)

    # The e-mailed copy: the date in words, the status page in Spanish, a Spanish file name.
    await jobs.run_due()  # the receipt e-mail is a background job
    messages = list(Path(settings.outbox_dir).glob("*.eml"))  # noqa: ASYNC240
    assert len(messages) == 1
    mail = one_line(messages[0].read_text(errors="replace").replace("=\n", ""))
    assert f"Recibimos su queja el {en_palabras(local_day(case['received_at']))}" in mail
    assert "/status?lang=3Des" in mail  # quoted-printable for "?lang=es"
    assert f'filename="recibo-{number}.pdf"' in mail and "receipt-" not in mail


async def test_month_only_incident_date_reads_as_month_and_year(browser: Browser) -> None:
    fields = spanish_complaint(incident_day="", incident_month="3", incident_year="2025")
    response = await file_complaint(browser, fields, "es")
    pdf = await browser.client.get(RECEIPT_LINK.search(response.text).group(1) + "?lang=es")
    flat = one_line(pdf_text(pdf.content))
    assert "Fecha marzo de 2025" in flat
    assert "2025-03" not in flat


async def test_receipt_follows_the_language_of_the_person_asking(browser: Browser) -> None:
    # Filed in English (say, by someone helping); later read in Spanish from the status page:
    # the whole copy is Spanish, not English headings around Spanish answers.
    response = await file_complaint(browser, spanish_complaint(), "en")
    number = TRACKING.search(response.text).group(1)
    code = ACCESS.search(response.text).group(1)
    case = await Case.select().where(Case.tracking_number == number).first()
    await look_up(browser, number, code, "es")
    receipt = await browser.client.get("/status/complaint/receipt?lang=es")
    assert receipt.headers["content-type"] == "application/pdf"
    assert_spanish_receipt(pdf_text(receipt.content), case)

    # And the English copy stays English, with dates in English words.
    english = one_line(pdf_text((await browser.client.get(
        RECEIPT_LINK.search(response.text).group(1) + "?lang=en")).content))
    assert "Receipt for your complaint" in english and "A traffic stop" in english
    incident = case["incident_date"]
    assert f"{incident:%B} {incident.day}, {incident.year}" in english


async def test_confirmation_page_dates_in_spanish(browser: Browser) -> None:
    response = await file_complaint(browser, spanish_complaint(), "es")
    number = TRACKING.search(response.text).group(1)
    case = await Case.select().where(Case.tracking_number == number).first()
    page = one_line(re.sub(r"<[^>]+>", " ", response.text))
    assert f"Su queja quedó guardada el {en_palabras(local_day(case['received_at']))}" in page
    assert (f"El personal leerá su queja antes del "
            f"{en_palabras(local_day(case['triage_due_at']))}") in page
    assert f"Intentamos terminar antes del {en_palabras(local_day(case['resolution_due_at']))}" \
        in page
    assert not ISO_DATE.search(page) and not ENGLISH_MONTHS.search(page)


async def test_status_page_in_spanish_outcome_and_dates(browser: Browser) -> None:
    response = await file_complaint(browser, spanish_complaint(), "es")
    number = TRACKING.search(response.text).group(1)
    code = ACCESS.search(response.text).group(1)

    await Case.update({Case.status: "referred", Case.referred_to: "dhs_oig"}).where(
        Case.tracking_number == number)
    page = one_line(re.sub(r"<[^>]+>", " ", (await look_up(browser, number, code, "es")).text))
    assert "Enviamos su queja a la Oficina del Inspector General del DHS" in page
    assert "Office of Inspector General" not in page

    before = en_palabras(local_day(datetime.now(ZoneInfo("UTC"))))
    follow_up = await post_follow_up(browser, "Otro dato.", lang="es")
    assert follow_up.status_code == 303, follow_up.text[:2000]
    follow_up = await browser.get(follow_up.headers["location"])
    after = en_palabras(local_day(datetime.now(ZoneInfo("UTC"))))  # a run may cross midnight
    assert any(f"Gracias. Agregamos esto a su queja el {day}" in one_line(follow_up.text)
               for day in {before, after})

    closed_on = datetime(2026, 3, 3, 18, 0, tzinfo=ZoneInfo("UTC"))
    await Case.update({Case.status: "closed", Case.outcome: "sustained",
                       Case.closed_at: closed_on}).where(Case.tracking_number == number)
    page = one_line(re.sub(r"<[^>]+>", " ", (await look_up(browser, number, code, "es")).text))
    assert ("La investigación está cerrada. Concluyó que la conducta del agente infringió la "
            "ley o las normas.") in page
    assert "Cerrada 3 de marzo de 2026" in page
    assert "The investigation is closed" not in page
    assert not ISO_DATE.search(page) and not ENGLISH_MONTHS.search(page)


async def test_complaint_form_names_states_in_spanish(browser: Browser) -> None:
    page = (await browser.get("/complaint?lang=es")).text
    assert '<option value="NY">Nueva York</option>' in page
    assert '<option value="PA">Pensilvania</option>' in page
    assert "New York" not in page
    # sorted as a Spanish reader looks for them
    assert page.index(">Nebraska<") < page.index(">Nueva York<") < page.index(">Ohio<")
    english = (await browser.get("/complaint?lang=en")).text
    assert '<option value="NY">New York</option>' in english


async def test_api_complaint_in_spanish_gets_a_spanish_e_mail(browser: Browser,
                                                              settings: Any) -> None:
    # A partner's server sends no Spanish Accept-Language; the complaint says "es".
    response = await browser.client.post("/api/v1/complaints", headers={
        "accept-language": "en"}, json={
        "narrative": "Me pararon y me pidieron los papeles.", "incident_date": "2026-11-02",
        "incident_setting": "traffic_stop", "checklist": ["stopped"],
        "name": "Cliente", "email": "cliente@example.org", "language": "es"})
    assert response.status_code == 201, response.text
    number = response.json()["tracking_number"]
    await jobs.run_due()  # the receipt e-mail is a background job
    messages = list(Path(settings.outbox_dir).glob("*.eml"))  # noqa: ASYNC240
    assert len(messages) == 1
    mail = one_line(messages[0].read_text(errors="replace").replace("=\n", ""))
    assert f"Subject: Su queja {number}" in mail and "Recibimos su queja el" in mail
    assert f'filename="recibo-{number}.pdf"' in mail
