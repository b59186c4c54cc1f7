"""``casetracker reports verify`` on signed files changed in the ways a forger would: a real
incremental revision (new metadata, an extra page), a truncated file. Never "valid", never a
traceback, exit 1 with or without a trust root. No database is needed: the look-up of the
SHA-256 fails and is said in one sentence."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from casetracker.reports import signing
from tests.integration.test_reports_signing import make_certificate


def _blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_metadata({"/Title": "RR-2026-0001"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str, Path]:
    folder = tmp_path_factory.mktemp("signing")
    cert, key = make_certificate(folder)
    settings = SimpleNamespace(signing_cert=cert, signing_key=key, signing_key_password="",
                               organisation_name="Test Oversight Office")
    return signing.sign_pdf(_blank_pdf(), settings, reason="Issued"), cert, folder


def _revised(data: bytes, change: str) -> bytes:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    if change == "metadata":
        info = writer.trailer["/Info"].get_object()
        info[generic.NameObject("/Title")] = generic.TextStringObject("RR-2026-9999")
        writer.update_container(info)
    else:  # new text drawn on the signed page
        page_ref = writer.root["/Pages"]["/Kids"][0]
        stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (FORGED) Tj ET")
        page = page_ref.get_object()
        page[generic.NameObject("/Contents")] = writer.add_object(stream)
        writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _run(path: Path, *args: str, trust: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASETRACKER_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
           "CASETRACKER_SIGNING_CERT": trust}
    return subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [sys.executable, "-m", "casetracker", "reports", "verify", str(path), *args],
        env=env, capture_output=True, text=True, timeout=120, check=False)


def _claims_valid(output: str) -> bool:
    return "signature is valid" in output or "signature valid" in output.lower()


@pytest.mark.parametrize("change", ["metadata", "page_content", "truncated"])
def test_a_file_changed_after_signing_is_never_called_valid(
        signed: tuple[bytes, str, Path], change: str) -> None:
    data, cert, folder = signed
    assert signing.verify_pdf(data, cert).intact_and_valid  # the original checks out
    changed = data[: len(data) - 40] if change == "truncated" else _revised(data, change)
    check = signing.verify_pdf(changed, cert) if change != "truncated" else None
    if check is not None:
        assert check.signed and not check.intact and not _claims_valid(check.summary)
        assert "does not cover the changed bytes" in check.summary
    path = folder / f"{change}.pdf"
    path.write_bytes(changed)
    # the most lenient run: no trust root, and the unconfirmed signer accepted (each run of
    # the command takes seconds here, so one a change)
    result = _run(path, "--allow-untrusted")
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert not _claims_valid(output), output
    assert "Accepted without confirming" not in output
    assert result.returncode in (1, 2), (result.returncode, output)


def test_no_trust_root_is_said_and_exits_non_zero(signed: tuple[bytes, str, Path]) -> None:
    data, _cert, folder = signed
    path = folder / "good.pdf"
    path.write_bytes(data)
    result = _run(path)
    assert "Traceback" not in result.stdout + result.stderr
    assert "The signer cannot be confirmed" in result.stdout
    assert result.returncode == 3
    result = _run(path, "--allow-untrusted")
    assert "Accepted without confirming the signer (--allow-untrusted)." in result.stdout
    # the look-up could not run: said in a sentence, and the exit code says so too
    assert "The issued records could not be read" in result.stdout
    assert result.returncode == 4


def test_exit_codes_are_documented() -> None:
    from casetracker.reports.cli import VERIFY_HELP
    from casetracker.settings import PROJECT_ROOT

    docs = (PROJECT_ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    for code in range(5):
        assert f"\n  {code}  " in VERIFY_HELP, code
        assert f"| {code} |" in docs, code
