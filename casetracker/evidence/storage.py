"""The evidence store: the ``evidence`` area of the configured storage backend.

The interface and both backends (local disk, S3) live in :mod:`casetracker.storage`; this
module keeps the names the evidence package has always used. Callers only ever see storage
keys (``sha256/ab/cd/<sha256>``), never paths built from user input. Bytes stream into
``staging/`` under generated names, then are promoted to their content-addressed key. The
application never overwrites or deletes a stored file that a record points to; ``remove``
exists only for files no record points to (a failed request's own new files, and the sweep).
"""

from __future__ import annotations

from typing import Any

from casetracker.storage import CONTENT_KEY as KEY_PATTERN
from casetracker.storage import StagingWriter, Store, storage_ready
from casetracker.storage import content_key as key_for
from casetracker.storage import get_store as _get_store

EvidenceStore = Store


def get_store(settings: Any = None) -> Store:
    return _get_store(settings, "evidence")


__all__ = ["KEY_PATTERN", "EvidenceStore", "StagingWriter", "get_store", "key_for",
           "storage_ready"]
