"""Cases: a complaint as filed, and everything staff do to it.

A case *is* the complaint (its content lives here so lists and search need no join); the
complainant's contact details live apart (intake.tables.ComplainantContact) because fewer people
may see them.
"""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from casetracker.accounts.tables import User
from casetracker.registry.tables import Agency, Agreement, Officer


class CaseStatus(str, Enum):
    received = "received"
    in_triage = "in_triage"
    declined = "declined"
    referred = "referred"
    open = "open"
    under_investigation = "under_investigation"
    findings_submitted = "findings_submitted"
    under_review = "under_review"
    returned = "returned"  # returned to investigation by the reviewer
    closed = "closed"


class Channel(str, Enum):
    web = "web"
    api = "api"
    phone = "phone"
    mail = "mail"
    email = "email"
    in_person = "in_person"
    referral = "referral"  # sent to us by another body (intake.tables.StaffIntake)
    legacy = "legacy"


class Setting(str, Enum):
    traffic_stop = "traffic_stop"
    street = "street"
    jail_booking = "jail_booking"
    home = "home"
    workplace = "workplace"
    other = "other"


class Context287g(str, Enum):
    unknown = "unknown"
    jail_screening = "jail_screening"
    warrant_service = "warrant_service"
    field = "field"


class AllegationType(str, Enum):
    racial_profiling = "racial_profiling"  # racial profiling / bias (with the characteristic)
    unlawful_stop = "unlawful_stop"
    unlawful_detention = "unlawful_detention"  # detention or detainer
    search = "search"
    force = "force"
    language_access = "language_access"
    discourtesy = "discourtesy"
    other = "other"


class Finding(str, Enum):
    # merits findings
    sustained = "sustained"
    not_sustained = "not_sustained"
    unfounded = "unfounded"
    exonerated = "exonerated"
    # systemic
    policy_failure = "policy_failure"
    training_failure = "training_failure"
    # closures without merits
    withdrawn = "withdrawn"
    mediated = "mediated"
    officer_unidentified = "officer_unidentified"
    complainant_unavailable = "complainant_unavailable"
    administratively_closed = "administratively_closed"
    referred = "referred"
    pending_litigation = "pending_litigation"


MERITS_FINDINGS = frozenset({"sustained", "not_sustained", "unfounded", "exonerated"})
SYSTEMIC_FINDINGS = frozenset({"policy_failure", "training_failure"})


class ReferralBody(str, Enum):
    agency_ia = "agency_ia"  # the agency's internal affairs
    ice_officer = "ice_officer"  # ICE officer (the 48-hour notification)
    ice_opr = "ice_opr"
    dhs_oig = "dhs_oig"
    dhs_jic = "dhs_jic"  # DHS Joint Intake Center
    dhs_crcl = "dhs_crcl"
    doj_crt = "doj_crt"  # DOJ Civil Rights Division
    other = "other"


