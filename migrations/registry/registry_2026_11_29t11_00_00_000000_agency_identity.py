"""Agency identity keeps the apostrophe style: ICE's sheet lists "Sheriff’s" and "Sheriff's" as
distinct agencies, and the registry now does too. This recomputes ``agency.match_key`` (state +
name folded for case and spacing only) for every existing agency. Keys only become more
distinct, so the unique index holds; a later import then finds each agency by its own spelling."""

import re
import unicodedata

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-11-29T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Agency identity keeps apostrophe style"

_SPACES = re.compile(r"\s+")


def _key(state: str, name: str) -> str:
    # The rule as of this migration (casetracker.registry.rules.agency_match_key), frozen here.
    text = unicodedata.normalize("NFKC", name or "").replace("\u00a0", " ")
    return f"{(state or '').upper()}|{_SPACES.sub(' ', text).strip().casefold()}"


class Agency(Table, tablename="agency"):
    name = Varchar(length=200)
    state = Varchar(length=2)
    match_key = Varchar(length=260)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run_raw():
        Agency._meta.db = engine_finder()
        rows = await Agency.select(Agency.id, Agency.name, Agency.state, Agency.match_key)
        for row in rows:
            key = _key(row["state"], row["name"])
            if key != row["match_key"]:
                await Agency.update({Agency.match_key: key}).where(Agency.id == row["id"])

    manager.add_raw(run_raw)
    return manager
