"""Optional pyHanko signatures and ``casetracker reports verify``."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from casetracker.auth.actor import Actor
from casetracker.reports import signing
from casetracker.reports.services import (
    EDITABLE,
    DraftValues,
    RecommendationService,
    load_source,
    read_document,
)
from casetracker.settings import configure
from tests.factories import make_user
from tests.factories_reports import (
    make_agency,
    make_agreement,
    make_designated_officer,
    make_sustained_case,
)

pytestmark = pytest.mark.asyncio


def make_certificate(folder: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Oversight Office")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


async def _issued(settings: Any, classification: str = "public"
                  ) -> tuple[RecommendationService, int]:
    author = Actor.from_user(await make_user("supervisor"))
    approver = Actor.from_user(await make_user("supervisor"))
    agency = await make_agency("Montgomery County Sheriff's Office")
    agreement = await make_agreement(agency)
    officer, designation = await make_designated_officer(agency, agreement, "Sam Signer", "S-1")
    await make_designated_officer(agency, agreement, "Peer Officer", "S-2")
    case = await make_sustained_case(agency, agreement, [officer], evidence_count=1)
    service = RecommendationService(author)
    rec_id = await service.draft(DraftValues("officers", "revocation", None, (designation,),
                                             (case.case_id,)))
    rec = (await load_source(rec_id)).recommendation
    await service.save_and_submit(rec_id, {
        **{k: rec[k] for k in EDITABLE}, "summary": "Revoke.", "classification": classification})
    await RecommendationService(approver).approve(rec_id)
    await service.issue(rec_id)
    return service, rec_id


async def test_signed_recommendation_verifies_and_detects_changes(settings: Any,
                                                                  tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    configure(settings.replace(pdf_workers=0, signing_cert=cert, signing_key=key))
    service, rec_id = await _issued(settings)
    rec, data = await service.issued_document(rec_id)
    assert rec["document_signed"] == "pyhanko"
    check = await asyncio.to_thread(signing.verify_pdf, data, cert)
    assert check.signed and check.intact and check.valid and check.trusted
    # the data attachment survived the signature
    import io

    from pypdf import PdfReader

    assert list(PdfReader(io.BytesIO(data)).attachments) == ["data.json"]
    # one changed byte inside the signed range
    index = 2000  # inside the original revision, which the signature covers
    tampered = data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]
    assert not (await asyncio.to_thread(signing.verify_pdf, tampered, cert)).intact


def _verify(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    # A real process, as a person runs it, on this test's database (either engine).
    env = {**os.environ, "CASETRACKER_VAR_DIR": str(settings.var_dir),
           "CASETRACKER_DATABASE_URL": settings.database_url,
           "CASETRACKER_SIGNING_CERT": settings.signing_cert or ""}
    return subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [sys.executable, "-m", "casetracker", "reports", "verify", *args], env=env,
        capture_output=True, text=True, timeout=120, check=False)


async def test_verify_command_matches_unsigned_by_hash(settings: Any, tmp_path: Path) -> None:
    configure(settings.replace(pdf_workers=0))
    service, rec_id = await _issued(settings, "sensitive")
    rec, data = await service.issued_document(rec_id)
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(data)
    bad.write_bytes(data + b"\n% appended\n")

    result = await asyncio.to_thread(_verify, settings, str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"is the sensitive version of {rec['number']}, issued" in result.stdout
    assert "Not signed." in result.stdout
    result = await asyncio.to_thread(_verify, settings, str(bad))
    assert result.returncode == 1
    assert "matches no issued recommendation" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr

    # the redacted version is an issued document too
    redacted = tmp_path / "redacted.pdf"
    redacted.write_bytes(await read_document(rec["redacted_key"], settings))
    result = await asyncio.to_thread(_verify, settings, str(redacted))
    assert result.returncode == 0 and f"the redacted version of {rec['number']}" in result.stdout

    # not a PDF: said plainly, exit 2
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = await asyncio.to_thread(_verify, settings, str(text))
    assert result.returncode == 2 and "is not a PDF file" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


async def test_verify_command_on_signed_documents(settings: Any, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    current = configure(settings.replace(pdf_workers=0, signing_cert=cert, signing_key=key))
    service, rec_id = await _issued(current)
    _rec, data = await service.issued_document(rec_id)
    good = tmp_path / "signed.pdf"
    good.write_bytes(data)
    result = await asyncio.to_thread(_verify, current, str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Intact" in result.stdout and "trusted" in result.stdout

    # one byte changed inside the signed range: never "valid", exit 1
    index = 2000
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:])
    result = await asyncio.to_thread(_verify, current, str(tampered))
    assert result.returncode == 1, result.stdout
    assert "valid" not in result.stdout.replace("INVALID", "").lower().replace(
        "signature does not match", "")
    assert "Traceback" not in result.stdout + result.stderr
    # bytes appended after signing: the signature does not cover them
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(data + b"\n% appended after signing\n")
    result = await asyncio.to_thread(_verify, current, str(appended))
    assert result.returncode == 1
    assert "the signature does not cover the changed bytes" in result.stdout
    assert "signature is valid" not in result.stdout

    # no trust root: the signer cannot be confirmed (exit 3) unless --allow-untrusted
    untrusted = current.replace(signing_cert="")
    result = await asyncio.to_thread(_verify, untrusted, str(good))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "The signer cannot be confirmed" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    result = await asyncio.to_thread(_verify, untrusted, str(good), "--allow-untrusted")
    assert result.returncode == 0 and "--allow-untrusted" in result.stdout
    # another certificate as the trust root: not trusted (exit 3)
    (tmp_path / "other").mkdir()
    other_cert, _other_key = make_certificate(tmp_path / "other")
    result = await asyncio.to_thread(_verify, untrusted, str(good), "--trust-cert", other_cert)
    assert result.returncode == 3 and "NOT trusted" in result.stdout
    # a trust certificate that cannot be read: exit 2, one line
    result = await asyncio.to_thread(_verify, untrusted, str(good), "--trust-cert",
                                     str(tmp_path / "missing.pem"))
    assert result.returncode == 2 and "Cannot read the trust certificate" in result.stdout


async def test_verify_command_without_a_database_says_so(settings: Any, tmp_path: Path) -> None:
    configure(settings.replace(pdf_workers=0))
    service, rec_id = await _issued(settings)
    _rec, data = await service.issued_document(rec_id)
    good = tmp_path / "good.pdf"
    good.write_bytes(data)
    broken = settings.replace(database_url="postgresql://postgres@127.0.0.1:1/nothing")
    result = await asyncio.to_thread(_verify, broken, str(good))
    assert result.returncode == 4, result.stdout + result.stderr
    assert "The issued records could not be read" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
