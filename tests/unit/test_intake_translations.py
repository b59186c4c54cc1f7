"""Every string the public site shows has a Spanish translation.

Strings are extracted with Babel's own extractors (Jinja2 and Python), exactly as a translator's
`pybabel extract` would, from the public templates, the receipt, the intake package, and the
shared layout and error pages the public sees; plus the tables of sentences the status page
shows (cases.rules), and a check that public pages write dates in words, in the reader's
language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from casetracker.settings import PROJECT_ROOT
from casetracker.web import i18n

KEYWORDS = {"_": None, "gettext": None, "L": None, "lazy_gettext": None, "N_": None,
            "ngettext": (1, 2)}
# Words that are the same in both languages.
SAME_IN_SPANISH = {"Error", "Error:", "No", "Total", "casetracker"}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}


def public_sources() -> list[tuple[Path, str]]:
    root = PROJECT_ROOT
    templates = [
        *sorted((root / "templates" / "public").glob("*.j2")),
        root / "templates" / "reports" / "pdf" / "receipt.html.j2",
        root / "templates" / "reports" / "pdf" / "_base.html.j2",  # the receipt's frame
        root / "templates" / "base.html.j2",
        root / "templates" / "errors" / "error.html.j2",
        *sorted((root / "templates" / "partials").glob("*.j2")),
    ]
    modules = [*sorted((root / "casetracker" / "intake").glob("*.py")),
               root / "casetracker" / "web" / "errors.py"]
    return [(p, "jinja") for p in templates] + [(p, "python") for p in modules]


PLURALS: dict[str, str] = {}  # singular → plural, for ngettext strings


def extract_public_messages() -> dict[str, set[str]]:
    """msgid (singular, or (singular, plural)) → the files using it."""
    found: dict[str, set[str]] = {}
    for path, kind in public_sources():
        method = "jinja2.ext.babel_extract" if kind == "jinja" else "python"
        options = JINJA_OPTIONS if kind == "jinja" else {}
        for _line, message, _comments, _context in extract_from_file(
                method, str(path), keywords=KEYWORDS, options=options):
            if isinstance(message, tuple):
                PLURALS[message[0]] = message[1]
                message = message[0]
            if message:
                found.setdefault(message, set()).add(path.name)
    # Strings web/errors.py translates from tables rather than literals.
    from casetracker.web import errors

    for table in (errors._TITLES, errors._MESSAGES):
        for msgid in table.values():
            found.setdefault(msgid, set()).add("errors.py")
    # The status page's plain-words sentences and the offices a complaint is sent to, kept as
    # English msgids in cases.rules and translated when shown (public_status_text).
    from casetracker.cases import rules as case_rules

    for table in (case_rules.PUBLIC_SENTENCES, case_rules.PUBLIC_BODY_NAMES):
        for msgid in table.values():
            found.setdefault(msgid, set()).add("cases/rules.py")
    return found


def test_extraction_finds_the_public_strings() -> None:
    messages = extract_public_messages()
    assert "File a complaint" in messages
    assert "Tell us what happened" in messages
    assert "Please check what you entered" in messages
    assert "A traffic stop" in messages  # a choice label (lazy, module level)
    assert "New York" in messages  # a state name Spanish writes differently
    assert "receipt-%(number)s.pdf" in messages  # the receipt's file name
    assert "The case is closed." in messages  # a status sentence from cases.rules
    assert len(messages) > 200


def test_every_public_string_has_a_spanish_translation() -> None:
    assert "es" in i18n.available_languages()
    spanish = i18n.translations("es")
    missing = []
    for msgid, files in sorted(extract_public_messages().items()):
        if msgid in PLURALS:
            texts = [spanish.ngettext(msgid, PLURALS[msgid], n) for n in (1, 2)]
            if texts[0] == msgid or texts[1] == PLURALS[msgid]:
                missing.append(f"{msgid!r} (plural, in {', '.join(sorted(files))})")
            continue
        text = spanish.gettext(msgid)
        if not text or (text == msgid and msgid not in SAME_IN_SPANISH):
            missing.append(f"{msgid!r} (in {', '.join(sorted(files))})")
    assert not missing, "Missing Spanish translations:\n" + "\n".join(missing)


@pytest.mark.parametrize("msgid", ["Please shorten this to %(limit)s characters or fewer "
                                   "(it has %(count)s)."])
def test_placeholders_survive_translation(msgid: str) -> None:
    text = i18n.translations("es").gettext(msgid)
    assert "%(limit)s" in text and "%(count)s" in text


# --- dates: in words, in the reader's language -----------------------------------------------

def test_dates_read_naturally_in_spanish_and_english() -> None:
    """For a U.S. audience: month before day in English, a 12-hour clock in both languages,
    and every time with its zone."""
    from casetracker.web.templating import long_date, long_datetime, month_year, time_of_day

    moment = datetime(2026, 3, 3, 19, 5, tzinfo=UTC)  # 2:05 PM in New York (EST)
    summer = datetime(2026, 7, 4, 16, 30, tzinfo=UTC)  # 12:30 PM, daylight time (EDT)
    with i18n.using_language("es"):
        assert long_date(date(2026, 3, 3)) == "3 de marzo de 2026"
        assert long_date("2026-03-03") == "3 de marzo de 2026"
        assert long_datetime(moment) == "3 de marzo de 2026, 2:05 p.m. EST"
        assert long_datetime(moment.isoformat()) == "3 de marzo de 2026, 2:05 p.m. EST"
        assert long_datetime(summer) == "4 de julio de 2026, 12:30 p.m. EDT"
        assert month_year("2026-03-01") == "marzo de 2026"
        assert time_of_day("21:40") == "9:40 p.m."
        # a deadline stored at 04:30 UTC falls on the previous day in the local zone
        assert long_date("2026-03-04T04:30:00+00:00") == "3 de marzo de 2026"
    with i18n.using_language("en"):
        assert long_date(date(2026, 3, 27)) == "March 27, 2026"
        assert long_datetime(moment) == "March 3, 2026, 2:05 PM EST"
        assert long_datetime(summer) == "July 4, 2026, 12:30 PM EDT"
        assert month_year(date(2026, 3, 1)) == "March 2026"
        assert time_of_day("21:40") == "9:40 PM" and time_of_day("") == ""
    assert long_date(None) == "" and long_datetime("") == ""


# Filters that print ISO dates (for staff tables); pages and documents for the public use
# long_date / long_datetime / month_year instead.
ISO_DATE_FILTERS = re.compile(r"\|\s*(date|localtime)\b|\[:(7|10)\]")


def test_public_pages_write_dates_in_words() -> None:
    offenders = []
    for path, kind in public_sources():
        if kind != "jinja":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if ISO_DATE_FILTERS.search(line):
                offenders.append(f"{path.name}:{number}: {line.strip()[:120]}")
    assert not offenders, "ISO dates on public pages:\n" + "\n".join(offenders)


def test_state_names_are_sorted_in_the_readers_language() -> None:
    from casetracker.intake import forms

    with i18n.using_language("es"):
        names = [name for _code, name in forms.state_choices()]
    assert "Nueva York" in names and "Pensilvania" in names and "New York" not in names
    assert names.index("Nebraska") < names.index("Nueva York") < names.index("Ohio")
    assert len(names) == len(forms.US_STATES)
