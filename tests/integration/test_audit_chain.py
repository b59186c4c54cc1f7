from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from casetracker.audit import services as audit
from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor


async def test_tampering_with_the_log_is_detected(settings: Any) -> None:
    actor = Actor(id=1, label="sup@example.org", role="supervisor", ip_address="192.0.2.9")
    for i in range(4):
        await audit.record("case.update", actor=actor, object_type="case", object_id=i, case_id=i,
                           details={"field": "status", "to": "open"})
    result = await audit.verify_chain()
    assert result.intact and result.checked == 4

    await AuditEvent.update({AuditEvent.details: '{"field": "status", "to": "closed"}'}).where(
        AuditEvent.seq == 3)
    result = await audit.verify_chain()
    assert not result.intact and result.first_break.seq == 3


async def test_deleting_a_row_is_detected(settings: Any) -> None:
    actor = Actor.system()
    for i in range(3):
        await audit.record("registry.update", actor=actor, object_type="agency", object_id=i)
    await AuditEvent.delete().where(AuditEvent.seq == 2)
    result = await audit.verify_chain()
    assert result.first_break is not None and result.first_break.seq == 2


def test_cli_verify_reports_intact_and_broken(tmp_path: Any) -> None:
    # The command runs its own event loop, so this test is synchronous and uses its own file.
    import asyncio

    from casetracker import db
    from casetracker.settings import configure, load_settings

    settings = configure(load_settings().replace(
        database_url=f"sqlite:///{tmp_path / 'cli.sqlite3'}"))

    async def prepare() -> None:
        await db.open_database(settings)
        await db.migrate()
        await audit.record("login", actor=Actor.system())
        await audit.record("logout", actor=Actor.system())
        await db.close_database()  # open connections would keep pytest from exiting

    asyncio.run(prepare())
    from casetracker.audit.cli import verify_command

    result = CliRunner().invoke(verify_command, [])
    assert result.exit_code == 0 and "intact (2 events checked" in result.output

    async def tamper() -> None:
        await db.open_database(settings)
        await AuditEvent.update({AuditEvent.action: "nothing-happened"}).where(AuditEvent.seq == 1)
        await db.close_database()

    asyncio.run(tamper())
    result = CliRunner().invoke(verify_command, [])
    assert result.exit_code == 1 and "BROKEN at event seq 1" in result.output


async def test_checkpoints_are_write_once_files_and_only_sign_a_sound_log(settings: Any) -> None:
    import stat

    import pytest

    for i in range(3):
        await audit.record("case.update", actor=Actor.system(), object_id=i)
    written = await audit.write_checkpoint()
    assert written is not None and written.head.seq == 3 and written.head.count == 3
    path = settings.audit_checkpoint_dir / written.locations[0].rsplit("/", 1)[1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert await audit.write_checkpoint() is None  # nothing new: nothing written
    from casetracker.audit.checkpoints import FileCheckpointStore

    with pytest.raises(FileExistsError):  # an existing checkpoint is never replaced
        await FileCheckpointStore(settings.audit_checkpoint_dir).write(path.name, b"{}")

    await audit.record("case.update", actor=Actor.system(), object_id=9)
    await AuditEvent.update({AuditEvent.details: '{"edited": true}'}).where(AuditEvent.seq == 4)
    with pytest.raises(audit.CheckpointRefused, match="event 4"):
        await audit.write_checkpoint()
    assert len(list(settings.audit_checkpoint_dir.glob("*.json"))) == 1


async def test_the_periodic_job_writes_a_checkpoint(settings: Any) -> None:
    from datetime import UTC, datetime

    from casetracker.jobs import run_due
    from casetracker.jobs.api import periodic_jobs
    from casetracker.jobs.runner import JobRunner

    assert "audit.checkpoint" in periodic_jobs()
    await audit.record("case.update", actor=Actor.system(), object_id=1)
    await JobRunner(settings).schedule_periodic(now=datetime.now(UTC))
    await run_due()
    files = list(settings.audit_checkpoint_dir.glob("audit-checkpoint-*.json"))
    assert len(files) == 1
    assert (await audit.verify_chain()).checkpoints_used == 1


async def test_appends_stay_chained_after_a_rollback_and_another_writer(settings: Any) -> None:
    # Each process remembers its last append to write the next one in a single statement; the
    # statement must notice when that row was rolled back or another process appended since.
    import pytest

    from casetracker import db

    actor = Actor.system()
    await audit.record("first", actor=actor)
    with pytest.raises(RuntimeError):
        async with db.write_transaction():
            await audit.record("rolled back", actor=actor)
            raise RuntimeError("the change it described failed")
    await audit.record("second", actor=actor)
    remembered = audit._last_append
    await audit.record("third", actor=actor)
    audit._last_append = remembered  # as if another process had appended "third"
    await audit.record("fourth", actor=actor)

    result = await audit.verify_chain()
    assert result.intact and result.checked == 4
    rows = await AuditEvent.select(AuditEvent.seq, AuditEvent.action).order_by(AuditEvent.seq)
    assert [(r["seq"], r["action"]) for r in rows] == [
        (1, "first"), (2, "second"), (3, "third"), (4, "fourth")]
