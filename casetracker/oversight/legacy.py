"""Legacy import: historical complaint records from CSV with a documented mapping file.

Pure parts (the mapping, row conversion) are separate from the loader, which reads the three
files first, then writes in batches of complaints — each batch (its cases, their allegations
and complainants) in one transaction, so an interrupted import can be run again: complaints
already imported (same source and id) are skipped.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from casetracker.cases.listing import CHARACTERISTICS
from casetracker.cases.tables import AllegationType, Finding
from casetracker.oversight.bulk import bulk_insert

FINDING_VALUES = {f.value for f in Finding}
TYPE_VALUES = {t.value for t in AllegationType}
CHARACTERISTIC_VALUES = {"", *CHARACTERISTICS}
# the order in which a case's outcome is summarised from its allegations' findings
OUTCOME_PRIORITY = ["sustained", "policy_failure", "training_failure", "not_sustained",
                    "exonerated", "unfounded", "administratively_closed", "withdrawn",
                    "mediated", "officer_unidentified", "complainant_unavailable", "referred",
                    "pending_litigation"]
MAX_REJECTED_SAMPLE = 20


class MappingError(ValueError):
    pass


@dataclass
class CategoryRule:
    pattern: re.Pattern[str]
    type: str
    characteristic: str = ""


@dataclass
class Mapping:
    name: str
    source: str
    tracking_prefix: str
    date_format: str
    agency: dict[str, str]
    complaints: dict[str, Any]
    accused: dict[str, Any]
    complainants: dict[str, Any]
    findings: dict[str, str]
    category_rules: list[CategoryRule]
    category_default: str
    raw: dict[str, Any] = field(default_factory=dict)
    # [[findings.patterns]]: (regex, finding) tried after the exact values, in order
    finding_patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    # [pending] patterns: an original finding matching one keeps the complaint open
    pending_patterns: list[re.Pattern[str]] = field(default_factory=list)

    def category_rule(self, text: str) -> CategoryRule | None:
        for rule in self.category_rules:
            if rule.pattern.search(text or ""):
                return rule
        return None

    def map_category(self, text: str) -> tuple[str, str]:
        rule = self.category_rule(text)
        return (rule.type, rule.characteristic) if rule else (self.category_default, "")

    def finding_of(self, text: str) -> str | None:
        """The finding an original value maps to ("" = no final finding), or None when the
        mapping does not say (unmapped: reported, and counted with no final finding)."""
        text = (text or "").strip()
        if text in self.findings:
            return self.findings[text]
        for pattern, finding in self.finding_patterns:
            if pattern.search(text):
                return finding
        return None

    def map_finding(self, text: str) -> str:
        return self.finding_of(text) or ""

    def is_pending(self, text: str) -> bool:
        return any(p.search((text or "").strip()) for p in self.pending_patterns)

    def parse_date(self, text: str) -> date | None:
        # non-breaking spaces between date and time occur in real exports (Buffalo)
        text = (text or "").replace("\u00a0", " ").strip()
        if not text:
            return None
        return datetime.strptime(text, self.date_format).date()


def load_mapping(path: Path) -> Mapping:
    raw_text = path.read_bytes()
    try:
        raw = tomllib.loads(raw_text.decode()) if path.suffix == ".toml" else json.loads(raw_text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid TOML/JSON: {exc}") from exc
    return parse_mapping(raw)


def parse_mapping(raw: dict[str, Any]) -> Mapping:
    problems = []
    for key in ("source", "agency", "complaints"):
        if key not in raw:
            problems.append(f"missing [{key}]" if key != "source" else "missing source")
    complaints = raw.get("complaints", {})
    for key in ("id", "received_date"):
        if key not in complaints:
            problems.append(f"[complaints] needs {key}")
    agency = raw.get("agency", {})
    if not agency.get("name") or len(str(agency.get("state", ""))) != 2:
        problems.append("[agency] needs name and a two-letter state")
    raw_findings = dict(raw.get("findings", {}))
    pattern_items = raw_findings.pop("patterns", [])
    findings = {str(k).strip(): str(v) for k, v in raw_findings.items()}
    for original, ours in findings.items():
        if ours and ours not in FINDING_VALUES:
            problems.append(f"[findings] {original!r} maps to unknown finding {ours!r}")
    finding_patterns = []
    for item in pattern_items:
        ours = str(item.get("finding", ""))
        if ours and ours not in FINDING_VALUES:
            problems.append(f"[[findings.patterns]] {item.get('pattern')!r} maps to unknown "
                            f"finding {ours!r}")
            continue
        try:
            finding_patterns.append((re.compile(item["pattern"], re.IGNORECASE), ours))
        except (re.error, KeyError) as exc:
            problems.append(f"[[findings.patterns]] {item!r}: {exc}")
    pending_patterns = []
    for text in raw.get("pending", {}).get("patterns", []):
        try:
            pending_patterns.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            problems.append(f"[pending] pattern {text!r}: {exc}")
    categories = raw.get("categories", {})
    default = categories.get("default", "other")
    if default not in TYPE_VALUES:
        problems.append(f"[categories] default {default!r} is not an allegation type")
    rules = []
    for item in categories.get("rules", []):
        if item.get("type") not in TYPE_VALUES:
            problems.append(f"category rule {item.get('pattern')!r}: unknown type "
                            f"{item.get('type')!r}")
            continue
        if item.get("characteristic", "") not in CHARACTERISTIC_VALUES:
            problems.append(f"category rule {item.get('pattern')!r}: unknown characteristic "
                            f"{item.get('characteristic')!r}")
            continue
        try:
            rules.append(CategoryRule(re.compile(item["pattern"], re.IGNORECASE), item["type"],
                                      item.get("characteristic", "")))
        except (re.error, KeyError) as exc:
            problems.append(f"category rule {item!r}: {exc}")
    if problems:
        raise MappingError("; ".join(problems))
    return Mapping(
        name=raw.get("name", raw["source"]),
        source=str(raw["source"])[:40],
        tracking_prefix=str(raw.get("tracking_prefix", "LEG"))[:8],
        date_format=raw.get("date_format", "%Y-%m-%d"),
        agency=agency,
        complaints=complaints,
        accused=raw.get("accused", {}),
        complainants=raw.get("complainants", {}),
        findings=findings,
        category_rules=rules,
        category_default=default,
        raw=raw,
        finding_patterns=finding_patterns,
        pending_patterns=pending_patterns,
    )


def open_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; .gz files are read compressed."""
    raw: Any = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        reader = csv.DictReader(text)
        for row in reader:
            yield reader.line_num, row


