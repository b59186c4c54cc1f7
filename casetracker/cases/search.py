"""Full-text search over each case's one search document, on both engines.

A case's document holds its narrative and harm, its notes, the officers named on it (typed
names and badges, and the registry officers linked to it or to its allegations), its agency's
name and, apart, its witnesses' names (searched only for roles allowed to see them). It is
kept by triggers (migrations/cases/*_one_search_document.py):
- SQLite: the FTS5 table ``case_search_fts`` (rowid = case id; ``unicode61 remove_diacritics
  2``), ranked with ``bm25``, snippets with ``snippet()``;
- PostgreSQL: ``case_search_doc`` (``document`` and ``witness_document`` tsvectors in the
  ``casetracker_search`` configuration: ``simple`` + ``unaccent``, GIN indexed), queried with
  ``websearch_to_tsquery``, ranked with ``ts_rank``, snippets with ``ts_headline``.

Both accept the same small "web search" syntax: words (all must match in one case's
document), "quoted phrases", ``-word`` to exclude, and ``or`` between words. Accents and case
never matter. Lists use ``candidates`` (matching cases newest first, straight from the index,
bounded) and ``snippets`` (for the rows of one page); see cases/listing.py for the ranking.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from markupsafe import Markup, escape
from piccolo.querystring import QueryString

from casetracker import db

MAX_QUERY_LENGTH = 200
PG_CONFIG = "'casetracker_search'::regconfig"

_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    negated: bool = False


def parse_query(text: str) -> list[list[Term]]:
    """``text`` as OR-groups of AND-ed terms (the websearch_to_tsquery grammar, simplified).

    Punctuation inside words splits them (as both tokenizers do); empty input gives [].
    """
    text = (text or "")[:MAX_QUERY_LENGTH]
    groups: list[list[Term]] = [[]]
    for match in _TOKEN.finditer(text):
        negated_phrase, phrase, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            if groups[-1]:
                groups.append([])
            continue
        negated = bool(negated_phrase) or (bare is not None and bare.startswith("-"))
        source = phrase if phrase is not None else bare.lstrip("-")
        words = tuple(w.lower() for w in _WORD.findall(source))
        if words:
            groups[-1].append(Term(words=words, negated=negated))
    # A group of only exclusions matches nothing useful: drop it (as websearch does).
    return [g for g in groups if any(not t.negated for t in g)]


def fts5_expression(text: str) -> str:
    """An FTS5 MATCH expression; every word is quoted so user input is never syntax."""
    parts = []
    for group in parse_query(text):
        positive = [t for t in group if not t.negated]
        negative = [t for t in group if t.negated]
        expr = " AND ".join(_fts5_term(t) for t in positive)
        for term in negative:
            expr = f"({expr}) NOT {_fts5_term(term)}"
        parts.append(f"({expr})")
    return " OR ".join(parts)


def _fts5_term(term: Term) -> str:
    # Inside double quotes FTS5 takes the text as a phrase; words hold no quotes (\w only).
    return '"' + " ".join(term.words) + '"'


def websearch_text(text: str) -> str:
    """The query re-written for websearch_to_tsquery from the parsed terms (same semantics
    as SQLite: we parse once, both engines see the same meaning)."""
    groups = []
    for group in parse_query(text):
        terms = []
        for term in group:
            word = " ".join(term.words)
            word = f'"{word}"' if len(term.words) > 1 else word
            terms.append(("-" if term.negated else "") + word)
        groups.append(" ".join(terms))
    return " or ".join(groups)


# The search documents of the cases selected by ``{ids}`` (SQL giving case ids), SQLite: the
# statement the triggers of migrations/cases/*_one_search_document.py run for one case, here
# for bulk loads (cases/seed.py suspends the triggers and fills the documents once).
SQLITE_FILL = """INSERT INTO case_search_fts
  (rowid, narrative, harm, notes, officers, agency, witnesses)
SELECT c.id, c.narrative, c.harm,
  COALESCE((SELECT group_concat(n.body, ' … ') FROM case_note n WHERE n."case" = c.id), ''),
  COALESCE((SELECT group_concat(t, ' · ') FROM (
      SELECT TRIM(co.name || ' ' || co.badge_number || ' ' || COALESCE(o.name, '') || ' '
                  || COALESCE(o.badge_number, '')) AS t
      FROM case_officer co LEFT JOIN officer o ON o.id = co.officer WHERE co."case" = c.id
      UNION SELECT TRIM(o.name || ' ' || o.badge_number) FROM allegation a
      JOIN officer o ON o.id = a.officer WHERE a."case" = c.id)), ''),
  COALESCE((SELECT ag.name FROM agency ag WHERE ag.id = c.agency), ''),
  COALESCE((SELECT group_concat(w.name, ' · ') FROM witness w WHERE w."case" = c.id), '')
