"""``casetracker users create|disable|list`` run as a person would, in a subprocess against
the test database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

from casetracker.accounts.services import authenticate
from casetracker.accounts.tables import User
from tests.factories_accounts import audit_actions


def run_cli(settings: Any, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASETRACKER_DATABASE_URL": settings.database_url,
           "CASETRACKER_VAR_DIR": str(settings.var_dir),
           "CASETRACKER_SECRET_KEY": settings.secret_key}
    env.pop("LITESTAR_APP", None)
    command = [sys.executable, "-m", "casetracker", *args]
    return subprocess.run(command, input=stdin,  # noqa: S603 - our own CLI
                          capture_output=True, text=True, env=env, timeout=120, check=False)


async def test_users_create_with_password_stdin_list_and_disable(settings: Any) -> None:
    password = "a long enough cli password"
    result = await asyncio.to_thread(
        run_cli, settings, "users", "create", "--email", "Dora@Example.org", "--name",
        "Dora Hoyos", "--role", "supervisor", "--password-stdin", stdin=password + "\n")
    assert result.returncode == 0, result.stderr
    assert "Created supervisor dora@example.org" in result.stdout
    user = await User.objects().where(User.email == "dora@example.org").first()
    assert user.name == "Dora Hoyos" and not user.must_change_password
    assert (await authenticate("dora@example.org", password)) is not None
    assert "user.create" in await audit_actions(actor_label="cli")

    result = await asyncio.to_thread(run_cli, settings, "users", "list")
    assert result.returncode == 0 and "dora@example.org" in result.stdout

    again = await asyncio.to_thread(
        run_cli, settings, "users", "create", "--email", "dora@example.org", "--name", "D",
        "--role", "supervisor", "--password-stdin", stdin=password + "\n")
    assert again.returncode != 0 and "already exists" in again.stderr

    weak = await asyncio.to_thread(
        run_cli, settings, "users", "create", "--email", "x@example.org", "--name", "X",
        "--role", "intake", "--password-stdin", stdin="short\n")
    assert weak.returncode != 0 and "at least 12" in weak.stderr

    result = await asyncio.to_thread(run_cli, settings, "users", "disable", "dora@example.org")
    assert result.returncode == 0, result.stderr
    assert (await User.objects().where(User.id == user.id).first()).active is False
    assert "user.disable" in await audit_actions(actor_label="cli")


async def test_users_reset_2fa_when_no_administrator_can_sign_in(settings: Any) -> None:
    from tests.factories import make_user

    admin = await make_user("administrator")  # enrolled, secret sealed under the current key
    result = await asyncio.to_thread(run_cli, settings, "users", "reset-2fa",
                                     admin.email.upper())
    assert result.returncode == 0, result.stderr
    assert f"Two-factor sign-in reset for {admin.email}" in result.stdout
    fresh = await User.objects().where(User.id == admin.id).first()
    assert fresh.totp_enabled is False and fresh.totp_secret is None
    assert fresh.recovery_codes in ([], "[]")
    assert "user.2fa_reset" in await audit_actions(actor_label="cli")

    missing = await asyncio.to_thread(run_cli, settings, "users", "reset-2fa",
                                      "nobody@example.org")
    assert missing.returncode != 0 and "no such user" in missing.stderr


async def test_relaxing_2fa_for_a_role_from_the_command_line_is_audited(settings: Any) -> None:
    import json

    from casetracker.accounts.role_settings import effective_2fa_roles, invalidate
    from casetracker.audit.tables import AuditEvent

    assert "oversight" in await effective_2fa_roles()
    result = await asyncio.to_thread(run_cli, settings, "users", "role-2fa", "oversight",
                                     "--relax")
    assert result.returncode == 0 and "relaxed" in result.stdout, result.stderr
    invalidate()
    assert "oversight" not in await effective_2fa_roles()
    event = await AuditEvent.select().where(AuditEvent.action == "role_setting.change").first()
    assert event["actor_label"] == "cli"
    assert json.loads(event["details"])["relaxed"] == ["oversight"]
    result = await asyncio.to_thread(run_cli, settings, "users", "role-2fa", "administrator",
                                     "--relax")
    assert result.returncode == 0 and "required" in result.stdout  # administrators always
