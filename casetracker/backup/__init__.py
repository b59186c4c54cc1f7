"""Backups that restore: ``casetracker backup DEST``, ``backup verify SRC``, ``restore SRC``.

A backup is a point-in-time snapshot of the database (SQLite's online backup API, or
``pg_dump -Fc`` inside one exported snapshot on PostgreSQL), the evidence and issued documents
the snapshot refers to (content-addressed in ``DEST/objects/``, shared by every backup made to
the same place, so a later backup copies only new files), the latest signed audit checkpoint at
or before the snapshot, and a manifest (row counts, migrations, the audit log's head, SHA-256
of every file). See docs/operations.md ("Backups").
"""
