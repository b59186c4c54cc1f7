"""Case lists: filters, sorts, keyset pagination, the dashboard's sections and CSV rows.

One SQL query fetches a page of cases (with the agency and lead investigator joined in), then
one query per related table (officers, allegations) for the whole page: a page costs the same
number of queries whatever its size. Pages are cut with keyset pagination (``WHERE (sort_key,
id) < (last_key, last_id)``), never OFFSET, so deep pages cost what the first one does and a
cursor stays stable while cases are added.

Visibility comes from ``auth.policies.case_visibility_filter(actor)`` and is applied to every
query here: lists, search, export, dashboard and API all go through ``fetch_page``.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from piccolo.querystring import QueryString

from casetracker import db
from casetracker.auth.actor import Actor
from casetracker.auth.policies import (
    case_visibility_filter,
    may_search_witness_names,
    sees_only_own_cases,
)
from casetracker.cases import queues, search
from casetracker.cases.clocks import BusinessCalendar, clock_state
from casetracker.errors import ValidationFailed
from casetracker.settings import get_settings
from casetracker.web.i18n import gettext as _

MAX_ID = 2_147_483_647
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
EXPORT_BATCH_SIZE = 500

STATES = ("received", "in_triage", "declined", "referred", "open", "under_investigation",
          "findings_submitted", "under_review", "returned", "closed")
FINAL_STATES = ("declined", "referred", "closed")
TRIAGE_STATES = ("received", "in_triage")
MODELS = ("JEM", "WSO", "TFM")
ALLEGATION_TYPES = ("racial_profiling", "unlawful_stop", "unlawful_detention", "search", "force",
                    "language_access", "discourtesy", "other")
CHARACTERISTICS = ("race", "ethnicity", "national_origin", "language", "immigration_status",
                   "religion", "sex", "other")
SORTS = ("received_desc", "received_asc", "due_asc", "relevance")

# The clocks: (key, due column, done column, extra condition under which the clock runs).
# Each has a partial index of its running rows, ct_case_<key>_running (see the migration
# cases_2026_11_29t08_30_00_000000_open_clock_indexes.py).
CLOCKS: tuple[tuple[str, str, str, str], ...] = (
    ("triage", "triage_due_at", "triaged_at",
     "ct_case.status IN ('received', 'in_triage')"),
    ("ice_notification", "ice_notification_due_at", "ice_notified_at",
     "ct_case.ice_notification_required = TRUE"),
    ("resolution", "resolution_due_at", "resolved_at",
     "ct_case.status NOT IN ('declined', 'referred', 'closed')"),
    ("results", "results_due_at", "results_reported_at", "1 = 1"),
)


_RUNNING_INDEX = {"triage": "ct_case_triage_running", "ice_notification": "ct_case_ice_running",
                  "resolution": "ct_case_resolution_running",
                  "results": "ct_case_results_running"}


def _indexed_by(index: str) -> str:
    """SQLite's planner prefers the plain index on the "done" column (``IS NULL`` looks
    selective) over the partial index of running clocks; name the index there. PostgreSQL's
    planner picks the partial index by itself."""
    return f" INDEXED BY {index}" if db.is_sqlite() else ""


def clock_labels() -> dict[str, str]:
    return {
        "triage": _("Triage"),
        "ice_notification": _("ICE notification"),
        "resolution": _("Resolution"),
        "results": _("Results to ICE"),
    }


# --- filters --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseFilters:
    states: tuple[str, ...] = ()
    agency_id: int | None = None
    agency_state: str = ""  # the two-letter state of the case's agency
    model: str = ""
    officer_id: int | None = None  # a registry officer (links from the registry and flags)
    officer_text: str = ""  # a name or badge as typed
    investigator_id: int | None = None
    unassigned: bool = False
    allegation_type: str = ""
    characteristic: str = ""
    received_from: date | None = None
    received_to: date | None = None
    overdue: bool = False
    queue: str = ""  # one of queues.CASE_QUEUES: work waiting for the signed-in person
    q: str = ""
    sort: str = "received_desc"

    @property
    def active(self) -> dict[str, Any]:
        """The filters that are set, as plain values (audit details, API echo)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if key == "sort":
                continue
            if value not in (None, "", (), [], False):
                out[key] = list(value) if isinstance(value, tuple) else (
                    value.isoformat() if isinstance(value, date) else value)
        return out

    def query_params(self) -> list[tuple[str, str]]:
        """The filters as URL query parameters (links to the next page, the export)."""
        params: list[tuple[str, str]] = [("state", s) for s in self.states]
        simple = {
            "agency": self.agency_id, "agency_state": self.agency_state, "model": self.model,
            "officer_id": self.officer_id, "officer": self.officer_text,
            "investigator": "none" if self.unassigned else self.investigator_id,
            "allegation_type": self.allegation_type, "characteristic": self.characteristic,
            "received_from": self.received_from.isoformat() if self.received_from else "",
            "received_to": self.received_to.isoformat() if self.received_to else "",
            "overdue": "1" if self.overdue else "", "queue": self.queue, "q": self.q,
            "sort": "" if self.sort == "received_desc" or (
                self.sort == "relevance" and self.q) else self.sort,
        }
        params += [(k, str(v)) for k, v in simple.items() if v not in (None, "")]
        return params


def _getall(params: Any, key: str) -> list[str]:
    if hasattr(params, "getall"):
        try:
            return [str(v) for v in params.getall(key)]
        except KeyError:
            return []
    value = params.get(key) if isinstance(params, Mapping) else None
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def _first(params: Any, key: str) -> str:
    values = _getall(params, key)
    return values[0].strip() if values else ""


def parse_filters(params: Any) -> tuple[CaseFilters, dict[str, str]]:
    """Filters from query parameters; unknown or malformed values go to ``errors`` (by field)
    and are left out, so a bad bookmark still shows a list."""
    errors: dict[str, str] = {}

    def as_int(key: str) -> int | None:
        raw = _first(params, key)
        if not raw:
            return None
        # Ids are 32-bit on PostgreSQL: a larger number matches no row on either engine.
        if raw.isascii() and raw.isdigit() and len(raw) < 12 and int(raw) <= MAX_ID:
            return int(raw)
        errors[key] = _("Choose a value from the list.")
        return None

    def as_date(key: str) -> date | None:
        raw = _first(params, key)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[key] = _("Enter a date as YYYY-MM-DD.")
            return None

    def as_choice(key: str, choices: Sequence[str]) -> str:
        raw = _first(params, key)
        if raw and raw not in choices:
            errors[key] = _("Choose a value from the list.")
            return ""
        return raw

    states = tuple(s for s in dict.fromkeys(v for raw in _getall(params, "state")
                                            for v in raw.split(",") if v) if s in STATES)
    if len(states) != len({v for raw in _getall(params, "state") for v in raw.split(",") if v}):
        errors["state"] = _("Choose a value from the list.")
    investigator_raw = _first(params, "investigator")
    unassigned = investigator_raw == "none"
    investigator_id = None if unassigned else as_int("investigator")
    received_from = as_date("received_from")
    received_to = as_date("received_to")
    if received_from and received_to and received_from > received_to:
        errors["received_to"] = _("The end date must be on or after the start date.")
    agency_state = _first(params, "agency_state").upper()
    if agency_state and not (len(agency_state) == 2 and agency_state.isascii()
                             and agency_state.isalpha()):
        errors["agency_state"] = _("Enter a two-letter state code, such as TX.")
        agency_state = ""
    # The officer: a registry id (officer_id, from links) and/or a typed name or badge (officer;
    # digits there are a badge, never an id).
    officer_id = as_int("officer_id")
    officer_text = " ".join(_first(params, "officer").split())[:100]
    sort = as_choice("sort", SORTS) or ("relevance" if _first(params, "q") else "received_desc")
    overdue_raw = _first(params, "overdue").lower()
    filters = CaseFilters(
        states=states,
        agency_id=as_int("agency"),
        agency_state=agency_state,
        model=as_choice("model", MODELS),
        officer_id=officer_id,
        officer_text=officer_text,
        investigator_id=investigator_id,
        unassigned=unassigned,
        allegation_type=as_choice("allegation_type", ALLEGATION_TYPES),
        characteristic=as_choice("characteristic", CHARACTERISTICS),
        received_from=received_from,
        received_to=received_to,
        overdue=overdue_raw in ("1", "true", "yes", "on"),
        queue=as_choice("queue", queues.CASE_QUEUES),
        q=_first(params, "q")[: search.MAX_QUERY_LENGTH],
        sort=sort,
    )
    if sort == "relevance" and not search.is_searchable(filters.q):
        filters = replace(filters, sort="received_desc")
    return filters, errors


