"""The 287(g) registry: agencies, their agreements (MOAs), officers and designations."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    JSON,
    BigInt,
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


class AgencyKind(str, Enum):
    county = "county"
    municipality = "municipality"
    state = "state"
    other = "other"


class Model(str, Enum):
    JEM = "JEM"
    WSO = "WSO"
    TFM = "TFM"


MODEL_LABELS = {
    "JEM": "Jail Enforcement Model",
    "WSO": "Warrant Service Officer",
    "TFM": "Task Force Model",
}


class AgreementStatus(str, Enum):
    pending = "pending"
    active = "active"
    suspended = "suspended"
    terminated = "terminated"
    no_longer_listed = "no_longer_listed"


class DesignationStatus(str, Enum):
    active = "active"
    suspended = "suspended"  # suspended pending adjudication
    revoked = "revoked"


class Agency(Table, tablename="agency"):
    Kind = AgencyKind

    name = Varchar(length=200, index=True)
    state = Varchar(length=2, index=True)
    county = Varchar(length=100, default="")
    kind = Varchar(length=20, choices=AgencyKind, default=AgencyKind.county)
    # state + normalised name: how the ICE sheet's rows find their agency again
    match_key = Varchar(length=260, unique=True)
    # From the agreement snapshot file (``registry import-history``); empty / None when unknown.
    ori = Varchar(length=12, default="")  # the FBI's Originating Agency Identifier
    agency_type = Varchar(length=80, default="")  # "Sheriff", "Local Police", ...
    population_policed = Integer(null=True, default=None)
    operating_budget = BigInt(null=True, default=None)  # U.S. dollars a year
    # Set when an administrator merged this record into another: it stays as an alias that
    # imports and searches resolve to that agency (a plain id, like the merge that set it).
    merged_into = Integer(null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Agreement(Table, tablename="agreement"):
    Model = Model
    Status = AgreementStatus

    agency = ForeignKey(references=Agency, index=True)
    model = Varchar(length=3, choices=Model, index=True)
    signed_on = Date(null=True, default=None)
    signed_raw = Varchar(length=40, default="")
    status = Varchar(length=20, choices=AgreementStatus, index=True)
    moa_url = Varchar(length=500, default="")
    # the sheet said "link pending": an MOA exists but ICE has not published it yet
    moa_pending = Boolean(default=False)
    revision = Varchar(length=60, default="")
    addendum = Varchar(length=500, default="")
    last_seen_sheet = Varchar(length=120, default="")
    # Set when an agency merge folded this agreement into the kept agency's agreement of the
    # same model (its designations, cases and listings moved there); imports ignore it.
    merged_into = Integer(null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Officer(Table, tablename="officer"):
    agency = ForeignKey(references=Agency, index=True)
    name = Varchar(length=200, index=True)
    badge_number = Varchar(length=40, default="", index=True)
    rank = Varchar(length=60, default="")
    active = Boolean(default=True)
    # Proposed by intake at triage (the officer is not in ICE's sheet): a supervisor confirms
    # it or merges it with an existing officer. Plain ids, not foreign keys, so the registry
    # does not depend on the accounts and cases apps.
    awaiting_confirmation = Boolean(default=False, index=True)
    proposed_by_id = Integer(null=True, default=None)
    proposed_case_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Designation(Table, tablename="designation"):
    Status = DesignationStatus

    officer = ForeignKey(references=Officer, index=True)
    agreement = ForeignKey(references=Agreement, index=True)
    authorised_on = Date(null=True, default=None)
    authorisation_expires_on = Date(null=True, default=None)
    training_completed_on = Date(null=True, default=None)
    last_refresher_on = Date(null=True, default=None)
    status = Varchar(length=20, choices=DesignationStatus, default="active", index=True)
    status_changed_on = Date(null=True, default=None)
    status_reason = Text(default="")
    suspended_on = Date(null=True, default=None)
    suspension_lifted_on = Date(null=True, default=None)
    revoked_on = Date(null=True, default=None)
    # the case (if any) that led to the last status change; a plain id, not a foreign key, so
    # the registry does not depend on the cases app
    status_case_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ListingKind(str, Enum):
    participating = "participating"
    pending = "pending"


class AgreementListing(Table, tablename="agreement_listing"):
    """One appearance of an agreement on one of ICE's lists: each imported sheet, and each
    snapshot of the history file. ``snapshot`` names the list ("2025-05-16 am"); at most one
    row per agreement, snapshot and kind."""

    Kind = ListingKind

    agreement = ForeignKey(references=Agreement, index=True)
    listed_on = Date(index=True)
    snapshot = Varchar(length=20, index=True)
    kind = Varchar(length=14, choices=ListingKind, default=ListingKind.participating)
    source = Varchar(length=120, default="")  # the sheet or file it came from
    created_at = Timestamptz(default=TimestamptzNow())


class AgencyMerge(Table, tablename="agency_merge"):
    """An administrator merged ``merged`` into ``kept``: what moved (table, column, row ids,
    from, to), the rows that referred to the moved agreements and officers then (undo is
    refused once others do), and the undo if any."""

    kept = ForeignKey(references=Agency, index=True)
    merged = ForeignKey(references=Agency, index=True)
    reason = Text(default="")
    moves = JSON(default=[])
    referring_rows = JSON(default={})
    merged_at = Timestamptz(default=TimestamptzNow())
    merged_by = Varchar(length=200, default="")
    undone_at = Timestamptz(null=True, default=None)
    undone_by = Varchar(length=200, default="")


class ProgramManagerLevel(str, Enum):
    national = "national"
    field = "field"


class ProgramManager(Table, tablename="program_manager"):
    """An ICE 287(g) program manager: national (headquarters) or field (an ERO field office),
    with the area they are responsible for and the agreements they monitor."""

    Level = ProgramManagerLevel

    name = Varchar(length=200, index=True)
    level = Varchar(length=10, choices=ProgramManagerLevel, default=ProgramManagerLevel.field)
    # e.g. "ERO New Orleans Field Office: Alabama, Arkansas, Louisiana, Mississippi, Tennessee"
    area = Varchar(length=300, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=40, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AgreementMonitor(Table, tablename="agreement_monitor"):
    """A program manager monitors an agreement (at most one row per pair)."""

    program_manager = ForeignKey(references=ProgramManager, index=True)
    agreement = ForeignKey(references=Agreement, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
