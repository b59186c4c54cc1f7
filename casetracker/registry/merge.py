"""Merging two agency records (administrators): ICE's twin apostrophe spellings, renames between
sheets. Every row that refers to the merged agency (agreements, officers, cases, case officers,
recommendations, portfolios, and whatever other table points at an agency) moves to the kept
one; an agreement of a model the kept agency already holds is folded into that agreement (its
designations, listings, cases and recommendations move there). The merged record stays as an
alias (``Agency.merged_into``) that imports and searches resolve. Everything that moved is
recorded, so the merge can be undone while nothing new refers to the moved agreements and
officers."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from piccolo.columns import ForeignKey
from piccolo.custom_types import Combinable
from piccolo.table import Table

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission
from casetracker.auth.policies import require
from casetracker.errors import InvalidTransition, NotFound, ValidationFailed
from casetracker.registry import rules
from casetracker.registry.tables import Agency, AgencyMerge, Agreement
from casetracker.web.i18n import gettext as _

_CHUNK = 500


def _now() -> datetime:
    return datetime.now(UTC)


def referring_columns(target: type[Table]) -> list[tuple[type[Table], str]]:
    """Every (table, column) in the app whose foreign key points at ``target``; found from the
    table classes, so a feature that adds a reference to agencies is merged too. The merge
    record itself is left out."""
    from piccolo.conf.apps import Finder

    found = []
    for table in Finder().get_table_classes():
        if table is AgencyMerge:
            continue
        for column in table._meta.foreign_key_columns:
            assert isinstance(column, ForeignKey)
            if column._foreign_key_meta.resolved_references is target:
                found.append((table, column._meta.db_column_name))
    return sorted(found, key=lambda pair: (pair[0]._meta.tablename, pair[1]))


def _table_by_name(name: str) -> type[Table]:
    from piccolo.conf.apps import Finder

    for table in Finder().get_table_classes():
        if table._meta.tablename == name:
            return table
    raise LookupError(name)


async def _ids_where(table: type[Table], column: str, values: list[int]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(values), _CHUNK):
        chunk = values[start:start + _CHUNK]
        rows = await table.select(table._meta.primary_key).where(
            table._meta.get_column_by_name(column).is_in(chunk))
        ids += [r[table._meta.primary_key._meta.name] for r in rows]
    return sorted(ids)


async def _move(table: type[Table], column: str, ids: list[int], to: int | None,
                *, only_if: int | None = None) -> None:
    """Set ``column`` to ``to`` on the rows ``ids``; with ``only_if``, only where it still
    holds that value (an undo leaves a row someone has changed since alone)."""
    col = table._meta.get_column_by_name(column)
    for start in range(0, len(ids), _CHUNK):
        where: Combinable = table._meta.primary_key.is_in(ids[start:start + _CHUNK])
        if only_if is not None:
            where = where & (col == only_if)
        await table.update({col: to}).where(where)


async def _referring_rows(moves: list[dict[str, Any]]) -> dict[str, list[int]]:
    """The rows that refer to the agreements and officers the merge moved to the kept agency:
    "table.column" -> ids."""
    moved: dict[str, list[int]] = {"agreement": [], "officer": []}
    for move in moves:
        if move["table"] in moved and move["column"] == "agency":
            moved[move["table"]] += move["ids"]
    found: dict[str, list[int]] = {}
    for target, ids in moved.items():
        if not ids:
            continue
        for table, column in referring_columns(_table_by_name(target)):
            rows = await _ids_where(table, column, ids)
            if rows:
                found[f"{table._meta.tablename}.{column}"] = rows
    return found


class MergeService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def merge_agencies(self, *, kept_id: int, merged_id: int, reason: str) -> int:
        """Merge agency ``merged_id`` into ``kept_id``; returns the merge's id."""
        require(self.actor, Permission.REGISTRY_EDIT)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationFailed({"reason": _("Say why these two records are one agency.")})
        if kept_id == merged_id:
            raise ValidationFailed({"merged_id": _("Choose another agency than this one.")})
        async with db.write_transaction():
            kept = await _agency(kept_id)
            merged = await _agency(merged_id)
            if kept["merged_into"] is not None:
                raise ValidationFailed({"merged_id": _(
                    "This record was itself merged into another agency; merge into that one.")})
            if merged["merged_into"] is not None:
                raise ValidationFailed({"merged_id": _(
                    "That agency was already merged into another one.")})
            if kept["state"] != merged["state"]:
                raise ValidationFailed({"merged_id": _(
                    "Agencies of two states cannot be one agency.")})
            moves = await self._move_everything(kept_id, merged_id)
            now = _now()
            await Agency.update({Agency.merged_into: kept_id, Agency.updated_at: now}).where(
                Agency.id == merged_id)
            # Aliases of the merged agency now point at the kept one too.
            aliases = await _ids_where(Agency, "merged_into", [merged_id])
            aliases = [a for a in aliases if a != merged_id]
            if aliases:
                await _move(Agency, "merged_into", aliases, kept_id)
                moves.append({"table": "agency", "column": "merged_into", "ids": aliases,
                              "from": merged_id, "to": kept_id})
            record = AgencyMerge(kept=kept_id, merged=merged_id, reason=reason, moves=moves,
                                 referring_rows=await _referring_rows(moves), merged_at=now,
                                 merged_by=self.actor.label[:200])
            await record.save()
            await audit.record(
                "registry.agency.merge", actor=self.actor, object_type="agency",
                object_id=kept_id,
                details={"kept": {"id": kept_id, "name": kept["name"]},
                         "merged": {"id": merged_id, "name": merged["name"]},
                         "merge_id": record.id, "reason": reason, "moved": _counts(moves)})
        return int(record.id)

    async def _move_everything(self, kept_id: int, merged_id: int) -> list[dict[str, Any]]:
        moves: list[dict[str, Any]] = []
        kept_agreements = {r["model"]: r["id"] for r in await Agreement.select(
            Agreement.id, Agreement.model).where(
            (Agreement.agency == kept_id) & Agreement.merged_into.is_null())}
        merged_agreements = await Agreement.select(Agreement.id, Agreement.model).where(
            (Agreement.agency == merged_id) & Agreement.merged_into.is_null())
        plan = rules.plan_agreement_merge(kept_agreements,
                                          [(a["id"], a["model"]) for a in merged_agreements])
        # Agreements of a model the kept agency already holds: what refers to them moves to
        # the kept agreement; the folded agreement stays with the alias, marked.
        for folded_id, into_id in plan.folded:
            for table, column in referring_columns(Agreement):
                ids = await _ids_where(table, column, [folded_id])
                if ids:
                    await _move(table, column, ids, into_id)
                    moves.append({"table": table._meta.tablename, "column": column, "ids": ids,
                                  "from": folded_id, "to": into_id})
            await Agreement.update({Agreement.merged_into: into_id}).where(
                Agreement.id == folded_id)
            moves.append({"table": "agreement", "column": "merged_into", "ids": [folded_id],
                          "from": None, "to": into_id})
        # Everything else that refers to the merged agency (its other agreements, officers,
        # cases, case officers, recommendations, ...).
        for table, column in referring_columns(Agency):
            ids = await _ids_where(table, column, [merged_id])
            if table is Agreement:
                ids = [i for i in ids if i in set(plan.moved)]
            if ids:
                await _move(table, column, ids, kept_id)
                moves.append({"table": table._meta.tablename, "column": column, "ids": ids,
                              "from": merged_id, "to": kept_id})
        return moves

    async def undo_merge(self, merge_id: int) -> None:
        """Put every moved row back and make the alias an agency again. Refused once anything
        new refers to the moved agreements or officers (a designation, a case, ...) or the kept
        agency was itself merged since."""
        require(self.actor, Permission.REGISTRY_EDIT)
        async with db.write_transaction():
            record = await AgencyMerge.select().where(AgencyMerge.id == merge_id).output(
                load_json=True).first()
            if record is None:
                raise NotFound("There is no such merge.")
            if record["undone_at"] is not None:
                raise InvalidTransition(_("This merge was already undone."))
            kept = await _agency(record["kept"])
            if kept["merged_into"] is not None:
                raise InvalidTransition(_(
                    "The kept agency was merged into another one since: undo that merge first."))
            moves = _loaded(record["moves"])
            before = {k: set(v) for k, v in _loaded(record["referring_rows"]).items()}
            now_rows = await _referring_rows(moves)
            new: Counter[str] = Counter()
            for key, ids in now_rows.items():
                extra = set(ids) - before.get(key, set())
                if extra:
                    new[key.split(".")[0]] += len(extra)
            if new:
                what = ", ".join(f"{n} {_noun(table, n)}" for table, n in sorted(new.items()))
                raise InvalidTransition(_(
                    "This merge can no longer be undone: since it, %(what)s were added that "
                    "refer to the agreements or officers it moved. Move them by hand first.")
                    % {"what": what})
            for move in reversed(moves):
                table = _table_by_name(move["table"])
                await _move(table, move["column"], move["ids"], move["from"],
                            only_if=move["to"])
            now = _now()
            await Agency.update({Agency.merged_into: None, Agency.updated_at: now}).where(
                Agency.id == record["merged"])
            await AgencyMerge.update({AgencyMerge.undone_at: now,
                                      AgencyMerge.undone_by: self.actor.label[:200]}).where(
                AgencyMerge.id == merge_id)
            merged = await _agency(record["merged"])
            await audit.record(
                "registry.agency.merge_undo", actor=self.actor, object_type="agency",
                object_id=record["kept"],
                details={"merge_id": merge_id, "kept": {"id": kept["id"], "name": kept["name"]},
                         "merged": {"id": merged["id"], "name": merged["name"]},
                         "moved_back": _counts(moves)})