def parse_page_size(raw: str | None, default: int = DEFAULT_PAGE_SIZE) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return max(1, min(MAX_PAGE_SIZE, value))


# --- cursors ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cursor:
    """A position between two rows of a list: ``after`` (next page) or ``before`` (previous
    page) the row with sort ``key`` and ``case_id``. Ranked search adds where its order
    stands: ``tier`` 0 (the ranked newest matches) or 1 (older matches, newest first), the
    ``ceiling`` (ids at or above it came after the first page and are left out) and the
    ``floor`` (the oldest id of tier 0; None when tier 0 holds every match)."""

    sort: str
    key: Any
    case_id: int
    direction: str = "after"
    tier: int = 0
    ceiling: int = 0
    floor: int | None = None


def encode_cursor(cursor: Cursor) -> str:
    key = cursor.key.isoformat() if isinstance(cursor.key, datetime) else cursor.key
    raw = json.dumps([cursor.sort, key, cursor.case_id, cursor.direction, cursor.tier,
                      cursor.ceiling, cursor.floor], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, sort: str) -> Cursor:
    """Raises ValidationFailed for a cursor that is not ours or belongs to another sort."""
    try:
        padded = text + "=" * (-len(text) % 4)
        saved_sort, value, case_id, direction, tier, ceiling, floor = json.loads(
            base64.urlsafe_b64decode(padded.encode()))
        if saved_sort != sort or not isinstance(case_id, int) or direction not in (
                "after", "before") or tier not in (0, 1) or not isinstance(ceiling, int) or (
                floor is not None and not isinstance(floor, int)):
            raise ValueError("not a cursor of this list")
        key: Any
        if sort == "relevance":
            if value is not None and (not isinstance(value, (int, float))
                                      or isinstance(value, bool)):
                raise ValueError("rank expected")
            key = float(value) if value is not None else None
        else:
            key = datetime.fromisoformat(value) if value is not None else None
            if key is not None and key.tzinfo is None:
                key = key.replace(tzinfo=UTC)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValidationFailed({"cursor": _("This page link has expired. Start from the first "
                                            "page.")}) from exc
    return Cursor(sort, key, case_id, direction, tier, ceiling, floor)


def decode_cursor_direction(text: str) -> str:
    """``after`` or ``before`` (for the audit record), whatever the sort."""
    try:
        padded = text + "=" * (-len(text) % 4)
        return str(json.loads(base64.urlsafe_b64decode(padded.encode()))[3])
    except (ValueError, TypeError, IndexError, KeyError, json.JSONDecodeError) as exc:
        raise ValidationFailed({"cursor": _("This page link has expired. Start from the first "
                                            "page.")}) from exc


# --- a reference typed in the search box --------------------------------------------------------

async def find_by_reference(actor: Actor, text: str) -> int | None:
    """The case a typed tracking number (``CT-QN2W-24K7``, ``QN2W-24K7``, ``qn2w24k7``) or
    legacy reference (its tracking number or its id in the old system) names, when the actor
    may see it; else None (and the text is searched as words)."""
    from casetracker.intake.rules import normalise_tracking_number

    raw = " ".join((text or "").split()).strip('"').strip()
    if not raw or len(raw) > 64:
        return None
    tracking = normalise_tracking_number(raw)
    if " " in raw and not tracking:
        return None  # words, not a reference
    numbers = list(dict.fromkeys(v for v in (tracking, raw, raw.upper()) if v))
    # an old system's id has digits (so a surname is never taken for one)
    legacy = any(c.isdigit() for c in raw) and " " not in raw
    condition = QueryString(
        "(ct_case.tracking_number IN (" + ", ".join("{}" for _ in numbers) + ")"
        + (" OR ct_case.legacy_id = {})" if legacy else ")"),
        *numbers, *([raw] if legacy else []))
    visibility = case_visibility_filter(actor)
    if visibility is not None:
        condition = QueryString("{} AND ({})", condition, visibility.querystring)
    rows = await _run(QueryString("SELECT ct_case.id FROM ct_case WHERE {} LIMIT 2", condition))
    return int(rows[0]["id"]) if len(rows) == 1 else None


# --- SQL building -----------------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now(UTC)


def _join(parts: Sequence[QueryString], separator: str) -> QueryString:
    if not parts:
        return QueryString("1 = 1")
    template = separator.join("{}" for _ in parts)
    return QueryString(template, *parts)


def _in_list(column: str, values: Sequence[Any]) -> QueryString:
    return QueryString(f"{column} IN (" + ", ".join("{}" for _ in values) + ")", *values)


def overdue_condition(now: datetime) -> QueryString:
    parts = [
        QueryString(f"(ct_case.{due} < {{}} AND ct_case.{done} IS NULL AND {extra})", now)
        for _key, due, done, extra in CLOCKS
    ]
    return QueryString("(" + " OR ".join("{}" for _ in parts) + ")", *parts)


_LIKE_WILDCARDS = re.compile(r"[%_\\]")


def officer_words(text: str) -> list[str]:
    """The words of a typed officer name or badge, lower-cased, wildcards and a leading "#" or
    "No." dropped ("Dep. Walker #417" -> ["dep.", "walker", "417"])."""
    words = []
    for word in _LIKE_WILDCARDS.sub(" ", text).lower().replace(",", " ").split():
        word = word.lstrip("#")
        if word in ("no.", "no", "badge"):
            continue
        if word:
            words.append(word)
    return words[:8]


@dataclass(frozen=True)
class OfficerMatch:
    """A typed officer name, resolved before the list's query (``resolve_officer_text``):
    the registry officers whose name or badge holds every typed word (None: more than
    OFFICER_ID_LIMIT, matched by a join instead), and whether the cases naming them are
    ``many`` (a share of the table: the list walks its own order and checks each case,
    stopping after a page) or few (they are collected first, then sorted)."""

    officer_ids: tuple[int, ...] | None
    many: bool


