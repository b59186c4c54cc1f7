"""Staff accounts, role settings, login throttling, API tokens and in-app notifications."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    ForeignKey,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Role(str, Enum):
    administrator = "administrator"
    supervisor = "supervisor"
    investigator = "investigator"
    intake = "intake"
    oversight = "oversight"


class User(Table, tablename="ct_user"):
    Role = Role

    email = Varchar(length=254, unique=True, index=True)
    name = Varchar(length=200)
    role = Varchar(length=20, choices=Role, index=True)
    password_hash = Varchar(length=255)
    active = Boolean(default=True)
    must_change_password = Boolean(default=False)
    # sealed with totp_crypto ("v1:..."), never the clear base32 secret
    totp_secret = Varchar(length=128, null=True, default=None)
    totp_enabled = Boolean(default=False)
    # the last TOTP time step accepted: a code is never accepted twice (RFC 6238, 5.2)
    totp_last_step = BigInt(null=True, default=None)
    # sha256 hex digests of unused single-use recovery codes
    recovery_codes = JSON(default=[])
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)
    password_changed_at = Timestamptz(null=True, default=None)
    disabled_at = Timestamptz(null=True, default=None)
    # e-mail a copy of each in-app notification (and the daily deadline digest); off until
    # the person turns it on on their account page
    email_notifications = Boolean(default=False)
    # the calendar feed's secret link is an HMAC of this with the server key ("" = no feed);
    # a new value revokes the old link
    calendar_nonce = Varchar(length=64, default="")


class RoleSetting(Table, tablename="role_setting"):
    """Per-role switches that administrators manage (administrators always need 2FA)."""

    role = Varchar(length=20, choices=Role, unique=True)
    require_2fa = Boolean(default=False)


class LoginFailure(Table, tablename="login_failure"):
    """Recent failed logins, keyed per account ("account:<email>") and per address
    ("ip:<salted hash>"), shared by every worker process."""

    key = Varchar(length=128, index=True)
    failed_at = Timestamptz(default=TimestamptzNow(), index=True)


class ApiToken(Table, tablename="api_token"):
    user = ForeignKey(references=User, index=True)
    name = Varchar(length=100)
    token_prefix = Varchar(length=12)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class Notification(Table, tablename="notification"):
    user = ForeignKey(references=User, index=True)
    message = Text()
    link = Varchar(length=300, default="")
    kind = Varchar(length=40, default="")  # what it is about ("case_assigned", ...); may be ""
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)