class Case(Table, tablename="ct_case"):
    Status = CaseStatus

    tracking_number = Varchar(length=20, unique=True)
    # HMAC-SHA256 of the public access code (never the code itself)
    access_code_hash = Varchar(length=64, default="")
    status = Varchar(length=24, choices=CaseStatus, default="received", index=True)
    channel = Varchar(length=12, choices=Channel, default="web")
    language = Varchar(length=8, default="en")
    received_at = Timestamptz(default=TimestamptzNow(), index=True)

    # the incident
    incident_date = Date(null=True, default=None, index=True)
    incident_date_precision = Varchar(length=8, default="day")  # day | month | unknown
    incident_time = Varchar(length=8, default="")  # HH:MM, optional
    incident_location = Varchar(length=300, default="")
    incident_city = Varchar(length=100, default="")
    incident_state = Varchar(length=2, default="", index=True)
    incident_setting = Varchar(length=20, choices=Setting, default="other")
    context_287g = Varchar(length=20, choices=Context287g, default="unknown")

    # what happened
    narrative = Text(default="")
    checklist = JSON(default=[])
    protected_characteristics = JSON(default=[])
    protected_other = Varchar(length=200, default="")
    harm = Text(default="")

    # the complainant, without identity (identity lives in intake.ComplainantContact)
    complainant_role = Varchar(length=12, default="victim")  # victim | third_party
    anonymous = Boolean(default=False)
    consent_share_agency = Boolean(default=False)
    consent_share_ice = Boolean(default=False)
    late_filing = Boolean(default=False)

    # links and workflow
    agency = ForeignKey(references=Agency, null=True, default=None, index=True)
    agreement = ForeignKey(references=Agreement, null=True, default=None, index=True)
    lead_investigator = ForeignKey(references=User, null=True, default=None, index=True)
    officer_unidentified = Boolean(default=False)
    decision_reason = Text(default="")
    referred_to = Varchar(length=20, default="")
    outcome = Varchar(length=40, default="")  # a Finding value summarising the closure

    # 287(g) clocks (UTC); *_at = when it happened, *_due_at = when it is due
    triage_due_at = Timestamptz(null=True, default=None)
    triaged_at = Timestamptz(null=True, default=None)
    ice_notification_required = Boolean(default=False)
    ice_notification_due_at = Timestamptz(null=True, default=None, index=True)
    ice_notified_at = Timestamptz(null=True, default=None)
    resolution_due_at = Timestamptz(null=True, default=None, index=True)
    resolved_at = Timestamptz(null=True, default=None, index=True)
    results_due_at = Timestamptz(null=True, default=None)
    results_reported_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)

    legacy_source = Varchar(length=40, default="", index=True)
    legacy_id = Varchar(length=64, default="", index=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class CaseOfficer(Table, tablename="case_officer"):
    """An officer as the complainant described them; triage links it to the registry."""

    case = ForeignKey(references=Case, index=True)
    position = Integer(default=0)
    name = Varchar(length=200, default="")
    badge_number = Varchar(length=40, default="", index=True)
    agency = ForeignKey(references=Agency, null=True, default=None, index=True)
    agency_text = Varchar(length=200, default="")
    rank = Varchar(length=60, default="")
    description = Text(default="")
    vehicle = Varchar(length=200, default="")
    officer = ForeignKey(references=Officer, null=True, default=None, index=True)
    unidentified = Boolean(default=False)


class Witness(Table, tablename="witness"):
    case = ForeignKey(references=Case, index=True)
    position = Integer(default=0)
    name = Varchar(length=200, default="")
    contact = Varchar(length=300, default="")
    statement = Text(default="")


class Allegation(Table, tablename="allegation"):
    Type = AllegationType
    Finding = Finding

    case = ForeignKey(references=Case, index=True)
    case_officer = ForeignKey(references=CaseOfficer, null=True, default=None, index=True)
    officer = ForeignKey(references=Officer, null=True, default=None, index=True)
    allegation_type = Varchar(length=24, choices=AllegationType, index=True)
    protected_characteristic = Varchar(length=24, default="", index=True)
    description = Text(default="")
    recommended_finding = Varchar(length=30, default="")
    recommended_rationale = Text(default="")
    recommended_standard = Varchar(length=40, default="preponderance")
    recommended_action = Text(default="")
    recommended_at = Timestamptz(null=True, default=None)
    recommended_by = ForeignKey(references=User, null=True, default=None)
    final_finding = Varchar(length=30, default="", index=True)
    final_rationale = Text(default="")
    final_at = Timestamptz(null=True, default=None)
    final_by = ForeignKey(references=User, null=True, default=None)
    review_comment = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class CaseAssignment(Table, tablename="case_assignment"):
    case = ForeignKey(references=Case, index=True)
    investigator = ForeignKey(references=User, index=True)
    assigned_by = ForeignKey(references=User, null=True, default=None)
    assigned_at = Timestamptz(default=TimestamptzNow())
    reason = Text(default="")


class CaseNote(Table, tablename="case_note"):
    case = ForeignKey(references=Case, index=True)
    author = ForeignKey(references=User, null=True, default=None)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class Task(Table, tablename="case_task"):
    case = ForeignKey(references=Case, index=True)
    title = Varchar(length=300)
    due_on = Date(null=True, default=None, index=True)
    assignee = ForeignKey(references=User, null=True, default=None, index=True)
    done_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(references=User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Interview(Table, tablename="interview"):
    case = ForeignKey(references=Case, index=True)
    interviewee = Varchar(length=200)
    interviewee_role = Varchar(length=20, default="other")  # complainant|witness|officer|other
    held_at = Timestamptz(null=True, default=None)
    language = Varchar(length=40, default="")
    interpreter = Varchar(length=200, default="")
    summary = Text(default="")
    recorded_by = ForeignKey(references=User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Referral(Table, tablename="referral"):
    Body = ReferralBody

    case = ForeignKey(references=Case, index=True)
    body = Varchar(length=20, choices=ReferralBody)
    body_other = Varchar(length=200, default="")
    sent_on = Date(null=True, default=None)
    reference_number = Varchar(length=100, default="")
    acknowledged_on = Date(null=True, default=None)
    outcome = Text(default="")
    outcome_on = Date(null=True, default=None)
    is_ice_notification = Boolean(default=False)
    created_by = ForeignKey(references=User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SavedFilter(Table, tablename="saved_filter"):
    """A filtered case list a person named ("My profiling cases in Texas"); it appears in
    their navigation. ``query`` holds the list's URL query string (filters and sort only)."""

    owner = ForeignKey(references=User, index=True)
    name = Varchar(length=80)
    query = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class DashboardFigures(Table, tablename="dashboard_figures"):
    """The dashboard's counts for a whole scope of cases ("all", "triage"), counted by the
    periodic job ``cases.dashboard_figures`` when the case table is large (see
    cases/listing.py); ``figures`` is a JSON object of counts."""

    scope = Varchar(length=20, unique=True)
    figures = Text(default="{}")
    computed_at = Timestamptz(default=TimestamptzNow())