def _col(row: dict[str, str], spec: dict[str, Any], key: str) -> str:
    column = spec.get(key)
    if not column:
        return ""
    return (row.get(column) or "").strip()


def _int_id(text: str) -> str:
    """Officer ids and stars arrive as "107083.0": keep the integer text."""
    text = (text or "").strip()
    if re.fullmatch(r"-?\d+\.0+", text):
        text = text.split(".")[0]
    return text


def noon_utc(day: date | None) -> datetime | None:
    # Noon UTC keeps the calendar day the same in every U.S. time zone.
    return datetime.combine(day, time(12), UTC) if day else None


@dataclass
class Rejects:
    counts: dict[str, int] = field(default_factory=lambda: {"complaints": 0, "accused": 0,
                                                            "complainants": 0})
    sample: list[dict[str, Any]] = field(default_factory=list)

    def add(self, file: str, line: int, reason: str) -> None:
        self.counts[file] += 1
        if len(self.sample) < MAX_REJECTED_SAMPLE:
            self.sample.append({"file": file, "line": line, "reason": reason})


def split_values(cell: str) -> list[str]:
    """A cell holding several values as a JSON array ('["USE OF FORCE","SHOTS FIRED"]') ->
    each value; any other cell -> itself (an empty cell -> [""])."""
    text = (cell or "").strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError:
            return [text]
        if isinstance(values, list):
            return [str(v).strip() for v in values] or [""]
    return [text]


@dataclass
class MappingReport:
    """What the mapping does not say, found before anything is written: original findings
    that no exact value, pattern or pending pattern covers, categories that no rule matches
    (they get the default type), and complaint rows that disagree with the first row of the
    same complaint."""

    unmapped_findings: dict[str, int] = field(default_factory=dict)
    default_categories: dict[str, int] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    pending_complaints: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"unmapped_findings": self.unmapped_findings,
                "default_categories": self.default_categories,
                "conflicts": self.conflicts[:200], "conflict_count": len(self.conflicts),
                "pending_complaints": self.pending_complaints}


@dataclass
class ParsedFiles:
    complaints: dict[str, dict[str, Any]]
    accused: dict[str, list[dict[str, Any]]]
    complainants: dict[str, list[dict[str, Any]]]
    read: dict[str, int]
    duplicates: int
    rejects: Rejects
    report: MappingReport = field(default_factory=MappingReport)


