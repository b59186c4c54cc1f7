"""Making, checking and restoring backups. Takes settings and plain paths, never a request.

``create_backup`` never stops the app: the database snapshot is consistent by itself, and the
evidence and documents it refers to are content-addressed and never changed or removed while a
record points to them, so copying them after the snapshot gives exactly the snapshot's bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from casetracker import __version__
from casetracker.audit.checkpoints import (
    Checkpoint,
    FileCheckpointStore,
    InvalidCheckpoint,
    configured_sinks,
    key_id,
    public_key_bytes,
    read_checkpoint,
)
from casetracker.audit.rules import chain_key
from casetracker.backup import database as dbs
from casetracker.backup.rules import (
    BACKUP_NAME,
    CHECKPOINT_FILE,
    FORMAT,
    MANIFEST,
    OBJECTS_DIR,
    PG_DUMP_FILE,
    SQLITE_FILE,
    Problems,
    StoredObject,
    backup_name,
    check_manifest_shape,
    human_size,
    object_path,
)
from casetracker.settings import Settings
from casetracker.storage import CONTENT_KEY, READ_CHUNK, Store, get_store


class BackupRefused(Exception):
    """The backup or restore cannot go ahead (the message says why and what to do)."""


class Progress(Protocol):
    def say(self, message: str) -> None: ...

    def bar(self, label: str, total: int) -> contextlib.AbstractContextManager[Any]:
        """A context manager giving an object with ``update(n)``."""
        ...


class _Bar:
    def update(self, n: int) -> None:
        pass


class QuietProgress:
    def say(self, message: str) -> None:
        pass

    @contextlib.contextmanager
    def bar(self, label: str, total: int) -> Iterator[_Bar]:
        yield _Bar()


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    copied: int = 0
    already_there: int = 0
    copied_bytes: int = 0
    problems: list[str] = field(default_factory=list)


def _sha256_file(path: Path, progress: Any = None) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress.update(len(chunk))
    return hasher.hexdigest(), size


def _engine_of(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


async def _read_sink_checkpoints(settings: Settings) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for sink in configured_sinks(settings):
        read_all = getattr(sink, "read_all", None)
        if read_all is not None:
            found.extend(await read_all())
    return found


def _latest_checkpoint_upto(found: list[tuple[str, bytes]], secret_key: str, seq: int
                            ) -> tuple[Checkpoint, bytes] | None:
    public = public_key_bytes(secret_key)
    best: tuple[Checkpoint, bytes] | None = None
    for location, data in found:
        try:
            checkpoint = read_checkpoint(location, data, public)
        except InvalidCheckpoint:
            continue
        if checkpoint.anchor.seq <= seq and (best is None or (
                checkpoint.anchor.seq, checkpoint.at) > (best[0].anchor.seq, best[0].at)):
            best = (checkpoint, data)
    return best


def _write_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


# --- making a backup -------------------------------------------------------------------------

async def _copy_object(store: Store, obj: StoredObject, dest: Path, bar: Any) -> tuple[bool, int]:
    """Copy one object into DEST/objects unless its content is already there; checks the bytes
    against the recorded SHA-256 as they stream. (copied, bytes copied)."""
    final = dest / object_path(obj.sha256)
    if final.exists():
        bar.update(obj.size or 0)
        return False, 0
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.parent / f".{obj.sha256}.{secrets.token_hex(4)}.part"
    hasher = hashlib.sha256()
    size = 0
    try:
        with open(temporary, "wb") as handle:
            async for chunk in store.open_reader(obj.key):
                hasher.update(chunk)
                handle.write(chunk)
                size += len(chunk)
                bar.update(len(chunk))
            handle.flush()
            os.fsync(handle.fileno())
        if hasher.hexdigest() != obj.sha256:
            raise BackupRefused(f"{obj.area} object {obj.key} in the store does not match its "
                                f"record (SHA-256 {hasher.hexdigest()}, recorded "
                                f"{obj.sha256}): run `casetracker evidence verify`")
        os.chmod(temporary, 0o444)
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    return True, size


async def create_backup(dest: Path, settings: Settings, *, copy_objects: bool | None = None,
                        progress: Progress | None = None) -> BackupResult:
    """A point-in-time backup into a new folder ``DEST/backup-<UTC time>``.

    ``copy_objects``: copy evidence and documents into DEST/objects (default: yes on the local
    backend, no with object storage, whose versioning and replication keep them)."""
    progress = progress or QuietProgress()
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    name = backup_name(started)
    suffix = 1
    while (dest / name).exists():
        suffix += 1
        name = f"{backup_name(started)}-{suffix}"
    work = dest / f".{name}.partial"
    work.mkdir()
    try:
        result = await _fill_backup(dest, work, name, started, settings, copy_objects, progress)
        os.replace(work, dest / name)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    result.path = dest / name
    return result


async def _fill_backup(dest: Path, work: Path, name: str, started: datetime,
                       settings: Settings, copy_objects: bool | None,
                       progress: Progress) -> BackupResult:
    engine = _engine_of(settings)
    progress.say(f"Snapshot of the {engine} database...")
    if engine == "sqlite":
        import asyncio

        db_file = work / SQLITE_FILE
        await asyncio.to_thread(dbs.sqlite_copy, settings.sqlite_path, db_file)
        reader = dbs.SQLiteReader(db_file)
        try:
            facts = await dbs.read_facts(reader.fetch, "sqlite")
        finally:
            reader.close()
    else:
        db_file = work / PG_DUMP_FILE
        facts = await dbs.pg_snapshot(settings.database_url, db_file)
    progress.say(f"  {human_size(db_file.stat().st_size)}; {facts.audit['count']} audit "
                 f"events, {len(facts.objects)} stored object(s) referenced")

    files: list[dict[str, Any]] = []
    checkpoint_info: dict[str, Any] | None = None
    found = await _read_sink_checkpoints(settings)
    latest = _latest_checkpoint_upto(found, settings.secret_key, int(facts.audit["seq"]))
    if latest is not None:
        checkpoint, data = latest
        _write_file(work / CHECKPOINT_FILE, data, 0o444)
        checkpoint_info = {"file": CHECKPOINT_FILE, "seq": checkpoint.anchor.seq,
                           "at": checkpoint.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                           "filename": Path(checkpoint.location).name}
        progress.say(f"Audit checkpoint at event {checkpoint.anchor.seq} included.")
    else:
        progress.say("WARNING: no signed audit checkpoint at or before the snapshot; run "
                     "`casetracker audit checkpoint` on a schedule.")
    backend = (settings.storage_backend or "local").lower()
    copy = (backend == "local") if copy_objects is None else copy_objects
    result = BackupResult(path=dest / name, manifest={})
    objects: list[dict[str, Any]] = []
    stores = {area: get_store(settings, area) for area in ("evidence", "documents")}
    total = sum(obj.size or 0 for obj in facts.objects)
    if copy:
        with progress.bar(f"Copying evidence and documents ({human_size(total)})",
                          max(total, 1)) as bar:
            for obj in facts.objects:
                copied, size = await _copy_object(stores[obj.area], obj, dest, bar)
                result.copied += int(copied)
                result.already_there += int(not copied)
                result.copied_bytes += size
                objects.append({"area": obj.area, "key": obj.key, "sha256": obj.sha256,
                                "size": obj.size, "copied": True})
        progress.say(f"  {result.copied} new file(s) copied ({human_size(result.copied_bytes)}),"
                     f" {result.already_there} already in {dest / OBJECTS_DIR}")
    else:
        progress.say(f"Listing {len(facts.objects)} object(s) kept in the object store "
                     "(not copied)...")
        for obj in facts.objects:
            if not await stores[obj.area].exists(obj.key):
                result.problems.append(f"{obj.area} object {obj.key} is missing from the store")
            objects.append({"area": obj.area, "key": obj.key, "sha256": obj.sha256,
                            "size": obj.size, "copied": False})

    for path in sorted(work.iterdir()):
        sha, size = _sha256_file(path)
        files.append({"path": path.name, "sha256": sha, "size": size})
    manifest = {
        "format": FORMAT,
        "name": name,
        "created_at": started.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "app_version": __version__,
        "engine": engine,
        "database_file": db_file.name,
        "storage_backend": backend,
        "migrations": facts.migrations,
        "counts": facts.counts,
        "audit": facts.audit,
        "checkpoint": checkpoint_info,
        "secret_key_id": key_id(public_key_bytes(settings.secret_key)),
        "files": files,
        "objects": objects,
    }
    _write_file(work / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n")
                .encode("utf-8"), 0o444)
    result.manifest = manifest
    return result


# --- reading and checking a backup -----------------------------------------------------------

def locate(src: Path) -> Path:
    """A backup folder: SRC itself, or the newest ``backup-*`` inside SRC."""
    src = Path(src).resolve()
    if (src / MANIFEST).is_file():
        return src
    candidates = sorted(p for p in src.glob("backup-*") if p.is_dir() and BACKUP_NAME.match(
        p.name.split("-", 2)[0] + "-" + p.name.split("-", 2)[1]))
    if not candidates:
        raise BackupRefused(f"{src} is not a backup (no {MANIFEST}) and holds none")
    return candidates[-1]


def load_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"the manifest of {folder} cannot be read: {exc}") from None
    problems = check_manifest_shape(manifest)
    if problems:
        raise BackupRefused("; ".join(problems))
    return manifest


def _checkpoint_of(folder: Path, manifest: dict[str, Any], secret: str, problems: Problems
                   ) -> Checkpoint | None:
    if not manifest.get("checkpoint"):
        return None
    data = (folder / CHECKPOINT_FILE).read_bytes()
    try:
        return read_checkpoint(str(folder / CHECKPOINT_FILE), data, public_key_bytes(secret))
    except InvalidCheckpoint as exc:
        problems.add(f"the audit checkpoint does not verify: {exc.reason}")
        return None


def check_files(folder: Path, manifest: dict[str, Any], progress: Progress,
                problems: Problems) -> None:
    """Every file of the backup and every copied object, re-hashed against the manifest."""
    listed = {entry["path"] for entry in manifest["files"]}
    for required in (manifest.get("database_file"), MANIFEST):
        if required != MANIFEST and required not in listed:
            problems.add(f"the manifest does not list the database file {required!r}")
    objects_root = folder.parent
    copied = [o for o in manifest["objects"] if o.get("copied")]
    total = sum(int(e.get("size") or 0) for e in manifest["files"]) + sum(
        int(o.get("size") or 0) for o in copied)
    with progress.bar("Checking files", max(total, 1)) as bar:
        for entry in manifest["files"]:
            path = folder / entry["path"]
            if not path.is_file():
                problems.add(f"{entry['path']} is missing from the backup")
                continue
            sha, size = _sha256_file(path, bar)
            if sha != entry["sha256"] or size != entry.get("size", size):
                problems.add(f"{entry['path']} does not match the manifest (SHA-256 {sha}, "
                             f"expected {entry['sha256']}): the backup was altered or damaged")
        seen: set[str] = set()
        for obj in copied:
            if obj["sha256"] in seen:
                continue
            seen.add(obj["sha256"])
            path = objects_root / object_path(obj["sha256"])
            if not path.is_file():
                problems.add(f"{obj['area']} object {obj['key']} is missing from "
                             f"{objects_root / OBJECTS_DIR}")
                continue
            sha, _ = _sha256_file(path, bar)
            if sha != obj["sha256"]:
                problems.add(f"{obj['area']} object {obj['key']} does not match its SHA-256 "
                             f"(found {sha}): the backup was altered or damaged")


async def check_database_facts(fetch: dbs.Fetch, engine: str, manifest: dict[str, Any],
                               secret: str, checkpoint: Checkpoint | None,
                               problems: Problems) -> None:
    facts = await dbs.read_facts(fetch, engine)
    for problem in dbs.facts_problems(manifest, facts):
        problems.add(problem)
    anchors = [checkpoint.anchor] if checkpoint else []
    legacy = checkpoint.anchor.legacy_until if checkpoint else int(
        facts.audit.get("legacy_until", 0))
    checked, broken = await dbs.check_audit_chain(fetch, chain_key(secret), legacy, anchors)
    if broken is not None:
        problems.add(f"the audit log is BROKEN at event {broken.seq}: {broken.reason}")
    elif checked != manifest["audit"]["count"]:
        problems.add(f"the audit log holds {checked} events, the manifest counts "
                     f"{manifest['audit']['count']}")


@contextlib.asynccontextmanager
async def _scratch_postgres(settings: Settings) -> Any:
    """A temporary, empty database on the configured server (dropped afterwards)."""
    import asyncpg

    name = f"casetracker_verify_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(settings.database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, query = settings.database_url.partition("?")
    dsn = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    try:
        yield dsn
    finally:
        admin = await asyncpg.connect(settings.database_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def verify_backup(src: Path, settings: Settings, progress: Progress | None = None
                        ) -> tuple[Path, dict[str, Any], list[str]]:
    """Check a backup without restoring it; (its folder, its manifest, problems found)."""
    import asyncio

    progress = progress or QuietProgress()
    folder = locate(src)
    manifest = load_manifest(folder)
    problems = Problems()
    progress.say(f"Checking {folder} (made {manifest['created_at']}, "
                 f"{manifest['engine']}, version {manifest.get('app_version')})")
    check_files(folder, manifest, progress, problems)
    secret = settings.secret_key
    if key_id(public_key_bytes(secret)) != manifest.get("secret_key_id"):
        problems.add("the backup was made under another secret key than this server's: "
                     "its audit chain cannot be checked (put the original server's key in "
                     "var/secret_key or CASETRACKER_SECRET_KEY)")
    checkpoint = _checkpoint_of(folder, manifest, secret, problems)
    if problems:
        return folder, manifest, problems.items
    progress.say("Checking the database snapshot (counts, migrations, audit chain)...")
    database = folder / manifest["database_file"]
    if manifest["engine"] == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / SQLITE_FILE
            shutil.copyfile(database, copy)  # never open the backup itself (SQLite may write)
            reader = dbs.SQLiteReader(copy)
            try:
                integrity = await asyncio.to_thread(reader.integrity)
                if integrity != "ok":
                    problems.add(f"the database file is damaged: {integrity}")
                else:
                    await check_database_facts(reader.fetch, "sqlite", manifest, secret,
                                               checkpoint, problems)
            finally:
                reader.close()
    elif settings.is_sqlite:
        progress.say("  (a PostgreSQL dump: its contents are checked only when a PostgreSQL "
                     "server is configured; its SHA-256 was checked)")
    else:
        import asyncpg

        async with _scratch_postgres(settings) as dsn:
            await dbs.pg_restore(dsn, database)
            connection = await asyncpg.connect(dsn)
            try:
                await check_database_facts(dbs.PostgresReader(connection).fetch,
                                           "postgresql", manifest, secret, checkpoint,
                                           problems)
            finally:
                await connection.close()
    not_copied = [o for o in manifest["objects"] if not o.get("copied")]
    if not_copied:
        if (settings.storage_backend or "local") == manifest.get("storage_backend"):
            stores = {area: get_store(settings, area) for area in ("evidence", "documents")}
            missing = [o for o in not_copied if not await stores[o["area"]].exists(o["key"])]
            for obj in missing:
                problems.add(f"{obj['area']} object {obj['key']} is not in the object store")
        else:
            progress.say(f"  {len(not_copied)} object(s) kept in the object store were not "
                         "checked (no object store configured here)")
    return folder, manifest, problems.items


# --- restoring -------------------------------------------------------------------------------

def _has_files(directory: Path, ignore: tuple[str, ...] = ()) -> bool:
    if not directory.is_dir():
        return False
    return any(p.is_file() and p.name not in ignore for p in directory.rglob("*"))


async def _target_problems(settings: Settings, manifest: dict[str, Any]) -> list[str]:
    """Why the configured installation is not empty (restore never overwrites)."""
    problems = []
    if manifest["engine"] != _engine_of(settings):
        problems.append(f"the backup is of a {manifest['engine']} database; this server is "
                        f"configured for {_engine_of(settings)} (CASETRACKER_DATABASE_URL)")
        return problems
    if settings.is_sqlite:
        if dbs.sqlite_has_tables(settings.sqlite_path):
            problems.append(f"the database {settings.sqlite_path} already holds tables")
    else:
        import asyncpg

        connection = await asyncpg.connect(settings.database_url)
        try:
            if await dbs.pg_has_tables(connection):
                problems.append("the configured PostgreSQL database already holds tables")
        finally:
            await connection.close()
    if (settings.storage_backend or "local") == "local":
        for area in ("evidence", "documents"):
            root = Path(getattr(get_store(settings, area), "root"))  # noqa: B009 - local only
            if _has_files(root):
                problems.append(f"the {area} folder {root} is not empty")
    if "file" in settings.audit_checkpoint_sinks and _has_files(
            Path(settings.audit_checkpoint_dir)):
        problems.append(f"the audit checkpoint folder {settings.audit_checkpoint_dir} is not "
                        "empty")
    return problems


async def _put_object(store: Store, key: str, sha256: str, path: Path) -> None:
    if store.backend == "local" and await store.exists(key):
        return
    if CONTENT_KEY.match(key):
        writer = await store.open_staging()
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(READ_CHUNK):
                    await writer.write(chunk)
            digest = await writer.close()
        except BaseException:
            await writer.abort()
            raise
        if digest != sha256:
            await store.remove_staging(writer.key)
            raise BackupRefused(f"{key}: the copy in the backup changed while restoring")
        await store.promote(writer.key, sha256)
    else:
        await store.put_bytes(key, path.read_bytes(), write_once=True)


@dataclass
class RestoreResult:
    folder: Path
    manifest: dict[str, Any]
    checkpoint_bytes: bytes | None


async def restore_backup(src: Path, settings: Settings, progress: Progress | None = None
                         ) -> RestoreResult:
    """Put a backup into the configured, empty installation. The caller then opens the
    database with the returned settings and runs :func:`check_restored`."""
    progress = progress or QuietProgress()
    folder = locate(src)
    manifest = load_manifest(folder)
    problems = Problems()
    progress.say(f"Restoring {folder} (made {manifest['created_at']})")
    check_files(folder, manifest, progress, problems)
    if problems:
        raise BackupRefused("the backup does not verify: " + "; ".join(problems.items))
    target = await _target_problems(settings, manifest)
    if target:
        raise BackupRefused("refusing to overwrite: " + "; ".join(target) +
                            ". Restore into an empty var folder and an empty database.")
    if key_id(public_key_bytes(settings.secret_key)) != manifest.get("secret_key_id"):
        raise BackupRefused("this server's secret key is not the one the backup was made "
                            "under (backups never hold it): put the original server's key in "
                            "var/secret_key, or set CASETRACKER_SECRET_KEY to it, then restore")
    database = folder / manifest["database_file"]
    progress.say("Restoring the database...")
    if settings.is_sqlite:
        target_path = settings.sqlite_path
        target_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = target_path.with_name(f".{target_path.name}.restoring")
        shutil.copyfile(database, temporary)
        for stale in (target_path, Path(f"{target_path}-wal"), Path(f"{target_path}-shm")):
            stale.unlink(missing_ok=True)  # only an empty database reaches this point
        os.replace(temporary, target_path)
    else:
        await dbs.pg_restore(settings.database_url, database)

    copied = [o for o in manifest["objects"] if o.get("copied")]
    stores = {area: get_store(settings, area) for area in ("evidence", "documents")}
    total = sum(int(o.get("size") or 0) for o in copied)
    with progress.bar(f"Restoring evidence and documents ({human_size(total)})",
                      max(total, 1)) as bar:
        for obj in copied:
            await _put_object(stores[obj["area"]], obj["key"], obj["sha256"],
                              folder.parent / object_path(obj["sha256"]))
            bar.update(int(obj.get("size") or 0))
    checkpoint_bytes = None
    if manifest.get("checkpoint"):
        checkpoint_bytes = (folder / CHECKPOINT_FILE).read_bytes()
        if "file" in settings.audit_checkpoint_sinks:
            await FileCheckpointStore(Path(settings.audit_checkpoint_dir)).write(
                manifest["checkpoint"].get("filename") or CHECKPOINT_FILE, checkpoint_bytes)
    return RestoreResult(folder, manifest, checkpoint_bytes)


async def check_restored(restored: RestoreResult, settings: Settings,
                         progress: Progress | None = None) -> list[str]:
    """After a restore, with the database open: the manifest's facts, ``audit verify``
    against the backed-up checkpoint, and every stored object re-hashed in the store."""
    from casetracker.audit.services import verify_chain

    progress = progress or QuietProgress()
    manifest = restored.manifest
    problems = Problems()
    progress.say("Checking the restored database against the manifest...")
    if settings.is_sqlite:
        reader = dbs.SQLiteReader(settings.sqlite_path)
        try:
            facts = await dbs.read_facts(reader.fetch, "sqlite")
        finally:
            reader.close()
    else:
        import asyncpg

        connection = await asyncpg.connect(settings.database_url)
        try:
            facts = await dbs.read_facts(dbs.PostgresReader(connection).fetch, "postgresql")
        finally:
            await connection.close()
    for problem in dbs.facts_problems(manifest, facts):
        problems.add(problem)
    progress.say("audit verify against the backed-up checkpoint...")
    extra = ([("backup checkpoint", restored.checkpoint_bytes)]
             if restored.checkpoint_bytes else None)
    result = await verify_chain(extra)
    if result.first_break is not None:
        problems.add(f"audit verify: BROKEN at event {result.first_break.seq}: "
                     f"{result.first_break.reason}")
    else:
        progress.say(f"  intact ({result.checked} events checked, held to "
                     f"{result.checkpoints_used} checkpoint(s))")
    progress.say("evidence verify...")
    from casetracker.auth.actor import Actor
    from casetracker.evidence.services import verify_items

    evidence_total = sum(int(o.get("size") or 0) for o in manifest["objects"]
                         if o["area"] == "evidence")
    with progress.bar("Re-hashing evidence", max(evidence_total, 1)) as bar:
        outcomes = await verify_items(Actor.system("restore"), case_id=None,
                                      progress=bar.update)
    for outcome in outcomes:
        if not outcome.ok:
            problems.add(f"evidence verify: item {outcome.item_id} (case {outcome.case_id}) "
                         f"is {outcome.problem}")
    progress.say(f"  {len(outcomes)} evidence item(s) checked")
    documents = get_store(settings, "documents")
    for obj in manifest["objects"]:
        if obj["area"] != "documents":
            continue
        found = await documents.hash(obj["key"])
        if found is None or found[0] != obj["sha256"]:
            problems.add(f"issued document {obj['key']} is "
                         f"{'missing' if found is None else 'altered'} in the store")
    return problems.items
