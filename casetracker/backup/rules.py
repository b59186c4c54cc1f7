"""Pure rules of a backup: its layout, its manifest, and what makes one unusable. No I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FORMAT = "casetracker-backup/1"
MANIFEST = "manifest.json"
OBJECTS_DIR = "objects"
SQLITE_FILE = "database.sqlite3"
PG_DUMP_FILE = "database.pgdump"
CHECKPOINT_FILE = "audit-checkpoint.json"
BACKUP_NAME = re.compile(r"^backup-\d{8}T\d{6}Z$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

AREAS = ("evidence", "documents")


def backup_name(at: datetime) -> str:
    """The folder of one backup inside DEST: ``backup-20261203T153000Z``."""
    return f"backup-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def object_path(sha256: str) -> str:
    """Where bytes with this SHA-256 live inside DEST (shared by every backup there)."""
    if not SHA256.match(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return f"{OBJECTS_DIR}/{sha256[:2]}/{sha256}"


@dataclass(frozen=True)
class StoredObject:
    """One object the snapshot refers to: its area and key in the store, and its content."""
    area: str
    key: str
    sha256: str
    size: int | None


def unique_objects(objects: Iterable[StoredObject]) -> list[StoredObject]:
    """Each (area, key) once, in a stable order."""
    seen: dict[tuple[str, str], StoredObject] = {}
    for obj in objects:
        seen.setdefault((obj.area, obj.key), obj)
    return [seen[k] for k in sorted(seen)]


@dataclass
class Problems:
    """What is wrong with a backup (or a restore), as sentences; empty when all is well."""
    items: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        self.items.append(problem)

    def __bool__(self) -> bool:
        return bool(self.items)


def compare_counts(expected: Mapping[str, int], actual: Mapping[str, int]) -> list[str]:
    """Each table whose row count differs from the manifest's, as a sentence."""
    problems = []
    for table in sorted(expected):
        if table not in actual:
            problems.append(f"table {table} is missing (the manifest counts "
                            f"{expected[table]} rows)")
        elif actual[table] != expected[table]:
            problems.append(f"table {table} has {actual[table]} rows, the manifest counts "
                            f"{expected[table]}")
    for table in sorted(set(actual) - set(expected)):
        problems.append(f"table {table} is not in the manifest")
    return problems


def check_manifest_shape(manifest: Any) -> list[str]:
    """The manifest is one this version can read (not its contents' truth)."""
    if not isinstance(manifest, dict):
        return ["the manifest is not a JSON object"]
    if manifest.get("format") != FORMAT:
        return [f"unknown backup format {manifest.get('format')!r} (this version reads "
                f"{FORMAT})"]
    problems = []
    for key, kind in (("created_at", str), ("engine", str), ("counts", dict),
                      ("migrations", list), ("files", list), ("objects", list),
                      ("audit", dict)):
        if not isinstance(manifest.get(key), kind):
            problems.append(f"the manifest has no valid {key!r}")
    if manifest.get("engine") not in ("sqlite", "postgresql"):
        problems.append(f"unknown database engine {manifest.get('engine')!r}")
    for entry in manifest.get("files") or []:
        if not (isinstance(entry, dict) and isinstance(entry.get("path"), str)
                and "/" not in entry["path"] and not entry["path"].startswith(".")
                and SHA256.match(str(entry.get("sha256", "")))):
            problems.append(f"the manifest lists an invalid file entry {entry!r}")
    for entry in manifest.get("objects") or []:
        if not (isinstance(entry, dict) and entry.get("area") in AREAS
                and isinstance(entry.get("key"), str)
                and SHA256.match(str(entry.get("sha256", "")))):
            problems.append(f"the manifest lists an invalid object entry {entry!r}")
    return problems


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover
