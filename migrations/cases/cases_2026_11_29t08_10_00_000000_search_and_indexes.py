"""Full-text search and list indexes for cases (raw SQL, one branch per engine).

Piccolo has no full-text search, so this migration adds it beside the tables:
- SQLite: FTS5 external-content tables over ``ct_case`` (narrative, harm) and ``case_note``
  (body), kept in step by triggers, tokenised with ``unicode61 remove_diacritics 2`` so that
  "Jose" finds "José".
- PostgreSQL: the ``unaccent`` extension, a ``casetracker_search`` text search configuration
  (``simple`` + ``unaccent``: narratives are in English and Spanish, so no stemming, like
  SQLite), and GIN expression indexes. Expression indexes rather than a stored tsvector column
  keep the columns identical to the table classes.
Both engines: composite indexes for the case list's filters, sorts and keyset pagination.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-29T08:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Full-text search over narratives and notes; case list indexes"

COMMON_INDEXES = [
    'CREATE INDEX IF NOT EXISTS ct_case_received_id ON ct_case (received_at, id)',
    'CREATE INDEX IF NOT EXISTS ct_case_status_received ON ct_case (status, received_at, id)',
    'CREATE INDEX IF NOT EXISTS ct_case_lead_received '
    'ON ct_case (lead_investigator, received_at, id)',
    'CREATE INDEX IF NOT EXISTS ct_case_agency_received ON ct_case (agency, received_at, id)',
    'CREATE INDEX IF NOT EXISTS ct_case_resolution_due_id ON ct_case (resolution_due_at, id)',
    'CREATE INDEX IF NOT EXISTS ct_case_triage_due ON ct_case (triage_due_at)',
    'CREATE INDEX IF NOT EXISTS ct_case_results_due ON ct_case (results_due_at)',
    'CREATE INDEX IF NOT EXISTS allegation_type_case ON allegation (allegation_type, "case")',
    'CREATE INDEX IF NOT EXISTS allegation_characteristic_case '
    'ON allegation (protected_characteristic, "case")',
    'CREATE INDEX IF NOT EXISTS allegation_officer_case ON allegation (officer, "case")',
    'CREATE INDEX IF NOT EXISTS case_officer_officer_case ON case_officer (officer, "case")',
    'CREATE INDEX IF NOT EXISTS agreement_model_agency ON agreement (model, agency)',
]

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_fts USING fts5(narrative, harm, "
    "content='ct_case', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS case_fts_ai AFTER INSERT ON ct_case BEGIN "
    "INSERT INTO case_fts(rowid, narrative, harm) VALUES (new.id, new.narrative, new.harm); END",
    "CREATE TRIGGER IF NOT EXISTS case_fts_ad AFTER DELETE ON ct_case BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, narrative, harm) "
    "VALUES ('delete', old.id, old.narrative, old.harm); END",
    "CREATE TRIGGER IF NOT EXISTS case_fts_au AFTER UPDATE OF narrative, harm ON ct_case BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, narrative, harm) "
    "VALUES ('delete', old.id, old.narrative, old.harm); "
    "INSERT INTO case_fts(rowid, narrative, harm) VALUES (new.id, new.narrative, new.harm); END",
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_note_fts USING fts5(body, "
    "content='case_note', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS case_note_fts_ai AFTER INSERT ON case_note BEGIN "
    "INSERT INTO case_note_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS case_note_fts_ad AFTER DELETE ON case_note BEGIN "
    "INSERT INTO case_note_fts(case_note_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS case_note_fts_au AFTER UPDATE OF body ON case_note BEGIN "
    "INSERT INTO case_note_fts(case_note_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO case_note_fts(rowid, body) VALUES (new.id, new.body); END",
    # Index rows that existed before this migration.
    "INSERT INTO case_fts(case_fts) VALUES ('rebuild')",
    "INSERT INTO case_note_fts(case_note_fts) VALUES ('rebuild')",
]

POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'casetracker_search') THEN
    CREATE TEXT SEARCH CONFIGURATION casetracker_search (COPY = simple);
    ALTER TEXT SEARCH CONFIGURATION casetracker_search
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
  END IF;
END
$$""",
    "CREATE INDEX IF NOT EXISTS ct_case_search_gin ON ct_case USING GIN "
    "(to_tsvector('casetracker_search'::regconfig, "
    "coalesce(narrative, '') || ' ' || coalesce(harm, '')))",
    "CREATE INDEX IF NOT EXISTS case_note_search_gin ON case_note USING GIN "
    "(to_tsvector('casetracker_search'::regconfig, coalesce(body, '')))",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run_raw():
        engine = engine_finder()
        statements = list(COMMON_INDEXES)
        statements += SQLITE_SEARCH if isinstance(engine, SQLiteEngine) else POSTGRES_SEARCH
        for sql in statements:
            await engine.run_ddl(sql)

    manager.add_raw(run_raw)
    return manager
