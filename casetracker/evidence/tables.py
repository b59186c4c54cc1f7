"""Evidence items, the allegations they bear on, and their chain of custody."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
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

from casetracker.accounts.tables import User
from casetracker.cases.tables import Allegation, Case
from casetracker.intake.tables import FollowUp


class EvidenceSource(str, Enum):
    complainant = "complainant"
    agency = "agency"
    ice = "ice"
    investigator = "investigator"
    other = "other"


class CustodyAction(str, Enum):
    received = "received"
    viewed = "viewed"
    downloaded = "downloaded"
    exported = "exported"  # exported into a report
    verified = "verified"
    verify_failed = "verify_failed"
    withdrawn = "withdrawn"


class EvidenceItem(Table, tablename="evidence_item"):
    Source = EvidenceSource

    case = ForeignKey(references=Case, index=True)
    follow_up = ForeignKey(references=FollowUp, null=True, default=None)
    original_name = Varchar(length=255, default="")  # kept only as data, never as a path
    description = Text(default="")
    source = Varchar(length=20, choices=EvidenceSource, default="complainant")
    obtained_on = Date(null=True, default=None)
    content_type = Varchar(length=100, default="application/octet-stream")
    kind = Varchar(length=12, default="other")  # image|video|audio|pdf|document|text|other
    size_bytes = BigInt(default=0)
    sha256 = Varchar(length=64, index=True)
    storage_key = Varchar(length=200)
    received_at = Timestamptz(default=TimestamptzNow())
    received_by = ForeignKey(references=User, null=True, default=None)
    duplicate_of = Integer(null=True, default=None)  # id of the earlier item with the same hash
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_by = ForeignKey(references=User, null=True, default=None)
    withdrawn_reason = Text(default="")
    last_verified_at = Timestamptz(null=True, default=None)
    last_verified_ok = Boolean(null=True, default=None)
    # a PNG/JPEG/GIF/WebP that Pillow opened at receipt: the only items shown inline
    image_verified = Boolean(default=False)


class EvidenceAllegation(Table, tablename="evidence_allegation"):
    item = ForeignKey(references=EvidenceItem, index=True)
    allegation = ForeignKey(references=Allegation, index=True)


class CustodyEvent(Table, tablename="custody_event"):
    Action = CustodyAction

    item = ForeignKey(references=EvidenceItem, index=True)
    action = Varchar(length=16, choices=CustodyAction)
    actor_id = Integer(null=True, default=None)
    actor_label = Varchar(length=254, default="")
    at = Timestamptz(default=TimestamptzNow())
    purpose = Text(default="")
    ip_address = Varchar(length=64, null=True, default=None)


class StagingHold(Table, tablename="evidence_staging_hold"):
    """A staged file that a feature keeps on purpose until ``held_until`` (a public complaint's
    files while the person checks their answers): the sweep leaves it alone until then.
    ``name`` is the staged file's generated name, never the person's file name."""

    name = Varchar(length=200, unique=True)
    held_until = Timestamptz(default=TimestamptzNow(), index=True)
