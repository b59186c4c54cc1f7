"""One search document per case: narrative, harm, notes, officers, agency and witnesses.

Search used to match narratives and each note separately, and knew nothing of the officers,
the agency or the witnesses. Now each case has one document (rowid / key = the case id), so:
- search finds officers named on a case (typed names and badges, and the registry officers
  linked to the case or to its allegations), the agency's name, and witnesses' names (those
  only for roles allowed to see them: they are a separate part of the document);
- results can be taken newest first straight from the index (``ORDER BY rowid DESC LIMIT``)
  and ranked on that bounded set, which keeps a common word cheap at a million cases;
- snippets come from one place (SQLite ``snippet()``, PostgreSQL ``ts_headline``).

SQLite: a contentful FTS5 table ``case_search_fts`` (it stores its text, which ``snippet()``
reads), kept by triggers that rebuild a case's row when the case, a note, an officer named on
it, an allegation's officer, a witness, or the registry officer / agency it names changes.
PostgreSQL: ``case_search_doc`` gains the notes / officers / agency / witnesses texts and a
separate ``witness_document``; one function rebuilds the rows of given cases and the same
triggers call it. The per-note index (``case_note_fts`` / ``case_note_search_doc``) and the
narrative-only ``case_fts`` are dropped. Also: an index on allegations by type *and*
characteristic, for the list filter that combines both.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-03T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One search document per case (notes, officers, agency, witnesses)"

COMMON = [
    "CREATE INDEX IF NOT EXISTS allegation_type_characteristic_case "
    'ON allegation (allegation_type, protected_characteristic, "case")',
    'CREATE INDEX IF NOT EXISTS witness_case_id ON witness ("case", id)',
]

# The document of the cases selected by {ids} (an SQL expression giving case ids).
SQLITE_FILL = """INSERT INTO case_search_fts
  (rowid, narrative, harm, notes, officers, agency, witnesses)
SELECT c.id, c.narrative, c.harm,
  COALESCE((SELECT group_concat(n.body, ' … ') FROM case_note n WHERE n."case" = c.id), ''),
  COALESCE((SELECT group_concat(t, ' · ') FROM (
      SELECT TRIM(co.name || ' ' || co.badge_number || ' ' || COALESCE(o.name, '') || ' '
                  || COALESCE(o.badge_number, '')) AS t
      FROM case_officer co LEFT JOIN officer o ON o.id = co.officer WHERE co."case" = c.id
      UNION SELECT TRIM(o.name || ' ' || o.badge_number) FROM allegation a
      JOIN officer o ON o.id = a.officer WHERE a."case" = c.id)), ''),
  COALESCE((SELECT ag.name FROM agency ag WHERE ag.id = c.agency), ''),
  COALESCE((SELECT group_concat(w.name, ' · ') FROM witness w WHERE w."case" = c.id), '')
