"""Optional pyHanko signatures on issued recommendations, and their verification.

Signing is on when ``CASETRACKER_SIGNING_CERT`` and ``CASETRACKER_SIGNING_KEY`` (PEM files) are
set (``CASETRACKER_SIGNING_KEY_PASSWORD`` if the key is encrypted). The signature is an
incremental update, so the PDF/A-3b structure and the data.json attachment are kept.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any


def _signer(settings: Any) -> Any:
    from pyhanko.sign import signers

    password = settings.signing_key_password.encode() if settings.signing_key_password else None
    return signers.SimpleSigner.load(settings.signing_key, settings.signing_cert,
                                     key_passphrase=password)


def sign_pdf(data: bytes, settings: Any, *, reason: str) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(field_name="Signature1", reason=reason,
                                        name=settings.organisation_name)
    out = signers.sign_pdf(writer, meta, signer=_signer(settings))
    return out.getvalue()


@dataclass(frozen=True)
class SignatureCheck:
    signed: bool
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    signer: str = ""
    summary: str = ""


def verify_pdf(data: bytes, trust_cert_path: str = "") -> SignatureCheck:
    """Check the PDF's signatures (all of them must be intact and cover the whole file)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    signatures = reader.embedded_signatures
    if not signatures:
        return SignatureCheck(signed=False, summary="not signed")
    context = None
    if trust_cert_path:
        from pyhanko.keys import load_cert_from_pemder

        context = ValidationContext(trust_roots=[load_cert_from_pemder(trust_cert_path)])
    intact = valid = trusted = True
    signer = ""
    for embedded in signatures:
        status = validate_pdf_signature(embedded, context) if context else \
            validate_pdf_signature(embedded)
        intact &= bool(status.intact)
        valid &= bool(status.valid)
        trusted &= bool(status.trusted)
        try:
            signer = status.signing_cert.subject.human_friendly
        except Exception:
            signer = signer or "unknown"
        covers = str(getattr(status, "coverage", ""))
        if "ENTIRE_FILE" not in covers and "ENTIRE_REVISION" not in covers:
            intact = False
    summary = (f"signed by {signer}: " + ("intact" if intact else "MODIFIED after signing")
               + ("; signature valid" if valid else "; signature INVALID")
               + ("; certificate trusted" if trusted else "; certificate not trusted"))
    return SignatureCheck(True, intact, valid, trusted, signer, summary)
