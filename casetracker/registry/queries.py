"""Read-side queries for the registry pages: filtered lists with keyset pagination (constant
number of queries per page, fast at any depth) and detail view-models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from casetracker.errors import NotFound
from casetracker.registry import history, program_managers, rules
from casetracker.registry.lookup import _like_safe, icontains
from casetracker.registry.tables import Agency, Agreement, Designation, Officer

PAGE_SIZE = 50


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_after: int | None  # id of the last row shown, when there is a next page
    is_first: bool


def _keyset(name_column: Any, id_column: Any, after: tuple[str, int] | None) -> Any:
    if after is None:
        return None
    name, last_id = after
    return (name_column > name) | ((name_column == name) & (id_column > last_id))


def _and(clauses: list[Any]) -> Any:
    where = None
    for clause in clauses:
        if clause is not None:
            where = clause if where is None else where & clause
    return where


async def list_agencies(*, q: str = "", state: str = "", model: str = "", status: str = "",
                        after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    text = rules.normalise_name(_like_safe(q))
    words = _and([Agency.match_key.like(rules.like_pattern_for_word(word))
                  for word in text.split()])
    # Records merged into another agency are not listed; their names find that agency.
    clauses: list[Any] = [Agency.merged_into.is_null()]
    if words is not None:
        clauses.append(words | Agency.id.is_in(
            Agency.select(Agency.merged_into).where(words & Agency.merged_into.is_not_null())))
    if state:
        clauses.append(Agency.state == state)
    if model or status:
        sub = Agreement.select(Agreement.agency)
        sub_clauses = []
        if model:
            sub_clauses.append(Agreement.model == model)
        if status:
            sub_clauses.append(Agreement.status == status)
        clauses.append(Agency.id.is_in(sub.where(_and(sub_clauses))))
    if after is not None:
        anchor = await Agency.select(Agency.name).where(Agency.id == after).first()
        if anchor is not None:
            clauses.append(_keyset(Agency.name, Agency.id, (anchor["name"], after)))
    query = Agency.select(Agency.id, Agency.name, Agency.state, Agency.county, Agency.kind)
    where = _and(clauses)
    if where is not None:
        query = query.where(where)
    rows = await query.order_by(Agency.name).order_by(Agency.id).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        agreements = await (
            Agreement.select(Agreement.agency, Agreement.model, Agreement.status)
            .where(Agreement.agency.is_in([r["id"] for r in rows]))
            .order_by(Agreement.model)
        )
        by_agency: dict[int, list[dict[str, Any]]] = {}
        for a in agreements:
            by_agency.setdefault(a["agency"], []).append(a)
        for row in rows:
            row["agreements"] = by_agency.get(row["id"], [])
    return Page(rows, rows[-1]["id"] if more and rows else None, after is None)


async def list_agreements(*, state: str = "", model: str = "", status: str = "",
                          after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    clauses: list[Any] = [Agreement.merged_into.is_null()]  # folded ones: see their agency
    if state:
        clauses.append(Agreement.agency.state == state)
    if model:
        clauses.append(Agreement.model == model)
    if status:
        clauses.append(Agreement.status == status)
    if after is not None:
        anchor = await Agreement.select(Agreement.agency.name).where(
            Agreement.id == after).first()
        if anchor is not None:
            clauses.append(_keyset(Agreement.agency.name, Agreement.id,
                                   (anchor["agency.name"], after)))
    query = Agreement.select(
        Agreement.id, Agreement.model, Agreement.status, Agreement.signed_on,
        Agreement.signed_raw, Agreement.moa_url, Agreement.moa_pending, Agreement.agency,
        Agreement.agency.name, Agreement.agency.state,
    )
    where = _and(clauses)
    if where is not None:
        query = query.where(where)
    rows = await query.order_by(Agreement.agency.name).order_by(Agreement.id).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1]["id"] if more and rows else None, after is None)


def flagged_designations(today: date, cycle_days: int) -> Any:
    """Designations that need attention: authorisation past expiry, or refresher training
    older than the cycle (from the last refresher, else the initial training); not revoked.
    The SQL twin of rules.designation_flags."""
    cutoff = today - timedelta(days=cycle_days)
    return Designation.select(Designation.officer).where(
        (Designation.status != "revoked")
        & ((Designation.authorisation_expires_on < today)
           | (Designation.last_refresher_on < cutoff)
           | (Designation.last_refresher_on.is_null()
              & (Designation.training_completed_on < cutoff))))


async def list_officers(*, q: str = "", agency_id: int | None = None, status: str = "",
                        flagged: bool = False, today: date | None = None, cycle_days: int = 730,
                        after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    today = today or date.today()
    clauses: list[Any] = []
    if flagged:
        clauses.append(Officer.id.is_in(flagged_designations(today, cycle_days)))
    for word in _like_safe(q).split():
        clauses.append(icontains(Officer.name, word) | icontains(Officer.badge_number, word))
    if agency_id is not None:
        clauses.append(Officer.agency == agency_id)
    if status:
        clauses.append(Officer.id.is_in(
            Designation.select(Designation.officer).where(Designation.status == status)))
    if after is not None:
        anchor = await Officer.select(Officer.name).where(Officer.id == after).first()
        if anchor is not None:
            clauses.append(_keyset(Officer.name, Officer.id, (anchor["name"], after)))
    query = Officer.select(Officer.id, Officer.name, Officer.badge_number, Officer.rank,
                           Officer.active, Officer.agency, Officer.agency.name,
                           Officer.agency.state)
    where = _and(clauses)
    if where is not None:
        query = query.where(where)
    rows = await query.order_by(Officer.name).order_by(Officer.id).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        designations = await (
            Designation.select(*_DESIGNATION_COLUMNS, Designation.agreement.model)
            .where(Designation.officer.is_in([r["id"] for r in rows]))
            .order_by(Designation.id))
        by_officer: dict[int, list[dict[str, Any]]] = {}
        for d in designations:
            by_officer.setdefault(d["officer"], []).append(
                _designation_view(d, today, cycle_days))
        for row in rows:
            row["designations"] = by_officer.get(row["id"], [])
    return Page(rows, rows[-1]["id"] if more and rows else None, after is None)


def _designation_view(row: dict[str, Any], today: date, cycle_days: int) -> dict[str, Any]:
    row["flags"] = rules.designation_flags(
        status=row["status"],
        authorisation_expires_on=row["authorisation_expires_on"],
        training_completed_on=row["training_completed_on"],
        last_refresher_on=row["last_refresher_on"],
        today=today,
        training_cycle_days=cycle_days,
    )
    return row


_DESIGNATION_COLUMNS = (
    Designation.id, Designation.officer, Designation.agreement, Designation.authorised_on,
    Designation.authorisation_expires_on, Designation.training_completed_on,
    Designation.last_refresher_on, Designation.status, Designation.status_changed_on,
    Designation.status_reason, Designation.suspended_on, Designation.suspension_lifted_on,
    Designation.revoked_on, Designation.status_case_id,
)


async def agency_detail(agency_id: int, *, today: date, cycle_days: int) -> dict[str, Any]:
    agency = await Agency.select().where(Agency.id == agency_id).first()
    if agency is None:
        raise NotFound("There is no such agency.")
    agency["agreements"] = await (
        Agreement.select().where(Agreement.agency == agency_id).order_by(Agreement.model))
    officers = await (
        Officer.select().where(Officer.agency == agency_id).order_by(Officer.name)
        .order_by(Officer.id))
    designations = await (
        Designation.select(*_DESIGNATION_COLUMNS, Designation.agreement.model)
        .where(Designation.officer.agency == agency_id).order_by(Designation.id))
    by_officer: dict[int, list[dict[str, Any]]] = {}
    for d in designations:
        by_officer.setdefault(d["officer"], []).append(_designation_view(d, today, cycle_days))
    for officer in officers:
        officer["designations"] = by_officer.get(officer["id"], [])
    agency["officers"] = officers
    agency["similar"] = await similar_agencies(agency)
    agency["history"] = await history.agency_timeline(agency_id)
    return agency


async def similar_agencies(agency: dict[str, Any]) -> list[dict[str, Any]]:
    """Other agencies of the state whose names differ from this one's only in case, spacing or
    apostrophe style: probably the same office spelled two ways (ICE's sheet does this)."""
    wanted = rules.similar_agency_key(agency["state"], agency["name"])
    rows = await (Agency.select(Agency.id, Agency.name, Agency.state)
                  .where((Agency.state == agency["state"]) & (Agency.id != agency["id"])
                         & Agency.merged_into.is_null())
                  .order_by(Agency.id))
    return [r for r in rows if rules.similar_agency_key(r["state"], r["name"]) == wanted]


async def agreement_detail(agreement_id: int, *, today: date, cycle_days: int
                           ) -> dict[str, Any]:
    agreement = await Agreement.select(
        *Agreement.all_columns(), Agreement.agency.name, Agreement.agency.state,
        Agreement.agency.county,
    ).where(Agreement.id == agreement_id).first()
    if agreement is None:
        raise NotFound("There is no such agreement.")
    agreement["designations"] = [
        _designation_view(d, today, cycle_days)
        for d in await Designation.select(
            *_DESIGNATION_COLUMNS, Designation.officer.name, Designation.officer.badge_number,
        ).where(Designation.agreement == agreement_id).order_by(Designation.officer.name)
    ]
    agreement["history"] = await history.agreement_timeline(agreement_id)
    agreement["monitors"] = await program_managers.monitors_of(agreement_id)
    return agreement


async def officer_detail(officer_id: int, *, today: date, cycle_days: int) -> dict[str, Any]:
    officer = await Officer.select(
        *Officer.all_columns(), Officer.agency.name, Officer.agency.state,
    ).where(Officer.id == officer_id).first()
    if officer is None:
        raise NotFound("There is no such officer.")
    officer["designations"] = [
        _designation_view(d, today, cycle_days)
        for d in await Designation.select(
            *_DESIGNATION_COLUMNS, Designation.agreement.model, Designation.agreement.status,
        ).where(Designation.officer == officer_id).order_by(Designation.id)
    ]
    return officer


async def agency_choices(agency_id: int | None = None) -> list[dict[str, Any]]:
    """For select boxes: one agency, or all of them (about 700 rows, two columns)."""
    query = Agency.select(Agency.id, Agency.name, Agency.state)
    if agency_id is not None:
        query = query.where(Agency.id == agency_id)
    return await query.order_by(Agency.state).order_by(Agency.name)


async def agreements_of(agency_id: int) -> list[dict[str, Any]]:
    return await Agreement.select(Agreement.id, Agreement.model, Agreement.status).where(
        Agreement.agency == agency_id).order_by(Agreement.model)


async def get_row(table: Any, object_id: int, noun: str) -> dict[str, Any]:
    row = await table.select().where(table.id == object_id).first()
    if row is None:
        raise NotFound(f"There is no such {noun}.")
    return row


async def designation_with_context(designation_id: int) -> dict[str, Any]:
    row = await Designation.select(
        *Designation.all_columns(), Designation.officer.name, Designation.officer.agency,
        Designation.agreement.model,
    ).where(Designation.id == designation_id).first()
    if row is None:
        raise NotFound("There is no such designation.")
    return row


async def agreement_choices() -> list[dict[str, Any]]:
    """Every current agreement as (id, "Agency (ST) MODEL") for a choice list."""
    rows = await Agreement.select(Agreement.id, Agreement.model, Agreement.agency.name,
                                  Agreement.agency.state).where(
        Agreement.merged_into.is_null()).order_by(Agreement.agency.state).order_by(
        Agreement.agency.name).order_by(Agreement.model)
    return [{"id": r["id"], "label": f"{r['agency.name']} ({r['agency.state']}) {r['model']}"}
            for r in rows]
