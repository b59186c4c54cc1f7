"""CSV cells that a spreadsheet would run as a formula ("CSV injection"), however disguised."""

from __future__ import annotations

import unicodedata

# Characters that print as nothing, so a cell can look as if it starts with something else:
# zero-width spaces and joiners, word joiner and invisible operators, the byte-order mark, the
# soft hyphen, the Mongolian vowel separator, and bidirectional controls.
_INVISIBLE = frozenset(
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_FORMULA_STARTS = frozenset("=+-@")
_CONTROL_STARTS = frozenset("\t\r\n")


def starts_like_formula(text: str) -> bool:
    """True when a spreadsheet may take the cell for a formula: its first visible character,
    after invisible characters and spaces, is ``= + - @`` or a look-alike (fullwidth ＝＋－＠,
    small ﹦﹢﹣﹫: compared after NFKC normalisation), or it starts with a tab or line break."""
    if text[:1] in _CONTROL_STARTS:
        return True
    for char in text:
        if char in _INVISIBLE or char.isspace():
            continue
        return unicodedata.normalize("NFKC", char)[:1] in _FORMULA_STARTS
    return False


def safe_cell(text: str) -> str:
    """The cell as text a spreadsheet shows and never runs: a leading apostrophe when needed."""
    return "'" + text if starts_like_formula(text) else text
