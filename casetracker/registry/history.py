"""The registry over time: loading the agreement snapshot file (``registry import-history``),
recording each imported ICE sheet as a dated listing, and the timelines shown on agreement and
agency pages. Matching and timelines are pure (``snapshots.py``); this module reads and writes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from piccolo.columns import Column

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.policies import may_import_registry
from casetracker.errors import Forbidden, ValidationFailed
from casetracker.registry import rules, snapshots
from casetracker.registry.snapshots import Candidate, MappingEntry, Match, SnapshotFile
from casetracker.registry.tables import Agency, Agreement, AgreementListing

_CHUNK = 200
# One import of ICE's lists at a time on PostgreSQL (sheets and the history file alike).
IMPORT_LOCK_KEY = 287_002
_KIND_BY_AGENCY_TYPE = {"sheriff": "county", "local police": "municipality",
                        "county/regional police": "county", "primary state police": "state",
                        "state bureau of investigation": "state", "attorney general": "state"}


@dataclass
class HistoryReport:
    source: str
    rows: int = 0
    snapshots: list[str] = field(default_factory=list)
    agreements_in_file: int = 0
    agencies_in_file: int = 0
    matches: list[Match] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False
    agencies_added: int = 0
    agencies_updated: int = 0
    agreements_added: int = 0
    agreements_with_history: int = 0
    agreements_not_loaded: int = 0
    listings_added: int = 0
    listings_already_known: int = 0

    def counts(self) -> Counter[str]:
        return Counter(m.status for m in self.matches)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "rows": self.rows, "snapshots": len(self.snapshots),
            "first_snapshot": self.snapshots[0] if self.snapshots else None,
            "last_snapshot": self.snapshots[-1] if self.snapshots else None,
            "agreements_in_file": self.agreements_in_file,
            "agencies_in_file": self.agencies_in_file,
            "match": dict(self.counts()),
            "not_matched": [{"state": m.state, "name": m.name, "status": m.status,
                             "candidates": [c[1] for c in m.candidates]}
                            for m in self.matches if m.status in ("ambiguous", "unmatched")],
            "rejected": self.rejected[:200],
            "agencies_added": self.agencies_added, "agencies_updated": self.agencies_updated,
            "agreements_added": self.agreements_added,
            "agreements_with_history": self.agreements_with_history,
            "agreements_not_loaded": self.agreements_not_loaded,
            "listings_added": self.listings_added,
            "listings_already_known": self.listings_already_known,
        }


def _now() -> datetime:
    return datetime.now(UTC)




async def _candidates() -> tuple[dict[str, list[Candidate]], dict[int, Candidate],
                                 dict[tuple[str, str], int]]:
    """Registry agencies by state (with the models they hold), and aliases: the names of
    records merged into an agency, which resolve to it."""
    models: dict[int, set[str]] = {}
    for row in await Agreement.select(Agreement.agency, Agreement.model).where(
            Agreement.merged_into.is_null()):
        models.setdefault(row["agency"], set()).add(row["model"])
    by_state: dict[str, list[Candidate]] = {}
    by_id: dict[int, Candidate] = {}
    aliases: dict[tuple[str, str], int] = {}
    for row in await Agency.select(Agency.id, Agency.name, Agency.state, Agency.county,
                                   Agency.merged_into):
        if row["merged_into"] is not None:
            # A record merged into another: its name resolves to that agency.
            aliases[(row["state"], snapshots.fold_name(row["name"]))] = row["merged_into"]
            continue
        candidate = Candidate(row["id"], row["name"], row["state"], row["county"] or "",
                              frozenset(models.get(row["id"], ())))
        by_state.setdefault(row["state"], []).append(candidate)
        by_id[row["id"]] = candidate
    return by_state, by_id, aliases


def _apply_mapping(match: Match, entry: MappingEntry | None, by_id: dict[int, Candidate]
                   ) -> Match:
    if entry is None:
        return match
    if entry.target == "skip":
        match.status, match.agency_ids, match.reason = "skipped", [], "skipped by the mapping"
    elif entry.target == "new":
        match.status, match.agency_ids, match.reason = "new", [], "added by the mapping"
    else:
        agency_id = int(entry.target)
        if agency_id not in by_id:
            raise ValidationFailed({"mapping": f"line {entry.line}: there is no agency "
                                               f"number {agency_id}"})
        if by_id[agency_id].state != match.state:
            raise ValidationFailed({"mapping": f"line {entry.line}: agency {agency_id} is in "
                                               f"{by_id[agency_id].state}, not {match.state}"})
        match.status, match.agency_ids, match.reason = "mapped", [agency_id], "by the mapping"
    return match


def match_file(parsed: SnapshotFile, by_state: dict[str, list[Candidate]],
               by_id: dict[int, Candidate], aliases: dict[tuple[str, str], int],
               mapping: dict[tuple[str, str], MappingEntry]) -> list[Match]:
    matches = []
    for (state, name), agreements in sorted(parsed.agencies().items()):
        county = next((a.county for a in agreements if a.county), "")
        match = snapshots.match_agency(state, name, county, [a.model for a in agreements],
                                       by_state.get(state, []))
        alias = aliases.get((state, snapshots.fold_name(name)))
        if match.status != "matched" and alias is not None and alias in by_id:
            match = Match(state, name, county, match.models, "matched", [alias],
                          reason="an alias left by a merge")
        matches.append(_apply_mapping(match, mapping.get((state, name)), by_id))
    return matches


class HistoryService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def import_history(self, path: str | Path, *, mapping_path: str | Path | None = None,
                             dry_run: bool = False) -> HistoryReport:
        """Load the agreement snapshot file. Agencies are matched by state and folded name
        (county and models to tell twins apart), or by the reviewed mapping file; ambiguous
        and unmatched agencies are reported and not loaded (nothing is added unless the
        mapping says ``new``). Idempotent: listings already known are left alone."""
        if not may_import_registry(self.actor):
            raise Forbidden("You do not have permission to import ICE's lists.")
        parsed = snapshots.read_snapshot_file(path)
        mapping = snapshots.read_mapping_file(mapping_path) if mapping_path else {}
        report = HistoryReport(source=Path(path).name, rows=parsed.rows,
                               snapshots=parsed.snapshots,
                               agreements_in_file=len(parsed.agreements),
                               agencies_in_file=len(parsed.agencies()),
                               rejected=parsed.rejected, dry_run=dry_run)
        if dry_run:
            by_state, by_id, aliases = await _candidates()
            report.matches = match_file(parsed, by_state, by_id, aliases, mapping)
            report.agreements_not_loaded = self._not_loaded(parsed, report.matches)
            return report
        now = _now()
        async with db.write_transaction():
            if not db.is_sqlite():
                await Agency.raw("SELECT pg_advisory_xact_lock({})", IMPORT_LOCK_KEY)
            by_state, by_id, aliases = await _candidates()
            report.matches = match_file(parsed, by_state, by_id, aliases, mapping)
            report.agreements_not_loaded = self._not_loaded(parsed, report.matches)
            await self._load(parsed, report, by_id, mapping, now)
            details = report.as_dict()
            await audit.record("registry.import_history", actor=self.actor,
                               object_type="snapshot_file", object_id=report.source[:64],
                               details=details)
        return report

    @staticmethod
    def _not_loaded(parsed: SnapshotFile, matches: list[Match]) -> int:
        loaded = {(m.state, m.name) for m in matches
                  if m.status in ("matched", "mapped", "new")}
        return sum(1 for a in parsed.agreements if a.agency_key not in loaded)

    async def _load(self, parsed: SnapshotFile, report: HistoryReport,
                    by_id: dict[int, Candidate], mapping: dict[tuple[str, str], MappingEntry],
                    now: datetime) -> None:
        by_agency = parsed.agencies()
        # Agencies the mapping adds ("new"), never silently.
        for match in report.matches:
            if match.status != "new":
                continue
            first = by_agency[(match.state, match.name)][0]
            name = rules.clean_text(match.name).title()
            key = rules.agency_match_key(match.state, name)
            existing = await Agency.select(Agency.id).where(Agency.match_key == key).first()
            if existing is not None:
                # Added by an earlier run of this mapping (same identity): not a duplicate.
                match.agency_ids = [existing["id"]]
                continue
            kind = _KIND_BY_AGENCY_TYPE.get(first.agency_type.casefold(), "other")
            agency = Agency(name=name, state=match.state, county=first.county, kind=kind,
                            match_key=key, created_at=now, updated_at=now)
            await agency.save()
            match.agency_ids = [int(agency.id)]
            by_id[int(agency.id)] = Candidate(int(agency.id), name, match.state, first.county,
                                              frozenset())
            report.agencies_added += 1

        agreements = {(r["agency"], r["model"]): r for r in await Agreement.select(
            Agreement.id, Agreement.agency, Agreement.model, Agreement.status).where(
            Agreement.merged_into.is_null())}
        known_labels = {r["snapshot"] for r in await AgreementListing.select(
            AgreementListing.snapshot).where(AgreementListing.kind == "participating")}
        latest = snapshots.sort_labels(known_labels | set(parsed.snapshots))[-1]
        agency_facts: dict[int, dict[str, Any]] = {}
        wanted: list[tuple[int, str]] = []  # (agreement id, label)
        new_agreements: list[tuple[int, str, snapshots.SnapshotAgreement]] = []
        for match in report.matches:
            if match.status not in ("matched", "mapped", "new"):
                continue
            for item in by_agency[(match.state, match.name)]:
                agency_id = snapshots.agency_for_model(match, item.model, by_id)
                if agency_id is None:
                    # Twin spellings and neither holds this model: the first (lowest id).
                    agency_id = match.agency_ids[0]
                facts = agency_facts.setdefault(agency_id, {})
                for name in ("ori", "agency_type", "population_policed", "operating_budget"):
                    if getattr(item, name):
                        facts[name] = getattr(item, name)
                existing = agreements.get((agency_id, item.model))
                if existing is None:
                    new_agreements.append((agency_id, item.model, item))
                else:
                    wanted.extend((existing["id"], label) for label in item.listings)
        for agency_id, model, item in new_agreements:
            status = "active" if item.listings[-1] == latest else "no_longer_listed"
            row = Agreement(agency=agency_id, model=model, status=status,
                            last_seen_sheet=f"{report.source} {item.listings[-1]}"[:120],
                            created_at=now, updated_at=now)
            await row.save()
            agreements[(agency_id, model)] = {"id": row.id}
            report.agreements_added += 1
            wanted.extend((int(row.id), label) for label in item.listings)
        report.agreements_with_history = len({agreement_id for agreement_id, _ in wanted})
        report.listings_added, report.listings_already_known = await record_listings(
            wanted, kind="participating", source=report.source, now=now)
        # The agency's facts (ORI, type, population, budget): the file's latest known values.
        current = {r["id"]: r for r in await Agency.select(
            Agency.id, Agency.ori, Agency.agency_type, Agency.population_policed,
            Agency.operating_budget).where(Agency.id.is_in(list(agency_facts) or [0]))}
        for agency_id, facts in agency_facts.items():
            changed = {k: v for k, v in facts.items() if current[agency_id][k] != v}
            if changed:
                if "ori" in changed:
                    changed["ori"] = str(changed["ori"])[:12]
                if "agency_type" in changed:
                    changed["agency_type"] = str(changed["agency_type"])[:80]
                # Piccolo takes column names as keys too; its signature says Column | str.
                values = cast("dict[Column | str, Any]", {**changed, "updated_at": now})
                await Agency.update(values).where(Agency.id == agency_id)
                report.agencies_updated += 1


async def record_listings(wanted: list[tuple[int, str]], *, kind: str, source: str,
                          now: datetime | None = None) -> tuple[int, int]:
    """Add the listings (agreement id, snapshot label) not yet recorded; returns (added,
    already known). Runs inside the caller's transaction."""
    now = now or _now()
    labels = {label for _, label in wanted}
    existing: set[tuple[int, str]] = set()
    if labels:
        for row in await AgreementListing.select(
                AgreementListing.agreement, AgreementListing.snapshot).where(
                (AgreementListing.kind == kind)
                & AgreementListing.snapshot.is_in(sorted(labels))):
            existing.add((row["agreement"], row["snapshot"]))
    new_rows = []
    seen: set[tuple[int, str]] = set()
    for agreement_id, label in wanted:
        key = (agreement_id, label)
        if key in existing or key in seen:
            continue
        seen.add(key)
        listed_on = snapshots.label_date(label)
        assert listed_on is not None
        new_rows.append(AgreementListing(agreement=agreement_id, listed_on=listed_on,
                                         snapshot=label, kind=kind, source=source[:120],
                                         created_at=now))
    for start in range(0, len(new_rows), _CHUNK):
        await AgreementListing.insert(*new_rows[start:start + _CHUNK])
    return len(new_rows), len({k for k in wanted if k in existing})