FROM ct_case c WHERE c.id IN ({ids})"""


def _sqlite_refresh(ids: str) -> str:
    return (f"DELETE FROM case_search_fts WHERE rowid IN ({ids}); "
            + SQLITE_FILL.format(ids=ids) + ";")


SQLITE_TRIGGERS = {
    "case_search_case_ai": "AFTER INSERT ON ct_case", "case_search_case_au":
    "AFTER UPDATE OF narrative, harm, agency ON ct_case",
    "case_search_note_ai": "AFTER INSERT ON case_note",
    "case_search_note_au": "AFTER UPDATE OF body, \"case\" ON case_note",
    "case_search_note_ad": "AFTER DELETE ON case_note",
    "case_search_officer_ai": "AFTER INSERT ON case_officer",
    "case_search_officer_au": "AFTER UPDATE ON case_officer",
    "case_search_officer_ad": "AFTER DELETE ON case_officer",
    "case_search_allegation_ai": "AFTER INSERT ON allegation",
    "case_search_allegation_au": "AFTER UPDATE OF officer, \"case\" ON allegation",
    "case_search_allegation_ad": "AFTER DELETE ON allegation",
    "case_search_witness_ai": "AFTER INSERT ON witness",
    "case_search_witness_au": "AFTER UPDATE ON witness",
    "case_search_witness_ad": "AFTER DELETE ON witness",
    "case_search_registry_officer_au": "AFTER UPDATE OF name, badge_number ON officer",
    "case_search_agency_au": "AFTER UPDATE OF name ON agency",
}


def _sqlite_trigger_ids(name: str) -> str:
    if name.startswith("case_search_case"):
        return "new.id"
    if name == "case_search_registry_officer_au":
        return ('SELECT "case" FROM case_officer WHERE officer = new.id '
                'UNION SELECT "case" FROM allegation WHERE officer = new.id')
    if name == "case_search_agency_au":
        return "SELECT id FROM ct_case WHERE agency = new.id"
    if name.endswith("_ad"):
        return 'old."case"'
    if name.endswith("_au"):
        return 'old."case", new."case"'
    return 'new."case"'


SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search_fts USING fts5(narrative, harm, notes, "
    "officers, agency, witnesses, tokenize='unicode61 remove_diacritics 2')",
    *[f"CREATE TRIGGER IF NOT EXISTS {name} {event} BEGIN {_sqlite_refresh(_sqlite_trigger_ids(name))} END"
      for name, event in SQLITE_TRIGGERS.items()],
    "CREATE TRIGGER IF NOT EXISTS case_search_case_ad AFTER DELETE ON ct_case BEGIN "
    "DELETE FROM case_search_fts WHERE rowid = old.id; END",
    # the old per-table indexes
    "DROP TRIGGER IF EXISTS case_fts_ai", "DROP TRIGGER IF EXISTS case_fts_ad",
    "DROP TRIGGER IF EXISTS case_fts_au", "DROP TRIGGER IF EXISTS case_note_fts_ai",
    "DROP TRIGGER IF EXISTS case_note_fts_ad", "DROP TRIGGER IF EXISTS case_note_fts_au",
    "DROP TABLE IF EXISTS case_fts", "DROP TABLE IF EXISTS case_note_fts",
    # documents of the cases that exist already
    "DELETE FROM case_search_fts",
    SQLITE_FILL.format(ids="SELECT id FROM ct_case"),
    "INSERT INTO case_search_fts(case_search_fts) VALUES ('optimize')",
]

CONFIG = "'casetracker_search'::regconfig"

POSTGRES = [
    "DROP TRIGGER IF EXISTS case_note_search_doc_sync ON case_note",
    "DROP TABLE IF EXISTS case_note_search_doc",
    "DROP FUNCTION IF EXISTS casetracker_case_note_search_doc()",
    "DROP TRIGGER IF EXISTS case_search_doc_sync ON ct_case",
    "DROP FUNCTION IF EXISTS casetracker_case_search_doc()",
    "ALTER TABLE case_search_doc ADD COLUMN IF NOT EXISTS notes text NOT NULL DEFAULT ''",
    "ALTER TABLE case_search_doc ADD COLUMN IF NOT EXISTS officers text NOT NULL DEFAULT ''",
    "ALTER TABLE case_search_doc ADD COLUMN IF NOT EXISTS agency text NOT NULL DEFAULT ''",
    "ALTER TABLE case_search_doc ADD COLUMN IF NOT EXISTS witnesses text NOT NULL DEFAULT ''",
    "ALTER TABLE case_search_doc ADD COLUMN IF NOT EXISTS witness_document tsvector "
    "NOT NULL DEFAULT ''::tsvector",
    "CREATE INDEX IF NOT EXISTS case_search_doc_witness_gin ON case_search_doc "
    "USING GIN (witness_document)",
    f"""CREATE OR REPLACE FUNCTION casetracker_refresh_search_docs(ids integer[])
