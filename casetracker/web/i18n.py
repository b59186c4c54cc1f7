"""Languages: negotiation, the per-request locale, and gettext from Babel catalogs.

Catalogs live in casetracker/locale/<lang>/LC_MESSAGES/*.po (one file per feature package,
merged); they are compiled in memory at first use, so there is no build step. Adding a
language is adding a folder of catalogs.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
LANGUAGE_COOKIE = "ct_lang"

_current_language: ContextVar[str] = ContextVar("casetracker_language", default=DEFAULT_LANGUAGE)


def available_languages() -> tuple[str, ...]:
    langs = [DEFAULT_LANGUAGE]
    if LOCALE_DIR.exists():
        langs += sorted(p.name for p in LOCALE_DIR.iterdir()
                        if any((p / "LC_MESSAGES").glob("*.po")) and p.name != "en")
    return tuple(langs)


def _compile(po_path: Path, language: str) -> Translations:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


@cache
def translations(language: str) -> NullTranslations:
    po_paths = sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))
    if not po_paths:
        return NullTranslations()
    merged = _compile(po_paths[0], language)
    for po_path in po_paths[1:]:
        merged.merge(_compile(po_path, language))
    return merged


def negotiate(accept_language: str | None, requested: str | None = None) -> str:
    """Pick a supported language: explicit choice first, then Accept-Language q-order."""
    supported = available_languages()
    if requested and requested in supported:
        return requested
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        piece = part.strip()
        if not piece:
            continue
        lang, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, lang.strip().lower().split("-")[0]))
    for _, _, lang in sorted(ranked):
        if lang in supported:
            return lang
    return DEFAULT_LANGUAGE


def set_language(language: str) -> None:
    _current_language.set(language)


def get_language() -> str:
    return _current_language.get()


def gettext(message: str, **variables: object) -> str:
    text = translations(get_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(get_language()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def lazy_gettext(message: str, **variables: object) -> LazyProxy:
    """For module-level strings: translated when shown, in the language of that request."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext
