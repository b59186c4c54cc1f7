"""The oversight filter form (period and scope), validated by hand."""

from __future__ import annotations

from datetime import date
from typing import Any

from casetracker.oversight.metrics import Period, Scope
from casetracker.settings import local_today
from casetracker.web.i18n import gettext as _

MODELS = ("JEM", "WSO", "TFM")


def _get(params: Any, key: str) -> str:
    value = params.get(key) if params is not None else None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return str(value).strip() if value is not None else ""


def parse_filters(params: Any, *, data_years: tuple[int, int] | None = None,
                  today: date | None = None) -> tuple[Period, Scope, dict[str, str],
                                                      dict[str, str]]:
    """(period, scope, errors, values). ``period=all`` spans every year with data;
    missing dates default to this year so far. Invalid values fall back to the default and
    are reported in ``errors``."""
    today = today or local_today()
    errors: dict[str, str] = {}
    values = {k: _get(params, k) for k in ("from", "to", "state", "model", "agency", "period",
                                           "by")}
    start = end = None
    if values["period"] == "all":
        first, last = data_years or (today.year, today.year)
        start, end = date(first, 1, 1), max(date(last, 12, 31), date(first, 1, 1))
        values["from"], values["to"] = start.isoformat(), end.isoformat()
    else:
        for key in ("from", "to"):
            if values[key]:
                try:
                    parsed = date.fromisoformat(values[key])
                except ValueError:
                    errors[key] = _("Enter a date as YYYY-MM-DD.")
                    continue
                if key == "from":
                    start = parsed
                else:
                    end = parsed
        if values["period"].isdigit() and len(values["period"]) == 4:
            year = int(values["period"])
            start, end = date(year, 1, 1), date(year, 12, 31)
        start = start or date(today.year, 1, 1)
        end = end or max(today, start)
        if end < start:
            errors["to"] = _("The end date must be on or after the start date.")
            end = start
        values["from"], values["to"] = start.isoformat(), end.isoformat()
    state = values["state"].upper()
    if state and (len(state) != 2 or not state.isalpha()):
        errors["state"] = _("Choose a state from the list.")
        state = ""
    model = values["model"].upper()
    if model and model not in MODELS:
        errors["model"] = _("Choose a model from the list.")
        model = ""
    agency_id = None
    if values["agency"]:
        if values["agency"].isdigit() and len(values["agency"]) < 12:
            agency_id = int(values["agency"])
        else:
            errors["agency"] = _("Choose an agency from the list.")
    basis = "incident" if values["by"] == "incident" else "received"
    return Period(start, end), Scope(state=state, model=model, agency_id=agency_id,
                                     basis=basis), errors, \
        values
