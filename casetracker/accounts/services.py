"""Account verbs: create users, authenticate, bootstrap the first administrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from casetracker import db
from casetracker.accounts.passwords import (
    generate_one_time_password,
    hash_password,
    password_problem,
    verify_password,
)
from casetracker.accounts.tables import Role, User
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.errors import Conflict, ValidationFailed


def normalise_email(email: str) -> str:
    return email.strip().lower()


class UserService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def create_user(
        self,
        *,
        email: str,
        name: str,
        role: str,
        password: str,
        must_change_password: bool = False,
        check_password: bool = True,
    ) -> User:
        email = normalise_email(email)
        errors: dict[str, str] = {}
        if "@" not in email or len(email) > 254:
            errors["email"] = "Enter a valid e-mail address."
        if not name.strip():
            errors["name"] = "Enter the person's name."
        if role not in {r.value for r in Role}:
            errors["role"] = "Choose one of the roles."
        if check_password and (problem := password_problem(password, email=email)):
            errors["password"] = problem
        if errors:
            raise ValidationFailed(errors)
        async with db.write_transaction():
            if await User.exists().where(User.email == email):
                raise Conflict("A user with that e-mail address already exists.")
            user = User(
                email=email,
                name=name.strip(),
                role=role,
                password_hash=hash_password(password),
                must_change_password=must_change_password,
            )
            await user.save()
            await audit.record("user.create", actor=self.actor, object_type="user",
                               object_id=user.id, details={"email": email, "role": role})
        return user


@dataclass(frozen=True)
class BootstrapResult:
    email: str
    password: str


async def bootstrap_admin(email: str = "admin@casetracker.local") -> BootstrapResult | None:
    """When no user exists, create an administrator with a one-time password."""
    if await User.count() > 0:
        return None
    password = generate_one_time_password()
    await UserService(Actor.system("bootstrap")).create_user(
        email=email, name="Administrator", role=Role.administrator.value, password=password,
        must_change_password=True, check_password=False,
    )
    return BootstrapResult(email=email, password=password)


async def authenticate(email: str, password: str) -> User | None:
    """The active user with that e-mail and password, or None (same timing either way)."""
    user = await User.objects().where(User.email == normalise_email(email)).first()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    return user


async def mark_login(user: User) -> None:
    await User.update({User.last_login_at: datetime.now(UTC)}).where(User.id == user.id)
