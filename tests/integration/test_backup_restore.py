"""Backups of a running app: ``casetracker backup`` while complaints with photos keep arriving,
``restore`` into a fresh folder and database, and ``backup verify`` refusing a tampered backup.

The commands run as separate processes (as an administrator runs them) against the test's own
database and var folder, while this process serves the app and files complaints through it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from casetracker.audit.services import write_checkpoint
from casetracker.backup.services import create_backup, verify_backup
from tests.conftest import PG_ADMIN_DSN
from tests.factories_intake import complaint_fields, png_bytes, send_complaint

pytestmark = pytest.mark.slow


def _env(settings: Any, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("CASETRACKER_")}
    env.update({
        "CASETRACKER_DATABASE_URL": settings.database_url,
        "CASETRACKER_VAR_DIR": str(settings.var_dir),
        "CASETRACKER_EVIDENCE_DIR": str(settings.evidence_dir),
        "CASETRACKER_AUDIT_CHECKPOINT_DIR": str(settings.audit_checkpoint_dir),
        "CASETRACKER_STORAGE_BACKEND": "local",
    })
    env.update(overrides)
    return env


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "casetracker", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")


async def _file(new_browser: Any, number: int) -> None:
    browser = new_browser(f"198.51.100.{number + 10}")
    photo = png_bytes(f"#{(number * 2654435761) % 0xFFFFFF:06x}")
    page = await send_complaint(browser, complaint_fields(
        narrative=f"Complaint number {number}: stopped and asked for papers."),
        files=[("files", (f"photo-{number}.png", photo, "image/png"))])
    assert page.status_code == 200, page.text[:2000]


async def _fresh_target(engine_name: str, tmp_path: Path) -> tuple[dict[str, str], Any]:
    """Settings (as environment) of an empty installation, and how to drop it afterwards."""
    var = tmp_path / "restored-var"
    var.mkdir()
    env = {"CASETRACKER_VAR_DIR": str(var), "CASETRACKER_EVIDENCE_DIR": str(var / "evidence"),
           "CASETRACKER_AUDIT_CHECKPOINT_DIR": str(var / "audit-checkpoints")}
    if engine_name == "sqlite":
        env["CASETRACKER_DATABASE_URL"] = f"sqlite:///{var / 'casetracker.sqlite3'}"

        async def drop() -> None:
            return None

        return env, drop
    import asyncpg

    name = f"ct_restore_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    env["CASETRACKER_DATABASE_URL"] = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name

    async def drop_pg() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    return env, drop_pg


async def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("sqlite:///", 1)[1])
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


def _manifest(dest: Path) -> tuple[Path, dict[str, Any]]:
    folder = sorted(dest.glob("backup-*"))[-1]
    return folder, json.loads((folder / "manifest.json").read_text())


async def test_backup_under_load_restores_every_counted_complaint_with_its_evidence(
        app: Any, settings: Any, new_browser: Any, engine_name: str, tmp_path: Path) -> None:
    # The secret key lives in the var folder, as on an embedded install.
    (settings.var_dir / "secret_key").write_text(settings.secret_key)
    for number in range(2):
        await _file(new_browser, number)
    assert (await write_checkpoint()) is not None

    filed = 2
    stop = asyncio.Event()

    async def keep_filing() -> None:
        nonlocal filed
        while not stop.is_set():
            await _file(new_browser, filed)
            filed += 1

    stream = asyncio.create_task(keep_filing())
    await asyncio.sleep(0.5)
    filed_before = filed
    dest = tmp_path / "backups"
    code, output = await _cli(_env(settings), "backup", str(dest))
    filed_after = filed
    stop.set()
    await stream
    assert code == 0, output
    assert "Backup written to" in output

    folder, manifest = _manifest(dest)
    counted = manifest["counts"]["ct_case"]
    # Everything filed before the backup began is in it; nothing filed after it ended.
    assert filed_before <= counted <= filed_after + 1, (filed_before, counted, filed_after)
    assert filed > counted or filed_after >= counted  # filings went on during the backup
    assert manifest["checkpoint"]["seq"] >= 1
    evidence = [o for o in manifest["objects"] if o["area"] == "evidence"]
    assert len(evidence) == manifest["counts"]["evidence_item"] == counted

    # A second backup to the same place copies only the photos filed since.
    code, output = await _cli(_env(settings), "backup", str(dest))
    assert code == 0, output
    _, second = _manifest(dest)
    new = second["counts"]["evidence_item"] - manifest["counts"]["evidence_item"]
    assert f"{new} new file(s) copied" in output

    code, output = await _cli(_env(settings), "backup", "verify", str(folder))
    assert code == 0, output
    assert "verifies" in output

    target, drop = await _fresh_target(engine_name, tmp_path)
    try:
        # Backups never hold the secret key: a server with another key is refused, untouched.
        code, output = await _cli(target, "restore", str(folder))
        assert code == 1, output
        assert "secret key is not the one the backup was made under" in output
        # The administrator puts the original key in place (from where it is kept), then
        # restores.
        (Path(target["CASETRACKER_VAR_DIR"]) / "secret_key").write_text(settings.secret_key)
        code, output = await _cli(target, "restore", str(folder))
        assert code == 0, output
        assert "intact" in output
        url = target["CASETRACKER_DATABASE_URL"]
        cases = await _rows(url, "SELECT c.id, e.sha256, e.storage_key FROM ct_case c "
                                 "JOIN evidence_item e ON e.\"case\" = c.id ORDER BY c.id")
        assert len({row[0] for row in cases}) == counted
        evidence_root = Path(target["CASETRACKER_EVIDENCE_DIR"])
        for _, sha, key in cases:
            assert hashlib.sha256((evidence_root / key).read_bytes()).hexdigest() == sha

        code, output = await _cli(target, "audit", "verify")
        assert code == 0, output
        assert output.startswith("intact")

        # Restoring again over what is now there is refused.
        code, output = await _cli(target, "restore", str(folder))
        assert code == 1
        assert "refusing to overwrite" in output
    finally:
        await drop()


async def _tamper_database_row(folder: Path, manifest: dict[str, Any], tmp_path: Path) -> None:
    database = folder / manifest["database_file"]
    os.chmod(database, 0o644)
    if manifest["engine"] == "sqlite":
        connection = sqlite3.connect(database)
        connection.execute("UPDATE ct_case SET narrative = 'nothing happened' "
                           "WHERE id = (SELECT min(id) FROM ct_case)")
        connection.commit()
        connection.close()
        return
    import asyncpg

    from casetracker.backup.database import pg_restore, pg_tool, run_tool

    name = f"ct_tamper_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
    try:
        await pg_restore(dsn, database)
        conn = await asyncpg.connect(dsn)
        await conn.execute("UPDATE ct_case SET narrative = 'nothing happened' "
                           "WHERE id = (SELECT min(id) FROM ct_case)")
        await conn.close()
        database.unlink()
        await run_tool(pg_tool("pg_dump", None), "--format=custom", f"--file={database}",
                       f"--dbname={dsn}")
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_backup_verify_refuses_a_tampered_evidence_byte_or_database_row(
        app: Any, settings: Any, new_browser: Any, tmp_path: Path) -> None:
    (settings.var_dir / "secret_key").write_text(settings.secret_key)
    for number in range(2):
        await _file(new_browser, number)
    await write_checkpoint()
    dest = tmp_path / "backups"
    result = await create_backup(dest, settings)
    folder, manifest = result.path, result.manifest
    pristine = tmp_path / "pristine"
    shutil.copytree(dest, pristine)

    # One byte of one photo.
    photo_entry = next(o for o in manifest["objects"] if o["area"] == "evidence")
    photo = dest / "objects" / photo_entry["sha256"][:2] / photo_entry["sha256"]
    os.chmod(photo, 0o644)
    data = bytearray(photo.read_bytes())
    data[len(data) // 2] ^= 0x01
    photo.write_bytes(bytes(data))
    _, _, problems = await verify_backup(folder, settings)
    assert f"evidence object {photo_entry['key']} does not match its SHA-256" in " ".join(
        problems)

    # One row of the database.
    dest2 = tmp_path / "backups-2"
    shutil.copytree(pristine, dest2)
    folder2 = dest2 / folder.name
    await _tamper_database_row(folder2, manifest, tmp_path)
    _, _, problems = await verify_backup(folder2, settings)
    assert problems == [f"{manifest['database_file']} does not match the manifest (SHA-256 "
                        f"{_sha256(folder2 / manifest['database_file'])}, expected "
                        f"{_listed_sha(manifest, manifest['database_file'])}): the backup was "
                        "altered or damaged"]

    # The untouched copy verifies, through the command an administrator runs.
    code, output = await _cli(_env(settings), "backup", "verify", str(pristine / folder.name))
    assert code == 0, output
    assert "verifies" in output


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listed_sha(manifest: dict[str, Any], name: str) -> str:
    return next(e["sha256"] for e in manifest["files"] if e["path"] == name)
