"""What the public adds beside the case: the complainant's identity, and follow-ups."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from casetracker.cases.tables import Case


class ComplainantContact(Table, tablename="complainant_contact"):
    """Identity and contact of a named complainant. Anonymous complaints have no row.

    Visible only to roles the policy module allows (assigned investigator, supervisors);
    every view is audited."""

    case = ForeignKey(references=Case, unique=True, index=True)
    name = Varchar(length=200, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=40, default="")
    address = Text(default="")
    preferred_language = Varchar(length=40, default="")
    preferred_contact = Varchar(length=12, default="")  # email | phone | mail | none
    safety_notes = Text(default="")  # e.g. "do not call"
    interpreter_needed = Boolean(default=False)
    relationship = Varchar(length=200, default="")  # third-party filer's relation to the victim
    victim_name = Varchar(length=200, default="")


class FollowUp(Table, tablename="follow_up"):
    case = ForeignKey(references=Case, index=True)
    received_at = Timestamptz(default=TimestamptzNow())
    message = Text(default="")
    language = Varchar(length=8, default="en")


class PublicRateHit(Table, tablename="public_rate_hit"):
    """One public filing or lookup, counted for per-address rate limits.

    The address is never stored: ``key_hash`` is an HMAC of it with the secret key, and rows
    older than the window are deleted as new hits arrive, so the hash is kept only briefly.
    A table (not process memory) so that several workers share the counters."""

    bucket = Varchar(length=16, index=True)  # "file" | "lookup"
    key_hash = Varchar(length=64, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