# --- timelines for pages --------------------------------------------------------------------

async def _all_snapshots(kind: str = "participating") -> list[str]:
    rows = await AgreementListing.select(AgreementListing.snapshot).where(
        AgreementListing.kind == kind).distinct()
    return snapshots.sort_labels(r["snapshot"] for r in rows)


async def agreement_timeline(agreement_id: int) -> dict[str, Any]:
    """What an agreement page shows: listed from, gaps, no longer listed on, pending listings."""
    rows = await AgreementListing.select(AgreementListing.snapshot, AgreementListing.kind).where(
        AgreementListing.agreement == agreement_id)
    participating = [r["snapshot"] for r in rows if r["kind"] == "participating"]
    pending = snapshots.sort_labels(r["snapshot"] for r in rows if r["kind"] == "pending")
    timeline = snapshots.agreement_timeline(await _all_snapshots(), participating)
    return {"timeline": timeline, "pending": pending}


async def agency_timeline(agency_id: int) -> dict[str, Any]:
    """What an agency page shows: each agreement's timeline and the model changes."""
    rows = await AgreementListing.select(
        AgreementListing.snapshot, AgreementListing.agreement.model).where(
        (AgreementListing.agreement.agency == agency_id)
        & (AgreementListing.kind == "participating"))
    all_snapshots = await _all_snapshots()
    by_model: dict[str, set[str]] = {}
    for row in rows:
        by_model.setdefault(row["agreement.model"], set()).add(row["snapshot"])
    return {
        "models": {model: snapshots.agreement_timeline(all_snapshots, labels)
                   for model, labels in sorted(by_model.items())},
        "changes": snapshots.model_changes(all_snapshots, by_model),
        "snapshots": len(all_snapshots),
    }
