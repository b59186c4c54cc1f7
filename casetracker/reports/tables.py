"""Tables of the reports package: rescission recommendations and their issued documents."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from casetracker.accounts.tables import User
from casetracker.cases.tables import Case
from casetracker.registry.tables import Agency, Agreement, Designation


class RecommendationKind(str, Enum):
    officers = "officers"  # revoke one or more officers' delegated authority
    agreement = "agreement"  # suspend or terminate one agreement


class RecommendedAction(str, Enum):
    revocation = "revocation"  # officers: letter of revocation / notice of withdrawal
    suspension = "suspension"  # agreement: immediate suspension pending investigation
    termination = "termination"  # agreement: termination on 90 days' notice


class RecommendationStatus(str, Enum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    issued = "issued"


class Classification(str, Enum):
    sensitive = "sensitive"  # contains complainant information
    public = "public"  # redacted: no complainant identities, no narratives


class Recommendation(Table, tablename="recommendation"):
    Kind = RecommendationKind
    Action = RecommendedAction
    Status = RecommendationStatus

    # Shown to people; assigned when issued (RR-2026-0007), unique.
    number = Varchar(length=24, null=True, default=None, unique=True)
    kind = Varchar(length=12, choices=RecommendationKind, index=True)
    action = Varchar(length=12, choices=RecommendedAction)
    status = Varchar(length=12, choices=RecommendationStatus, default="draft", index=True)
    classification = Varchar(length=12, choices=Classification, default="sensitive")
    agency = ForeignKey(references=Agency, index=True)
    agreement = ForeignKey(references=Agreement, index=True)

    # the text staff edit (proposed by the system)
    addressee = Varchar(length=300, default="")
    sender = Varchar(length=300, default="")
    subject = Varchar(length=300, default="")
    summary = Text(default="")
    grounds = Text(default="")
    requested_action = Text(default="")
    proposed_effective_on = Date(null=True, default=None)
    suspension_days = Integer(null=True, default=None)
    notice_days = Integer(null=True, default=None)
    response_instructions = Text(default="")
    corrective_measures = Text(default="")

    # corrections: a new version naming the one it supersedes
    version = Integer(default=1)
    supersedes = Integer(null=True, default=None, index=True)  # id of the earlier recommendation
    correction_reason = Text(default="")

    # workflow
    author = ForeignKey(references=User, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)
    submitted_by = ForeignKey(references=User, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    approved_by = ForeignKey(references=User, null=True, default=None)
    approval_comment = Text(default="")
    issued_at = Timestamptz(null=True, default=None, index=True)
    issued_by = ForeignKey(references=User, null=True, default=None)

    # the frozen document (the variant its classification names)
    document_sha256 = Varchar(length=64, default="", index=True)
    document_key = Varchar(length=200, default="")
    document_size = Integer(null=True, default=None)
    document_signed = Varchar(length=8, default="")  # "" | "pyhanko"
    # a sensitive recommendation is also issued as the redacted variant, frozen the same way:
    # what everyone without the complainant-contact permission downloads
    redacted_sha256 = Varchar(length=64, default="", index=True)
    redacted_key = Varchar(length=200, default="")
    redacted_size = Integer(null=True, default=None)

    # choices the action needs (rules.plan_for): a WSO agreement action's timing
    # ("notice_90" | "exigent"), and the §VIII process a JEM revocation of every designated
    # officer amounts to ("suspension" | "termination")
    timing = Varchar(length=12, default="")
    viii_process = Varchar(length=12, default="")
    # who last wrote each staff-written field: {"summary": user_id, ...} (JSON)
    text_authors = Text(default="{}")
    # after issue: when the office follows up if ICE has not answered
    follow_up_on = Date(null=True, default=None, index=True)


class RecommendationOfficer(Table, tablename="recommendation_officer"):
    recommendation = ForeignKey(references=Recommendation, index=True)
    designation = ForeignKey(references=Designation, index=True)


class RecommendationCase(Table, tablename="recommendation_case"):
    recommendation = ForeignKey(references=Recommendation, index=True)
    case = ForeignKey(references=Case, index=True)


class DocumentSequence(Table, tablename="document_sequence"):
    """The last number used per prefix and year (RR-2026-0007 → prefix RR, year 2026, 7)."""

    prefix = Varchar(length=8)
    year = Integer()
    last = Integer(default=0)
    key = Varchar(length=20, unique=True)  # "RR-2026"


class RecommendationDetermination(Table, tablename="recommendation_determination"):
    """A determination an action needs (rules.DETERMINATIONS), made and explained by a person.
    One row per recommendation and key; whoever changes it becomes the one who made it."""

    recommendation = ForeignKey(references=Recommendation, index=True)
    key = Varchar(length=40)
    reason = Text(default="")
    decided_by = ForeignKey(references=User)
    decided_at = Timestamptz(default=TimestamptzNow())


class IceResponse(Table, tablename="ice_response"):
    """What ICE did about one target of an issued recommendation (an officer's designation or
    the agreement): revoked, suspended, terminated (with the date it took effect) or declined
    (with ICE's reason). Several rows per target over time; the latest is the current one."""

    recommendation = ForeignKey(references=Recommendation, index=True)
    designation = ForeignKey(references=Designation, null=True, default=None, index=True)
    agreement = ForeignKey(references=Agreement, null=True, default=None, index=True)
    outcome = Varchar(length=12)  # revoked | suspended | terminated | declined
    acted_on = Date(null=True, default=None)
    reason = Text(default="")
    ice_reference = Varchar(length=120, default="")
    registry_change = Varchar(length=40, default="")  # what the registry did ("" = nothing)
    recorded_by = ForeignKey(references=User)
    recorded_at = Timestamptz(default=TimestamptzNow())