def parse_files(mapping: Mapping, complaints_path: Path, accused_path: Path | None,
                complainants_path: Path | None) -> ParsedFiles:
    rejects = Rejects()
    report = MappingReport()
    unmapped: dict[str, int] = {}
    defaulted: dict[str, int] = {}
    read = {"complaints": 0, "accused": 0, "complainants": 0}
    complaints: dict[str, dict[str, Any]] = {}
    duplicates = 0
    spec = mapping.complaints
    for line, row in open_csv(complaints_path):
        read["complaints"] += 1
        legacy_id = _int_id(_col(row, spec, "id"))
        if not legacy_id:
            rejects.add("complaints", line, "no complaint id")
            continue
        if legacy_id in complaints:
            duplicates += 1
            _compare_repeat(mapping, complaints[legacy_id], row, line, report)
            continue
        try:
            received = mapping.parse_date(_col(row, spec, "received_date"))
        except ValueError:
            rejects.add("complaints", line, f"received date {_col(row, spec, 'received_date')!r}"
                                            " is not a date")
            continue
        if received is None:
            rejects.add("complaints", line, "no received date")
            continue
        try:
            incident = mapping.parse_date(_col(row, spec, "incident_date"))
        except ValueError:
            incident = None
        try:
            closed = mapping.parse_date(_col(row, spec, "closed_date"))
        except ValueError:
            rejects.add("complaints", line, f"closed date {_col(row, spec, 'closed_date')!r} "
                                            "is not a date")
            continue
        complaints[legacy_id] = {
            "line": line, "pending": False,
            "id": legacy_id, "received": received, "incident": incident, "closed": closed,
            "category": _col(row, spec, "category")[:200],
            "category_code": _col(row, spec, "category_code")[:40],
            "status": _col(row, spec, "status")[:100],
            "investigating_body": _col(row, spec, "investigating_body")[:100],
            "location": _col(row, spec, "location")[:300],
            "city": _col(row, spec, "city")[:100],
            "state": _col(row, spec, "state"),
            "extra": {c: (row.get(c) or "").strip() for c in spec.get("extra", [])},
        }
    accused: dict[str, list[dict[str, Any]]] = {}
    if accused_path is not None:
        spec = mapping.accused
        for line, row in open_csv(accused_path):
            read["accused"] += 1
            legacy_id = _int_id(_col(row, spec, "complaint_id"))
            if legacy_id not in complaints:
                rejects.add("accused", line, f"no complaint {legacy_id!r} in the complaints file"
                            if legacy_id else "no complaint id")
                continue
            # Several categories or findings in one cell (a JSON array) are all kept: the
            # allegation's type is the first category a rule matches, its finding the most
            # serious one mapped, and the originals are kept joined with "; ".
            categories = split_values(_col(row, spec, "category"))
            originals = split_values(_col(row, spec, "finding"))
            rule = next((r for r in (mapping.category_rule(c) for c in categories) if r), None)
            kind, characteristic = ((rule.type, rule.characteristic) if rule
                                    else (mapping.category_default, ""))
            for value in categories:
                if value and mapping.category_rule(value) is None:
                    defaulted[value] = defaulted.get(value, 0) + 1
            mapped: list[str] = []
            pending = False
            for value in originals:
                if mapping.is_pending(value):
                    pending = True
                    continue
                finding = mapping.finding_of(value)
                if finding is None:
                    unmapped[value] = unmapped.get(value, 0) + 1
                elif finding:
                    mapped.append(finding)
            if pending:
                complaints[legacy_id]["pending"] = True
            category = "; ".join(c for c in categories if c)
            original_finding = "; ".join(v for v in originals if v)
            officer = _int_id(_col(row, spec, "officer_id"))
            if officer in ("-999", "0"):
                officer = ""
            accused.setdefault(legacy_id, []).append({
                "category": category[:200],
                "category_code": _col(row, spec, "category_code")[:40],
                "original_finding": original_finding[:100],
                "finding": "" if pending else case_outcome(mapped),
                "pending": pending,
                "type": kind, "characteristic": characteristic,
                "officer": officer[:64], "badge": _int_id(_col(row, spec, "badge"))[:40],
                "rank": _col(row, spec, "rank")[:60],
                "penalty": _col(row, spec, "penalty")[:200],
            })
    complainants: dict[str, list[dict[str, Any]]] = {}
    if complainants_path is not None:
        spec = mapping.complainants
        for line, row in open_csv(complainants_path):
            read["complainants"] += 1
            legacy_id = _int_id(_col(row, spec, "complaint_id"))
            if legacy_id not in complaints:
                rejects.add("complainants", line,
                            f"no complaint {legacy_id!r} in the complaints file"
                            if legacy_id else "no complaint id")
                continue
            birth = _int_id(_col(row, spec, "birth_year"))
            complainants.setdefault(legacy_id, []).append({
                "role": _col(row, spec, "role")[:60], "race": _col(row, spec, "race")[:60],
                "gender": _col(row, spec, "gender")[:30],
                "birth_year": int(birth) if birth.isdigit() else None,
            })
    report.unmapped_findings = dict(sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0])))
    report.default_categories = dict(sorted(defaulted.items(),
                                            key=lambda kv: (-kv[1], kv[0])))
    report.pending_complaints = sum(1 for c in complaints.values() if c["pending"])
    return ParsedFiles(complaints, accused, complainants, read, duplicates, rejects, report)


