"""Early-intervention flags from the database: events in the window, rules, acknowledgements."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission
from casetracker.auth.policies import require
from casetracker.cases.tables import Case
from casetracker.errors import NotFound, ValidationFailed
from casetracker.oversight import early_intervention as ei
from casetracker.oversight.services import _as_date, _as_dt
from casetracker.oversight.tables import EarlyInterventionRule, FlagAcknowledgement


async def load_rules() -> list[ei.Rule]:
    rows = await EarlyInterventionRule.select()
    return ei.merge_rules(rows)


async def load_events(as_of: date, window_days: int) -> list[ei.Event]:
    start = datetime.combine(as_of - timedelta(days=window_days), time(), UTC) + timedelta(days=1)
    end = datetime.combine(as_of + timedelta(days=1), time(), UTC)
    events: list[ei.Event] = []
    rows = await Case.raw(
        "SELECT al.officer AS officer, c.agency AS agency, c.id AS case_id, c.received_at AS "
        "received_at, al.allegation_type AS allegation_type FROM allegation al JOIN ct_case c "
        "ON c.id = al.\"case\" WHERE c.received_at >= {} AND c.received_at < {} AND "
        "(al.officer IS NOT NULL OR al.allegation_type = 'racial_profiling')", start, end)
    for row in rows:
        on = _as_date(_as_dt(row["received_at"]))
        assert on is not None
        if row["officer"] is not None:
            events.append(ei.Event("officer", int(row["officer"]), "complaints", on,
                                   int(row["case_id"])))
            if row["allegation_type"] == "racial_profiling":
                events.append(ei.Event("officer", int(row["officer"]), "profiling", on,
                                       int(row["case_id"])))
        if row["agency"] is not None and row["allegation_type"] == "racial_profiling":
            events.append(ei.Event("agency", int(row["agency"]), "profiling", on,
                                   int(row["case_id"])))
    cases = await Case.raw(
        "SELECT c.agency AS agency, c.id AS case_id, c.received_at AS received_at FROM ct_case c "
        "WHERE c.agency IS NOT NULL AND c.received_at >= {} AND c.received_at < {}", start, end)
    for row in cases:
        on = _as_date(_as_dt(row["received_at"]))
        assert on is not None
        events.append(ei.Event("agency", int(row["agency"]), "complaints", on,
                               int(row["case_id"])))
    sustained = await Case.raw(
        "SELECT al.officer AS officer, c.agency AS agency, c.id AS case_id, COALESCE(al.final_at,"
        " c.received_at) AS on_at FROM allegation al JOIN ct_case c ON c.id = al.\"case\" WHERE "
        "al.allegation_type = 'racial_profiling' AND al.final_finding = 'sustained' AND "
        "COALESCE(al.final_at, c.received_at) >= {} AND COALESCE(al.final_at, c.received_at) < {}",
        start, end)
    for row in sustained:
        on = _as_date(_as_dt(row["on_at"]))
        assert on is not None
        if row["officer"] is not None:
            events.append(ei.Event("officer", int(row["officer"]), "sustained_profiling", on,
                                   int(row["case_id"])))
        if row["agency"] is not None:
            events.append(ei.Event("agency", int(row["agency"]), "sustained_profiling", on,
                                   int(row["case_id"])))
    return events


async def designated_officers() -> dict[int, int]:
    rows = await Case.raw(
        "SELECT g.agency AS agency, COUNT(DISTINCT d.officer) AS n FROM designation d JOIN "
        "agreement g ON g.id = d.agreement WHERE d.status = 'active' GROUP BY 1")
    return {int(r["agency"]): int(r["n"]) for r in rows}


async def current_flags(as_of: date | None = None, *, include_acknowledged: bool = True
                        ) -> list[dict[str, Any]]:
    """Flags as of ``as_of`` (default today), each with its subject, cases and any
    acknowledgement of exactly this flag."""
    as_of = as_of or datetime.now(UTC).date()
    rules = await load_rules()
    window = max((r.window_days for r in rules if r.enabled), default=365)
    events = await load_events(as_of, window)
    flags = ei.evaluate(rules, events, as_of, await designated_officers())
    if not flags:
        return []
    officer_ids = sorted({f.subject_id for f in flags if f.subject == "officer"})
    agency_ids = sorted({f.subject_id for f in flags if f.subject == "agency"})
    officers = await _by_id("SELECT o.id AS id, o.name AS name, o.badge_number AS badge, "
                            "a.name AS agency, o.agency AS agency_id FROM officer o JOIN agency "
                            "a ON a.id = o.agency WHERE o.id IN ({ids})", officer_ids)
    agencies = await _by_id("SELECT a.id AS id, a.name AS name, a.state AS state FROM agency a "
                            "WHERE a.id IN ({ids})", agency_ids)
    keys = [f.key for f in flags]
    acks: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 500):
        for row in await FlagAcknowledgement.select(
                *FlagAcknowledgement.all_columns(),
                FlagAcknowledgement.acknowledged_by.name.as_alias("by_name")).where(
                FlagAcknowledgement.flag_key.is_in(keys[start:start + 500])):
            acks[row["flag_key"]] = row
    case_ids = sorted({c for f in flags for c in f.case_ids})
    tracking = await _tracking_numbers(case_ids)
    out = []
    for f in flags:
        ack = acks.get(f.key)
        if ack and not include_acknowledged:
            continue
        subject = (officers if f.subject == "officer" else agencies).get(f.subject_id, {})
        out.append({
            "key": f.key, "subject": f.subject, "subject_id": f.subject_id,
            "subject_label": subject.get("name", f"#{f.subject_id}"),
            "subject_detail": subject, "rule": f.rule, "level": f.level, "count": f.count,
            "threshold": f.threshold, "case_ids": f.case_ids, "last_on": f.last_on,
            "cases": [{"id": c, "tracking_number": tracking.get(c, str(c))} for c in f.case_ids],
            "acknowledgement": ack,
        })
    return out


async def _by_id(sql: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        if not chunk:
            continue
        rows = await Case.raw(sql.replace("{ids}", ", ".join(str(int(i)) for i in chunk)))
        out.update({int(r["id"]): r for r in rows})
    return out


async def _tracking_numbers(ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = await Case.select(Case.id, Case.tracking_number).where(Case.id.is_in(chunk))
        out.update({r["id"]: r["tracking_number"] for r in rows})
    return out


class FlagService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def acknowledge(self, flag_key: str, note: str, *, as_of: date | None = None
                          ) -> FlagAcknowledgement:
        note = self._checked_note(note)
        flags = {f["key"]: f for f in await current_flags(as_of)}
        flag = flags.get(flag_key)
        if flag is None:
            raise NotFound("That flag is no longer raised.")
        return await self._acknowledge(flag, note)

    def _checked_note(self, note: str) -> str:
        require(self.actor, Permission.OVERSIGHT_FLAGS)
        note = (note or "").strip()
        if not note:
            raise ValidationFailed({"note": "Describe the intervention taken."})
        if len(note) > 5000:
            raise ValidationFailed({"note": "Keep the note under 5,000 characters."})
        return note

    async def acknowledge_many(self, flag_keys: list[str], note: str, *,
                               as_of: date | None = None) -> int:
        """Several flags with one note, in one transaction (all or none); each flag gets its
        own acknowledgement and audit event. Returns how many were acknowledged."""
        note = self._checked_note(note)
        keys = list(dict.fromkeys(k for k in flag_keys if k))
        if not keys:
            raise ValidationFailed({"flags": "Choose at least one flag."})
        flags = {f["key"]: f for f in await current_flags(as_of)}
        missing = [k for k in keys if k not in flags]
        if missing:
            raise NotFound("Some of the chosen flags are no longer raised: show the flags "
                           "again and choose from the list.")
        async with db.write_transaction():
            for key in keys:
                await self._acknowledge(flags[key], note)
        return len(keys)

    async def _acknowledge(self, flag: dict[str, Any], note: str) -> FlagAcknowledgement:
        flag_key = flag["key"]
        async with db.write_transaction():
            existing = await FlagAcknowledgement.select(FlagAcknowledgement.id).where(
                FlagAcknowledgement.flag_key == flag_key).first()
            if existing:
                raise ValidationFailed({"note": "This flag has already been acknowledged."})
            ack = FlagAcknowledgement(
                flag_key=flag_key, subject_type=flag["subject"], subject_id=flag["subject_id"],
                rule_key=flag["rule"].key, level=flag["level"], count=flag["count"],
                case_ids=flag["case_ids"], note=note, acknowledged_by=self.actor.id,
                acknowledged_at=datetime.now(UTC))
            await ack.save()
            await audit.record(
                "oversight.flag.acknowledge", actor=self.actor, object_type=flag["subject"],
                object_id=flag["subject_id"],
                details={"flag": flag_key, "rule": flag["rule"].key, "level": flag["level"],
                         "count": flag["count"], "cases": flag["case_ids"][:50], "note": note})
        return ack


async def save_rule(actor: Actor, key: str, values: dict[str, Any]) -> None:
    """Store a rule's thresholds (overriding the default of the same key); audited."""
    require(actor, Permission.OVERSIGHT_FLAGS)
    rules = {r.key: r for r in await load_rules()}
    if key not in rules:
        raise NotFound("There is no such rule.")
    base = rules[key]
    async with db.write_transaction():
        row = await EarlyInterventionRule.objects().where(EarlyInterventionRule.key == key).first()
        if row is None:
            row = EarlyInterventionRule(key=key, subject=base.subject, measure=base.measure)
        row.window_days = int(values["window_days"])
        row.warning_at = int(values["warning_at"])
        row.critical_at = int(values["critical_at"])
        row.enabled = bool(values.get("enabled", True))
        row.scale_by_officers = base.scale_by_officers
        row.updated_by = actor.id
        row.updated_at = datetime.now(UTC)
        await row.save()
        await audit.record("oversight.rule.update", actor=actor, object_type="ei_rule",
                           object_id=key, details={k: values[k] for k in values})
