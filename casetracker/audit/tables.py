"""The append-only, hash-chained audit log."""

from __future__ import annotations

from piccolo.columns import BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_event"):
    # seq is gapless: a deleted row shows as a gap, an edited row as a hash mismatch.
    seq = BigInt(unique=True)
    occurred_at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = Integer(null=True, default=None, index=True)
    actor_label = Varchar(length=254, default="")
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=40, default="", index=True)
    object_id = Varchar(length=64, default="")
    case_id = Integer(null=True, default=None, index=True)
    ip_address = Varchar(length=64, null=True, default=None)
    details = Text(default="{}")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)
