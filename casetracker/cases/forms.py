"""Parsing and checking the case forms' fields. Each parser raises ValidationFailed keyed by
the field, with a sentence that says what to enter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from casetracker.errors import ValidationFailed
from casetracker.settings import get_settings
from casetracker.web.i18n import gettext as _

MAX_TEXT = 20_000


def text(data: Mapping[str, Any], name: str, max_length: int = MAX_TEXT) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    value = str(value or "").replace("\r\n", "\n").strip()
    if len(value) > max_length:
        raise ValidationFailed({name: _("Shorten this to %(n)s characters or fewer.",
                                        n=max_length)})
    return value


def values(data: Mapping[str, Any], name: str) -> list[str]:
    """Every value of a repeated field (check boxes), as text."""
    value = data.get(name, [])
    if not isinstance(value, list):
        value = [value]
    return [str(v).strip() for v in value if str(v or "").strip()]


def optional_int(data: Mapping[str, Any], name: str) -> int | None:
    value = text(data, name, 20)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed({name: _("Choose an entry from the list.")}) from None


def optional_date(data: Mapping[str, Any], name: str) -> date | None:
    value = text(data, name, 10)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({name: _("Enter a date as YYYY-MM-DD.")}) from None


def optional_time(data: Mapping[str, Any], name: str) -> time | None:
    value = text(data, name, 8)
    if not value:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({name: _("Enter a time as HH:MM.")}) from None


def optional_local_datetime(data: Mapping[str, Any], name: str) -> datetime | None:
    """A ``datetime-local`` input, read in the configured zone and returned in UTC."""
    value = text(data, name, 20)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({name: _("Enter a date and time as YYYY-MM-DD HH:MM.")}) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return parsed.astimezone(UTC)


def checkbox(data: Mapping[str, Any], name: str) -> bool:
    return text(data, name, 10) in ("1", "on", "true", "yes")
