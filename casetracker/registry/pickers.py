"""Choosing an agency, an agreement or an officer by typing, with or without JavaScript.

Every form that needs one of them shows a *picker*: a text box (``<field>_q``) and the chosen
row's id in ``<field>`` (a hidden input the script fills from the suggestions it fetches from
``GET /registry/pick/<kind>``). Without JavaScript the "Find" button (``_find=<field>``)
submits the form; the page comes back with everything typed kept and the matches as radio
buttons named ``<field>``. Nobody types an internal id and no page lists 700 agencies.

The rule that decides what was chosen is ``read_picker``: an id counts only while the text
beside it is still the chosen row's label (or the words the matches were found for), so
changing the words after choosing searches again instead of keeping a stale choice.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from casetracker.registry import lookup
from casetracker.registry.tables import MODEL_LABELS, Agency, Agreement, Officer
from casetracker.web.i18n import gettext as _

KINDS = ("agency", "agreement", "officer")
MAX_RESULTS = 12
_MODEL_WORDS = {code.lower(): code for code in MODEL_LABELS}
_STATUS_WORDS = {"active": "active", "pending": "pending", "suspended": "suspended",
                 "terminated": "terminated", "no_longer_listed": "no longer listed"}


class _StatusLabels(dict[str, str]):
    """Agreement statuses in words, translated when read (the request's language)."""

    def get(self, key: str, default: Any = None) -> Any:
        return _(_STATUS_WORDS[key]) if key in _STATUS_WORDS else default


AGREEMENT_STATUS_LABELS = _StatusLabels()


@dataclass
class Picked:
    """What a picker shows and what it chose."""

    field: str
    kind: str
    id: int | None = None
    text: str = ""
    results: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    searched: bool = False

    @property
    def needs_choice(self) -> bool:
        """Words were typed (or "Find" pressed) and nothing is chosen yet."""
        return self.searched and self.id is None


def _first(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()[:200]


def _as_id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


# --- labels --------------------------------------------------------------------------------

def agency_label(row: Mapping[str, Any]) -> str:
    return f"{row['name']} ({row['state']})"


def agreement_label(row: Mapping[str, Any]) -> str:
    model = MODEL_LABELS.get(row["model"], row["model"])
    status = _(_STATUS_WORDS.get(row["status"], row["status"]))
    return f"{row['agency.name']} ({row['agency.state']}): {_(model)}, {status}"


def officer_label(row: Mapping[str, Any]) -> str:
    badge = f", {_('badge')} {row['badge_number']}" if row.get("badge_number") else ""
    return f"{row['name']}{badge} · {row['agency.name']} ({row['agency.state']})"


_AGREEMENT_COLUMNS = (Agreement.id, Agreement.model, Agreement.status, Agreement.agency,
                      Agreement.agency.name, Agreement.agency.state)
_OFFICER_COLUMNS = (Officer.id, Officer.name, Officer.badge_number, Officer.rank, Officer.active,
                    Officer.agency, Officer.agency.name, Officer.agency.state)


async def label_for(kind: str, row_id: int) -> str | None:
    """The label of one row, or None when there is no such row."""
    if kind == "agency":
        row = await Agency.select(Agency.name, Agency.state).where(Agency.id == row_id).first()
        return agency_label(row) if row else None
    if kind == "agreement":
        row = await Agreement.select(*_AGREEMENT_COLUMNS).where(Agreement.id == row_id).first()
        return agreement_label(row) if row else None
    if kind == "officer":
        row = await Officer.select(*_OFFICER_COLUMNS).where(Officer.id == row_id).first()
        return officer_label(row) if row else None
    raise ValueError(kind)


# --- searches ------------------------------------------------------------------------------

async def search(kind: str, query: str, *, agency_id: int | None = None,
                 limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Rows matching the words typed, best first: ``{"id", "label", "hint"}``.
    ``agency_id`` narrows agreements and officers to one agency (then an empty query lists
    that agency's rows)."""
    query = (query or "").strip()[:100]
    if kind == "agency":
        rows = await lookup.search_agencies(query, limit) if query else []
        return [{"id": r["id"], "label": r["label"],
                 "hint": ", ".join(_(MODEL_LABELS.get(m, m)) for m in r["models"])}
                for r in rows]
    if kind == "agreement":
        return await _search_agreements(query, agency_id, limit)
    if kind == "officer":
        return await _search_officers(query, agency_id, limit)
    raise ValueError(kind)


async def _search_agreements(query: str, agency_id: int | None, limit: int
                             ) -> list[dict[str, Any]]:
    words = query.split()
    models = {_MODEL_WORDS[w.lower()] for w in words if w.lower() in _MODEL_WORDS}
    rest = " ".join(w for w in words if w.lower() not in _MODEL_WORDS)
    where: Any = None
    if agency_id is not None:
        where = Agreement.agency == agency_id
    elif rest:
        agencies = await lookup.search_agencies(rest, 40)
        if not agencies:
            return []
        where = Agreement.agency.is_in([a["id"] for a in agencies])
        order = {a["id"]: i for i, a in enumerate(agencies)}
    elif not models:
        return []
    if models:
        clause = Agreement.model.is_in(sorted(models))
        where = clause if where is None else where & clause
    rows = await Agreement.select(*_AGREEMENT_COLUMNS).where(where).limit(200)
    if agency_id is None and rest:
        rows.sort(key=lambda r: (order.get(r["agency"], 999), r["id"]))
    else:
        rows.sort(key=lambda r: (r["agency.name"], r["agency"], r["id"]))
    return [{"id": r["id"], "label": agreement_label(r), "hint": ""} for r in rows[:limit]]


async def _search_officers(query: str, agency_id: int | None, limit: int
                           ) -> list[dict[str, Any]]:
    words = [w for w in re.findall(r"[\w'-]+", query) if w]
    if not words and agency_id is None:
        return []
    clauses = []
    for word in words[:5]:
        clauses.append(lookup.icontains(Officer.name, word)
                       | lookup.icontains(Officer.badge_number, word))
    where: Any = None
    for clause in clauses:
        where = clause if where is None else where & clause
    if agency_id is not None:
        scope = Officer.agency == agency_id
        where = scope if where is None else where & scope
    rows = await Officer.select(*_OFFICER_COLUMNS).where(where).order_by(Officer.name).limit(200)
    badge_key = lookup.normalise_badge(query)

    def rank(row: dict[str, Any]) -> tuple[int, int, str, int]:
        exact_badge = bool(badge_key) and lookup.normalise_badge(row["badge_number"] or "") \
            == badge_key
        return (0 if exact_badge else 1, 0 if row["active"] else 1, row["name"], row["id"])

    rows.sort(key=rank)
    return [{"id": r["id"], "label": officer_label(r),
             "hint": "" if r["active"] else _("no longer active")} for r in rows[:limit]]


# --- reading a submitted form --------------------------------------------------------------

async def read_picker(data: Mapping[str, Any], field_name: str, kind: str, *,
                      agency_id: int | None = None, current_id: int | None = None) -> Picked:
    """What the person chose in the picker ``field_name`` of a submitted form (or the query
    string of a GET form). ``current_id`` is the saved choice shown when the form is new."""
    submitted = (field_name in data) or (f"{field_name}_q" in data)
    text = _first(data, f"{field_name}_q")
    chosen = _as_id(_first(data, field_name))
    finding = _first(data, "_find") == field_name
    if not submitted:
        if current_id is not None:
            label = await label_for(kind, current_id)
            if label is not None:
                return Picked(field_name, kind, current_id, label)
        return Picked(field_name, kind)
    if chosen is not None and not finding:
        label = await label_for(kind, chosen)
        searched_for = _first(data, f"{field_name}_searched")
        typed = f"{field_name}_q" in data
        # A link (no words at all) or words still those of the choice or of the search.
        if label is not None and (not typed or text in (label, searched_for)):
            return Picked(field_name, kind, chosen, label)
    if not text and not finding:
        return Picked(field_name, kind)
    results = await search(kind, text, agency_id=agency_id)
    return Picked(field_name, kind, None, text, results, searched=True)


def finding(data: Mapping[str, Any]) -> bool:
    """The person pressed a picker's "Find" button (no-JavaScript search), so the form's own
    action must not run: the page comes back with the matches."""
    return bool(_first(data, "_find"))


def picker_errors(*picked: Picked) -> dict[str, str]:
    """A sentence by each picker whose words were not turned into a choice."""
    errors = {}
    for p in picked:
        if p.needs_choice:
            errors[p.field] = (_("Choose one of the matches below.") if p.results else
                               _("Nothing matches “%(text)s”: check the spelling or type fewer "
                                 "words.", text=p.text) if p.text else
                               _("Type a few letters of the name, then press Find."))
    return errors
