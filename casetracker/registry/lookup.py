"""Look-ups for the public complaint form and for triage (read-only, no permission needed:
agency names and officers' names/badges are what a complainant types in).

- ``search_agencies(query, limit=20)``: agencies whose name contains every word of the query
  (case-, apostrophe-style- and spacing-insensitive, the same on SQLite and PostgreSQL because
  it searches ``Agency.match_key``, which is already case- and space-folded, with each apostrophe
  matching any one character), or whose state matches
  ("TX", "Texas"). Names starting with the query come first.
- ``suggest_officers(badge, name, agency_id, limit=10)``: officers ranked by: in the given
  agency first, then badge match (exact, then partial), then name similarity.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

from piccolo.custom_types import Combinable

from casetracker.registry import rules
from casetracker.registry.tables import Agency, Agreement, Officer

_LIKE_SPECIALS = re.compile(r"[%_\\]")


def icontains(column: Any, text: str) -> Any:
    """Case-insensitive "contains": ILIKE on PostgreSQL; LIKE on SQLite, which ignores ASCII
    case already (and on which Piccolo warns for ILIKE)."""
    from casetracker import db

    pattern = f"%{_like_safe(text)}%"
    return column.like(pattern) if db.is_sqlite() else column.ilike(pattern)


def _like_safe(text: str) -> str:
    # Piccolo's LIKE has no ESCAPE clause: drop the wildcard characters from user input.
    return _LIKE_SPECIALS.sub(" ", text)


async def search_agencies(query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Agencies matching ``query`` by name or state, as plain dicts:
    ``{"id", "name", "state", "state_name", "county", "kind", "label", "models"}`` where
    ``models`` lists the models of the agency's active or pending agreements."""
    text = rules.normalise_name(_like_safe(query or ""))
    limit = max(1, min(int(limit), 100))
    if not text:
        return []
    whole_state = rules.state_code(text)
    where: Any
    if whole_state:
        # "Texas", "TX", "new york": the state's agencies, or names containing the words.
        where = (Agency.state == whole_state) | _name_words_clause(text)
    else:
        where = _name_words_clause(text)
    rows = await (
        Agency.select(Agency.id, Agency.name, Agency.state, Agency.county, Agency.kind,
                      Agency.match_key, Agency.merged_into)
        .where(where)
        .order_by(Agency.name)
        .order_by(Agency.id)
        .limit(500)
    )
    # A record merged into another agency (an alias) stands for that agency.
    alias_of = {r["merged_into"] for r in rows if r["merged_into"] is not None}
    if alias_of:
        seen = {r["id"] for r in rows if r["merged_into"] is None}
        kept = await (Agency.select(Agency.id, Agency.name, Agency.state, Agency.county,
                                    Agency.kind, Agency.match_key, Agency.merged_into)
                      .where(Agency.id.is_in(sorted(alias_of - seen)))) \
            if alias_of - seen else []
        rows = [r for r in rows if r["merged_into"] is None] + kept

    def rank(row: dict[str, Any]) -> tuple[int, int, str]:
        name_key = rules.normalise_name(row["match_key"].split("|", 1)[-1])
        return (0 if name_key.startswith(text) else 1,
                0 if text in name_key else 1,
                name_key)

    rows = sorted(rows, key=rank)[:limit]
    models = await _models_for([r["id"] for r in rows])
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "state": r["state"],
            "state_name": rules.STATE_NAMES.get(r["state"], r["state"]),
            "county": r["county"],
            "kind": r["kind"],
            "label": f"{r['name']} ({r['state']})",
            "models": models.get(r["id"], []),
        }
        for r in rows
    ]


def _name_words_clause(text: str) -> Any:
    clause: Combinable | None = None
    for word in text.split():
        part = Agency.match_key.like(rules.like_pattern_for_word(word))
        clause = part if clause is None else clause & part
    return clause