OFFICER_ID_LIMIT = 500
# The list walks its order when the typed officer's links number at least
# sqrt(OFFICER_WALK_FACTOR x cases) (and OFFICER_WALK_MIN): a walk costs about a page's rows
# over their share of the table, collecting costs every match, each about five times a
# walked row (measured with 1,000,000 cases: the two meet near 2,200 links).
OFFICER_WALK_FACTOR = 5.0
OFFICER_WALK_MIN = 100


# Punctuation that separates the words of a name or badge ("Smith-Walker", "B-22", "O'Neil").
_NAME_SEPARATORS = "-.,#/'()"


def _word_start(word: str) -> str:
    """The LIKE pattern of a typed word at the start of a word of ``_words_of`` text."""
    for separator in _NAME_SEPARATORS:
        word = word.replace(separator, " ")
    return f"% {' '.join(word.split())}%"


def _like_all(expression: str, words: list[str]) -> QueryString:
    """Every typed word starts a word of ``expression`` (as the search index's prefixes do,
    so the index's narrowing never drops a case this keeps): "walker" finds "Smith-Walker",
    "alker" finds nothing."""
    patterns = [_word_start(w) for w in words if _word_start(w) != "% %"]
    if not patterns:
        return QueryString("1 = 0")  # only punctuation typed: no officer's words
    return QueryString(" AND ".join(f"{expression} LIKE {{}}" for _ in patterns), *patterns)


def _words_of(text: str) -> str:
    """SQL: ``text`` folded to lower case (beyond ASCII on both engines), its punctuation
    made spaces, with a space in front (so each word starts after a space)."""
    folded = f"{'ct_fold' if db.is_sqlite() else 'lower'}({text})"
    for separator in _NAME_SEPARATORS:
        folded = f"replace({folded}, '{separator.replace(chr(39), chr(39) * 2)}', ' ')"
    return f"(' ' || {folded})"


def _typed_expression() -> str:
    return _words_of("COALESCE(case_officer.name, '') || ' ' || "
                     "COALESCE(case_officer.badge_number, '')")


def _registry_expression() -> str:
    return _words_of("officer.name || ' ' || officer.badge_number")


async def resolve_officer_text(filters: CaseFilters) -> OfficerMatch | None:
    """The registry officers a typed name names (a read of the registry, far smaller than
    the cases), and how many cases name them (read from the officer indexes, up to
    the walking threshold); None without a typed name."""
    words = officer_words(filters.officer_text)
    if not words:
        return None
    rows = await _run(QueryString(
        "SELECT officer.id FROM officer WHERE {} ORDER BY officer.id LIMIT {}",
        _like_all(_registry_expression(), words), OFFICER_ID_LIMIT + 1))
    if len(rows) > OFFICER_ID_LIMIT:
        return OfficerMatch(None, True)
    ids = tuple(int(r["id"]) for r in rows)
    cap = max(OFFICER_WALK_MIN, math.isqrt(int(await case_table_size() * OFFICER_WALK_FACTOR)))
    if ids:
        marks = ", ".join("{}" for _ in ids)
        probe = QueryString(
            f'SELECT COUNT(*) AS n FROM (SELECT 1 FROM case_officer WHERE officer IN ({marks}) '  # noqa: S608
            f"UNION ALL SELECT 1 FROM allegation WHERE officer IN ({marks}) LIMIT {{}}) AS named",
            *ids, *ids, cap)
    else:
        narrowed = search.officer_case_ids(words)
        if narrowed is None or not db.is_sqlite():
            # PostgreSQL's narrowing reads whole documents: collect (a name no officer of
            # the registry has is rarely common).
            return OfficerMatch(ids, narrowed is None)
        probe = QueryString("SELECT COUNT(*) AS n FROM ({} LIMIT {}) AS named", narrowed, cap)
    n = int((await _run(probe))[0]["n"])
    return OfficerMatch(ids, n >= cap)


def _officer_text_condition(text: str, match: OfficerMatch | None) -> QueryString:
    """Cases naming an officer whose name or badge holds every typed word: as the complainant
    typed it (case_officer), or as the registry knows the officer linked to the case or to one
    of its allegations. Few such cases: collected first (the registry officers' cases from
    their indexes, the typed names narrowed by the search index and checked exactly), then
    sorted. Many: each case met walking the list's order is checked (scalar sub-queries, one
    index probe each: PostgreSQL never turns them into a scan of every officer named), so a
    page stops after its rows."""
    words = officer_words(text)
    if not words:
        return QueryString("1 = 1")
    typed = _like_all(_typed_expression(), words)
    registry = _like_all(_registry_expression(), words)
    ids = match.officer_ids if match is not None else None
    narrowed = search.officer_case_ids(words)
    if match is not None and not match.many and narrowed is not None:
        if db.is_sqlite():
            sources = [QueryString(
                'SELECT case_officer."case" FROM case_officer WHERE case_officer."case" IN '
                "({}) AND {}", narrowed, typed)]
        else:
            # the documents first (GIN), then their officers: never every officer's LIKE
            sources = [QueryString(
                "(WITH narrowed AS MATERIALIZED ({}) SELECT case_officer.\"case\" "
                'FROM narrowed JOIN case_officer ON case_officer."case" = narrowed.case_id '
                "WHERE {})", narrowed, typed)]
        if ids:
            sources += [
                QueryString('SELECT "case" FROM case_officer WHERE {}', _in_list("officer", ids)),
                QueryString('SELECT "case" FROM allegation WHERE {}', _in_list("officer", ids)),
            ]
        union = " UNION ".join("{}" for _ in sources)
        if db.is_sqlite():
            return QueryString(f"ct_case.id IN ({union})", *sources)
        # PostgreSQL: the few ids as one array, read through the primary key (a semi-join
        # was planned as a hash over every case's index).
        return QueryString(f"ct_case.id = ANY (ARRAY({union}))", *sources)
    if ids is not None:
        marks = ", ".join("{}" for _ in ids) or "NULL"
        return QueryString(
            '((SELECT 1 FROM case_officer WHERE case_officer."case" = ct_case.id AND '  # noqa: S608
            f"(case_officer.officer IN ({marks}) OR ({{}})) LIMIT 1) = 1 OR "
            '(SELECT 1 FROM allegation WHERE allegation."case" = ct_case.id AND '
            # (+: read the case's own allegations, not one probe per officer named)
            f"+allegation.officer IN ({marks}) LIMIT 1) = 1)",
            *ids, typed, *ids)
    return QueryString(
        '((SELECT 1 FROM case_officer LEFT JOIN officer ON officer.id = case_officer.officer '
        'WHERE case_officer."case" = ct_case.id AND (({}) OR ({})) LIMIT 1) = 1 OR '
        "(SELECT 1 FROM allegation JOIN officer ON officer.id = allegation.officer "
        'WHERE allegation."case" = ct_case.id AND {} LIMIT 1) = 1)',
        typed, registry, registry)


