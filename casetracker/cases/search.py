"""Full-text search over complainants' narratives and case notes, on both engines.

The one entry point is ``matching_case_ids(query)``: a SQL sub-select of the ids of cases whose
narrative (or harm) or one of whose notes matches, to drop into a ``WHERE id IN (...)``.
The indexes come from migrations/cases/*_search_and_indexes.py:
- SQLite: FTS5 external-content tables ``case_fts`` / ``case_note_fts`` (``unicode61
  remove_diacritics 2``), ranked with ``bm25``;
- PostgreSQL: stored documents ``case_search_doc`` / ``case_note_search_doc`` (tsvectors in
  the ``casetracker_search`` configuration: ``simple`` + ``unaccent``, kept by triggers, GIN
  indexed), queried with ``websearch_to_tsquery``, ranked with ``ts_rank``.

Both accept the same small "web search" syntax: words (all must match), "quoted phrases",
``-word`` to exclude, and ``or`` between words. Accents and case never matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def is_searchable(text: str) -> bool:
    return bool(parse_query(text))


def matching_case_ids(text: str) -> QueryString:
    """SQL selecting the ids of cases whose narrative/harm or notes match ``text``.

    Visibility is not applied here: callers add ``case_visibility_filter`` to the outer query
    (see cases/listing.py), so search never shows a case the list would hide.
    """
    if db.is_sqlite():
        expression = fts5_expression(text)
        return QueryString(
            "SELECT rowid FROM case_fts WHERE case_fts MATCH {} "
            'UNION SELECT case_note."case" FROM case_note_fts '
            "JOIN case_note ON case_note.id = case_note_fts.rowid "
            "WHERE case_note_fts MATCH {}",
            expression, expression,
        )
    query = websearch_text(text)
    return QueryString(
        f"SELECT case_id FROM case_search_doc WHERE document @@ websearch_to_tsquery("  # noqa: S608
        f"{PG_CONFIG}, {{}}) UNION SELECT case_id FROM case_note_search_doc "
        f"WHERE document @@ websearch_to_tsquery({PG_CONFIG}, {{}})",
        query, query,
    )


def ranked_matches(text: str) -> QueryString:
    """SQL giving ``(id, rank)`` for every matching case, smaller rank = more relevant: the best
    of the narrative's and the notes' scores (bm25 on SQLite, -ts_rank on PostgreSQL, as
    double precision so that keyset cursors compare exactly)."""
    if db.is_sqlite():
        expression = fts5_expression(text)
        return QueryString(
            "SELECT id, MIN(rank) AS rank FROM ("
            "SELECT rowid AS id, bm25(case_fts) AS rank FROM case_fts WHERE case_fts MATCH {} "
            'UNION ALL SELECT case_note."case" AS id, bm25(case_note_fts) AS rank '
            "FROM case_note_fts JOIN case_note ON case_note.id = case_note_fts.rowid "
            "WHERE case_note_fts MATCH {}) AS matches GROUP BY id",
            expression, expression,
        )
    query = websearch_text(text)
    return QueryString(
        "SELECT id, MIN(rank) AS rank FROM ("  # noqa: S608
        "SELECT case_id AS id, (-ts_rank(document, q))::float8 AS rank "
        f"FROM case_search_doc, websearch_to_tsquery({PG_CONFIG}, {{}}) AS q "
        "WHERE document @@ q "
        "UNION ALL SELECT case_id AS id, (-ts_rank(document, q))::float8 AS rank "
        f"FROM case_note_search_doc, websearch_to_tsquery({PG_CONFIG}, {{}}) AS q "
        "WHERE document @@ q) AS matches GROUP BY id",
        query, query,
    )
