"""Every string the public site shows has a Spanish translation.

Strings are extracted with Babel's own extractors (Jinja2 and Python), exactly as a translator's
`pybabel extract` would, from the public templates, the receipt, the intake package, and the
shared layout and error pages the public sees."""

from __future__ import annotations

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
    return found


def test_extraction_finds_the_public_strings() -> None:
    messages = extract_public_messages()
    assert "File a complaint" in messages
    assert "Tell us what happened" in messages
    assert "Please check what you entered" in messages
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
