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
from casetracker.reports.services import DraftValues, RecommendationService
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


async def _issued(settings: Any) -> tuple[RecommendationService, int]:
    author = Actor.from_user(await make_user("oversight"))
    approver = Actor.from_user(await make_user("supervisor"))
    agency = await make_agency()
    agreement = await make_agreement(agency)
    officer, designation = await make_designated_officer(agency, agreement, "Sam Signer", "S-1")
    case = await make_sustained_case(agency, agreement, [officer], evidence_count=1)
    service = RecommendationService(author)
    rec_id = await service.draft(DraftValues("officers", "revocation", None, (designation,),
                                             (case.case_id,)))
    await service.submit(rec_id)
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


async def test_verify_command_matches_unsigned_by_hash(settings: Any, tmp_path: Path) -> None:
    configure(settings.replace(pdf_workers=0))
    service, rec_id = await _issued(settings)
    rec, data = await service.issued_document(rec_id)
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(data)
    bad.write_bytes(data + b"\n% appended\n")

    def verify(path: Path) -> subprocess.CompletedProcess[str]:
        # A real process, as a person runs it, on this test's database (either engine).
        env = {**os.environ, "CASETRACKER_VAR_DIR": str(settings.var_dir),
               "CASETRACKER_DATABASE_URL": settings.database_url}
        return subprocess.run(  # noqa: S603 - our own console script with fixed arguments
            [sys.executable, "-m", "casetracker", "reports", "verify", str(path)], env=env,
            capture_output=True, text=True, timeout=120, check=False)

    result = await asyncio.to_thread(verify, good)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"matches {rec['number']}" in result.stdout
    result = await asyncio.to_thread(verify, bad)
    assert result.returncode == 1
    assert "matches no issued recommendation" in result.stdout + result.stderr