FROM ct_case c WHERE c.id IN ({ids})"""
# PostgreSQL: the tables whose trigger keeps the documents (cases/seed.py disables them).
PG_TRIGGER_TABLES = ("ct_case", "case_note", "case_officer", "allegation", "witness")


def is_searchable(text: str) -> bool:
    return bool(parse_query(text))


# The document's parts; witnesses' names only for roles allowed to see them.
PUBLIC_COLUMNS = "{narrative harm notes officers agency}"
# bm25 weights by column (narrative, harm, notes, officers, agency, witnesses): a name typed
# in the search box is most likely an officer's.
BM25 = "bm25(case_search_fts, 1.0, 1.0, 1.0, 3.0, 2.0, 2.0)"


def _sqlite_match(text: str, witnesses: bool) -> str:
    expression = fts5_expression(text)
    if witnesses and all(len(group) == 1 for group in parse_query(text)):
        # One word or phrase per alternative: in the public columns or in the witnesses'
        # is in any column, and without column filters bm25 counts the word's documents
        # from its list alone (not from every position of every match: 4x faster).
        return expression
    match = f"{PUBLIC_COLUMNS} : ({expression})"
    if witnesses:
        match += f" OR {{witnesses}} : ({expression})"
    return match


def _pg_match(witnesses: bool) -> str:
    return ("(case_search_doc.document @@ q OR case_search_doc.witness_document @@ q)"
            if witnesses else "case_search_doc.document @@ q")


def _pg_rank(witnesses: bool) -> str:
    if witnesses:
        return ("(-GREATEST(ts_rank(case_search_doc.document, q), "
                "ts_rank(case_search_doc.witness_document, q)))::float8")
    return "(-ts_rank(case_search_doc.document, q))::float8"


def candidates(text: str, *, witnesses: bool, conditions: QueryString | None,
               below: int, above: int = 0, limit: int, newest_first: bool = True,
               drive_from_cases: bool = False, from_index: bool = False) -> QueryString:
    """SQL giving ``(id, rank)`` of the cases matching ``text`` with ``above < id < below``
    and ``conditions`` (on ``ct_case``), newest (highest id) first or oldest first, at most
    ``limit``: read in id order straight from the index and scored only for the rows
    returned, so the cost follows ``limit``, not the number of matches. Rank: smaller is
    more relevant (bm25 on SQLite, -ts_rank on PostgreSQL).

    ``drive_from_cases``: when the conditions keep few cases (an investigator's own), walk
    those and look each up in the index instead of walking the matches.
    ``from_index`` (PostgreSQL, with a narrow id range from ``window_floor``): read the
    range's matches from the GIN index (and the range from the primary key) rather than
    walking the range's documents backwards, which the planner prefers but which reads and
    tests every document of the range.
    """
    direction = "DESC" if newest_first else "ASC"
    where = conditions if conditions is not None else QueryString("1 = 1")
    if db.is_sqlite():
        match = _sqlite_match(text, witnesses)
        if drive_from_cases:
            # One investigator's cases from their index (not the whole table by id), as a
            # set the index's one reading of the matches is checked against: looked up one
            # by one (a join, or an IN the index is given), FTS5 starts the query again for
            # each case and bm25 counts the word's documents again each time.
            # Their cases' lowest and highest ids bound that reading (an investigator's
            # cases are usually of a few months, not of the whole archive).
            theirs = QueryString(
                "SELECT ct_case.id FROM ct_case INDEXED BY ct_case_lead_received "
                "WHERE ct_case.id < {} AND ct_case.id > {} AND {}", below, above, where)
            return QueryString(
                f"SELECT case_search_fts.rowid AS id, {BM25} AS rank "  # noqa: S608
                "FROM case_search_fts WHERE case_search_fts MATCH {} "
                "AND case_search_fts.rowid >= (SELECT MIN(id) FROM ({}) AS low) "
                "AND case_search_fts.rowid <= (SELECT MAX(id) FROM ({}) AS high) "
                "AND +case_search_fts.rowid IN ({}) "
                f"ORDER BY case_search_fts.rowid {direction} LIMIT {{}}",
                match, theirs, theirs, theirs, limit)
        join = ("JOIN ct_case ON ct_case.id = case_search_fts.rowid "
                if conditions is not None else "")
        return QueryString(
            f"SELECT case_search_fts.rowid AS id, {BM25} AS rank FROM case_search_fts "  # noqa: S608
            + join + "WHERE case_search_fts MATCH {} AND case_search_fts.rowid < {} "
            f"AND case_search_fts.rowid > {{}} AND {{}} "
            f"ORDER BY case_search_fts.rowid {direction} LIMIT {{}}",
            match, below, above, where, limit)
    query = f"websearch_to_tsquery({PG_CONFIG}, {{}})"
    return QueryString(
        f"SELECT case_search_doc.case_id AS id, "
        f"{_pg_rank(witnesses).replace(', q)', f', {query})')} AS rank {{}} "
        f"ORDER BY case_search_doc.case_id{' + 0' if from_index else ''} {direction} "
        "LIMIT {}",
        *[websearch_text(text)] * (2 if witnesses else 1),
        _pg_matching(text, witnesses, conditions, below, above), limit)


def _pg_matching(text: str, witnesses: bool, conditions: QueryString | None, below: int,
                 above: int) -> QueryString:
    """PostgreSQL: ``FROM ... WHERE ...`` of the documents matching ``text`` within
    ``conditions`` and ``above < id < below``. The query is written out in the WHERE clause
    (not a joined function) so that the planner sees its words: a common word walks the ids
    backwards, a rare one reads the GIN index."""
    join = "JOIN ct_case ON ct_case.id = case_search_doc.case_id " \
        if conditions is not None else ""
    query = f"websearch_to_tsquery({PG_CONFIG}, {{}})"
    match = _pg_match(witnesses).replace("@@ q", f"@@ {query}")
    return QueryString(
        f"FROM case_search_doc {join}WHERE {match} AND case_search_doc.case_id < {{}} "
        "AND case_search_doc.case_id > {} AND {}",
        *[websearch_text(text)] * (2 if witnesses else 1), below, above,
        conditions if conditions is not None else QueryString("1 = 1"))


# A word in at least this share of the documents: its newest matches are read walking the
# ids backwards (a short walk). Rarer: from the GIN index, within an id range expected to
# hold WINDOW_MARGIN times the window.
COMMON_SHARE = 0.1
WINDOW_MARGIN = 2.0


async def window_floor(text: str, *, witnesses: bool, conditions: QueryString | None,
                       below: int, window: int) -> int:
    """PostgreSQL: an id above which the ``window`` newest matches below ``below`` probably
    lie, from the planner's estimate of how many match (0: anywhere). The caller reads the
    window above it, and again from 0 when it holds fewer than ``window``: with a word of
    middling frequency a million cases then cost a read of the GIN index and of about twice
    the window's documents, instead of a walk through tens of thousands of documents or a
    read of every match. SQLite's index reads its matches newest first by itself: 0."""
    if db.is_sqlite() or below <= 0:
        return 0
    words = await _estimated_rows(_pg_matching(text, witnesses, None, below, 0))
    if words is None or words >= COMMON_SHARE * below:
        return 0  # a common word (whatever the filters): the walk backwards is short
    estimate = words if conditions is None else await _estimated_rows(
        _pg_matching(text, witnesses, conditions, below, 0))
    if estimate is None:
        return 0
    span = int(WINDOW_MARGIN * window * below / max(estimate, 1.0))
    return max(0, below - span)


async def _estimated_rows(from_where: QueryString) -> float | None:
    """The planner's estimate of the rows of ``SELECT 1 <from_where>`` (no execution)."""
    rows = await db.current_engine().run_querystring(QueryString(
        "EXPLAIN (FORMAT JSON) SELECT 1 {}", from_where))
    plan = rows[0]["QUERY PLAN"] if rows else None
    plan = json.loads(plan) if isinstance(plan, str) else plan
    try:
        return float(plan[0]["Plan"]["Plan Rows"])  # type: ignore[index]
    except (TypeError, KeyError, IndexError, ValueError):
        return None


def officer_case_ids(typed_words: list[str]) -> QueryString | None:
    """SQL selecting the cases whose officers (SQLite: the officers part of the document;
    PostgreSQL: the document, the caller checks the officers exactly) hold a word starting with
    each typed word; None when the typed words hold no letter or digit."""
    words = [w for typed in typed_words for w in _WORD.findall(typed.lower())]
    if not words:
        return None
    if db.is_sqlite():
        return QueryString(
            "SELECT rowid FROM case_search_fts WHERE case_search_fts MATCH {}",
            "{officers} : (" + " AND ".join(f'"{w}"*' for w in words) + ")")
    # PostgreSQL's parser reads "B-22" as "b" and "-22": a number may carry that sign.
    terms = [f"({w}:* | -{w}:*)" if w.isdigit() else f"{w}:*" for w in words]
    return QueryString(
        "SELECT case_search_doc.case_id FROM case_search_doc "  # noqa: S608
        f"WHERE case_search_doc.document @@ to_tsquery({PG_CONFIG}, {{}})",
        " & ".join(terms))


def matching_case_ids(text: str, *, witnesses: bool) -> QueryString:
    """SQL selecting the ids of every matching case (for exports and reference checks;
    lists use ``candidates``). Visibility is the caller's: add ``case_visibility_filter``
    to the outer query, as cases/listing.py does."""
    if db.is_sqlite():
        return QueryString("SELECT rowid FROM case_search_fts WHERE case_search_fts MATCH {}",
                           _sqlite_match(text, witnesses))
    return QueryString(
        "SELECT case_search_doc.case_id FROM case_search_doc "  # noqa: S608
        f"CROSS JOIN websearch_to_tsquery({PG_CONFIG}, {{}}) AS q WHERE {_pg_match(witnesses)}",
        websearch_text(text))


# Markers around matched words in a snippet: private-use characters, never typed.
_START, _STOP = "\ue000", "\ue001"
SNIPPET_WORDS = 16


async def snippets(text: str, ids: list[int], *, witnesses: bool) -> dict[int, Markup]:
    """The highlighted passage where each case matches, escaped, with ``<mark>`` around the
    matched words: one query for the page's rows (never for more)."""
    if not ids or not is_searchable(text):
        return {}
    marks = ", ".join("{}" for _ in ids)
    if db.is_sqlite():
        # The page's id range bounds FTS5's one reading of the matches; the ids themselves
        # are a filter (``+``): given as lookups, FTS5 evaluates the query again for each.
        sql = QueryString(
            f"SELECT rowid AS id, snippet(case_search_fts, -1, '{_START}', '{_STOP}', '…', "  # noqa: S608
            f"{SNIPPET_WORDS}) AS snippet FROM case_search_fts WHERE case_search_fts MATCH {{}} "
            f"AND rowid >= {{}} AND rowid <= {{}} AND +rowid IN ({marks})",
            _sqlite_match(text, witnesses), min(ids), max(ids), *ids)
    else:
        parts = ("ct_case.narrative, ct_case.harm, case_search_doc.notes, "
                 "case_search_doc.officers, case_search_doc.agency"
                 + (", case_search_doc.witnesses" if witnesses else ""))
        options = (f"StartSel={_START}, StopSel={_STOP}, MaxWords={SNIPPET_WORDS + 4}, "
                   "MinWords=6, MaxFragments=2, FragmentDelimiter=\" … \"")
        sql = QueryString(
            f"SELECT ct_case.id AS id, ts_headline({PG_CONFIG}, "  # noqa: S608
            f"translate(concat_ws(' · ', {parts}), '{_START}{_STOP}', ''), q, {{}}) AS snippet "
            "FROM ct_case JOIN case_search_doc ON case_search_doc.case_id = ct_case.id "
            f"CROSS JOIN websearch_to_tsquery({PG_CONFIG}, {{}}) AS q "
            f"WHERE ct_case.id IN ({marks})",
            options, websearch_text(text), *ids)
    rows = await db.current_engine().run_querystring(sql)
    return {row["id"]: highlight(row["snippet"] or "") for row in rows or ()}


def highlight(snippet: str) -> Markup:
    """Escape a snippet and turn its markers into ``<mark>``: only our own tags survive."""
    out: list[str] = []
    open_mark = False
    for piece in re.split(f"([{_START}{_STOP}])", snippet):
        if piece == _START and not open_mark:
            out.append("<mark>")
            open_mark = True
        elif piece == _STOP and open_mark:
            out.append("</mark>")
            open_mark = False
        elif piece not in (_START, _STOP):
            out.append(str(escape(piece)))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))  # noqa: S704 - every piece of text above is escaped
