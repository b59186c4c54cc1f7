"""Pure registry rules: name normalisation, agency identity, U.S. states, model names,
designation status transitions and the flags shown on officer pages. No I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from casetracker.errors import InvalidTransition

STATES: dict[str, str] = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
    "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
    "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN",
    "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
    "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR",
    "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA",
    "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY",
    "PUERTO RICO": "PR", "GUAM": "GU", "U.S. VIRGIN ISLANDS": "VI", "VIRGIN ISLANDS": "VI",
    "AMERICAN SAMOA": "AS", "NORTHERN MARIANA ISLANDS": "MP",
}
STATE_NAMES: dict[str, str] = {}
for _name, _code in STATES.items():
    STATE_NAMES.setdefault(_code, _name.title().replace("Of", "of"))
STATE_CODES = frozenset(STATES.values())

MODEL_BY_SUPPORT_TYPE = {
    "jail enforcement model": "JEM",
    "warrant service officer": "WSO",
    "task force model": "TFM",
}

KIND_BY_TYPE = {
    "county": "county",
    "municipality": "municipality",
    "state agency": "state",
    "state": "state",
}

# Characters that look like an apostrophe in agency names. The July 2025 sheet spells five Texas
# sheriffs both ways ("Sheriff’s" and "Sheriff's") on rows of different models; ICE counts them as
# distinct agencies, so identity keeps the apostrophe style while search and "probably the same
# agency" warnings ignore it.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_SPACES = re.compile(r"\s+")


def clean_text(value: object) -> str:
    """A cell as display text: NFKC (so non-breaking spaces become spaces), whitespace runs
    collapsed, trimmed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).replace("\u00a0", " ")
    return _SPACES.sub(" ", text).strip()


def normalise_name(name: str) -> str:
    """What two spellings of one agency name have in common for search and for spotting probable
    duplicates: case, spacing, apostrophe style."""
    return clean_text(name).translate(_APOSTROPHES).casefold()


def identity_name(name: str) -> str:
    """The name as identity: case and spacing do not matter, the characters do (so ICE's
    "Sheriff’s" and "Sheriff's" rows stay two agencies, as ICE lists them)."""
    return clean_text(name).casefold()


def agency_match_key(state: str, name: str) -> str:
    """Agency identity: state code + identity name (stored as Agency.match_key)."""
    return f"{state.upper()}|{identity_name(name)}"


def similar_agency_key(state: str, name: str) -> str:
    """Two agencies with the same key here are probably one office spelled two ways."""
    return f"{state.upper()}|{normalise_name(name)}"


def like_pattern_for_word(word: str) -> str:
    """A LIKE pattern finding ``word`` (already :func:`normalise_name`-d, free of wildcards) in a
    match key whatever apostrophe the stored name uses: each apostrophe matches any one
    character."""
    return "%" + word.replace("'", "_") + "%"


_GENERIC_WORDS = ("the", "of", "city", "town", "village", "borough", "township", "department",
                  "dept", "office", "s", "and", "division", "bureau")
_KIND_WORDS = ("county", "sheriff", "sheriffs", "police", "marshal", "constable", "patrol",
               "state", "university", "college", "school", "port", "airport", "corrections")
_WORDS = re.compile(r"[^\W_]+")


def _name_parts(name: str) -> tuple[frozenset[str], str]:
    """(kind words, the distinctive rest) of an agency name. A word that is the start of a
    generic word ("offic") counts as that word."""
    kinds: set[str] = set()
    rest: list[str] = []
    for word in _WORDS.findall(normalise_name(name)):
        if word in _KIND_WORDS:
            kinds.add(word.rstrip("s") if word == "sheriffs" else word)
        elif word in _GENERIC_WORDS or (len(word) >= 4 and any(
                g.startswith(word) for g in _GENERIC_WORDS + _KIND_WORDS)):
            continue
        else:
            rest.append(word)
    return frozenset(kinds), " ".join(rest)