def _allegation_conditions(filters: CaseFilters, sparse: bool) -> list[QueryString]:
    """Allegation filters as conditions on each case row (``EXISTS``): walking the list's own
    order, a page stops after its rows instead of collecting every matching allegation
    first (racial profiling is a third of all allegations). Type and characteristic
    together mean one allegation of that type on that basis, answered from the index that
    holds both; when that pair is rare (``sparse``) its few cases are collected instead."""
    if filters.allegation_type and filters.characteristic:
        if sparse:
            return [QueryString(
                'ct_case.id IN (SELECT "case" FROM allegation WHERE allegation_type = {} '
                "AND protected_characteristic = {})",
                filters.allegation_type, filters.characteristic)]
        return [QueryString(
            'EXISTS (SELECT 1 FROM allegation WHERE allegation."case" = ct_case.id '
            "AND allegation.allegation_type = {} AND allegation.protected_characteristic = {})",
            filters.allegation_type, filters.characteristic)]
    parts = []
    if filters.allegation_type:
        parts.append(QueryString(
            'EXISTS (SELECT 1 FROM allegation WHERE allegation."case" = ct_case.id '
            "AND allegation.allegation_type = {})", filters.allegation_type))
    if filters.characteristic:
        # The characteristic recorded on an allegation at triage, or the one the complainant
        # named on the form (a JSON list; the values are fixed words, so a quoted LIKE is exact).
        json_text = "ct_case.protected_characteristics" if db.is_sqlite() else \
            "ct_case.protected_characteristics::text"
        parts.append(QueryString(
            'EXISTS (SELECT 1 FROM allegation WHERE allegation."case" = ct_case.id '  # noqa: S608
            f"AND allegation.protected_characteristic = {{}}) OR {json_text} LIKE {{}}",
            filters.characteristic, f'%"{filters.characteristic}"%',
        ))
        parts[-1] = QueryString("({})", parts[-1])
    return parts


SPARSE_PAIR_LIMIT = 2000


async def sparse_allegation_pair(filters: CaseFilters) -> bool:
    """Whether the type x characteristic pair has fewer than SPARSE_PAIR_LIMIT allegations
    (read from the index that holds both, at most that many entries)."""
    if not (filters.allegation_type and filters.characteristic):
        return False
    row = await _run(QueryString(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM allegation WHERE allegation_type = {} "
        "AND protected_characteristic = {} LIMIT {}) AS pair",
        filters.allegation_type, filters.characteristic, SPARSE_PAIR_LIMIT))
    return int(row[0]["n"]) < SPARSE_PAIR_LIMIT


def where_clause(actor: Actor, filters: CaseFilters, now: datetime | None = None,
                 *, ranked: bool = False, sparse_allegations: bool = False,
                 officer_match: OfficerMatch | None = None) -> QueryString:
    """Every condition for ``ct_case`` rows: visibility first, then each filter set (the
    search itself only when ``ranked`` is false: ranked pages read it from the index)."""
    now = now or _now()
    parts: list[QueryString] = []
    visibility = case_visibility_filter(actor)  # raises Forbidden for no case access
    if visibility is not None:
        parts.append(QueryString("({})", visibility.querystring))
    if filters.states:
        parts.append(_in_list("ct_case.status", filters.states))
    if filters.agency_id is not None:
        parts.append(QueryString("ct_case.agency = {}", filters.agency_id))
    if filters.agency_state:
        parts.append(QueryString("ct_case.agency IN (SELECT id FROM agency WHERE state = {})",
                                 filters.agency_state))
    if filters.model:
        # The case's own agreement when triage linked one, else any agreement of its agency.
        parts.append(QueryString(
            "(ct_case.agreement IN (SELECT id FROM agreement WHERE model = {}) OR "
            "(ct_case.agreement IS NULL AND ct_case.agency IN "
            "(SELECT agency FROM agreement WHERE model = {})))",
            filters.model, filters.model,
        ))
    if filters.officer_id is not None:
        parts.append(QueryString(
            'ct_case.id IN (SELECT "case" FROM case_officer WHERE officer = {} '
            'UNION SELECT "case" FROM allegation WHERE officer = {})',
            filters.officer_id, filters.officer_id,
        ))
    if filters.officer_text:
        parts.append(_officer_text_condition(filters.officer_text, officer_match))
    if filters.unassigned:
        parts.append(QueryString("ct_case.lead_investigator IS NULL"))
    elif filters.investigator_id is not None:
        parts.append(QueryString("ct_case.lead_investigator = {}", filters.investigator_id))
    parts += _allegation_conditions(filters, sparse_allegations)
    tz = BusinessCalendar.from_settings(get_settings()).tz
    if filters.received_from:
        start = datetime.combine(filters.received_from, time(), tzinfo=tz).astimezone(UTC)
        parts.append(QueryString("ct_case.received_at >= {}", start))
    if filters.received_to:
        end = datetime.combine(filters.received_to + timedelta(days=1), time(),
                               tzinfo=tz).astimezone(UTC)
        parts.append(QueryString("ct_case.received_at < {}", end))
    if filters.overdue:
        parts.append(overdue_condition(now))
    if filters.queue:
        parts.append(queues.case_condition(actor, filters.queue))
    if filters.q and search.is_searchable(filters.q) and not ranked:
        parts.append(QueryString("ct_case.id IN ({})", search.matching_case_ids(
            filters.q, witnesses=may_search_witness_names(actor))))
    return _join(parts, " AND ")


_ORDER = {
    "received_desc": "ct_case.received_at DESC, ct_case.id DESC",
    "received_asc": "ct_case.received_at ASC, ct_case.id ASC",
    "due_asc": "ct_case.resolution_due_at ASC NULLS LAST, ct_case.id ASC",
}
# The same orders backwards: a previous page is read walking back from its first row.
_REVERSED = {
    "received_desc": "ct_case.received_at ASC, ct_case.id ASC",
    "received_asc": "ct_case.received_at DESC, ct_case.id DESC",
    "due_asc": "ct_case.resolution_due_at DESC NULLS FIRST, ct_case.id DESC",
}
_SORT_COLUMN = {"received_desc": "received_at", "received_asc": "received_at",
                "due_asc": "resolution_due_at"}


def keyset_condition(sort: str, key: datetime | None, case_id: int,
                     direction: str = "after") -> QueryString:
    """Rows after (or before) the row ``(key, case_id)`` in the list's order."""
    later = direction == "after"
    if sort in ("received_desc", "received_asc"):
        # received_desc walks to smaller keys; received_asc to larger ones
        op = "<" if (sort == "received_desc") == later else ">"
        return QueryString(f"(ct_case.received_at {op} {{}} OR (ct_case.received_at = {{}} "
                           f"AND ct_case.id {op} {{}}))", key, key, case_id)
    # due_asc: dated cases first (by date), then undated ones (by id)
    if later:
        if key is None:
            return QueryString("(ct_case.resolution_due_at IS NULL AND ct_case.id > {})",
                               case_id)
        return QueryString("(ct_case.resolution_due_at > {} OR (ct_case.resolution_due_at = {} "
                           "AND ct_case.id > {}) OR ct_case.resolution_due_at IS NULL)",
                           key, key, case_id)
    if key is None:
        return QueryString("((ct_case.resolution_due_at IS NULL AND ct_case.id < {}) "
                           "OR ct_case.resolution_due_at IS NOT NULL)", case_id)
    return QueryString("(ct_case.resolution_due_at < {} OR (ct_case.resolution_due_at = {} "
                       "AND ct_case.id < {}))", key, key, case_id)