async def _agency(agency_id: int) -> dict[str, Any]:
    row = await Agency.select().where(Agency.id == agency_id).first()
    if row is None:
        raise NotFound("There is no such agency.")
    return row


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _counts(moves: list[dict[str, Any]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for move in moves:
        counts[f"{move['table']}.{move['column']}"] += len(move["ids"])
    return dict(counts)


_NOUNS = {"designation": ("designation", "designations"), "ct_case": ("case", "cases"),
          "case_officer": ("officer named in a complaint", "officers named in complaints"),
          "allegation": ("allegation", "allegations"),
          "agreement_listing": ("listing", "listings"),
          "recommendation": ("recommendation", "recommendations"),
          "recommendation_target": ("recommendation target", "recommendation targets"),
          "ice_response": ("ICE response", "ICE responses")}


def _noun(table: str, n: int) -> str:
    one, many = _NOUNS.get(table, ("record", "records"))
    return one if n == 1 else many


async def merges_of(agency_id: int) -> dict[str, Any]:
    """For an agency page: the aliases merged into it (with their merge) and, for an alias,
    the agency it was merged into."""
    agency = await Agency.select(Agency.merged_into).where(Agency.id == agency_id).first()
    into = None
    if agency and agency["merged_into"] is not None:
        into = await Agency.select(Agency.id, Agency.name, Agency.state).where(
            Agency.id == agency["merged_into"]).first()
    merges = await AgencyMerge.select(
        AgencyMerge.id, AgencyMerge.kept, AgencyMerge.merged, AgencyMerge.merged.name,
        AgencyMerge.kept.name, AgencyMerge.reason, AgencyMerge.merged_at, AgencyMerge.merged_by,
        AgencyMerge.undone_at, AgencyMerge.undone_by).where(
        (AgencyMerge.kept == agency_id) | (AgencyMerge.merged == agency_id)).order_by(
        AgencyMerge.id, ascending=False)
    return {"into": into, "merges": merges}


async def merge_candidates(agency: dict[str, Any]) -> list[dict[str, Any]]:
    """Agencies of the same state to offer in the merge form (not aliases, not itself), those
    that look like the same office first."""
    rows = await Agency.select(Agency.id, Agency.name, Agency.county).where(
        (Agency.state == agency["state"]) & (Agency.id != agency["id"])
        & Agency.merged_into.is_null()).order_by(Agency.name)
    likely = [r for r in rows if rules.probably_same_agency(agency["name"], r["name"])]
    return likely + [r for r in rows if r not in likely]
