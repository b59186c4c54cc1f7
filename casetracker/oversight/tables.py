"""Tables of the oversight package.

- ``EarlyInterventionRule``: the configurable early-intervention thresholds (warning and
  critical levels over a rolling window). The defaults live in oversight/early_intervention.py;
  a row here overrides the default of the same ``key``.
- ``FlagAcknowledgement``: a flag acknowledged with the intervention taken. A flag is identified
  by its ``flag_key`` (subject, rule, level and the newest case behind it), so a new complaint
  after the acknowledgement raises the flag again.
- ``LegacyImportRun``, ``LegacyComplaintDetail``, ``LegacyAllegationDetail``,
  ``LegacyComplainant``: historical records brought in with ``casetracker import
  legacy-complaints``; the original values our schema has no place for are kept here so that
  counts by the original category and finding still work.
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from casetracker.accounts.tables import User
from casetracker.cases.tables import Allegation, Case
from casetracker.registry.tables import Agency


class EarlyInterventionRule(Table, tablename="oversight_ei_rule"):
    key = Varchar(length=40, unique=True)
    subject = Varchar(length=10, default="officer")  # officer | agency
    # complaints | profiling | sustained_profiling
    measure = Varchar(length=30, default="complaints")
    window_days = Integer(default=365)
    warning_at = Integer(default=0)  # 0 = no warning level
    critical_at = Integer(default=0)  # 0 = no critical level
    # agency rules: thresholds multiplied by the agency's number of designated officers
    scale_by_officers = Boolean(default=False)
    enabled = Boolean(default=True)
    updated_by = ForeignKey(references=User, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class FlagAcknowledgement(Table, tablename="oversight_flag_ack"):
    flag_key = Varchar(length=200, index=True)
    subject_type = Varchar(length=10)  # officer | agency
    subject_id = Integer(index=True)
    rule_key = Varchar(length=40)
    level = Varchar(length=10)  # warning | critical
    count = Integer(default=0)
    case_ids = JSON(default=[])
    note = Text(default="")
    acknowledged_by = ForeignKey(references=User, null=True, default=None)
    acknowledged_at = Timestamptz(default=TimestamptzNow())


class LegacyImportRun(Table, tablename="oversight_legacy_run"):
    source = Varchar(length=40, index=True)
    mapping_name = Varchar(length=200, default="")
    mapping = JSON(default={})
    files = JSON(default={})
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    started_by = Varchar(length=254, default="")
    complaints_read = Integer(default=0)
    complaints_loaded = Integer(default=0)
    complaints_duplicate = Integer(default=0)
    complaints_rejected = Integer(default=0)
    accused_read = Integer(default=0)
    accused_loaded = Integer(default=0)
    accused_rejected = Integer(default=0)
    complainants_read = Integer(default=0)
    complainants_loaded = Integer(default=0)
    complainants_rejected = Integer(default=0)
    rejected_sample = JSON(default=[])


class LegacyComplaintDetail(Table, tablename="oversight_legacy_complaint"):
    case = ForeignKey(references=Case, index=True)
    run = ForeignKey(references=LegacyImportRun, null=True, default=None, index=True)
    source = Varchar(length=40, index=True)
    legacy_id = Varchar(length=64, index=True)
    original_category = Varchar(length=200, default="", index=True)
    original_category_code = Varchar(length=40, default="")
    original_status = Varchar(length=100, default="")
    investigating_body = Varchar(length=100, default="")
    extra = JSON(default={})


class LegacyAllegationDetail(Table, tablename="oversight_legacy_allegation"):
    allegation = ForeignKey(references=Allegation, index=True)
    case = ForeignKey(references=Case, index=True)
    source = Varchar(length=40, index=True)
    legacy_officer_id = Varchar(length=64, default="", index=True)
    original_category = Varchar(length=200, default="", index=True)
    original_category_code = Varchar(length=40, default="")
    original_finding = Varchar(length=100, default="", index=True)
    penalty = Varchar(length=200, default="")


class LegacyComplainant(Table, tablename="oversight_legacy_complainant"):
    case = ForeignKey(references=Case, index=True)
    source = Varchar(length=40, index=True)
    role = Varchar(length=60, default="")
    race = Varchar(length=60, default="", index=True)
    gender = Varchar(length=30, default="")
    birth_year = Integer(null=True, default=None)


class PortfolioAgency(Table, tablename="oversight_portfolio"):
    """An agency in a staff member's portfolio ("my agencies"): their dashboards, queues and
    flags can be filtered to it, and its early-intervention flags notify them."""

    user = ForeignKey(references=User, index=True)
    agency = ForeignKey(references=Agency, index=True)
    added_at = Timestamptz(default=TimestamptzNow())


class FlagNotice(Table, tablename="oversight_flag_notice"):
    """A flag (by its key) notified to a portfolio owner, so each is notified once."""

    flag_key = Varchar(length=200, index=True)
    user = ForeignKey(references=User, index=True)
    notified_at = Timestamptz(default=TimestamptzNow())