LIST_COLUMNS = (
    "ct_case.id, ct_case.tracking_number, ct_case.status, ct_case.channel, ct_case.language, "
    "ct_case.received_at, ct_case.incident_date, ct_case.incident_city, ct_case.incident_state, "
    "ct_case.incident_setting, ct_case.context_287g, ct_case.protected_characteristics, "
    "ct_case.agency AS agency_id, agency.name AS agency_name, agency.state AS agency_state, "
    "ct_case.agreement AS agreement_id, agreement.model AS agreement_model, "
    "ct_case.lead_investigator AS lead_investigator_id, ct_user.name AS lead_investigator_name, "
    "ct_case.officer_unidentified, ct_case.outcome, ct_case.referred_to, "
    "ct_case.triage_due_at, ct_case.triaged_at, ct_case.ice_notification_required, "
    "ct_case.ice_notification_due_at, ct_case.ice_notified_at, ct_case.resolution_due_at, "
    "ct_case.resolved_at, ct_case.results_due_at, ct_case.results_reported_at, ct_case.closed_at"
)
LIST_FROM = (
    "FROM ct_case LEFT JOIN agency ON agency.id = ct_case.agency "
    "LEFT JOIN agreement ON agreement.id = ct_case.agreement "
    "LEFT JOIN ct_user ON ct_user.id = ct_case.lead_investigator"
)


async def _run(querystring: QueryString) -> list[dict[str, Any]]:
    rows = await db.current_engine().run_querystring(querystring)
    return [dict(row) for row in rows or ()]


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if not value:
        return []
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return []
    return loaded if isinstance(loaded, list) else []


@dataclass
class CasePage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    page_size: int
    filters: CaseFilters = field(default_factory=CaseFilters)
    prev_cursor: str | None = None
    # How many cases match: exact up to COUNT_CAP, else None with ``more_than`` = COUNT_CAP.
    total: int | None = None
    more_than: int | None = None


# Ranked search scores the RANK_WINDOW newest matching cases (best first), then lists older
# matches newest first: the cost of a page follows this number, not the number of matches.
RANK_WINDOW = 1000
# Counts are exact up to this many cases, then "more than" it.
COUNT_CAP = 1000


def _has_conditions(actor: Actor, filters: CaseFilters) -> bool:
    return case_visibility_filter(actor) is not None or any(
        key != "q" for key in filters.active)


def _drive_from_cases(actor: Actor, filters: CaseFilters) -> bool:
    """A search within one investigator's cases (their own, or the investigator filter)
    reads those cases and looks each up in the search index, instead of walking every match
    for the few that are theirs."""
    return sees_only_own_cases(actor) or filters.investigator_id is not None


async def fetch_page(actor: Actor, filters: CaseFilters, *, cursor: str | None = None,
                     page_size: int = DEFAULT_PAGE_SIZE, now: datetime | None = None,
                     with_count: bool = False) -> CasePage:
    """One page of cases the actor may see, with officers and allegations (and, with
    ``with_count``, how many cases match, capped): a constant number of queries."""
    now = now or _now()
    ranked = filters.sort == "relevance" and search.is_searchable(filters.q)
    if filters.sort == "relevance" and not ranked:
        filters = replace(filters, sort="received_desc")
    position = decode_cursor(cursor, filters.sort) if cursor else None
    sparse = await sparse_allegation_pair(filters)
    officer_match = await resolve_officer_text(filters)
    where = where_clause(actor, filters, now, ranked=ranked, sparse_allegations=sparse,
                         officer_match=officer_match)
    if ranked:
        page = await _ranked_page(actor, filters, where, position, page_size)
    else:
        page = await _sorted_page(filters, where, position, page_size,
                                  index=_sorted_index(actor, filters))
        if with_count:
            n = await _count_named_officers(actor, filters, now, sparse, officer_match)
            if n is None:
                row = (await _run(QueryString(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM ct_case WHERE {} LIMIT {}) "
                    "AS capped", where, COUNT_CAP + 1)))[0]
                n = int(row["n"])
            page.total, page.more_than = (n, None) if n <= COUNT_CAP else (None, COUNT_CAP)
    await attach_related(page.rows, now)
    if filters.q and search.is_searchable(filters.q) and page.rows:
        found = await search.snippets(filters.q, [r["id"] for r in page.rows],
                                      witnesses=may_search_witness_names(actor))
        for row in page.rows:
            row["snippet"] = found.get(row["id"])
    return page


OFFICER_COUNT_SAMPLE = 5000


