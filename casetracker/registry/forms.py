"""Validation of the registry's HTML forms: ``(cleaned values, errors by field)``.

The raw form values are kept separately by the controllers so a form re-renders as typed."""

from __future__ import annotations

from datetime import date
from typing import Any

from casetracker.registry import rules
from casetracker.registry.tables import AgencyKind, AgreementStatus, Model
from casetracker.web.i18n import gettext as _

Errors = dict[str, str]


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return rules.clean_text(value)


def _date(data: dict[str, Any], name: str, errors: Errors, label: str) -> date | None:
    text = _text(data, name)
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        errors[name] = _("%(label)s must be a date like 2025-07-18.", label=label)
        return None
    if not 1990 <= value.year <= 2100:
        errors[name] = _("%(label)s must be a real date between 1990 and 2100.", label=label)
        return None
    return value


def _int(data: dict[str, Any], name: str, errors: Errors, message: str) -> int | None:
    text = _text(data, name)
    try:
        return int(text)
    except ValueError:
        errors[name] = message
        return None


def _max(value: str, name: str, length: int, errors: Errors, label: str) -> None:
    if len(value) > length:
        errors[name] = _("%(label)s can be at most %(n)s characters.", label=label, n=length)


def _url(value: str, name: str, errors: Errors, label: str) -> None:
    if value and not value.lower().startswith(("https://", "http://")):
        errors[name] = _("%(label)s must be a web address starting with https://.", label=label)
    _max(value, name, 500, errors, label)


def raw_values(data: dict[str, Any]) -> dict[str, str]:
    return {k: (v[0] if isinstance(v, list) and v else v) for k, v in data.items()
            if k != "_csrf_token"}


def validate_agency(data: dict[str, Any]) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    name = _text(data, "name")
    state = _text(data, "state").upper()
    county = _text(data, "county")
    kind = _text(data, "kind") or "county"
    if not name:
        errors["name"] = _("Enter the agency's name.")
    _max(name, "name", 200, errors, _("Name"))
    if rules.state_code(state) is None:
        errors["state"] = _("Choose the agency's state.")
    else:
        state = rules.state_code(state) or state
    _max(county, "county", 100, errors, _("County"))
    if kind not in {k.value for k in AgencyKind}:
        errors["kind"] = _("Choose the kind of agency.")
    return {"name": name, "state": state, "county": county, "kind": kind}, errors


def validate_agreement(data: dict[str, Any], *, with_agency: bool) -> tuple[dict[str, Any],
                                                                            Errors]:
    errors: Errors = {}
    values: dict[str, Any] = {}
    if with_agency:
        values["agency_id"] = _int(data, "agency_id", errors, _("Choose the agency."))
    model = _text(data, "model")
    if model not in {m.value for m in Model}:
        errors["model"] = _("Choose the model: JEM, WSO or TFM.")
    status = _text(data, "status")
    if status not in {s.value for s in AgreementStatus}:
        errors["status"] = _("Choose the agreement's status.")
    signed_on = _date(data, "signed_on", errors, _("Signed on"))
    moa_url = _text(data, "moa_url")
    _url(moa_url, "moa_url", errors, _("MOA link"))
    addendum = _text(data, "addendum")
    _url(addendum, "addendum", errors, _("Addendum link"))
    revision = _text(data, "revision")
    _max(revision, "revision", 60, errors, _("Revision"))
    values.update({"model": model, "status": status, "signed_on": signed_on,
                   "moa_url": moa_url, "addendum": addendum, "revision": revision})
    return values, errors


def validate_officer(data: dict[str, Any]) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    agency_id = _int(data, "agency_id", errors, _("Choose the officer's agency."))
    name = _text(data, "name")
    if not name:
        errors["name"] = _("Enter the officer's name.")
    _max(name, "name", 200, errors, _("Name"))
    badge = _text(data, "badge_number")
    _max(badge, "badge_number", 40, errors, _("Badge number"))
    rank = _text(data, "rank")
    _max(rank, "rank", 60, errors, _("Rank"))
    active = _text(data, "active") in ("1", "on", "true", "yes")
    return {"agency_id": agency_id, "name": name, "badge_number": badge, "rank": rank,
            "active": active}, errors


def validate_designation(data: dict[str, Any], *, with_agreement: bool
                         ) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    values: dict[str, Any] = {}
    if with_agreement:
        values["agreement_id"] = _int(data, "agreement_id", errors,
                                      _("Choose the agreement the officer is designated under."))
    authorised_on = _date(data, "authorised_on", errors, _("Authorised on"))
    expires_on = _date(data, "authorisation_expires_on", errors, _("Authorisation expires on"))
    trained_on = _date(data, "training_completed_on", errors, _("Training completed on"))
    refresher_on = _date(data, "last_refresher_on", errors, _("Last refresher"))
    if authorised_on and expires_on and expires_on <= authorised_on:
        errors["authorisation_expires_on"] = _(
            "The authorisation must expire after the date it was given.")
    if trained_on and refresher_on and refresher_on < trained_on:
        errors["last_refresher_on"] = _(
            "The last refresher cannot be before the initial training.")
    values.update({"authorised_on": authorised_on, "authorisation_expires_on": expires_on,
                   "training_completed_on": trained_on, "last_refresher_on": refresher_on})
    return values, errors


def validate_status_change(data: dict[str, Any]) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    verb = _text(data, "verb")
    if verb not in ("suspend", "lift", "revoke"):
        errors["verb"] = _("Choose what to do with the designation.")
    on = _date(data, "on", errors, _("Date"))
    if on is None and "on" not in errors:
        errors["on"] = _("Enter the date of the change.")
    reason = _text(data, "reason")
    if not reason:
        errors["reason"] = _("Give the reason for the change.")
    _max(reason, "reason", 2000, errors, _("Reason"))
    case_id = None
    if _text(data, "case_id"):
        case_id = _int(data, "case_id", errors, _("The case number must be a number."))
    return {"verb": verb, "on": on, "reason": reason, "case_id": case_id}, errors
