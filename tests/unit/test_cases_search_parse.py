"""The search box's small grammar, turned into FTS5 and websearch_to_tsquery text."""

from __future__ import annotations

from casetracker.cases.search import Term, fts5_expression, parse_query, websearch_text


def test_words_phrases_exclusions_and_or() -> None:
    assert parse_query('José "pushed me" -jail or cárcel') == [
        [Term(("josé",)), Term(("pushed", "me")), Term(("jail",), negated=True)],
        [Term(("cárcel",))],
    ]


def test_punctuation_and_syntax_never_reach_the_engine() -> None:
    assert fts5_expression('a" OR NEAR(b) *') == '("a") OR ("near b")'
    assert fts5_expression("'; DROP TABLE x; --") == '("drop" AND "table" AND "x")'
    assert fts5_expression("") == ""
    assert parse_query("-only -negatives") == []


def test_both_engines_get_the_same_meaning() -> None:
    text = 'José "pushed me" -jail or cárcel'
    assert fts5_expression(text) == '(("josé" AND "pushed me") NOT "jail") OR ("cárcel")'
    assert websearch_text(text) == 'josé "pushed me" -jail or cárcel'


def test_long_input_is_cut() -> None:
    assert len(parse_query("palabra " * 200)) == 1
    assert len(parse_query("palabra " * 200)[0]) == 25  # 200 characters