async def _models_for(agency_ids: list[int]) -> dict[int, list[str]]:
    if not agency_ids:
        return {}
    rows = await (
        Agreement.select(Agreement.agency, Agreement.model)
        .where(Agreement.agency.is_in(agency_ids)
               & Agreement.status.is_in(["active", "pending", "suspended"]))
        .order_by(Agreement.model)
    )
    found: dict[int, list[str]] = {}
    for row in rows:
        found.setdefault(row["agency"], []).append(row["model"])
    return found


def normalise_badge(badge: str) -> str:
    """'#0123 ', 'No. 123' and '123' compare equal."""
    text = rules.clean_text(badge).upper()
    text = re.sub(r"^(NO\.?|#|BADGE)\s*", "", text)
    text = re.sub(r"[\s#\-.]", "", text)
    return text.lstrip("0") or text


def name_similarity(a: str, b: str) -> float:
    """0..1; word order does not matter ("Smith, John" ~ "John Smith")."""
    def key(value: str) -> str:
        words = re.findall(r"\w+", rules.normalise_name(value))
        return " ".join(sorted(words))

    left, right = key(a), key(b)
    if not left or not right:
        return 0.0
    return SequenceMatcher(None, left, right).ratio()


async def suggest_officers(badge: str, name: str, agency_id: int | None,
                           limit: int = 10) -> list[dict[str, Any]]:
    """Officers who may be the one a complainant describes, best first, as plain dicts:
    ``{"id", "name", "badge_number", "rank", "active", "agency_id", "agency_name",
    "agency_state", "same_agency", "badge_match" ("exact"/"partial"/None),
    "name_similarity"}``. An empty badge and name give no suggestions."""
    badge_key = normalise_badge(badge or "")
    name_text = rules.clean_text(name or "")
    limit = max(1, min(int(limit), 50))
    if not badge_key and not name_text:
        return []
    columns = (Officer.id, Officer.name, Officer.badge_number, Officer.rank, Officer.active,
               Officer.agency, Officer.agency.name, Officer.agency.state)
    candidates: dict[int, dict[str, Any]] = {}
    if agency_id is not None:
        for row in await Officer.select(*columns).where(Officer.agency == agency_id).limit(2000):
            candidates[row["id"]] = row
    clauses = []
    if badge_key:
        clauses.append(icontains(Officer.badge_number, badge_key))
    for word in re.findall(r"\w+", name_text)[:4]:
        if len(word) >= 2:
            clauses.append(icontains(Officer.name, word))
    if clauses:
        where = clauses[0]
        for clause in clauses[1:]:
            where = where | clause
        for row in await Officer.select(*columns).where(where).limit(500):
            candidates.setdefault(row["id"], row)

    scored = []
    for row in candidates.values():
        their_badge = normalise_badge(row["badge_number"] or "")
        if badge_key and their_badge == badge_key:
            badge_match: str | None = "exact"
        elif badge_key and their_badge and (badge_key in their_badge or their_badge in badge_key):
            badge_match = "partial"
        else:
            badge_match = None
        similarity = name_similarity(name_text, row["name"]) if name_text else 0.0
        same_agency = agency_id is not None and row["agency"] == agency_id
        if badge_match is None and similarity < 0.5 and not (same_agency and not name_text
                                                              and not badge_key):
            continue
        scored.append(((
            0 if same_agency else 1,
            {"exact": 0, "partial": 1, None: 2}[badge_match],
            -similarity,
            row["name"],
            row["id"],
        ), {
            "id": row["id"],
            "name": row["name"],
            "badge_number": row["badge_number"],
            "rank": row["rank"],
            "active": row["active"],
            "agency_id": row["agency"],
            "agency_name": row["agency.name"],
            "agency_state": row["agency.state"],
            "same_agency": same_agency,
            "badge_match": badge_match,
            "name_similarity": round(similarity, 3),
        }))
    scored.sort(key=lambda item: item[0])
    return [item[1] for item in scored[:limit]]
