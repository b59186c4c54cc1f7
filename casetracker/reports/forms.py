"""Parsing the recommendation forms (validation of the values themselves is in rules.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from casetracker.reports.rules import DETERMINATIONS
from casetracker.reports.services import EDITABLE, DeterminationInput

DATE_FIELDS = ("proposed_effective_on",)
INT_FIELDS = ("suspension_days",)


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


def parse_date(raw: str) -> tuple[date | None, str | None]:
    raw = (raw or "").strip()
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, "Give the date as YYYY-MM-DD."


def parse_text(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The editable fields, typed; errors for values that do not parse."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in EDITABLE:
        values[name] = (form.get(name) or "").replace("\r\n", "\n").strip()
    for name in DATE_FIELDS:
        values[name], problem = parse_date(values[name])
        if problem:
            errors[name] = problem
    for name in INT_FIELDS:
        values[name] = _optional_int(values[name])
    return values, errors


def parse_determinations(form: Any) -> dict[str, DeterminationInput]:
    """``det_<key>`` (a checkbox: "I determine that…") and ``det_<key>_reason``, for each
    determination the form showed (``det_<key>_shown``)."""
    out = {}
    for key in DETERMINATIONS:
        if not form.get(f"det_{key}_shown"):
            continue
        reason = (form.get(f"det_{key}_reason") or "").replace("\r\n", "\n")
        out[key] = DeterminationInput(made=bool(form.get(f"det_{key}")), reason=reason)
    return out


def raw_values(form: Any) -> dict[str, Any]:
    """What was typed, as typed (to show it again next to the errors)."""
    return {name: form.get(name) or "" for name in EDITABLE}
