"""The clause library: every provision a rescission recommendation quotes, with its source.

Pure data. Each ``Clause`` holds the exact words of one provision (``quotation``), the section
they stand in, the template texts they were checked against, and our paraphrase kept apart
(``paraphrase``: shown to staff on the review page and in docs/reports.md, never printed in a
document as if it were the agreement's words).

The texts are ICE's published 287(g) agreement templates as signed by one agency each; this
office holds one signed copy per model and year (``TEMPLATE_TEXTS``; the files are in
shared/reference/moa/). ``reference_texts.verify_library`` reads those files and fails when a
quotation is not found in them, in its section, after normalising what PDF extraction did to
them (see that module). ``tests/unit/test_reports_clauses.py`` runs it.

Quotation conventions:
- ``{LEA}`` stands where the template says "LEA". The 2020 WSO copy held here names the agency
  by its own acronym instead ("WCSO"); printed from that text, the word appears as "[LEA]"
  (square brackets: an alteration of the quoted words), so no other agency's name is printed.
- `` … `` (an ellipsis between spaces) joins two parts of one section with words left out
  between them; each part must be found, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

LEA = "{LEA}"
ELLIPSIS = " … "


@dataclass(frozen=True)
class TemplateText:
    """One published agreement template, as held by this office (one agency's signed copy)."""

    key: str  # "JEM-2020"
    model: str  # JEM | WSO
    year: int  # 2020 | 2025
    label: str  # how documents name it
    reference_file: str  # under shared/reference/moa/
    party: str  # the word the held copy uses for the agency where the template says "LEA"
    # whose signed copy this is: used only to tell whether a recommendation's own agreement is
    # the one held; never printed on another agency's document
    held_agency: str
    held_state: str
    held_date: date


TEMPLATE_TEXTS: dict[str, TemplateText] = {t.key: t for t in (
    TemplateText("JEM-2020", "JEM", 2020, "the 2020 JEM template text, as published by ICE",
                 "JEM_Galveston_County_TX_MOA_2020-06-08.txt", "LEA",
                 "Galveston County Sheriff's Office", "TX", date(2020, 6, 8)),
    TemplateText("JEM-2025", "JEM", 2025, "the 2025 JEM template text, as published by ICE",
                 "JEM_Grayson_County_KY_MOA_rev2025-02-15.txt", "LEA",
                 "Grayson County Detention Center", "KY", date(2025, 2, 15)),
    TemplateText("WSO-2020", "WSO", 2020, "the 2020 WSO template text, as published by ICE",
                 "WSO_Waller_County_TX_MOA_2020-02-12.txt", "WCSO",
                 "Waller County Sheriff's Office", "TX", date(2020, 2, 12)),
    TemplateText("WSO-2025", "WSO", 2025, "the 2025 WSO template text, as published by ICE",
                 "WSO_Hardee_County_FL_MOA_rev2025-02-14.txt", "LEA",
                 "Hardee County Sheriff's Office", "FL", date(2025, 2, 14)),
)}

# Section headings as the templates print them.
SECTION_HEADINGS = {
    "§III": "Authority",
    "§IV.D": "Certification and Authorization",
    "§IV.I": "Civil Rights Standards",
    "§VIII:JEM": "Effective Date, Suspension, and Termination of this MOA",
    "§VIII:WSO": "Effective Date and Termination of this MOA",
    "Appendix B": "Complaint Procedure",
    "Appendix B ¶3.B": "Interim Action Pending Complaint Resolution",
    "Appendix B ¶3.C": "Time Parameters for Resolution of Complaints or Allegations",
}


@dataclass(frozen=True)
class Clause:
    key: str
    texts: tuple[str, ...]  # TemplateText keys the quotation was checked against
    section: str  # "§IV.D"
    quotation: str  # the exact words ({LEA} and " … " as above)
    paraphrase: str  # our words, kept apart; never printed as the agreement's

    @property
    def model(self) -> str:
        return TEMPLATE_TEXTS[self.texts[0]].model

    @property
    def heading(self) -> str:
        key = f"{self.section}:{self.model}" if self.section == "§VIII" else self.section
        return SECTION_HEADINGS.get(key, "")

    def words(self, text_key: str, *, own_text: bool = False) -> str:
        """The quotation as printed from one template text: "[LEA]" where the held copy
        names its own agency, unless the copy held is the recommendation's own agreement."""
        party = TEMPLATE_TEXTS[text_key].party
        word = party if (party == "LEA" or own_text) else "[LEA]"
        return self.quotation.replace(LEA, word)


JEM = ("JEM-2020", "JEM-2025")
WSO = ("WSO-2020", "WSO-2025")
ALL = JEM + WSO

CLAUSES: dict[str, Clause] = {c.key: c for c in (
    # --- every text --------------------------------------------------------------------
    Clause(
        "authority", ALL, "§III",
        "Section 287(g) of the Immigration and Nationality Act (INA), 8 U.S.C. § 1357(g) (1996), "
        "as amended by the Homeland Security Act of 2002, Pub. L. No. 107-296, authorizes the "
        "Secretary of DHS to enter into written agreements with a State or any political "
        "subdivision of a State so that qualified personnel can perform certain functions of an "
        "immigration officer.",
        "The statute under which the agreement was made."),
    Clause(
        "civil_rights", ALL, "§IV.I",
        f"Participating {LEA} personnel are bound by all Federal civil rights laws, regulations, "
        "and guidance relating to non-discrimination, including the U.S. Department of Justice "
        "\"Guidance for Federal Law Enforcement Agencies Regarding the Use of Race, Ethnicity, "
        "Gender, National Origin, Religion, Sexual Orientation, or Gender Identity,\" dated "
        "December 2014",
        "Designated personnel are bound by federal civil-rights law and the DOJ's 2014 guidance "
        "on the use of race and ethnicity."),

    # --- JEM: officers (§IV.D) ----------------------------------------------------------
    Clause(
        "jem.revocation", JEM, "§IV.D",
        "LEA personnel may have their delegated authority revoked at any time for any reason.",
        "ICE may revoke an officer's delegated authority at any time, for any reason; no "
        "finding of exigency is needed."),
    Clause(
        "jem.revocation_letter", JEM, "§IV.D",
        "The letter of authorization issued to LEA personnel will remain valid until the LEA "
        "personnel is revoked via the issuance of a letter of revocation signed by the FOD.",
        "The instrument: a letter of revocation signed by the Field Office Director."),
    Clause(
        "jem.revocation_amounts_to_moa", JEM, "§IV.D",
        "However, where a revocation would effectively amount to the suspension/termination of "
        "the entire MOA (i.e. where a revocation would leave no participating LEA personnel "
        "available to carry out responsibilities under the 287(g) program), ICE will follow the "
        "suspension and termination notice processes described in Section VIII, below.",
        "Revoking the last designated officers is treated as suspending or terminating the "
        "agreement, with the §VIII notice processes."),
    Clause(
        "jem.credentials", JEM, "§IV.D",
        "Such credentials provided by ICE shall remain the property of ICE and shall be returned "
        "to ICE upon termination of this agreement, when a participating LEA employee ceases "
        "his/her participation, or when deemed necessary by the FOD.",
        "ICE credentials are returned when an officer stops participating or the agreement "
        "ends."),
    Clause(
        "jem.moa_end_revokes", JEM, "§IV.D",
        "The suspension or termination of this MOA, a process described in Section VIII, shall "
        "constitute immediate revocation of all immigration enforcement authorizations "
        "delegated hereunder.",
        "Suspending or terminating the agreement revokes every designation under it."),

    # --- JEM: the agreement (§VIII) -----------------------------------------------------
    Clause(
        "jem.suspension", JEM, "§VIII",
        "In instances where serious misconduct or violations of the terms of the MOA come to "
        "the attention of ICE, the ICE Director may, upon recommendation of the Executive "
        "Associate Director for Enforcement and Removal Operations, elect to immediately "
        "suspend the MOA pending investigation of the misconduct and/or violations.",
        "The ICE Director, on the ERO Executive Associate Director's recommendation, may "
        "suspend the agreement at once pending investigation of serious misconduct or "
        "violations."),
    Clause(
        "jem.suspension_notice", JEM, "§VIII",
        "Notice of the suspension will be provided to the LEA, and the notice will include, at a "
        "minimum,",
        "What ICE's notice of suspension must contain, at a minimum:"),
    Clause(
        "jem.suspension_notice.1", JEM, "§VIII",
        "(1) an overview of the reason(s) that ICE is suspending the 287(g) agreement,",
        "the reasons;"),
    Clause(
        "jem.suspension_notice.2", JEM, "§VIII",
        "(2) the length of the temporary suspension,",
        "how long the suspension lasts;"),
    Clause(
        "jem.suspension_notice.3", JEM, "§VIII",
        "(3) how the LEA can provide ICE with information regarding the alleged misconduct "
        "and/or violations, as well as any corrective measures it has undertaken.",
        "how the agency can answer and report corrective measures."),
    Clause(
        "jem.opportunity_to_respond", JEM, "§VIII",
        "ICE shall provide the LEA with a reasonable opportunity to respond to the alleged "
        "misconduct and/or violations and to take actions to implement corrective measures "
        "(e.g., replace the officer(s) who are the focus of the allegations).",
        "The agency gets a reasonable opportunity to respond and to correct (for example by "
        "replacing the officers concerned)."),
    Clause(
        "jem.termination_reserved", JEM, "§VIII",
        "If the LEA is working to take corrective measures, ICE will generally not terminate an "
        "agreement. The termination of an agreement is generally reserved in instances "
        "involving problems that are unresolvable and detrimental to the 287(g) Program.",
        "Termination is generally kept for unresolvable problems, not while the agency is "
        "correcting."),
    Clause(
        "jem.termination_notice", JEM, "§VIII",
        "If ICE decides to move from suspension to termination, ICE will provide the LEA a "
        "90-day notice in advance of the partnership being terminated. The notice will include, "
        "at a minimum:",
        "Termination follows suspension and takes a 90-day notice, which must contain, at a "
        "minimum:"),
    Clause(
        "jem.termination_notice.1", JEM, "§VIII",
        "(1) An overview of the reason(s) that ICE seeks to terminate the 287(g) agreement;",
        "the reasons;"),
    Clause(
        "jem.termination_notice.2", JEM, "§VIII",
        "(2) All available data on the total number of aliens identified under the 287(g) "
        "agreement;",
        "ICE's data on everyone identified under the agreement (ICE's data, not this "
        "office's);"),
    Clause(
        "jem.termination_notice.3", JEM, "§VIII",
        "(3) Examples of egregious criminal aliens identified under the 287(g) agreement.",
        "ICE's examples of people identified (ICE's data, not this office's)."),
    Clause(
        "jem.termination_published", JEM, "§VIII",
        "ICE's decision to terminate a MOA will be published on ICE's website 90 days in "
        "advance of the MOA's termination.",
        "ICE publishes a termination 90 days before it takes effect."),

    # --- JEM: complaints (Appendix B) ------------------------------------------------------
    Clause(
        "jem.complaint_notice", JEM, "Appendix B",
        "the LEA shall, to the extent allowed by State law, make timely notification to an ICE "
        "officer within 48 hours of the LEA receiving notice of the complaint or allegation, "
        "excluding weekends, of the existence and nature of the complaint or allegation.",
        "The agency tells an ICE officer of a complaint within 48 hours, weekends excluded."),
    Clause(
        "jem.complaint_results", JEM, "Appendix B",
        "The results of any internal investigation or inquiry connected to the complaint or "
        "allegation and the resolution of the complaint shall also be reported to an ICE "
        "officer, as soon as practicable, but no later than 30 days from the date of the "
        "resolution.",
        "Results go to ICE within 30 days of the resolution."),

    # --- WSO: officers (§IV.D) ------------------------------------------------------------
    Clause(
        "wso.withdrawal", WSO, "§IV.D",
        f"Authorization of participating {LEA} personnel to act pursuant to this MOA may be "
        "withdrawn at any time and for any reason by ICE and must be memorialized in a written "
        "notice of withdrawal identifying an effective date of withdrawal and the personnel to "
        f"whom the withdrawal pertains. Such withdrawal may be effectuated immediately upon "
        f"notice to the {LEA}.",
        "ICE may withdraw an officer's authorization at any time, for any reason, by a written "
        "notice naming the personnel and the effective date; it may take effect at once. No "
        "finding of exigency is needed."),
    Clause(
        "wso.credentials", WSO, "§IV.D",
        "Such credentials provided by ICE shall remain the property of ICE and shall be returned "
        f"to ICE upon termination of this agreement, when a participating {LEA} employee ceases "
        "his/her participation, or when deemed necessary by the FOD",
        "ICE credentials are returned when an officer stops participating or the agreement "
        "ends."),
    Clause(
        "wso.moa_end_revokes", WSO, "§IV.D",
        "The termination of this MOA shall constitute immediate revocation of all immigration "
        "enforcement authorizations delegated hereunder.",
        "Terminating the agreement revokes every authorization under it."),

    # --- WSO: the agreement (§VIII) -----------------------------------------------------
    Clause(
        "wso.notice", WSO, "§VIII",
        "This MOA becomes effective upon signature of both parties and will remain in effect "
        "until either party, upon 90-day written notice to the other party, provides notice of "
        "termination or suspension of the MOA.",
        "Either party may terminate or suspend the agreement on 90 days' written notice; the "
        "WSO text has no suspension pending investigation."),
    Clause(
        "wso.ice_notice_effect", WSO, "§VIII",
        "A termination or suspension notice by ICE shall be delivered personally or by "
        f"certified or registered mail to the {LEA} and termination or suspension shall take "
        "effect 90-days after receipt of such notice, unless exigent circumstances involving "
        "public safety dictate otherwise.",
        "ICE's notice takes effect 90 days after receipt, sooner only when exigent circumstances "
        "involving public safety dictate it."),

    # --- WSO: complaints (Appendix B) ----------------------------------------------------
    Clause(
        "wso.complaint_notice", WSO, "Appendix B",
        f"the {LEA} shall, to the extent allowed by State law, make timely notification to an "
        "ICE officer within 48 hours, excluding weekends, of the existence and nature of the "
        "complaint or allegation.",
        "The agency tells an ICE officer of a complaint within 48 hours, weekends excluded."),
    Clause(
        "wso.complaint_results", WSO, "Appendix B",
        "The results of any internal investigation or inquiry connected to the complaint or "
        "allegation and the resolution of the complaint shall also be reported to an ICE "
        "officer, as established by ICE.",
        "Results go to ICE as ICE establishes (no fixed number of days)."),
    Clause(
        "wso2020.interim_action", ("WSO-2020",), "Appendix B ¶3.B",
        f"When participating {LEA} personnel are under investigation for any reason that could "
        "lead to disciplinary action, demotion, or dismissal, or are alleged to have violated "
        "the terms of this MOA, ICE may suspend or revoke an individual's immigration "
        "enforcement authority and have that individual removed from participation in the "
        "activities covered under the MOA.",
        "While an officer is under investigation, ICE may suspend or revoke the officer's "
        "authority (2020 WSO text only). Not cited by recommendations, which rest on findings "
        "already sustained."),
    Clause(
        "wso2020.resolution_90_days", ("WSO-2020",), "Appendix B ¶3.C",
        "It is expected that any complaint received will be resolved within 90 days of receipt.",
        "Complaints are expected to be resolved within 90 days (2020 WSO text only). Not cited "
        "by recommendations."),
)}


def clause(key: str) -> Clause:
    return CLAUSES[key]