async def _count_named_officers(actor: Actor, filters: CaseFilters, now: datetime,
                                sparse: bool, match: OfficerMatch | None) -> int | None:
    """With a typed officer naming many cases, "more than COUNT_CAP" is read among the cases
    of a bounded sample of the registry officers' links (each checked by every other
    condition; naming the officer it does by construction): a common surname no longer
    walks ten thousand cases to count a thousand. None when that sample does not reach the
    cap (then the caller counts exactly)."""
    if match is None or not match.many or not match.officer_ids:
        return None
    where = where_clause(actor, replace(filters, officer_text=""), now,
                         sparse_allegations=sparse)
    marks = ", ".join("{}" for _ in match.officer_ids)
    row = (await _run(QueryString(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM ct_case WHERE ct_case.id IN ("  # noqa: S608
        f'SELECT "case" FROM case_officer WHERE officer IN ({marks}) LIMIT {{}}) AND {{}} '
        "LIMIT {}) AS capped",
        *match.officer_ids, OFFICER_COUNT_SAMPLE, where, COUNT_CAP + 1)))[0]
    n = int(row["n"])
    return n if n > COUNT_CAP else None


def _sorted_index(actor: Actor, filters: CaseFilters) -> str:
    """The index this list must walk when the planners would test each case's row instead:
    overdue cases of the whole table in received order read ``ct_case_received_clocks``
    (the clocks are tested on the index entry: SQLite is told the index, PostgreSQL finds
    the page's ids with an index-only scan first)."""
    if not filters.overdue or filters.sort not in (
            "received_desc", "received_asc") or case_visibility_filter(actor) is not None:
        return ""
    others = set(filters.active) - {"overdue", "received_from", "received_to"}
    return "" if others else "ct_case_received_clocks"


async def _sorted_page(filters: CaseFilters, where: QueryString, position: Cursor | None,
                       page_size: int, index: str = "") -> CasePage:
    sort = filters.sort
    backwards = position is not None and position.direction == "before"
    conditions = [where]
    if position is not None:
        conditions.append(keyset_condition(sort, position.key, position.case_id,
                                           position.direction))
    order = _REVERSED[sort] if backwards else _ORDER[sort]
    where = _join(conditions, " AND ")
    if index and not db.is_sqlite():
        # the page's ids from the index alone (its conditions are on indexed columns)
        rows = await _run(QueryString(
            f"SELECT {LIST_COLUMNS} {LIST_FROM} WHERE ct_case.id IN (SELECT ct_case.id "  # noqa: S608
            f"FROM ct_case WHERE {{}} ORDER BY {order} LIMIT {{}}) ORDER BY {order}",
            where, page_size + 1))
    else:
        from_ = LIST_FROM.replace("FROM ct_case ", f"FROM ct_case{_indexed_by(index)} ", 1) \
            if index else LIST_FROM
        rows = await _run(QueryString(
            f"SELECT {LIST_COLUMNS} {from_} WHERE {{}} ORDER BY {order} LIMIT {{}}",
            where, page_size + 1))
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()

    def at(row: dict[str, Any], direction: str) -> str:
        return encode_cursor(Cursor(sort, _as_datetime(row[_SORT_COLUMN[sort]]), row["id"],
                                    direction))

    has_next = (more and not backwards) or (backwards and bool(rows))
    has_prev = (more and backwards) or (position is not None and not backwards and bool(rows))
    return CasePage(rows=rows, page_size=page_size, filters=filters,
                    next_cursor=at(rows[-1], "after") if has_next and rows else None,
                    prev_cursor=at(rows[0], "before") if has_prev and rows else None)


async def _ranked_page(actor: Actor, filters: CaseFilters, where: QueryString,
                       position: Cursor | None, page_size: int) -> CasePage:
    """Best match first among the RANK_WINDOW newest matches ("tier 0", by rank then id),
    then the older matches newest first ("tier 1", by id): one total order that keyset
    cursors walk both ways."""
    witnesses = may_search_witness_names(actor)
    conditions = where if _has_conditions(actor, filters) else None
    drive = _drive_from_cases(actor, filters)

    def matches(**kwargs: Any) -> QueryString:
        return search.candidates(filters.q, witnesses=witnesses, conditions=conditions,
                                 drive_from_cases=drive, **kwargs)

    if position is None:
        top = (await _run(QueryString("SELECT COALESCE(MAX(id), 0) AS top FROM ct_case")))[0]
        ceiling = int(top["top"]) + 1
    else:
        ceiling = position.ceiling
    want = page_size + 1
    backwards = position is not None and position.direction == "before"
    found: list[tuple[int, float | None, int]] = []  # (tier, rank, id) in reading order
    floor: int | None = position.floor if position is not None else None
    window_count: int | None = None

    # Where the window of the newest matches starts: known from the cursor after the first
    # page; else estimated (PostgreSQL; see search.window_floor) and checked below.
    if position is not None and position.floor is not None:
        window_above = position.floor - 1
    elif drive:
        window_above = 0
    else:
        window_above = await search.window_floor(filters.q, witnesses=witnesses,
                                                 conditions=conditions, below=ceiling,
                                                 window=RANK_WINDOW)

    async def tier0(keyset: QueryString | None, reverse: bool, limit: int) -> None:
        nonlocal floor, window_count
        order = "page.rank DESC, page.id DESC" if reverse else "page.rank, page.id"

        async def window(above: int) -> list[dict[str, Any]]:
            return await _run(QueryString(
                "WITH cand AS MATERIALIZED ({}), "  # noqa: S608 - constant SQL, values are {}
                "stats AS (SELECT COUNT(*) AS n, MIN(id) AS low FROM cand) "
                "SELECT stats.n AS n, stats.low AS low, page.id AS id, page.rank AS rank "
                "FROM stats LEFT JOIN (SELECT id, rank FROM cand WHERE {} "
                f"ORDER BY {order.replace('page.', '')} LIMIT {{}}) AS page ON 1 = 1 "
                f"ORDER BY {order}",
                matches(below=ceiling, above=above, limit=RANK_WINDOW, from_index=above > 0),
                keyset if keyset is not None else QueryString("1 = 1"), limit))

        rows = await window(window_above)
        if window_above > 0 and (int(rows[0]["n"]) if rows else 0) < RANK_WINDOW:
            rows = await window(0)  # the estimate was short: the window reaches further back
        window_count = int(rows[0]["n"]) if rows else 0
        floor = int(rows[0]["low"]) if rows and window_count >= RANK_WINDOW else None
        found.extend((0, float(r["rank"]), int(r["id"])) for r in rows if r["id"] is not None)

    async def tier1(below: int, above: int, reverse: bool, limit: int) -> None:
        rows = await _run(matches(below=below, above=above, limit=limit,
                                  newest_first=not reverse))
        found.extend((1, None, int(r["id"])) for r in rows)

    if not backwards:
        if position is None or position.tier == 0:
            keyset = None if position is None else QueryString(
                "(rank > {} OR (rank = {} AND id > {}))", position.key, position.key,
                position.case_id)
            await tier0(keyset, False, want)
            if len(found) < want and floor is not None:
                await tier1(floor, 0, False, want - len(found))
        elif floor is not None:
            await tier1(position.case_id, 0, False, want)
    else:
        assert position is not None
        if position.tier == 1 and floor is not None:
            await tier1(floor, position.case_id, True, want)
            if len(found) < want:
                await tier0(None, True, want - len(found))
        else:
            await tier0(QueryString("(rank < {} OR (rank = {} AND id < {}))", position.key,
                                    position.key, position.case_id), True, want)
    more = len(found) > page_size
    found = found[:page_size]
    if backwards:
        found.reverse()
    rows = []
    if found:
        ids = [case_id for _tier, _rank, case_id in found]
        by_id = {r["id"]: r for r in await _run(QueryString(
            f"SELECT {LIST_COLUMNS} {LIST_FROM} WHERE ct_case.id IN ("
            + ", ".join("{}" for _ in ids) + ")", *ids))}
        for tier, rank, case_id in found:
            if case_id in by_id:
                rows.append({**by_id[case_id], "search_rank": rank, "search_tier": tier})

    def at(item: tuple[int, float | None, int], direction: str) -> str:
        tier, rank, case_id = item
        return encode_cursor(Cursor("relevance", rank, case_id, direction, tier, ceiling, floor))

    has_next = (more and not backwards) or (backwards and bool(found))
    has_prev = (more and backwards) or (position is not None and not backwards and bool(found))
    page = CasePage(rows=rows, page_size=page_size, filters=filters,
                    next_cursor=at(found[-1], "after") if has_next and found else None,
                    prev_cursor=at(found[0], "before") if has_prev and found else None)
    # The count: exact while every match is in the ranked window, else "more than".
    if floor is not None or (window_count is None and position is not None
                             and position.tier == 1):
        page.more_than = RANK_WINDOW
    elif window_count is not None:
        page.total = window_count
    return page


async def attach_related(rows: list[dict[str, Any]], now: datetime) -> None:
    """Officers and allegations for a page of cases: one query per relation."""
    for row in rows:
        for column in ("received_at", "triage_due_at", "triaged_at", "ice_notification_due_at",
                       "ice_notified_at", "resolution_due_at", "resolved_at", "results_due_at",
                       "results_reported_at", "closed_at"):
            row[column] = _as_datetime(row[column])
        row["protected_characteristics"] = _as_list(row["protected_characteristics"])
        row["officers"] = []
        row["allegations"] = []
        row["clocks"] = case_clocks(row, now)
        row["next_due"] = next_due(row["clocks"])
    if not rows:
        return
    by_id = {row["id"]: row for row in rows}
    ids = list(by_id)
    officers = await _run(QueryString(
        'SELECT case_officer."case" AS case_id, case_officer.name, case_officer.badge_number, '
        "case_officer.officer AS officer_id, case_officer.unidentified, "
        "officer.name AS registry_name, officer.badge_number AS registry_badge "
        "FROM case_officer LEFT JOIN officer ON officer.id = case_officer.officer "
        'WHERE case_officer."case" IN (' + ", ".join("{}" for _ in ids) + ") "
        'ORDER BY case_officer."case", case_officer.position, case_officer.id',
        *ids,
    ))
    for officer in officers:
        by_id[officer["case_id"]]["officers"].append(officer)
    allegations = await _run(QueryString(
        'SELECT allegation."case" AS case_id, allegation.id, allegation.allegation_type, '
        "allegation.protected_characteristic, allegation.officer AS officer_id, "
        "allegation.recommended_finding, allegation.final_finding "
        'FROM allegation WHERE allegation."case" IN (' + ", ".join("{}" for _ in ids) + ") "
        'ORDER BY allegation."case", allegation.id',
        *ids,
    ))
    for allegation in allegations:
        by_id[allegation["case_id"]]["allegations"].append(allegation)


def case_clocks(row: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The running or finished clocks of one case row, as states (met / due / overdue ...)."""
    out = []
    labels = clock_labels()
    for key, due_column, done_column, _extra in CLOCKS:
        due_at = row.get(due_column)
        if due_at is None:
            continue
        if key == "ice_notification" and not row.get("ice_notification_required"):
            continue
        done_at = row.get(done_column)
        stopped = (key == "triage" and row.get("status") not in TRIAGE_STATES) or (
            key == "resolution" and row.get("status") in FINAL_STATES)
        if done_at is None and stopped:
            continue
        state = clock_state(due_at, done_at, now)
        out.append({"key": key, "label": labels[key], "state": state.state,
                    "due_at": due_at, "done_at": done_at, "text": clock_text(state)})
    return out


def clock_text(state: Any) -> str:
    amount = (_("%(n)s days") % {"n": state.days} if state.days >= 2 else
              _("1 hour") if state.hours == 1 else _("%(n)s hours") % {"n": state.hours})
    if state.state == "met":
        return _("met")
    if state.state == "missed":
        return _("met late by %(amount)s") % {"amount": amount}
    if state.state == "due":
        return _("due in %(amount)s") % {"amount": amount}
    if state.state == "overdue":
        return _("overdue by %(amount)s") % {"amount": amount}
    return ""


def next_due(clocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    running = [c for c in clocks if c["state"] in ("due", "overdue")]
    return min(running, key=lambda c: c["due_at"]) if running else None


async def iter_rows(actor: Actor, filters: CaseFilters, batch_size: int = EXPORT_BATCH_SIZE
                    ) -> AsyncIterator[dict[str, Any]]:
    """Every matching case, in keyset batches (for the streaming export)."""
    cursor: str | None = None
    now = _now()
    while True:
        page = await fetch_page(actor, filters, cursor=cursor, page_size=batch_size, now=now)
        for row in page.rows:
            yield row
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# --- dashboard --------------------------------------------------------------------------------

DASHBOARD_LIMIT = 25
# The unassigned queue: the condition of the partial index ct_case_open_unassigned, written
# out literally (as the migration does) so that both planners see the index applies.
OPEN_UNASSIGNED = (
    "ct_case.lead_investigator IS NULL AND ct_case.status IN ("
    + ", ".join(f"'{s}'" for s in STATES if s not in FINAL_STATES) + ")")


@dataclass
class Dashboard:
    my_cases: list[dict[str, Any]]
    unassigned: list[dict[str, Any]]
    overdue: list[dict[str, Any]]  # one entry per (case, clock)
    due_soon: list[dict[str, Any]]
    due_soon_until: datetime
    limit: int = DASHBOARD_LIMIT
    counts: dict[str, int] = field(default_factory=dict)
    # When the scope's figures come from the periodic count (large tables): its time.
    counted_at: datetime | None = None


# Above this many cases the dashboard's whole-scope figures (the queue and the overdue
# counts, which grow with the table) are those of the periodic job ``cases.dashboard_figures``
# (every FIGURES_EVERY), read in O(1); below it they are counted live. The lists behind the
# figures are always exact.
LARGE_TABLE = 50_000
FIGURES_EVERY = timedelta(minutes=5)
FIGURES_STALE = timedelta(minutes=30)


def figures_scope(actor: Actor) -> str | None:
    """The stored figures an actor's dashboard may read: "all" (who sees every case),
    "triage" (intake), None (an investigator: their own cases, always counted live)."""
    from casetracker.auth.permissions import Permission
    from casetracker.auth.policies import has_permission

    if has_permission(actor, Permission.CASE_READ_ALL):
        return "all"
    if sees_only_own_cases(actor):
        return None
    if has_permission(actor, Permission.CASE_READ_TRIAGE):
        return "triage"
    return None


def _scope_where(scope: str) -> QueryString:
    return QueryString("1 = 1") if scope == "all" else _in_list("ct_case.status",
                                                               list(TRIAGE_STATES))


async def case_table_size() -> int:
    """The highest case id: the table's size, read from the primary key in O(1)."""
    row = (await _run(QueryString("SELECT COALESCE(MAX(id), 0) AS top FROM ct_case")))[0]
    return int(row["top"])


async def scope_counts(base: QueryString, now: datetime, lead_only: bool = False
                       ) -> dict[str, int]:
    """The queue and the overdue counts within ``base`` (one statement). ``lead_only``: the
    base is one investigator's cases, read from their index rather than the clocks'."""
    # One investigator's cases are theirs: none is unassigned (and PostgreSQL's planner does
    # not see that "no lead" and "led by me" exclude each other).
    unassigned_where = QueryString("1 = 0") if lead_only else QueryString(
        f"{OPEN_UNASSIGNED} AND {{}}", base)
    # An investigator's counts read their own cases' index (SQLite's planner otherwise
    # preferred the clocks' and the queue's indexes of every case).
    mine = _indexed_by("ct_case_lead_resolution_due") if lead_only else ""
    overdue_counts = [
        QueryString(f"(SELECT COUNT(*) FROM ct_case"  # noqa: S608
                    f"{mine or _indexed_by(_RUNNING_INDEX[key])} "
                    f"WHERE ct_case.{done} IS NULL AND ct_case.{due} < {{}} AND {extra} "
                    "AND {})", now, base)
        for key, due, done, extra in CLOCKS
    ]
    row = (await _run(QueryString(
        "SELECT (SELECT COUNT(*) FROM ct_case"  # noqa: S608
        f"{mine or _indexed_by('ct_case_open_unassigned')} WHERE {{}}) "
        "AS unassigned, "
        + ", ".join(f"{{}} AS overdue_{key}" for key, *_ in CLOCKS)
        + f", (SELECT COUNT(*) FROM ct_case{mine} WHERE {{}} AND {{}}) AS overdue_cases",  # noqa: S608
        unassigned_where, *overdue_counts, overdue_condition(now), base,
    )))[0]
    counts = {k: int(v or 0) for k, v in row.items()}
    counts["overdue"] = sum(counts[f"overdue_{key}"] for key, *_ in CLOCKS)
    return counts


async def store_figures(now: datetime | None = None, *, force: bool = False) -> int:
    """Count the figures of each scope and store them (the periodic job; ``force`` counts a
    small table too). Returns how many scopes were stored."""
    from casetracker.cases.tables import DashboardFigures

    now = now or _now()
    if not force and await case_table_size() < LARGE_TABLE:
        return 0
    stored = 0
    for scope in ("all", "triage"):
        counts = await scope_counts(_scope_where(scope), now)
        async with db.write_transaction():
            existing = await DashboardFigures.objects().where(
                DashboardFigures.scope == scope).first()
            row = existing or DashboardFigures(scope=scope)
            row.figures = json.dumps(counts)
            row.computed_at = now
            await row.save()
        stored += 1
    return stored


async def stored_figures(scope: str, now: datetime) -> tuple[dict[str, int], datetime] | None:
    from casetracker.cases.tables import DashboardFigures

    row = await DashboardFigures.select(DashboardFigures.figures,
                                        DashboardFigures.computed_at).where(
        DashboardFigures.scope == scope).first()
    if row is None:
        return None
    counted_at = _as_datetime(row["computed_at"])
    if counted_at is None or now - counted_at > FIGURES_STALE:
        return None
    return {k: int(v) for k, v in json.loads(row["figures"]).items()}, counted_at


async def build_dashboard(actor: Actor, now: datetime | None = None,
                          limit: int = DASHBOARD_LIMIT) -> Dashboard:
    """My cases, the unassigned queue, and what is due within 3 business days or overdue, on
    every clock, among the cases the actor may see."""
    now = now or _now()
    calendar = BusinessCalendar.from_settings(get_settings())
    horizon = calendar.add_business_days(now, 3)
    base = where_clause(actor, CaseFilters(), now)
    open_states = [s for s in STATES if s not in FINAL_STATES]
    lead_only = sees_only_own_cases(actor)

    async def cases(where: QueryString, order: str, index: str = "") -> list[dict[str, Any]]:
        from_ = LIST_FROM.replace("FROM ct_case ", f"FROM ct_case{_indexed_by(index)} ", 1) \
            if index else LIST_FROM
        rows = await _run(QueryString(
            f"SELECT {LIST_COLUMNS} {from_} WHERE {{}} ORDER BY {order} LIMIT {{}}",
            where, limit,
        ))
        await attach_related(rows, now)
        return rows

    my_where = QueryString("ct_case.lead_investigator = {} AND {} AND {}",
                           actor.id or 0, _in_list("ct_case.status", open_states), base)
    my_cases = await cases(my_where, "ct_case.resolution_due_at ASC NULLS LAST, ct_case.id",
                           "ct_case_lead_resolution_due")
    unassigned = [] if lead_only else await cases(
        QueryString(f"{OPEN_UNASSIGNED} AND {{}}", base),
        "ct_case.received_at ASC, ct_case.id", "ct_case_open_unassigned")

    # Due soon and overdue: one query per clock, each walking that clock's partial index of
    # running clocks in due order (migrations/cases/*_open_clock_indexes.py), then merged.
    # An investigator's own cases are few: read through their index instead.
    entries: list[dict[str, Any]] = []
    for key, due, done, extra in CLOCKS:
        index = "ct_case_lead_resolution_due" if lead_only else _RUNNING_INDEX[key]
        rows = await _run(QueryString(
            f"SELECT ct_case.id AS case_id, ct_case.{due} AS due_at "  # noqa: S608
            f"FROM ct_case{_indexed_by(index)} "
            f"WHERE ct_case.{done} IS NULL AND ct_case.{due} < {{}} AND {extra} AND {{}} "
            f"ORDER BY ct_case.{due} LIMIT {{}}",
            horizon, base, limit,
        ))
        entries += [{"case_id": r["case_id"], "clock": key, "due_at": _as_datetime(r["due_at"])}
                    for r in rows]
    entries.sort(key=lambda e: (e["due_at"], e["case_id"]))
    ids = list(dict.fromkeys(e["case_id"] for e in entries))
    case_rows: dict[int, dict[str, Any]] = {}
    if ids:
        rows = await _run(QueryString(
            f"SELECT {LIST_COLUMNS} {LIST_FROM} WHERE ct_case.id IN ("
            + ", ".join("{}" for _ in ids) + ")", *ids))
        await attach_related(rows, now)
        case_rows = {r["id"]: r for r in rows}
    labels = clock_labels()
    overdue: list[dict[str, Any]] = []
    due_soon: list[dict[str, Any]] = []
    for entry in entries:
        due_at = entry["due_at"]
        item = {"case": case_rows[entry["case_id"]], "clock": entry["clock"],
                "clock_label": labels[entry["clock"]], "due_at": due_at,
                "text": clock_text(clock_state(due_at, None, now))}
        (overdue if due_at is not None and due_at < now else due_soon).append(item)
    # The figures: my open cases (always live, from my index), and the queue and overdue
    # counts of my scope (stored by the periodic job when the table is large, else live).
    my_count = (await _run(QueryString(
        "SELECT COUNT(*) AS n FROM ct_case"  # noqa: S608
        f"{_indexed_by('ct_case_lead_resolution_due')} WHERE {{}}", my_where)))[0]
    scope = figures_scope(actor)
    stored = None
    if scope is not None and await case_table_size() >= LARGE_TABLE:
        stored = await stored_figures(scope, now)
    counted_at = None
    if stored is not None:
        counts, counted_at = stored
    else:
        counts = await scope_counts(base, now, lead_only=lead_only)
    counts = {**counts, "my_cases": int(my_count["n"] or 0)}
    return Dashboard(my_cases=my_cases, unassigned=unassigned, overdue=overdue[:limit],
                     due_soon=due_soon[:limit], due_soon_until=horizon, limit=limit,
                     counts=counts, counted_at=counted_at)


# --- choices for the filter form -----------------------------------------------------------------

async def filter_choices() -> dict[str, Any]:
    """Agencies and investigators for the filter form's selects (officers are typed as an id
    or picked from the registry page, as there may be thousands)."""
    agencies = await _run(QueryString(
        "SELECT id, name, state FROM agency ORDER BY state, name, id LIMIT 2000"))
    investigators = await _run(QueryString(
        "SELECT id, name FROM ct_user WHERE role IN ('investigator', 'supervisor') "
        "AND active = TRUE ORDER BY name, id"))
    return {"agencies": agencies, "investigators": investigators}


async def chosen_officer(filters: CaseFilters) -> dict[str, Any] | None:
    """The registry officer a numeric officer filter names, for the form to say who it is."""
    if filters.officer_id is None:
        return None
    rows = await _run(QueryString(
        "SELECT officer.id, officer.name, officer.badge_number, agency.name AS agency_name, "
        "agency.state AS agency_state FROM officer JOIN agency ON agency.id = officer.agency "
        "WHERE officer.id = {}", filters.officer_id))
    return rows[0] if rows else None


def with_sort(filters: CaseFilters, sort: str) -> CaseFilters:
    return replace(filters, sort=sort)
