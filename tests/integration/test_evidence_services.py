"""Evidence services on the database: verify (and its CLI), the all-or-nothing transaction,
the sweep, and the index/export used by reports; on the local disk and on S3."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from casetracker import db
from casetracker.auth.actor import Actor
from casetracker.evidence.cli import run_verify
from casetracker.evidence.ingest import StagedFile, ingest_transaction
from casetracker.evidence.services import EvidenceService, evidence_index, record_export, sweep
from casetracker.evidence.storage import get_store
from casetracker.evidence.tables import CustodyEvent, EvidenceItem
from tests.factories import make_user
from tests.factories_evidence import make_case, noise
from tests.storage_helpers import (
    delete_stored,
    overwrite_stored,
    read_stored,
    staging_leftovers,
    storage_env,
    stored_keys,
)

PROJECT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.storage_backends


async def stage(content: bytes, name: str = "file.bin", kind: str = "other",
                content_type: str = "application/octet-stream") -> StagedFile:
    from casetracker.settings import get_settings

    writer = await get_store(get_settings()).open_staging()
    await writer.write(content)
    sha = await writer.close()
    return StagedFile(original_name=name, size_bytes=len(content), sha256=sha,
                      content_type=content_type, kind=kind, staging_path=writer.key)


async def all_files(settings: Any) -> list[str]:
    return await stored_keys(settings) + await staging_leftovers(settings)


async def attach(actor: Actor, case_id: int, *contents: bytes) -> list[Any]:
    staged = [await stage(c, f"f{i}.bin") for i, c in enumerate(contents)]
    async with ingest_transaction():
        return await EvidenceService(actor).attach(case_id, staged, source="investigator",
                                                   description="test")


async def test_verify_catches_a_tampered_and_a_missing_file(settings: Any) -> None:
    user = await make_user("supervisor")
    actor = Actor.from_user(user)
    case = await make_case()
    other_case = await make_case()
    good, tampered, missing = await attach(actor, case.id, b"a" * 5000, b"b" * 5000, b"c" * 10)
    await attach(actor, other_case.id, b"other case file")
    await overwrite_stored(settings, tampered.storage_key, b"B" + b"b" * 4999)  # one byte
    await delete_stored(settings, missing.storage_key)

    lines: list[str] = []
    code = await run_verify(case.id, echo=lines.append, show_progress=True)
    assert code == 1
    text = "\n".join(lines)
    assert f"MISMATCH item {tampered.id}" in text
    assert f"MISSING  item {missing.id}" in text
    assert f"item {good.id}" not in text
    assert "3 item(s) checked, 1 intact, 2 failed." in text

    rows = {r["id"]: r for r in await EvidenceItem.select()}
    assert rows[good.id]["last_verified_ok"] is True
    assert rows[tampered.id]["last_verified_ok"] is False
    assert rows[missing.id]["last_verified_at"] is not None
    actions = {(e["item"], e["action"]) for e in await CustodyEvent.select()}
    assert (good.id, "verified") in actions
    assert (tampered.id, "verify_failed") in actions and (missing.id, "verify_failed") in actions
    # --case limits the run: the other case's item was not touched
    other = await EvidenceItem.select().where(EvidenceItem.case == other_case.id).first()
    assert other["last_verified_at"] is None


async def run_command(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=PROJECT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, stdout.decode()


@pytest.mark.slow
async def test_verify_command_exit_codes(settings: Any) -> None:
    """The real console command, in its own process, on this test's database."""
    user = await make_user("supervisor")
    case = await make_case()
    (item,) = await attach(Actor.from_user(user), case.id, b"original bytes")
    env = {**os.environ, "CASETRACKER_DATABASE_URL": settings.database_url,
           "CASETRACKER_VAR_DIR": str(settings.var_dir), **storage_env(settings),
           "LITESTAR_APP": "casetracker.app:create_app"}
    command = [sys.executable, "-m", "casetracker", "evidence", "verify", "--case", str(case.id)]
    code, out = await run_command(command, env)
    assert code == 0, out
    assert "1 intact, 0 failed" in out
    await overwrite_stored(settings, item.storage_key, b"altered bytes!")
    code, out = await run_command(command, env)
    assert code == 1, out
    assert f"MISMATCH item {item.id}" in out


async def test_a_failed_transaction_leaves_neither_record_nor_file(settings: Any) -> None:
    user = await make_user("supervisor")
    actor = Actor.from_user(user)
    case = await make_case()
    (kept,) = await attach(actor, case.id, b"already stored before")
    files_before = await all_files(settings)

    staged = [await stage(b"new content " * 100), await stage(b"already stored before")]
    with pytest.raises(RuntimeError):
        async with ingest_transaction():
            await EvidenceService(actor).attach(case.id, staged, source="agency")
            raise RuntimeError("the complaint could not be saved")
    assert await EvidenceItem.count() == 1
    # the new file is gone; the one already stored for another item is untouched
    assert await all_files(settings) == files_before
    assert await read_stored(settings, kept.storage_key) == b"already stored before"