def _compare_repeat(mapping: Mapping, first: dict[str, Any], row: dict[str, str], line: int,
                    report: MappingReport) -> None:
    """A row repeating a complaint id: the first row's dates and category stand; each field
    this row gives otherwise is a conflict, reported. A date the first row lacks is taken from
    this one; a later closed date is taken (rows of one complaint are often its allegations,
    closed on different days)."""
    spec = mapping.complaints
    for key, column_key in (("received", "received_date"), ("incident", "incident_date"),
                            ("closed", "closed_date")):
        try:
            value = mapping.parse_date(_col(row, spec, column_key))
        except ValueError:
            continue
        if value is None or value == first[key]:
            continue
        if first[key] is None:  # the first row did not say: not a conflict, take it
            first[key] = value
            continue
        if key == "closed":
            if first["closed"] is None or value > first["closed"]:
                first["closed"] = value
            continue
        report.conflicts.append({"id": first["id"], "field": spec.get(column_key),
                                 "first_line": first["line"], "kept": str(first[key]),
                                 "line": line, "other": str(value)})
    for key in ("category", "status"):
        text = _col(row, spec, key)[:200]
        if text and first[key] and text != first[key]:
            report.conflicts.append({"id": first["id"], "field": spec.get(key),
                                     "first_line": first["line"], "kept": first[key],
                                     "line": line, "other": text})


def case_outcome(findings: list[str]) -> str:
    present = set(findings)
    for finding in OUTCOME_PRIORITY:
        if finding in present:
            return finding
    return ""


@dataclass
class ImportResult:
    run_id: int
    read: dict[str, int]
    loaded: dict[str, int]
    duplicates: int
    skipped_existing: int
    rejects: Rejects
    officers_created: int
    seconds: float
    report: MappingReport = field(default_factory=MappingReport)
    complaints: int = 0  # distinct complaints in the files (a dry run's "would load")
    allegations: int = 0


