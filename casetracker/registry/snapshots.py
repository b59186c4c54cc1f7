"""ICE's list over time: reading the agreement snapshot file, matching its short agency names to
registry agencies, and the timeline of an agreement or an agency. Pure: no I/O beyond reading the
file handed in.

The snapshot file (``recoveredfactory_agreements_snapshots.csv``) has one row per agreement per
snapshot of ICE's list: ``date`` ("2025-05-16 am"), ``state`` ("ALABAMA"), ``county``, ``agency``
(a lower-case short form: "colbert county sheriff"), ``type`` (the model, spelled out), ``ori``,
``population_policed``, ``operating_budget``, ``agency_type`` ("(001) Sheriff"); "NA" where
unknown.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from casetracker.registry.rules import clean_text, model_code, normalise_name, state_code

MISSING = {"", "na", "n/a", "none", "null", "-1"}
_SNAPSHOT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:\s*(am|pm))?$", re.IGNORECASE)
# Words the short forms leave out ("Alaska Department of Corrections" -> "alaska of
# corrections", "Colbert County Sheriff's Office" -> "colbert county sheriff"); "offic" is a
# truncated "office" in ICE's own sheet.
_DROPPED_WORDS = frozenset({"department", "dept", "office", "offic", "the", "s", "division",
                            "city", "town", "village", "of", "bureau"})
_WORD = re.compile(r"[^\W_]+")


class SnapshotFileError(Exception):
    """The snapshot file cannot be read at all."""


def fold_name(name: str) -> str:
    """An agency name reduced to what the short forms and ICE's long names share: lower case,
    no punctuation or possessive, without department/office/of/city... ("St. Cloud Police
    Department" and "st cloud police" fold alike)."""
    text = normalise_name(name).replace("'s ", " ").replace("'", "")
    if text.endswith("'s"):
        text = text[:-2]
    words = [w for w in _WORD.findall(text.replace("&", " and ")) if w not in _DROPPED_WORDS]
    return " ".join(words)


def fold_county(county: str) -> str:
    words = [w for w in _WORD.findall(normalise_name(county))
             if w not in ("county", "parish", "borough", "city", "of", "the")]
    return " ".join(words)


def snapshot_label(listed_on: date, half: str = "") -> str:
    """How a listing is named: "2025-05-16 am" (the half day when ICE published twice)."""
    return f"{listed_on.isoformat()} {half}".strip()


def parse_snapshot_label(text: str) -> tuple[date, str] | None:
    match = _SNAPSHOT.match(clean_text(text))
    if not match:
        return None
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return day, (match.group(4) or "").lower()


def label_from_sheet_name(source: str, published: date | None) -> str | None:
    """participatingAgencies05162025am.xlsx -> "2025-05-16 am" (the snapshot file's naming)."""
    if published is None:
        return None
    match = re.search(r"\d{8}(am|pm)", source or "", re.IGNORECASE)
    return snapshot_label(published, match.group(1).lower() if match else "")


def _int_or_none(value: str) -> int | None:
    text = clean_text(value).replace(",", "")
    if text.casefold() in MISSING:
        return None
    try:
        number = int(float(text))
    except ValueError:
        return None
    return number if number > 0 else None


def _text_or_blank(value: str) -> str:
    text = clean_text(value)
    return "" if text.casefold() in MISSING else text


def agency_type_label(value: str) -> str:
    """"(001) Sheriff" -> "Sheriff" (the numeric code is the source's, not a word for people)."""
    return re.sub(r"^\(\d+\)\s*", "", _text_or_blank(value))


@dataclass
class SnapshotAgreement:
    """One agreement as the snapshot file lists it, with every listing."""

    state: str  # two-letter code
    name: str  # the file's short form
    model: str
    county: str = ""
    listings: list[str] = field(default_factory=list)  # snapshot labels, sorted
    ori: str = ""
    agency_type: str = ""
    population_policed: int | None = None
    operating_budget: int | None = None

    @property
    def agency_key(self) -> tuple[str, str]:
        return (self.state, self.name)


@dataclass
class SnapshotFile:
    snapshots: list[str]  # every snapshot label in the file, in order
    agreements: list[SnapshotAgreement]
    rows: int
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def agencies(self) -> dict[tuple[str, str], list[SnapshotAgreement]]:
        by_agency: dict[tuple[str, str], list[SnapshotAgreement]] = {}
        for agreement in self.agreements:
            by_agency.setdefault(agreement.agency_key, []).append(agreement)
        return by_agency


def _label_order(label: str) -> tuple[date, int]:
    parsed = parse_snapshot_label(label)
    assert parsed is not None
    return parsed[0], {"": 0, "am": 0, "pm": 1}[parsed[1]]


def read_snapshot_rows(rows: Iterable[dict[str, str]]) -> SnapshotFile:
    agreements: dict[tuple[str, str, str], SnapshotAgreement] = {}
    snapshots: set[str] = set()
    rejected: list[dict[str, Any]] = []
    count = 0
    for line, row in enumerate(rows, start=2):
        count += 1
        label_parts = parse_snapshot_label(row.get("date", ""))
        state = state_code(row.get("state", ""))
        model = model_code(row.get("type", ""))
        name = normalise_name(row.get("agency", ""))
        problem = (None if label_parts else "unreadable date") or (
            None if state else "unknown state") or (None if model else "unknown model") or (
            None if name else "no agency name")
        if problem:
            rejected.append({"row": line, "reason": f"{problem}: {row.get('date', '')!r} "
                                                   f"{row.get('state', '')!r} "
                                                   f"{row.get('agency', '')!r}"})
            continue
        assert label_parts is not None and state is not None and model is not None
        label = snapshot_label(*label_parts)
        snapshots.add(label)
        key = (state, name, model)
        agreement = agreements.get(key)
        if agreement is None:
            agreement = agreements[key] = SnapshotAgreement(state=state, name=name, model=model)
        if label not in agreement.listings:
            agreement.listings.append(label)
        # The latest row that knows a fact wins (rows come in date order; sorted below anyway).
        county = _text_or_blank(row.get("county", ""))
        facts = {"county": county, "ori": _text_or_blank(row.get("ori", "")),
                 "agency_type": agency_type_label(row.get("agency_type", "")),
                 "population_policed": _int_or_none(row.get("population_policed", "")),
                 "operating_budget": _int_or_none(row.get("operating_budget", ""))}
        for key_name, value in facts.items():
            if value:
                setattr(agreement, key_name, value)
    for agreement in agreements.values():
        agreement.listings.sort(key=_label_order)
    return SnapshotFile(snapshots=sorted(snapshots, key=_label_order),
                        agreements=list(agreements.values()), rows=count, rejected=rejected)


def read_snapshot_file(path: str | Path) -> SnapshotFile:
    path = Path(path)
    if not path.is_file():
        raise SnapshotFileError(f"{path} does not exist or is not a file.")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            needed = {"date", "state", "agency", "type"}
            if not needed <= set(reader.fieldnames or ()):
                raise SnapshotFileError(
                    f"{path.name} is not an agreement snapshot file: it needs the columns "
                    f"{', '.join(sorted(needed))}.")
            parsed = read_snapshot_rows(reader)
    except UnicodeDecodeError as exc:
        raise SnapshotFileError(f"{path.name} is not a UTF-8 CSV file ({exc}).") from exc
    if not parsed.agreements:
        raise SnapshotFileError(f"Not one row of {path.name} could be read.")
    return parsed


# --- matching ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    agency_id: int
    name: str
    state: str
    county: str
    models: frozenset[str]


@dataclass
class Match:
    """How one snapshot agency name found (or did not find) its registry agency."""

    state: str
    name: str
    county: str
    models: list[str]
    status: str  # "matched" | "ambiguous" | "unmatched" | "mapped" | "new" | "skipped"
    agency_ids: list[int] = field(default_factory=list)  # matched: one; ambiguous: several
    candidates: list[tuple[int, str, float]] = field(default_factory=list)  # closest, for review
    reason: str = ""


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def match_agency(state: str, name: str, county: str, models: Iterable[str],
                 candidates_in_state: list[Candidate]) -> Match:
    """Match a snapshot agency (state, short name, county) to registry agencies of its state by
    folded name. Several with that folded name (ICE's two apostrophe spellings of one Texas
    sheriff, or two agencies of one name in two counties) are told apart by county, then by
    which holds the agreement models the snapshot lists (per model, see ``agency_for_model``);
    still several: ambiguous. None: unmatched, with the three closest names in the state."""
    models = sorted(set(models))
    folded = fold_name(name)
    same = [c for c in candidates_in_state if fold_name(c.name) == folded]
    if len(same) > 1 and county:
        in_county = [c for c in same if c.county and fold_county(c.county) == fold_county(county)]
        if in_county:
            same = in_county
    if len(same) == 1:
        return Match(state, name, county, models, "matched", [same[0].agency_id])
    if len(same) > 1:
        # Matched when every listed model belongs to exactly one of them (the twin spellings
        # split their models); otherwise a person decides.
        if all(sum(1 for c in same if m in c.models) == 1 for m in models):
            return Match(state, name, county, models, "matched",
                         sorted(c.agency_id for c in same))
        return Match(state, name, county, models, "ambiguous",
                     sorted(c.agency_id for c in same),
                     [(c.agency_id, c.name, 1.0) for c in same],
                     reason="several agencies of this state have this name")
    scored = sorted(((_similarity(folded, fold_name(c.name)), c) for c in candidates_in_state),
                    key=lambda pair: (-pair[0], pair[1].name))
    closest = [(c.agency_id, c.name, round(score, 2)) for score, c in scored[:3] if score > 0.5]
    return Match(state, name, county, models, "unmatched", [], closest,
                 reason="no agency of this state has this name")


def agency_for_model(match: Match, model: str, candidates: dict[int, Candidate]) -> int | None:
    """The matched agency that holds (or will hold) ``model``: with twin spellings, the one
    whose agreement of that model exists; otherwise the only one."""
    if len(match.agency_ids) == 1:
        return match.agency_ids[0]
    holders = [i for i in match.agency_ids if model in candidates[i].models]
    return holders[0] if len(holders) == 1 else None


# --- reviewed mapping file -----------------------------------------------------------------

@dataclass(frozen=True)
class MappingEntry:
    state: str
    name: str
    target: str  # an agency id, "new" or "skip"
    line: int


class MappingFileError(Exception):
    pass


def read_mapping_file(path: str | Path) -> dict[tuple[str, str], MappingEntry]:
    """The reviewed mapping: a CSV with columns ``state``, ``name`` (the snapshot's short
    form), ``agency_id`` (a registry agency's number, ``new`` to add the agency, or ``skip``).
    Other columns (the closest candidates written by ``--write-mapping``) are ignored."""
    path = Path(path)
    if not path.is_file():
        raise MappingFileError(f"{path} does not exist or is not a file.")
    entries: dict[tuple[str, str], MappingEntry] = {}
    problems: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"state", "name", "agency_id"} <= set(reader.fieldnames or ()):
            raise MappingFileError(f"{path.name} needs the columns state, name, agency_id.")
        for line, row in enumerate(reader, start=2):
            state = state_code(row.get("state", ""))
            name = normalise_name(row.get("name", ""))
            target = clean_text(row.get("agency_id", "")).casefold()
            if not target:
                continue  # not reviewed yet
            if not state or not name:
                problems.append(f"line {line}: unknown state or no name")
                continue
            if target not in ("new", "skip") and not target.isdigit():
                problems.append(f"line {line}: agency_id must be a number, 'new' or 'skip'")
                continue
            entries[(state, name)] = MappingEntry(state, name, target, line)
    if problems:
        raise MappingFileError(f"{path.name}: " + "; ".join(problems))
    return entries


