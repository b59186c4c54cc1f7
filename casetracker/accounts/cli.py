"""``casetracker users create|disable|reset-2fa|list``."""

from __future__ import annotations

import sys

import click

from casetracker.cli import with_database

ROLES = ["administrator", "supervisor", "investigator", "intake", "oversight"]


@click.group("users", help="Staff accounts.")
def users_group() -> None:
    pass


@users_group.command("create", help="Create a staff account. The password is asked for twice "
                                    "(hidden), or read from the first line of standard input "
                                    "with --password-stdin.")
@click.option("--email", required=True, help="E-mail address (the sign-in name).")
@click.option("--name", required=True, help="The person's name.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Role.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(email: str, name: str, role: str, password_stdin: bool) -> None:
    from casetracker.accounts.passwords import password_problem

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if problem := password_problem(password, email=email, name=name):
        raise click.ClickException(f"password: {problem}")

    @with_database
    async def run() -> object:
        from casetracker.accounts.services import UserService
        from casetracker.auth.actor import Actor

        return await UserService(Actor.system("cli")).create_user(
            email=email, name=name, role=role, password=password)

    from casetracker.errors import CaseTrackerError, ValidationFailed

    try:
        user = run()
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from exc
    except CaseTrackerError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {role} {user.email} (id {user.id}).")  # type: ignore[attr-defined]
    if role == "administrator":
        click.echo("Administrators set up two-factor sign-in at their first sign-in.")


@users_group.command("disable", help="Disable a staff account (its sessions end at once; "
                                     "nothing is deleted).")
@click.argument("email")
def disable_command(email: str) -> None:
    @with_database
    async def run() -> object:
        from casetracker.accounts.services import UserService
        from casetracker.auth.actor import Actor

        return await UserService(Actor.system("cli")).disable_by_email(email)

    from casetracker.errors import CaseTrackerError

    try:
        user = run()
    except CaseTrackerError as exc:
        raise click.ClickException(exc.message or "not found") from exc
    click.echo(f"Disabled {user.email}.")  # type: ignore[attr-defined]


@users_group.command("reset-2fa", help="Turn off a person's two-factor sign-in and forget "
                                       "their authenticator and recovery codes (their sessions "
                                       "end; they set it up again at the next sign-in). For "
                                       "when no administrator can sign in, e.g. after the "
                                       "secret key changed.")
@click.argument("email")
def reset_2fa_command(email: str) -> None:
    @with_database
    async def run() -> object:
        from casetracker.accounts.services import UserService, normalise_email
        from casetracker.accounts.tables import User
        from casetracker.auth.actor import Actor
        from casetracker.errors import NotFound

        user = await User.objects().where(User.email == normalise_email(email)).first()
        if user is None:
            raise NotFound("There is no such user.")
        return await UserService(Actor.system("cli")).reset_2fa(user.id)

    from casetracker.errors import CaseTrackerError

    try:
        user = run()
    except CaseTrackerError as exc:
        raise click.ClickException(exc.message or "not found") from exc
    click.echo(f"Two-factor sign-in reset for {user.email}; "  # type: ignore[attr-defined]
               "they set it up again at their next sign-in.")


@users_group.command("role-2fa", help="Require two-factor sign-in of a role, or relax it (as "
                                      "at /admin/roles; recorded in the audit log with the "
                                      "actor 'cli'). Administrators and the roles in "
                                      "CASETRACKER_REQUIRE_2FA_ROLES always need it.")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--relax", is_flag=True, help="Let the role sign in with a password alone.")
def role_2fa_command(role: str, relax: bool) -> None:
    @with_database
    async def run() -> frozenset[str]:
        from casetracker.accounts import role_settings
        from casetracker.auth.actor import Actor

        current = await role_settings.effective_2fa_roles()
        wanted = current - {role} if relax else current | {role}
        return await role_settings.set_required_roles(Actor.system("cli"), wanted)

    required = run()
    if role in required:
        click.echo(f"{role}: two-factor sign-in required.")
    else:
        click.echo(f"{role}: two-factor sign-in relaxed (password alone); recorded in the "
                   "audit log.")


@users_group.command("list", help="List staff accounts.")
def list_command() -> None:
    @with_database
    async def run() -> list[dict[str, object]]:
        from casetracker.accounts.tables import User

        return await User.select(User.id, User.email, User.name, User.role, User.active,
                                 User.totp_enabled).order_by(User.id)

    rows = run()
    click.echo(f"{'id':>5}  {'e-mail':<36} {'role':<14} {'status':<9} {'2fa':<4} name")
    for row in rows:
        click.echo(f"{row['id']:>5}  {row['email']:<36} {row['role']:<14} "
                   f"{'active' if row['active'] else 'disabled':<9} "
                   f"{'on' if row['totp_enabled'] else 'off':<4} {row['name']}")


CLI_COMMANDS = [users_group]