async def test_attach_refuses_a_missing_case_and_leaves_nothing(settings: Any) -> None:
    from casetracker.errors import NotFound

    staged = [await stage(b"orphan?")]
    with pytest.raises(NotFound):
        async with ingest_transaction():
            await EvidenceService(Actor.system()).attach(987654, staged, source="other")
    for s in staged:
        if s.storage_key is None:
            await get_store(settings).remove_staging(s.staging_key)
    assert await all_files(settings) == []


async def test_sweep_removes_old_leftovers_and_unreferenced_files(settings: Any) -> None:
    user = await make_user("supervisor")
    case = await make_case()
    (item,) = await attach(Actor.from_user(user), case.id, b"referenced")
    store = get_store(settings)
    abandoned = await store.open_staging()  # finished, never promoted
    await abandoned.write(b"abandoned upload")
    await abandoned.close()
    orphan_sha = hashlib.sha256(b"orphan").hexdigest()
    orphan_staging = await store.open_staging()  # promoted, its record never committed
    await orphan_staging.write(b"orphan")
    await orphan_staging.close()
    orphan_key, _ = await store.promote(orphan_staging.key, orphan_sha)

    # Younger than an hour (the default): an upload may still be on its way; nothing goes.
    assert await sweep() == {"staging": [], "orphans": [], "uploads": []}

    result = await sweep(older_than_seconds=0)
    assert result["staging"] == [abandoned.key.rsplit("/", 1)[-1]]
    assert result["orphans"] == [orphan_key]
    assert await stored_keys(settings) == [item.storage_key]
    assert await staging_leftovers(settings) == []
    assert await read_stored(settings, item.storage_key) == b"referenced"


async def test_sweep_aborts_an_upload_a_dead_process_left_unfinished(settings: Any) -> None:
    """A process killed mid-upload leaves a multipart upload on S3 that no object listing
    shows; the sweep aborts it (the local backend has no such state)."""
    store = get_store(settings)
    writer = await store.open_staging()
    part = getattr(store, "part_size", 1 << 20)
    await writer.write(noise(part + 1000, "dead process"))  # one part sent, the rest pending
    # ... and the process dies here: neither close() nor abort().
    left = await staging_leftovers(settings)
    if settings.storage_backend == "s3":
        assert left == [writer.key]
    result = await sweep(older_than_seconds=0)
    if settings.storage_backend == "s3":
        assert result["uploads"] == [writer.key]
    assert await staging_leftovers(settings) == []


async def test_a_large_file_streams_into_the_store_and_back(settings: Any) -> None:
    """Several multipart parts on S3; verify and a ranged read across a part boundary."""
    user = await make_user("supervisor")
    content = noise(3 * (8 << 20) + 12345, "large")
    (item,) = await attach(Actor.from_user(user), (await make_case()).id, content)
    assert item.sha256 == hashlib.sha256(content).hexdigest()
    store = get_store(settings)
    assert await store.size(item.storage_key) == len(content)
    start, end = (8 << 20) - 10, (8 << 20) + 9
    chunks = [c async for c in store.open_reader(item.storage_key, start, end)]
    assert b"".join(chunks) == content[start:end + 1]
    assert await store.hash(item.storage_key) == (item.sha256, len(content))
    assert await staging_leftovers(settings) == []


async def test_evidence_index_and_record_export(settings: Any) -> None:
    user = await make_user("supervisor")
    actor = Actor.from_user(user, ip_address="192.0.2.5")
    case = await make_case()
    first, second = await attach(actor, case.id, b"one", b"two")
    await EvidenceService(actor).withdraw(second.id, "wrong case")
    await record_export([first.id], actor, "Case report CT-TEST")
    rows = await evidence_index(case.id)
    assert [r["id"] for r in rows] == [first.id]
    row = rows[0]
    assert row["sha256"] == hashlib.sha256(b"one").hexdigest()
    assert row["size_bytes"] == 3 and row["source"] == "investigator"
    assert row["description"] == "test" and row["received_at"] is not None
    assert "received" in row["custody_summary"]
    assert "exported into a report" in row["custody_summary"]
    assert "Case report CT-TEST" in row["custody_summary"]
    assert user.email in row["custody_summary"]
    assert len(await evidence_index(case.id, include_withdrawn=True)) == 2
    exported = await CustodyEvent.select().where(CustodyEvent.action == "exported")
    assert [(e["item"], e["ip_address"]) for e in exported] == [(first.id, "192.0.2.5")]


async def test_attach_joins_the_callers_transaction(settings: Any) -> None:
    """Inside the caller's write transaction, attach opens none of its own: a rollback of
    the caller's work takes the evidence rows with it."""
    case = await make_case()
    staged = [await stage(b"joined")]
    with pytest.raises(ValueError):
        async with ingest_transaction():
            async with db.write_transaction():
                await EvidenceService(Actor.system()).attach(case.id, staged, source="other")
                assert await EvidenceItem.count() == 1
            raise ValueError("later failure")
    assert await EvidenceItem.count() == 0
    assert await all_files(settings) == []