# --- timeline ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListedPeriod:
    first: str  # snapshot labels
    last: str
    listings: int


@dataclass
class Timeline:
    first_listed: str | None
    last_listed: str | None
    periods: list[ListedPeriod]
    gaps: list[tuple[str, str]]  # (first snapshot missing, last snapshot missing)
    no_longer_listed_on: str | None  # the first snapshot after the last listing
    listings: int

    @property
    def known(self) -> bool:
        return self.first_listed is not None


def agreement_timeline(all_snapshots: list[str], listed: Iterable[str]) -> Timeline:
    """Periods of continuous listing over the known snapshots (``all_snapshots``, in order):
    listed from, gaps (snapshots that did not list it between two that did), and the first
    snapshot after the last listing ("no longer listed on")."""
    listed_set = set(listed)
    order = [s for s in all_snapshots]
    periods: list[ListedPeriod] = []
    gaps: list[tuple[str, str]] = []
    run: list[str] = []
    missing: list[str] = []
    for label in order:
        if label in listed_set:
            if missing and (run or periods):
                gaps.append((missing[0], missing[-1]))
            missing = []
            run.append(label)
        else:
            if run:
                periods.append(ListedPeriod(run[0], run[-1], len(run)))
                run = []
            if periods:
                missing.append(label)
    if run:
        periods.append(ListedPeriod(run[0], run[-1], len(run)))
    no_longer = missing[0] if missing else None
    first = periods[0].first if periods else None
    last = periods[-1].last if periods else None
    return Timeline(first, last, periods, gaps, no_longer, sum(p.listings for p in periods))


@dataclass(frozen=True)
class ModelChange:
    snapshot: str
    added: tuple[str, ...]
    dropped: tuple[str, ...]


def model_changes(all_snapshots: list[str], listed_by_model: dict[str, set[str]]
                  ) -> list[ModelChange]:
    """An agency's models over time: each snapshot where the set of listed models changed
    (after the first listing)."""
    changes: list[ModelChange] = []
    previous: set[str] | None = None
    for label in all_snapshots:
        current = {m for m, labels in listed_by_model.items() if label in labels}
        if previous is None:
            if current:
                previous = current
            continue
        if current != previous:
            changes.append(ModelChange(label, tuple(sorted(current - previous)),
                                       tuple(sorted(previous - current))))
            previous = current
    return changes


def label_date(label: str) -> date | None:
    parsed = parse_snapshot_label(label)
    return parsed[0] if parsed else None


def sort_labels(labels: Iterable[str]) -> list[str]:
    return sorted(set(labels), key=_label_order)
