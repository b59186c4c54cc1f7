"""The audit log UI: filters, keyset pagination (newest first) and the chain check."""

from __future__ import annotations

import re
from typing import Any

from casetracker.audit import services as audit
from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from tests.conftest import Browser, login_as

SEQ_CELL = re.compile(r"<tr>\s*<td>(\d+)</td>")


async def test_filters_and_keyset_pages(browser: Browser) -> None:
    admin = await login_as(browser, "administrator")  # writes a "login" event
    robot = Actor(id=None, label="importer@example.org", ip_address="192.0.2.5")
    for n in range(60):
        await audit.record("registry.agency_update", actor=robot, object_type="agency",
                           object_id=n, details={"n": n})
    await audit.record("case.note_add", actor=robot, object_type="case", object_id=7, case_id=7)

    page = await browser.get("/admin/audit")
    seqs = [int(s) for s in SEQ_CELL.findall(page.text)]
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    assert "case.note_add" in page.text
    older = re.search(r'href="([^"]*before=(\d+))"', page.text)
    assert older and int(older.group(2)) == seqs[-1]
    page2 = await browser.get(older.group(1).replace("&amp;", "&"))
    seqs2 = [int(s) for s in SEQ_CELL.findall(page2.text)]
    assert seqs2 and max(seqs2) < min(seqs) and not set(seqs2) & set(seqs)
    assert len(seqs) + len(seqs2) == await AuditEvent.count()

    page = await browser.get("/admin/audit?case_id=7")
    assert SEQ_CELL.findall(page.text) and "case.note_add" in page.text
    assert "registry.agency_update" not in page.text
    page = await browser.get("/admin/audit?action=login")
    assert "login" in page.text and "registry.agency_update" not in page.text
    page = await browser.get(f"/admin/audit?actor={admin.id}")
    assert "registry.agency_update" not in page.text and "<code>login</code>" in page.text
    page = await browser.get("/admin/audit?actor=importer&object_type=agency&object_id=3")
    assert len(SEQ_CELL.findall(page.text)) == 1
    page = await browser.get("/admin/audit?date_from=2000-01-01&date_to=2000-01-02")
    assert "No event matches" in page.text
    page = await browser.get("/admin/audit?date_from=yesterday")
    assert page.status_code == 422 and "Enter a date like" in page.text


async def test_chain_check_reports_intact_then_broken(browser: Browser) -> None:
    await login_as(browser, "administrator")
    page = await browser.get("/admin/audit")
    assert 'href="/admin/audit/verify"' in page.text
    page = await browser.get("/admin/audit/verify")
    assert "Intact." in page.text and "No signed checkpoint has been written yet" in page.text
    await audit.write_checkpoint()
    page = await browser.get("/admin/audit/verify")
    assert "Intact." in page.text
    assert "Signed checkpoints kept outside the database and compared: 1." in page.text
    first = await AuditEvent.objects().order_by(AuditEvent.seq).first()
    await AuditEvent.update({AuditEvent.details: '{"tampered": true}'}).where(
        AuditEvent.id == first.id)
    page = await browser.get("/admin/audit/verify")
    assert "Broken." in page.text and f"number {first.seq}" in page.text


async def test_oversight_staff_may_not_read_the_audit_log(browser: Browser) -> None:
    await login_as(browser, "oversight")
    assert (await browser.get("/admin/audit")).status_code == 403
    assert (await browser.get("/admin/audit/verify")).status_code == 403


async def test_audit_page_escapes_recorded_values(browser: Browser, app: Any) -> None:
    await login_as(browser, "administrator")
    await audit.record("login.failed", actor=Actor(id=None, label="<script>x</script>"),
                       details={"email": "<b>bold</b>"})
    page = await browser.get("/admin/audit")
    assert "<script>x</script>" not in page.text and "&lt;script&gt;" in page.text
