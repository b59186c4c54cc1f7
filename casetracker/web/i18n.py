"""Languages: negotiation, the per-request locale, and gettext from Babel catalogs.

Catalogs live in casetracker/locale/<lang>/LC_MESSAGES/*.po (one file per feature package,
merged); they are compiled in memory at first use, so there is no build step. Adding a
language is adding a folder of catalogs.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time
from functools import cache
from pathlib import Path

from babel import dates as babel_dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
LANGUAGE_COOKIE = "ct_lang"

_current_language: ContextVar[str] = ContextVar("casetracker_language", default=DEFAULT_LANGUAGE)


@cache  # the catalogs are read once per process; asked on every request
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


@contextmanager
def using_language(language: str) -> Iterator[None]:
    """Build something (a document, an e-mail) in ``language``, then go back to the request's."""
    token = _current_language.set(language)
    try:
        yield
    finally:
        _current_language.reset(token)


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


# --- dates in words, in the current language (CLDR patterns through Babel) ------------------
# For a U.S. audience: "March 3, 2026, 2:05 PM EST" / "3 de marzo de 2026, 2:05 p.m. EST" (U.S.
# Spanish: 12-hour clock). Times always carry the zone's abbreviation, so a person reading
# in another zone knows which clock is meant. Callers convert timestamps to the local zone
# first (web.templating does). Newer CLDR puts a narrow no-break space before "PM": it becomes a
# plain space, so plain-text e-mail and copied text (and tests reading a PDF's text) see "2:05 PM".

_CLDR_LOCALES = {"en": "en_US", "es": "es_US"}


def _cldr_locale() -> str:
    language = get_language()
    return _CLDR_LOCALES.get(language, language)


def format_day(value: date) -> str:
    """A day in words: "March 3, 2026" / "3 de marzo de 2026"."""
    if isinstance(value, datetime):
        value = value.date()
    return babel_dates.format_date(value, format="long", locale=_cldr_locale())


def format_month(value: date) -> str:
    """A month and year, for dates given without the day: "marzo de 2026"."""
    return babel_dates.format_skeleton("yMMMM", value, locale=_cldr_locale())


def format_clock(value: datetime) -> str:
    """A time of day with its zone: "2:05 PM EST" / "2:05 p.m. EST"."""
    text = babel_dates.format_time(value, format="short", locale=_cldr_locale())
    zone = value.tzname() or ""
    return f"{text} {zone}".replace("\u202f", " ").strip()


def format_time_of_day(value: time) -> str:
    """A time without a date or zone (when an incident happened, as the person gave it):
    "9:40 PM" / "9:40 p.m."."""
    text = babel_dates.format_time(value, format="short", locale=_cldr_locale())
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def format_moment(value: datetime) -> str:
    """A day and a time of day: "March 3, 2026, 2:05 PM EST"."""
    glue = str(babel_dates.get_datetime_format("long", locale=_cldr_locale()))
    text = glue.replace("{1}", format_day(value)).replace("{0}", format_clock(value))
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def format_full_day(value: date) -> str:
    """A day with its weekday: "Monday, December 7, 2026" / "lunes, 7 de diciembre de 2026"."""
    if isinstance(value, datetime):
        value = value.date()
    return babel_dates.format_date(value, format="full", locale=_cldr_locale())


def format_full_moment(value: datetime) -> str:
    """A deadline as people read it: "Monday, December 7, 2026, 9:12 AM EST"."""
    glue = str(babel_dates.get_datetime_format("long", locale=_cldr_locale()))
    text = glue.replace("{1}", format_full_day(value)).replace("{0}", format_clock(value))
    return text.replace("\u202f", " ").replace("\u00a0", " ")
