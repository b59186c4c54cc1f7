"""The partner intake API: the same complaint, the same checks, as JSON.

Files are not accepted here: partners send evidence through the HTML form (or a later
follow-up on the status page). Both endpoints are public (no token: anyone may file), never use
the session cookie (so they are safely excluded from CSRF) and are rate limited per address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, ClassVar

import msgspec
from litestar import Controller, MediaType, Request, Response, post
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import Body, HeaderParameter, KwargDefinition

from casetracker.auth.actor import Actor
from casetracker.auth.guards import PUBLIC
from casetracker.errors import RateLimited
from casetracker.intake import forms, once, rules
from casetracker.intake.services import FiledComplaint, IntakeService, rate_limit_allows
from casetracker.web import openapi as doc
from casetracker.web.i18n import get_language
from casetracker.web.i18n import gettext as _

API_OPT = {PUBLIC: True, "exclude_from_csrf": True, "skip_session": True}


def _text(limit: int, description: str = "", **extra: Any) -> Any:
    """An optional text field as the OpenAPI document shows it: the form's own limit (checked,
    with a sentence per field, by forms.parse_complaint; not by the decoder)."""
    return Annotated[str | None, KwargDefinition(max_length=limit, description=description or None,
                                                 schema_extra=extra or None)]


def _choice(choices: Any, description: str = "") -> Any:
    return Annotated[str | None, KwargDefinition(
        description=description or None,
        schema_extra={"enum": [*sorted(forms.choice_keys(choices)), None]})]


_O, _W, _C = forms.OFFICER_LIMITS, forms.WITNESS_LIMITS, forms.LIMITS


@dataclass
class OfficerIn:
    name: _text(_O["name"][0]) = None  # type: ignore[valid-type]
    badge: _text(_O["badge"][0]) = None  # type: ignore[valid-type]
    agency: _text(_O["agency"][0],  # type: ignore[valid-type]
                  "Agency name as typed, or 'Name, ST' as in the registry") = None
    agency_id: int | None = None
    rank: _text(_O["rank"][0]) = None  # type: ignore[valid-type]
    description: _text(_O["description"][0]) = None  # type: ignore[valid-type]
    vehicle: _text(_O["vehicle"][0]) = None  # type: ignore[valid-type]


@dataclass
class WitnessIn:
    name: _text(_W["name"][0]) = None  # type: ignore[valid-type]
    contact: _text(_W["contact"][0]) = None  # type: ignore[valid-type]
    statement: _text(_W["statement"][0]) = None  # type: ignore[valid-type]


@dataclass
class ComplaintIn:
    """A complaint. Only ``narrative`` is required; everything else is optional. Lengths and
    choices are the public form's."""

    narrative: Annotated[str, KwargDefinition(
        min_length=1, max_length=forms.NARRATIVE_MAX, description="What happened")]
    incident_date: _text(10, "YYYY-MM-DD, or YYYY-MM when the day is not known",  # type: ignore[valid-type]
                         pattern=r"^[0-9]{4}-[0-9]{1,2}(-[0-9]{1,2})?$") = None
    incident_time: _text(_C["incident_time"][0], "HH:MM, 24-hour clock",  # type: ignore[valid-type]
                         pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$") = None
    incident_location: _text(_C["incident_location"][0]) = None  # type: ignore[valid-type]
    incident_city: _text(_C["incident_city"][0]) = None  # type: ignore[valid-type]
    incident_state: _choice(forms.US_STATES, "Two-letter code") = None  # type: ignore[valid-type]
    incident_setting: _choice(forms.SETTINGS) = None  # type: ignore[valid-type]
    context_287g: _choice(forms.CONTEXTS_287G) = None  # type: ignore[valid-type]
    officers: Annotated[list[OfficerIn], KwargDefinition(max_items=forms.MAX_OFFICERS)] = field(
        default_factory=list)
    witnesses: Annotated[list[WitnessIn], KwargDefinition(max_items=forms.MAX_WITNESSES)] = (
        field(default_factory=list))
    checklist: Annotated[list[str], KwargDefinition(schema_extra={"items": {
        "type": "string", "enum": sorted(forms.choice_keys(forms.CHECKLIST))}})] = field(
        default_factory=list)
    protected: Annotated[list[str], KwargDefinition(
        description="What the complainant believes was the basis",
        schema_extra={"items": {"type": "string",
                                "enum": sorted(forms.choice_keys(forms.PROTECTED))}})] = field(
        default_factory=list)
    protected_other: _text(_C["protected_other"][0]) = None  # type: ignore[valid-type]
    harm: _text(_C["harm"][0]) = None  # type: ignore[valid-type]
    complainant_role: _choice(forms.ROLES) = None  # type: ignore[valid-type]
    victim_name: _text(_C["victim_name"][0]) = None  # type: ignore[valid-type]
    relationship: _text(_C["relationship"][0]) = None  # type: ignore[valid-type]
    anonymous: bool = False
    name: _text(_C["name"][0]) = None  # type: ignore[valid-type]
    email: _text(_C["email"][0]) = None  # type: ignore[valid-type]
    phone: _text(_C["phone"][0]) = None  # type: ignore[valid-type]
    address: _text(_C["address"][0]) = None  # type: ignore[valid-type]
    preferred_language: _choice(forms.LANGUAGES) = None  # type: ignore[valid-type]
    preferred_language_other: _text(_C["preferred_language_other"][0]) = None  # type: ignore[valid-type]
    preferred_contact: _choice(forms.CONTACT_METHODS) = None  # type: ignore[valid-type]
    safety_notes: _text(_C["safety_notes"][0]) = None  # type: ignore[valid-type]
    interpreter_needed: bool = False
    consent_share_agency: bool = False
    consent_share_ice: bool = False
    language: Annotated[str | None, KwargDefinition(
        description="Language of the complaint; default from Accept-Language",
        schema_extra={"enum": ["en", "es", None]})] = None


@dataclass
class FiledOut:
    tracking_number: str
    access_code: str
    received_at: str
    status: str
    triage_due_at: str | None
    resolution_due_at: str | None


@dataclass
class StatusIn:
    tracking_number: Annotated[str, KwargDefinition(max_length=40, description="CT-XXXX-XXXX")]
    access_code: Annotated[str, KwargDefinition(max_length=80)]


@dataclass
class StatusOut:
    tracking_number: str
    status: str
    status_text: str
    received_at: str
    resolution_due_at: str | None
    closed_at: str | None
    follow_ups: int


def _error_key(message: str, default: str) -> str:
    """msgspec says "... at `$.officers[0].name`" or "missing required field `narrative`"."""
    import re

    where = re.search(r"at `\$\.([^`]+)`", message)
    missing = re.search(r"required field `([^`]+)`", message)
    if where and missing:
        return f"{where.group(1)}.{missing.group(1)}"
    if where:
        return where.group(1)
    if missing:
        return missing.group(1)
    return default


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors: dict[str, str] = {}
    for item in exc.extra or []:
        if isinstance(item, dict):
            message = str(item.get("message") or "invalid")
            errors[_error_key(message, str(item.get("key") or "body"))] = message
    if not errors:
        errors["body"] = str(exc.detail)
    return Response({"status_code": 422, "detail": _("Please check the fields listed."),
                     "errors": errors}, status_code=422, media_type=MediaType.JSON)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    detail = {413: _("The request is too large."),
              429: _("Too many requests from this address. Please try again in an hour.")
              }.get(exc.status_code, str(exc.detail))
    return Response({"status_code": exc.status_code, "detail": detail},
                    status_code=exc.status_code, media_type=MediaType.JSON)


def _unprocessable(errors: dict[str, str]) -> Response[Any]:
    return Response({"status_code": 422, "detail": _("Please check the fields listed."),
                     "errors": errors}, status_code=422, media_type=MediaType.JSON)


def _filed_response(filed: FiledComplaint) -> Response[Any]:
    """201 with the filing; a replay of an Idempotency-Key gives the same body again, marked
    with ``Idempotent-Replayed: true``."""
    out = FiledOut(tracking_number=filed.tracking_number, access_code=filed.access_code,
                   received_at=filed.received_at.isoformat(), status="received",
                   triage_due_at=_iso(filed.triage_due_at),
                   resolution_due_at=_iso(filed.resolution_due_at))
    headers = {"cache-control": "no-store"}
    if filed.replayed:
        headers["idempotent-replayed"] = "true"
    return Response(out, status_code=201, media_type=MediaType.JSON, headers=headers)


def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


class ComplaintsApiController(Controller):
    path = "/api/v1/complaints"
    tags: ClassVar[list[str]] = ["Public intake"]
    exception_handlers: ClassVar[dict[Any, Any]] = {ValidationException: _validation_error,
                                                    HTTPException: _http_error}

    @post("/", name="api.complaints.file", opt=API_OPT, include_in_schema=True,
          request_max_body_size=256 * 1024, status_code=201,
          responses=doc.error_responses(413, 422, 429),
          summary="File a complaint",
          description="Validates exactly as the public form does. Returns the tracking number "
          "and the secret access code (shown once; keep it). Evidence files are sent through "
          "the HTML form at /complaint or added later on the status page. Errors: 422 with "
          "`errors` by field; 429 when this address has filed too often. With an "
          "`Idempotency-Key` header, a retry files nothing and gets the first answer again; "
          "the same key with a different body answers 422 (`errors.idempotency_key`).")
    async def file(self, request: Request[Any, Any, Any],
                   data: Annotated[ComplaintIn, Body(description="The complaint")],
                   idempotency_key: Annotated[str | None, HeaderParameter(
                       name="Idempotency-Key", required=False, description=(
                           "Optional. A random value (16 to 255 visible ASCII characters, "
                           "for example a UUID) chosen by the client for this complaint. "
                           "Sending the same key again within 24 hours files nothing and "
                           "answers as the first time (same status, same body, with the "
                           "header `Idempotent-Replayed: true`); the same key with a "
                           "different body answers 422."))] = None,
                   ) -> Response[Any]:
        body = msgspec.to_builtins(data)  # as dataclasses.asdict, without its deep copies
        language = data.language if data.language in ("en", "es") else get_language()
        key = None
        if idempotency_key is not None:
            if not rules.valid_idempotency_key(idempotency_key):
                return _unprocessable({"idempotency_key": _(
                    "The Idempotency-Key header must be 16 to 255 visible ASCII characters, "
                    "such as a UUID.")})
            key = once.OnceKey(kind="api", key=idempotency_key,
                               fingerprint=rules.fingerprint({**body, "language": language}),
                               answer_for=timedelta(hours=24), remember_for=timedelta(hours=24))
            try:
                previous = await once.previous(key)
            except once.KeyReused as exc:
                return _unprocessable(exc.errors)
            if previous is not None:
                filed = await IntakeService(Actor.public(None)).filed_complaint(previous)
                if filed is not None:
                    return _filed_response(filed)
        parsed, errors = forms.parse_complaint(forms.fields_from_json(body), language=language)
        if errors:
            return _unprocessable({forms.json_error_key(k): v for k, v in errors.items()})
        try:
            filed = await IntakeService(Actor.public(None)).file_complaint(
                parsed, channel="api", once_key=key, rate_limit=("file", _address(request)))
        except once.KeyReused as exc:  # a concurrent request with this key and another body
            return _unprocessable(exc.errors)
        except RateLimited:
            return _http_error(request, HTTPException(status_code=429))
        # The receipt e-mail (in the complaint's language) is a job promised by the filing.
        return _filed_response(filed)

    @post("/status", name="api.complaints.status", opt=API_OPT, include_in_schema=True,
          request_max_body_size=16 * 1024, status_code=200,
          responses=doc.error_responses(404, 413, 422, 429),
          summary="Look up a complaint's status",
          description="Takes the tracking number and access code in the body. A wrong number "
          "or code gets the same 404 answer. Rate limited per address (429).")
    async def status(self, request: Request[Any, Any, Any],
                     data: Annotated[StatusIn, Body(description="Tracking number and access code")]
                     ) -> Response[Any]:
        from casetracker.intake.public import status_text as _status_text
        from casetracker.intake.tables import FollowUp

        if not await rate_limit_allows("lookup", _address(request)):
            return _http_error(request, HTTPException(status_code=429))
        case = await IntakeService(Actor.public(None)).find_case(data.tracking_number[:40],
                                                                 data.access_code[:80])
        if case is None:
            return Response({"status_code": 404, "detail": _(
                "No complaint matches that tracking number and access code.")},
                status_code=404, media_type=MediaType.JSON)
        count = await FollowUp.count().where(FollowUp.case == case["id"])
        out = StatusOut(tracking_number=case["tracking_number"], status=case["status"],
                        status_text=_status_text(case),
                        received_at=case["received_at"].isoformat(),
                        resolution_due_at=_iso(case["resolution_due_at"]),
                        closed_at=_iso(case["closed_at"]), follow_ups=count)
        return Response(out, media_type=MediaType.JSON)
