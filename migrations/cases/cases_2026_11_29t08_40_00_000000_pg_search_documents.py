"""PostgreSQL: stored search documents, so ranking does not re-parse every narrative.

The first search migration indexed ``to_tsvector(...)`` expressions; matching was fast, but
ranking ("best match first") had to rebuild the tsvector of every matching row: a common word
over 100,000 cases took seconds. A stored ``tsvector`` column on ``ct_case`` would make the
table differ from its Piccolo class, so the documents live in two side tables kept in step by
triggers (deletes cascade), each with a GIN index:

- ``case_search_doc(case_id, document)``: narrative + harm of each case;
- ``case_note_search_doc(note_id, case_id, document)``: each case note.

SQLite is unchanged (its FTS5 tables already store the index and rank with bm25).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-29T08:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL search documents for ranking"

CONFIG = "'casetracker_search'::regconfig"
CASE_DOCUMENT = (f"to_tsvector({CONFIG}, coalesce(NEW.narrative, '') || ' ' || "
                 "coalesce(NEW.harm, ''))")
NOTE_DOCUMENT = f"to_tsvector({CONFIG}, coalesce(NEW.body, ''))"

POSTGRES = [
    "CREATE TABLE IF NOT EXISTS case_search_doc ("
    "case_id integer PRIMARY KEY REFERENCES ct_case (id) ON DELETE CASCADE, "
    "document tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS case_search_doc_gin ON case_search_doc USING GIN (document)",
    "CREATE TABLE IF NOT EXISTS case_note_search_doc ("
    "note_id integer PRIMARY KEY REFERENCES case_note (id) ON DELETE CASCADE, "
    "case_id integer NOT NULL, document tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS case_note_search_doc_gin ON case_note_search_doc "
    "USING GIN (document)",
    "CREATE INDEX IF NOT EXISTS case_note_search_doc_case ON case_note_search_doc (case_id)",
    f"""CREATE OR REPLACE FUNCTION casetracker_case_search_doc() RETURNS trigger AS $$
BEGIN
  INSERT INTO case_search_doc (case_id, document) VALUES (NEW.id, {CASE_DOCUMENT})
  ON CONFLICT (case_id) DO UPDATE SET document = EXCLUDED.document;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION casetracker_case_note_search_doc() RETURNS trigger AS $$
BEGIN
  INSERT INTO case_note_search_doc (note_id, case_id, document)
  VALUES (NEW.id, NEW."case", {NOTE_DOCUMENT})
  ON CONFLICT (note_id) DO UPDATE SET case_id = EXCLUDED.case_id,
                                      document = EXCLUDED.document;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS case_search_doc_sync ON ct_case",
    "CREATE TRIGGER case_search_doc_sync AFTER INSERT OR UPDATE OF narrative, harm "
    "ON ct_case FOR EACH ROW EXECUTE FUNCTION casetracker_case_search_doc()",
    "DROP TRIGGER IF EXISTS case_note_search_doc_sync ON case_note",
    'CREATE TRIGGER case_note_search_doc_sync AFTER INSERT OR UPDATE OF body, "case" '
    "ON case_note FOR EACH ROW EXECUTE FUNCTION casetracker_case_note_search_doc()",
    # documents for rows that existed before this migration
    "INSERT INTO case_search_doc (case_id, document) SELECT id, "
    f"to_tsvector({CONFIG}, coalesce(narrative, '') || ' ' || coalesce(harm, '')) "
    "FROM ct_case ON CONFLICT (case_id) DO NOTHING",
    'INSERT INTO case_note_search_doc (note_id, case_id, document) SELECT id, "case", '
    f"to_tsvector({CONFIG}, coalesce(body, '')) FROM case_note ON CONFLICT (note_id) DO NOTHING",
    # the expression indexes of the first search migration are no longer used
    "DROP INDEX IF EXISTS ct_case_search_gin",
    "DROP INDEX IF EXISTS case_note_search_gin",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run_raw():
        engine = engine_finder()
        if isinstance(engine, SQLiteEngine):
            return
        for sql in POSTGRES:
            await engine.run_ddl(sql)

    manager.add_raw(run_raw)
    return manager