def probably_renamed(old_name: str, new_name: str, threshold: float = 0.85) -> bool:
    """Whether two agency names of one state look like one agency re-spelled: "City of St.
    Cloud Police Department" / "St. Cloud Police Department", "Berrian County Sheriff's
    Offic" / "... Office", "Lake Clark Shores" / "Lake Clarke Shores". The kind words (county,
    sheriff, police, ...) must agree and the rest be (nearly) the same, so "Polk County" is not
    "Pike County" and "Melbourne" is not "West Melbourne". Only ever used to warn."""
    from difflib import SequenceMatcher

    old_kinds, old_rest = _name_parts(old_name)
    new_kinds, new_rest = _name_parts(new_name)
    if not old_rest or not new_rest or old_kinds != new_kinds:
        return False
    return old_rest == new_rest or SequenceMatcher(None, old_rest, new_rest).ratio() >= threshold


def state_code(value: str) -> str | None:
    """'FLORIDA', 'Florida', 'FL' -> 'FL'; None when it is not a U.S. state or territory."""
    text = clean_text(value).upper()
    if text in STATE_CODES:
        return text
    return STATES.get(text)


def model_code(support_type: str) -> str | None:
    text = clean_text(support_type)
    if text.upper() in ("JEM", "WSO", "TFM"):
        return text.upper()
    return MODEL_BY_SUPPORT_TYPE.get(text.casefold())


def agency_kind(type_text: str) -> str:
    return KIND_BY_TYPE.get(clean_text(type_text).casefold(), "other")


# --- designations ------------------------------------------------------------------------

DESIGNATION_TRANSITIONS: dict[str, dict[str, str]] = {
    # verb -> {from status: to status}
    "suspend": {"active": "suspended"},
    "lift": {"suspended": "active"},
    "revoke": {"active": "revoked", "suspended": "revoked"},
}


def next_designation_status(current: str, verb: str) -> str:
    allowed = DESIGNATION_TRANSITIONS[verb]
    if current not in allowed:
        raise InvalidTransition(
            f"A designation that is {current} cannot be {_VERB_PAST[verb]}.",
            current=current, verb=verb,
        )
    return allowed[current]


_VERB_PAST = {"suspend": "suspended", "lift": "reinstated", "revoke": "revoked"}


@dataclass(frozen=True)
class DesignationFlags:
    authorisation_expired: bool
    refresher_overdue: bool
    refresher_due_on: date | None

    @property
    def any(self) -> bool:
        return self.authorisation_expired or self.refresher_overdue


def designation_flags(
    *,
    status: str,
    authorisation_expires_on: date | None,
    training_completed_on: date | None,
    last_refresher_on: date | None,
    today: date,
    training_cycle_days: int,
) -> DesignationFlags:
    """Authorisation past its expiry; refresher training older than the training cycle
    (counted from the last refresher, or from the initial training when there was none).
    Revoked designations raise no flags: they authorise nothing."""
    if status == "revoked":
        return DesignationFlags(False, False, None)
    expired = authorisation_expires_on is not None and authorisation_expires_on < today
    basis = last_refresher_on or training_completed_on
    due = basis + timedelta(days=training_cycle_days) if basis else None
    overdue = due is not None and due < today
    return DesignationFlags(expired, overdue, due)


# --- merging agencies ---------------------------------------------------------------------

@dataclass(frozen=True)
class AgreementMergePlan:
    moved: tuple[int, ...]  # agreements that move to the kept agency as they are
    folded: tuple[tuple[int, int], ...]  # (agreement, kept agency's agreement of its model)


def plan_agreement_merge(kept_by_model: dict[str, int],
                         merged: list[tuple[int, str]]) -> AgreementMergePlan:
    """An agency holds at most one agreement per model: the merged agency's agreement of a
    model the kept agency already holds is folded into that one; the others move."""
    moved: list[int] = []
    folded: list[tuple[int, int]] = []
    for agreement_id, model in merged:
        if model in kept_by_model:
            folded.append((agreement_id, kept_by_model[model]))
        else:
            moved.append(agreement_id)
    return AgreementMergePlan(tuple(moved), tuple(folded))


def probably_same_agency(name: str, other: str) -> bool:
    """Offered first when merging: names that differ only in case, spacing or apostrophe, or
    look like a rename (see ``probably_renamed``)."""
    return normalise_name(name) == normalise_name(other) or probably_renamed(name, other)


def responsible_field_manager(monitors: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of the program managers monitoring an agreement, the one a recommendation names: an
    active field program manager (the first by name when several are recorded)."""
    field = sorted((m for m in monitors if m.get("level") == "field" and m.get("active", True)),
                   key=lambda m: m.get("name") or "")
    return field[0] if field else None
