"""A receipt PDF is rendered once per complaint and language, kept in the document store, and
served from there afterwards: the e-mailed copy and every later download are the same file."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from typing import Any

import pytest

from casetracker import jobs
from casetracker.cases.tables import Case
from casetracker.intake import receipt
from casetracker.storage import get_store
from tests.conftest import Browser
from tests.factories_intake import (
    RECEIPT_LINK,
    TRACKING,
    complaint_fields,
    pdf_text,
    send_complaint,
)
from tests.pdf import squeezed

pytestmark = pytest.mark.storage_backends


def _mailed_pdf(outbox: str) -> bytes:
    messages = list(Path(outbox).glob("*.eml"))
    assert len(messages) == 1
    message = email.message_from_bytes(messages[0].read_bytes(), policy=policy.default)
    parts = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1
    return parts[0].get_payload(decode=True)


async def test_the_mailed_receipt_is_the_one_downloaded_later(
        browser: Browser, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    confirmation = await send_complaint(browser, complaint_fields())
    number = TRACKING.search(confirmation.text).group(1)
    link = RECEIPT_LINK.search(confirmation.text).group(1)
    case_id = (await Case.select(Case.id).where(Case.tracking_number == number).first())["id"]

    await jobs.run_due()  # the receipt e-mail renders it (and keeps it)
    mailed = _mailed_pdf(settings.outbox_dir)
    assert number in pdf_text(mailed)

    # From now on no render is possible: every download must come from the store.
    async def no_render(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the receipt was rendered again")

    monkeypatch.setattr(receipt, "render_receipt_pdf", no_render)
    for _ in range(2):
        download = await browser.client.get(link)
        assert download.status_code == 200
        assert download.content == mailed
        assert f"receipt-{number}.pdf" in download.headers["content-disposition"]
    stored = await get_store(settings, "documents").get_bytes(
        receipt.receipt_store_key(case_id, "en"))
    assert stored == mailed


async def test_each_language_is_rendered_once_and_kept_apart(browser: Browser,
                                                             settings: Any) -> None:
    confirmation = await send_complaint(browser, complaint_fields())
    number = TRACKING.search(confirmation.text).group(1)
    link = RECEIPT_LINK.search(confirmation.text).group(1)

    english = await browser.client.get(link)
    spanish = await browser.client.get(link, params={"lang": "es"})
    assert english.status_code == spanish.status_code == 200
    assert squeezed("Receipt for your complaint") in squeezed(pdf_text(english.content))
    assert "recibo-" + number in spanish.headers["content-disposition"]
    assert squeezed("Recibo de su queja") in squeezed(pdf_text(spanish.content))
    assert english.content != spanish.content
    again = await browser.client.get(link, params={"lang": "es"})
    assert again.content == spanish.content