async def run_import(
    mapping: Mapping,
    complaints_path: Path,
    accused_path: Path | None = None,
    complainants_path: Path | None = None,
    *,
    actor_label: str = "cli",
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    on_parsed: Callable[[int], None] | None = None,
    on_report: Callable[[ParsedFiles], None] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Load the files; ``on_report(parsed)`` sees what the mapping leaves unmapped and the
    conflicts before anything is written (with ``dry_run`` nothing is); ``on_parsed(n)`` tells
    how many complaints will be written and ``progress(k)`` advances by k complaints
    written."""
    import time as _time

    from casetracker import db
    from casetracker.audit import services as audit
    from casetracker.auth.actor import Actor
    from casetracker.cases.tables import Allegation, Case
    from casetracker.oversight.tables import (
        LegacyAllegationDetail,
        LegacyComplainant,
        LegacyComplaintDetail,
        LegacyImportRun,
    )
    from casetracker.registry.tables import Agency, Officer

    started = _time.monotonic()
    parsed = parse_files(mapping, complaints_path, accused_path, complainants_path)
    if on_report:
        on_report(parsed)
    if dry_run:
        return ImportResult(run_id=0, read=parsed.read, loaded={}, duplicates=parsed.duplicates,
                            skipped_existing=0, rejects=parsed.rejects, officers_created=0,
                            seconds=_time.monotonic() - started, report=parsed.report,
                            complaints=len(parsed.complaints),
                            allegations=sum(len(v) for v in parsed.accused.values()))

    agency_id = await _ensure_agency(Agency, mapping)
    existing = {r["legacy_id"] for r in await Case.select(Case.legacy_id).where(
        Case.legacy_source == mapping.source)}
    todo = [c for key, c in parsed.complaints.items() if key not in existing]
    if on_parsed:
        on_parsed(len(todo))

    officer_ids = await _ensure_officers(Officer, agency_id, mapping, parsed, existing)

    run = LegacyImportRun(
        source=mapping.source, mapping_name=mapping.name,
        mapping=json.loads(json.dumps(mapping.raw, default=str)),
        files={"complaints": str(complaints_path), "accused": str(accused_path or ""),
               "complainants": str(complainants_path or "")},
        started_by=actor_label[:254], complaints_read=parsed.read["complaints"],
        accused_read=parsed.read["accused"], complainants_read=parsed.read["complainants"],
        complaints_duplicate=parsed.duplicates,
    )
    async with db.write_transaction():
        await run.save()

    loaded = {"complaints": 0, "accused": 0, "complainants": 0}
    now = datetime.now(UTC)
    prefix = mapping.tracking_prefix
    for offset in range(0, len(todo), batch_size):
        batch = todo[offset:offset + batch_size]
        async with db.write_transaction():
            cases = []
            for c in batch:
                accused = parsed.accused.get(c["id"], [])
                # a pending disposition: "open, legacy" (no due dates, so outside the clocks)
                closed_at = None if c["pending"] else noon_utc(c["closed"])
                cases.append(dict(
                    tracking_number=f"{prefix}-{c['id']}"[:20],
                    status="open" if c["pending"] else "closed",
                    channel="legacy", language="en", received_at=noon_utc(c["received"]),
                    incident_date=c["incident"],
                    incident_date_precision="day" if c["incident"] else "unknown",
                    incident_location=c["location"], incident_city=c["city"][:100].title(),
                    incident_state=mapping.agency["state"], agency=agency_id,
                    officer_unidentified=not any(a["officer"] for a in accused),
                    outcome=case_outcome([a["finding"] for a in accused]),
                    resolved_at=closed_at, closed_at=closed_at,
                    legacy_source=mapping.source, legacy_id=c["id"][:64], updated_at=now,
                ))
            ids = await bulk_insert(Case, cases)
            await bulk_insert(LegacyComplaintDetail, [
                dict(case=case_id, run=run.id, source=mapping.source, legacy_id=c["id"][:64],
                     original_category=c["category"], original_category_code=c["category_code"],
                     original_status=c["status"], investigating_body=c["investigating_body"],
                     extra=c["extra"])
                for case_id, c in zip(ids, batch, strict=True)])
            allegations, details = [], []
            for case_id, c in zip(ids, batch, strict=True):
                closed_at = noon_utc(c["closed"]) if not c["pending"] else None
                for a in parsed.accused.get(c["id"], []):
                    allegations.append(dict(
                        case=case_id, officer=officer_ids.get(a["officer"]),
                        allegation_type=a["type"], protected_characteristic=a["characteristic"],
                        description=a["category"], final_finding=a["finding"],
                        final_at=closed_at if a["finding"] else None, created_at=now))
                    details.append((case_id, a))
            new_ids = await bulk_insert(Allegation, allegations)
            await bulk_insert(LegacyAllegationDetail, [
                dict(allegation=al_id, case=case_id, source=mapping.source,
                     legacy_officer_id=a["officer"], original_category=a["category"],
                     original_category_code=a["category_code"],
                     original_finding=a["original_finding"], penalty=a["penalty"])
                for al_id, (case_id, a) in zip(new_ids, details, strict=True)])
            people = [dict(case=case_id, source=mapping.source, **p)
                      for case_id, c in zip(ids, batch, strict=True)
                      for p in parsed.complainants.get(c["id"], [])]
            await bulk_insert(LegacyComplainant, people)
        loaded["complaints"] += len(batch)
        loaded["accused"] += len(allegations)
        loaded["complainants"] += len(people)
        if progress:
            progress(len(batch))

    # Fresh statistics for the query planner after a bulk load (PostgreSQL otherwise plans
    # the dashboard's aggregates on empty-table estimates).
    for table in ("ct_case", "allegation", "officer", "oversight_legacy_complaint",
                  "oversight_legacy_allegation", "oversight_legacy_complainant"):
        await Case.raw(f"ANALYZE {table}")
    seconds = _time.monotonic() - started
    async with db.write_transaction():
        await LegacyImportRun.update({
            LegacyImportRun.finished_at: datetime.now(UTC),
            LegacyImportRun.complaints_loaded: loaded["complaints"],
            LegacyImportRun.accused_loaded: loaded["accused"],
            LegacyImportRun.complainants_loaded: loaded["complainants"],
            LegacyImportRun.complaints_rejected: parsed.rejects.counts["complaints"],
            LegacyImportRun.accused_rejected: parsed.rejects.counts["accused"],
            LegacyImportRun.complainants_rejected: parsed.rejects.counts["complainants"],
            LegacyImportRun.rejected_sample: parsed.rejects.sample,
        }).where(LegacyImportRun.id == run.id)
        await audit.record(
            "oversight.legacy_import", actor=Actor.system(actor_label[:254]),
            object_type="legacy_import_run", object_id=run.id,
            details={"source": mapping.source, "loaded": loaded,
                     "mapping_report": parsed.report.as_dict(),
                     "rejected": parsed.rejects.counts, "duplicates": parsed.duplicates,
                     "skipped_existing": len(parsed.complaints) - len(todo)})
    return ImportResult(run_id=run.id, read=parsed.read, loaded=loaded,
                        duplicates=parsed.duplicates,
                        skipped_existing=len(parsed.complaints) - len(todo),
                        rejects=parsed.rejects, officers_created=officer_ids.created,
                        seconds=seconds, report=parsed.report,
                        complaints=len(parsed.complaints),
                        allegations=sum(len(v) for v in parsed.accused.values()))


async def _ensure_agency(agency_table: Any, mapping: Mapping) -> int:
    from casetracker import db
    from casetracker.registry.rules import agency_match_key, similar_agency_key

    state, name = mapping.agency["state"].upper(), mapping.agency["name"]
    key = agency_match_key(state, name)
    # The registry's agency of that name, whatever its case, spacing or apostrophe style.
    wanted = similar_agency_key(state, name)
    rows = await agency_table.select(agency_table.id, agency_table.name, agency_table.match_key
                                     ).where(agency_table.state == state).order_by(
                                         agency_table.id)
    exact = [r for r in rows if r["match_key"] == key]
    similar = [r for r in rows if similar_agency_key(state, r["name"]) == wanted]
    if exact or similar:
        return int((exact or similar)[0]["id"])
    async with db.write_transaction():
        agency = agency_table(name=mapping.agency["name"], state=mapping.agency["state"].upper(),
                              county=mapping.agency.get("county", ""),
                              kind=mapping.agency.get("kind", "other"), match_key=key)
        await agency.save()
    return int(agency.id)


class _OfficerIds(dict):
    created = 0


def officer_label(mapping: Mapping, legacy_officer: str) -> str:
    """The registry name of an imported officer: a pseudonymous label, never a person's name."""
    return f"{mapping.tracking_prefix} officer #{legacy_officer}"


async def _ensure_officers(officer_table: Any, agency_id: int, mapping: Mapping,
                           parsed: ParsedFiles, existing: set[str]) -> _OfficerIds:
    """Registry officers for the pseudonymous officer ids (one per id, in the mapped agency)."""
    from casetracker import db

    wanted: dict[str, dict[str, str]] = {}
    for legacy_id, rows in parsed.accused.items():  # noqa: B007
        for a in rows:
            if a["officer"]:
                wanted.setdefault(a["officer"], {"badge": a["badge"], "rank": a["rank"]})
    result = _OfficerIds()
    rows = await officer_table.select(officer_table.id, officer_table.name).where(
        officer_table.agency == agency_id)
    by_label = {r["name"]: r["id"] for r in rows}
    missing = []
    for legacy_officer, info in wanted.items():
        label = officer_label(mapping, legacy_officer)
        if label in by_label:
            result[legacy_officer] = by_label[label]
        else:
            missing.append((legacy_officer, label, info))
    for start in range(0, len(missing), 500):
        chunk = missing[start:start + 500]
        async with db.write_transaction():
            ids = await bulk_insert(officer_table, [
                dict(agency=agency_id, name=label, badge_number=info["badge"],
                     rank=info["rank"].title(), active=False)
                for _, label, info in chunk])
        for (legacy_officer, _, _), new_id in zip(chunk, ids, strict=True):
            result[legacy_officer] = new_id
    result.created = len(missing)
    return result
