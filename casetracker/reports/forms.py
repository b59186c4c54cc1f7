"""Parsing the recommendation forms (validation of the text itself is in rules.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from casetracker.reports.services import EDITABLE


def _int_list(values: list[str]) -> tuple[int, ...]:
    out = []
    for value in values:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            continue
    return tuple(dict.fromkeys(out))


def _optional_int(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if str(value or "").strip() else None
    except ValueError:
        return -1  # a value that fails validation with a sentence


def _all(form: Any, name: str) -> list[str]:
    if hasattr(form, "getall"):
        return list(form.getall(name, []))
    value = form.get(name)
    return value if isinstance(value, list) else ([value] if value else [])


def parse_new(form: Any) -> dict[str, Any]:
    return {
        "kind": (form.get("kind") or "").strip(),
        "action": (form.get("action") or "").strip(),
        "agreement_id": _optional_int(form.get("agreement_id")),
        "designation_ids": _int_list(_all(form, "designation_ids")),
        "case_ids": _int_list(_all(form, "case_ids")),
    }


def parse_text(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The editable fields, typed; errors for values that do not parse."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in EDITABLE:
        values[name] = (form.get(name) or "").replace("\r\n", "\n").strip()
    raw_date = values["proposed_effective_on"]
    try:
        values["proposed_effective_on"] = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        values["proposed_effective_on"] = None
        errors["proposed_effective_on"] = "Give the date as YYYY-MM-DD."
    for name in ("suspension_days", "notice_days"):
        values[name] = _optional_int(values[name])
    return values, errors
