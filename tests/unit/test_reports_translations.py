"""Every string of the recommendation pages has a Spanish translation (staff may use the app
in Spanish). The PDFs are rendered in English (docs/reports.md), so their templates are not
checked here."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file

from casetracker.settings import PROJECT_ROOT
from casetracker.web import i18n

KEYWORDS = {"_": None, "gettext": None}
SAME_IN_SPANISH = {"SHA-256", "PDF", "Error:"}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}


def sources() -> list[tuple[Path, str]]:
    root = PROJECT_ROOT
    templates = [p for p in sorted((root / "templates" / "reports").glob("*.j2"))]
    templates += [root / "templates" / "oversight" / "ice_responses.html.j2"]
    modules = [root / "casetracker" / "reports" / name
               for name in ("controllers.py", "responses.py", "response_controllers.py")]
    return ([(p, "jinja") for p in templates]
            + [(p, "python") for p in modules if p.exists()])


def messages() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path, kind in sources():
        method = "jinja2.ext.babel_extract" if kind == "jinja" else "python"
        for _line, message, _comments, _context in extract_from_file(
                method, str(path), keywords=KEYWORDS,
                options=JINJA_OPTIONS if kind == "jinja" else {}):
            if isinstance(message, tuple):
                message = message[0]
            if message:
                found.setdefault(message, set()).add(path.name)
    return found


def test_recommendation_pages_are_translated() -> None:
    from casetracker.reports.rules import DETERMINATIONS

    spanish = i18n.translations("es")
    found = messages()
    for rule in DETERMINATIONS.values():  # the form's questions, translated in controllers.py
        found.setdefault(rule.prompt, set()).add("rules.py")
    missing = {m: sorted(files) for m, files in found.items()
               if spanish.gettext(m) == m and m not in SAME_IN_SPANISH}
    assert not missing, "\n".join(f"{m!r} ({', '.join(f)})" for m, f in sorted(missing.items()))
