"""The MOA sections a rescission recommendation cites, per model and text. Pure data.

Read from the agreement texts in shared/reference/moa/ (November 2026):
- JEM 2020 (Galveston County TX, 2020-06-08) and JEM 2025 (Grayson County KY, rev. 2025-02-15):
  §IV.D "Certification and Authorization" (revocation at any time for any reason, by a letter of
  revocation signed by the FOD); §VIII "Effective Date, Suspension, and Termination of this MOA"
  (immediate suspension pending investigation; termination on 90 days' notice); Appendix B
  "Complaint Procedure" (48 hours excluding weekends; results no later than 30 days from the
  resolution). Differences: 2020 routes complaints to ICE OPR via the Joint Intake Center
  (JointIntake@cbp.dhs.gov); 2025 to ICE OPR at ICEOPRIntake@ice.dhs.gov. The three-year
  internal review sentence is an addendum (Appendix C) in the 2020 text and part of §VIII in 2025.
- WSO 2020 (Waller County TX, 2020-02-12) and WSO 2025 (Hardee County FL, rev. 2025-02-14):
  §IV.D "Certification and Authorization" (written notice of withdrawal naming the personnel
  and the effective date; may take effect immediately); §VIII "Effective Date and Termination
  of this MOA" (either party, 90 days' written notice, for termination *or suspension*, unless
  exigent circumstances involving public safety; no immediate suspension pending
  investigation); Appendix B "Complaint Procedure" (48 hours excluding weekends; results "as
  established by ICE"). Differences: the 2020 WSO Appendix B also has ¶3.B "Interim Action
  Pending Complaint Resolution" (ICE may suspend or revoke an individual's authority) and
  ¶3.C (resolution expected within 90 days), which the 2025 text no longer contains.
- TFM: no TFM agreement text is held in shared/reference/moa/. TFM recommendations cite the
  JEM 2025 sections by analogy and say so in the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MOA_TEXT_2025_FROM = date(2025, 1, 1)


@dataclass(frozen=True)
class Citation:
    section: str  # "§IV.D"
    heading: str  # "Certification and Authorization"
    summary: str  # what the section provides, in our words (quoted phrases in quotes)


@dataclass(frozen=True)
class MoaBasis:
    model: str  # JEM | WSO | TFM
    text: str  # "2020" | "2025"
    source: str  # which reference text the citations were checked against
    by_analogy: bool  # True for TFM: no text held, cited by analogy
    revocation: Citation
    agreement_action: Citation
    complaints: tuple[Citation, ...]
    civil_rights: Citation
    note: str = ""


STATUTE = ("Section 287(g) of the Immigration and Nationality Act (INA §287(g)), "
           "8 U.S.C. 1357(g)")

_CIVIL_RIGHTS = Citation(
    "§IV.I", "Civil Rights Standards",
    "Participating LEA personnel are bound by all Federal civil rights laws, regulations and "
    "guidance relating to non-discrimination, including the DOJ Guidance for Federal Law "
    "Enforcement Agencies Regarding the Use of Race, Ethnicity, Gender, National Origin, "
    "Religion, Sexual Orientation, or Gender Identity (December 2014) and Title VI of the Civil "
    "Rights Act of 1964.")

_JEM_REVOCATION = Citation(
    "§IV.D", "Certification and Authorization",
    "\"LEA personnel may have their delegated authority revoked at any time for any reason.\" "
    "The authorization letter remains valid until revoked \"via the issuance of a letter of "
    "revocation signed by the FOD\"; where a revocation would leave no participating LEA "
    "personnel, the suspension and termination processes of Section VIII apply.")

_JEM_VIII = Citation(
    "§VIII", "Effective Date, Suspension, and Termination of this MOA",
    "Where serious misconduct or violations of the MOA come to ICE's attention, the ICE Director "
    "may, upon recommendation of the Executive Associate Director for Enforcement and Removal "
    "Operations, immediately suspend the MOA pending investigation. The notice states (1) the "
    "reasons, (2) the length of the temporary suspension and (3) how the LEA can provide "
    "information and any corrective measures (e.g. replacing the officers who are the focus of "
    "the allegations). Termination follows a 90-day notice stating (1) the reasons, (2) all "
    "available data on the aliens identified under the agreement and (3) examples; ICE publishes "
    "the decision on its website 90 days in advance.")

_WSO_REVOCATION = Citation(
    "§IV.D", "Certification and Authorization",
    "Authorization \"may be withdrawn at any time and for any reason by ICE and must be "
    "memorialized in a written notice of withdrawal identifying an effective date of withdrawal "
    "and the personnel to whom the withdrawal pertains\"; the withdrawal may take effect "
    "immediately upon notice to the LEA.")

_WSO_VIII = Citation(
    "§VIII", "Effective Date and Termination of this MOA",
    "Either party may terminate or suspend the MOA upon 90 days' written notice, delivered "
    "personally or by certified or registered mail; termination or suspension takes effect 90 "
    "days after receipt \"unless exigent circumstances involving public safety dictate "
    "otherwise\". The WSO text has no immediate suspension pending investigation.")


def _appendix_b(model: str, text: str) -> tuple[Citation, ...]:
    if model == "WSO":
        main = Citation(
            "Appendix B", "Complaint Procedure",
            "The LEA notifies an ICE officer within 48 hours, excluding weekends, of a complaint "
            "that may lead to discipline, a criminal investigation or a civil suit; results are "
            "reported to ICE \"as established by ICE\".")
        if text == "2020":
            return (main,
                    Citation("Appendix B ¶3.B", "Interim Action Pending Complaint Resolution",
                             "ICE may suspend or revoke an individual's immigration enforcement "
                             "authority while the officer is under investigation."),
                    Citation("Appendix B ¶3.C",
                             "Time Parameters for Resolution of Complaints or Allegations",
                             "Complaints are expected to be resolved within 90 days of receipt."))
        return (main,)
    return (Citation(
        "Appendix B", "Complaint Procedure",
        "The LEA notifies an ICE officer within 48 hours of receiving notice of a complaint, "
        "excluding weekends; the results and resolution are reported to ICE \"no later than 30 "
        "days from the date of the resolution\"."),)


def text_for(signed_on: date | None, revision: str = "") -> str:
    """Which reference text applies: agreements signed or revised in 2025 or later → 2025."""
    if "2025" in (revision or "") or "2026" in (revision or ""):
        return "2025"
    if signed_on is not None and signed_on >= MOA_TEXT_2025_FROM:
        return "2025"
    return "2020"


def basis_for(model: str, signed_on: date | None = None, revision: str = "") -> MoaBasis:
    text = text_for(signed_on, revision)
    if model == "WSO":
        source = ("WSO MOA, Waller County TX, 2020-02-12" if text == "2020"
                  else "WSO MOA, Hardee County FL, revised 2025-02-14")
        return MoaBasis("WSO", text, source, False, _WSO_REVOCATION, _WSO_VIII,
                        _appendix_b("WSO", text), _CIVIL_RIGHTS)
    if model == "TFM":
        return MoaBasis(
            "TFM", "2025", "JEM MOA, Grayson County KY, revised 2025-02-15 (by analogy)", True,
            _JEM_REVOCATION, _JEM_VIII, _appendix_b("JEM", "2025"), _CIVIL_RIGHTS,
            note="No Task Force Model agreement text is held by this office. The sections "
                 "below are cited by analogy to the 2025 Jail Enforcement Model text and must "
                 "be checked against the agency's signed TFM agreement before action is taken.")
    source = ("JEM MOA, Galveston County TX, 2020-06-08" if text == "2020"
              else "JEM MOA, Grayson County KY, revised 2025-02-15")
    return MoaBasis("JEM", text, source, False, _JEM_REVOCATION, _JEM_VIII,
                    _appendix_b("JEM", text), _CIVIL_RIGHTS)


def revocation_instrument(model: str) -> str:
    """How the officer-level action is carried out under the model's MOA."""
    if model == "WSO":
        return ("a written notice of withdrawal identifying the personnel to whom it pertains "
                "and the effective date of withdrawal (WSO MOA §IV.D)")
    if model == "TFM":
        return ("a written revocation of delegated authority naming the personnel and the "
                "effective date (by analogy to JEM MOA §IV.D; no TFM text held)")
    return "a letter of revocation signed by the Field Office Director (JEM MOA §IV.D)"
