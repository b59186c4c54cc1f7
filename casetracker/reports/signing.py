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


class TrustRootError(Exception):
    """The certificate to trust could not be read."""


@dataclass(frozen=True)
class SignatureCheck:
    signed: bool
    intact: bool = False  # no byte changed since signing, and the signature covers the file
    valid: bool = False  # the signature is cryptographically sound
    trusted: bool = False  # the signer's certificate chains to the trust root given
    trust_root: str = ""  # the certificate trusted ("" when none was given)
    signer: str = ""
    lines: tuple[str, ...] = ()  # what to tell a person, one finding a line

    @property
    def intact_and_valid(self) -> bool:
        return self.intact and self.valid

    @property
    def summary(self) -> str:
        return " ".join(self.lines)


def _trust_context(trust_cert_path: str) -> Any:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko_certvalidator import ValidationContext

    try:
        cert = load_cert_from_pemder(trust_cert_path)
    except Exception as exc:
        raise TrustRootError(f"{type(exc).__name__}: {exc}") from exc
    return ValidationContext(trust_roots=[cert])


def verify_pdf(data: bytes, trust_cert_path: str = "") -> SignatureCheck:
    """Check the PDF's signatures: each must be intact, valid and cover the whole file; the
    signer is trusted only against ``trust_cert_path`` (no trust root: not confirmed).

    Never says a signature is valid about a file changed after signing: a changed file is
    reported as such, whatever else pyHanko found."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    signatures = reader.embedded_signatures
    if not signatures:
        return SignatureCheck(signed=False, lines=("Not signed.",))
    context = _trust_context(trust_cert_path) if trust_cert_path else None
    intact = valid = trusted = True
    signer = ""
    for embedded in signatures:
        try:
            status = (validate_pdf_signature(embedded, context) if context
                      else validate_pdf_signature(embedded))
        except Exception:
            intact = valid = trusted = False
            continue
        intact &= bool(status.intact)
        valid &= bool(status.valid)
        trusted &= bool(status.trusted) and context is not None
        try:
            signer = status.signing_cert.subject.human_friendly
        except Exception:
            signer = signer or "an unknown signer"
        covers = str(getattr(status, "coverage", ""))
        if "ENTIRE_FILE" not in covers:
            # bytes were added after the signed revision: the signature does not cover them
            intact = False
    lines = [f"Signed by {signer or 'an unknown signer'}."]
    if not intact:
        lines.append("MODIFIED: the signature does not cover the changed bytes; the file was "
                     "changed after it was signed, so it is not the document as issued.")
    elif not valid:
        lines.append("INVALID: the signature does not match the signed bytes.")
    else:
        lines.append("Intact: no byte changed since signing; the signature is valid.")
        if context is None:
            lines.append("The signer cannot be confirmed: no certificate to trust was given "
                         "(--trust-cert or CASETRACKER_SIGNING_CERT).")
        elif trusted:
            lines.append(f"The signer's certificate is trusted ({trust_cert_path}).")
        else:
            lines.append(f"The signer's certificate is NOT trusted by {trust_cert_path}.")
    return SignatureCheck(True, intact, valid, trusted and intact and valid, trust_cert_path,
                          signer, tuple(lines))