RETURNS void AS $$
  INSERT INTO case_search_doc (case_id, document, notes, officers, agency, witnesses,
                               witness_document)
  SELECT c.id,
         to_tsvector({CONFIG}, concat_ws(' ', c.narrative, c.harm, x.notes, x.officers,
                                         x.agency)),
         x.notes, x.officers, x.agency, x.witnesses, to_tsvector({CONFIG}, x.witnesses)
  FROM ct_case c, LATERAL (SELECT
    COALESCE((SELECT string_agg(n.body, ' … ' ORDER BY n.id) FROM case_note n
              WHERE n."case" = c.id), '') AS notes,
    COALESCE((SELECT string_agg(t, ' · ') FROM (
        SELECT TRIM(co.name || ' ' || co.badge_number || ' ' || COALESCE(o.name, '') || ' '
                    || COALESCE(o.badge_number, '')) AS t
        FROM case_officer co LEFT JOIN officer o ON o.id = co.officer WHERE co."case" = c.id
        UNION SELECT TRIM(o.name || ' ' || o.badge_number) FROM allegation a
        JOIN officer o ON o.id = a.officer WHERE a."case" = c.id) AS u), '') AS officers,
    COALESCE((SELECT ag.name FROM agency ag WHERE ag.id = c.agency), '') AS agency,
    COALESCE((SELECT string_agg(w.name, ' · ' ORDER BY w.id) FROM witness w
              WHERE w."case" = c.id), '') AS witnesses) AS x
  WHERE c.id = ANY(ids)
  ON CONFLICT (case_id) DO UPDATE SET document = EXCLUDED.document, notes = EXCLUDED.notes,
    officers = EXCLUDED.officers, agency = EXCLUDED.agency, witnesses = EXCLUDED.witnesses,
    witness_document = EXCLUDED.witness_document
$$ LANGUAGE sql""",
    """CREATE OR REPLACE FUNCTION casetracker_search_doc_sync() RETURNS trigger AS $$
BEGIN
  IF TG_TABLE_NAME = 'ct_case' THEN
    PERFORM casetracker_refresh_search_docs(ARRAY[NEW.id]);
  ELSIF TG_TABLE_NAME = 'officer' THEN
    PERFORM casetracker_refresh_search_docs(ARRAY(
      SELECT "case" FROM case_officer WHERE officer = NEW.id
      UNION SELECT "case" FROM allegation WHERE officer = NEW.id));
  ELSIF TG_TABLE_NAME = 'agency' THEN
    PERFORM casetracker_refresh_search_docs(ARRAY(SELECT id FROM ct_case WHERE agency = NEW.id));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM casetracker_refresh_search_docs(ARRAY[OLD."case"]);
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM casetracker_refresh_search_docs(ARRAY[OLD."case", NEW."case"]);
  ELSE
    PERFORM casetracker_refresh_search_docs(ARRAY[NEW."case"]);
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    "CREATE TRIGGER case_search_doc_sync AFTER INSERT OR UPDATE OF narrative, harm, agency "
    "ON ct_case FOR EACH ROW EXECUTE FUNCTION casetracker_search_doc_sync()",
    *[sql for table in ("case_note", "case_officer", "allegation", "witness") for sql in (
        f"DROP TRIGGER IF EXISTS case_search_doc_sync ON {table}",
        f"CREATE TRIGGER case_search_doc_sync AFTER INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION casetracker_search_doc_sync()")],
    "DROP TRIGGER IF EXISTS case_search_doc_sync ON officer",
    "CREATE TRIGGER case_search_doc_sync AFTER UPDATE OF name, badge_number ON officer "
    "FOR EACH ROW EXECUTE FUNCTION casetracker_search_doc_sync()",
    "DROP TRIGGER IF EXISTS case_search_doc_sync ON agency",
    "CREATE TRIGGER case_search_doc_sync AFTER UPDATE OF name ON agency "
    "FOR EACH ROW EXECUTE FUNCTION casetracker_search_doc_sync()",
    # documents of the cases that exist already
    "SELECT casetracker_refresh_search_docs(ARRAY(SELECT id FROM ct_case))",
    "ANALYZE case_search_doc",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run_raw():
        engine = engine_finder()
        statements = list(COMMON)
        statements += SQLITE if isinstance(engine, SQLiteEngine) else POSTGRES
        for sql in statements:
            await engine.run_ddl(sql)

    manager.add_raw(run_raw)
    return manager
