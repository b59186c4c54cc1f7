"""Account verbs: create and administer users, authenticate, change passwords, two-factor
enrolment, and bootstrap the first administrator."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from casetracker import db
from casetracker.accounts import mfa, totp_crypto
from casetracker.accounts.passwords import (
    generate_one_time_password,
    hash_password_off_loop,
    password_problem,
    verify_password_off_loop,
)
from casetracker.accounts.rules import admin_change_problem
from casetracker.accounts.tables import ApiToken, Role, User
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.errors import Conflict, Forbidden, NotFound, ValidationFailed
from casetracker.web.i18n import gettext as _

ROLE_VALUES = frozenset(r.value for r in Role)
log = logging.getLogger("casetracker.accounts")


class SecondFactorUnreadable(Exception):
    """The user's authenticator secret does not decrypt (most likely the secret key changed)
    and the code given was not a valid recovery code either."""


def _totp_key() -> bytes:
    from casetracker.settings import get_settings

    return totp_crypto.derive_key(get_settings().secret_key)


def seal_totp_secret(secret: str, user_id: int) -> str:
    """The value to store in ``User.totp_secret``: never the clear secret."""
    return totp_crypto.seal(secret, user_id=user_id, key=_totp_key())


def open_totp_secret(user: User) -> str | None:
    """The user's clear TOTP secret (None when there is none); raises
    ``totp_crypto.UnreadableSecret`` when the stored value does not decrypt for this user."""
    if not user.totp_secret:
        return None
    return totp_crypto.unseal(user.totp_secret, user_id=user.id, key=_totp_key())


def _log_unreadable(user_id: int, where: str) -> None:
    # The id and the place only: never the stored value or the secret.
    log.warning("TOTP secret of user %s does not decrypt (%s): was the secret key changed? "
                "An administrator can reset the user's two-factor sign-in.", user_id, where)


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def _lock_user_row(user_id: int) -> None:
    """On PostgreSQL, hold the user's row for the rest of the transaction (read-modify-write
    of recovery codes must not let one code be used twice). SQLite writes are serialised."""
    if isinstance(db.current_engine(), PostgresEngine):
        await User.raw("SELECT id FROM ct_user WHERE id = {} FOR UPDATE", user_id)


async def revoke_api_tokens(user_id: int, *, actor: Actor, reason: str) -> int:
    """Inside the caller's write transaction: revoke every live API token of the user (a
    password change or reset, a 2FA reset or disabling must not leave a token that comes back
    to life later). Audited as ``api_token.revoke_all`` when there was any."""
    live = await ApiToken.select(ApiToken.id).where(
        (ApiToken.user == user_id) & ApiToken.revoked_at.is_null())
    if not live:
        return 0
    await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(
        ApiToken.id.is_in([row["id"] for row in live]))
    await audit.record("api_token.revoke_all", actor=actor, object_type="user",
                       object_id=user_id, details={"count": len(live), "reason": reason})
    return len(live)


async def get_user(user_id: int) -> User:
    user = await User.objects().where(User.id == user_id).first()
    if user is None:
        raise NotFound(_("There is no such user."))
    return user


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
        if "@" not in email or len(email) > 254 or " " in email:
            errors["email"] = _("Enter a valid e-mail address.")
        if not name.strip():
            errors["name"] = _("Enter the person's name.")
        elif len(name.strip()) > 200:
            errors["name"] = _("Use at most 200 characters.")
        if role not in ROLE_VALUES:
            errors["role"] = _("Choose one of the roles.")
        if check_password and (problem := password_problem(password, email=email, name=name)):
            errors["password"] = problem
        if "email" not in errors and await User.exists().where(User.email == email):
            errors["email"] = _("A user with that e-mail address already exists.")
        if errors:
            raise ValidationFailed(errors)
        password_hash = await hash_password_off_loop(password)  # slow: not inside the write
        async with db.write_transaction():
            if await User.exists().where(User.email == email):
                raise ValidationFailed({"email": _("A user with that e-mail address already "
                                                   "exists.")})
            user = User(
                email=email,
                name=name.strip(),
                role=role,
                password_hash=password_hash,
                must_change_password=must_change_password,
            )
            await user.save()
            await audit.record("user.create", actor=self.actor, object_type="user",
                               object_id=user.id, details={"email": email, "role": role})
        return user

    async def create_with_one_time_password(self, *, email: str, name: str, role: str
                                            ) -> tuple[User, str]:
        password = generate_one_time_password()
        user = await self.create_user(email=email, name=name, role=role, password=password,
                                      must_change_password=True, check_password=False)
        return user, password

    async def _other_active_admins(self, user_id: int) -> int:
        return await User.count().where(
            (User.role == Role.administrator.value) & (User.active == True)  # noqa: E712
            & (User.id != user_id))

    async def change_role(self, user_id: int, new_role: str) -> User:
        if new_role not in ROLE_VALUES:
            raise ValidationFailed({"role": _("Choose one of the roles.")})
        async with db.write_transaction():
            user = await get_user(user_id)
            if user.role == new_role:
                return user
            problem = admin_change_problem(
                actor_id=self.actor.id, target_id=user.id, target_role=user.role,
                target_active=user.active, change="role", new_role=new_role,
                other_active_admins=await self._other_active_admins(user.id))
            if problem:
                raise Conflict(_(problem))
            old_role = user.role
            await User.update({User.role: new_role}).where(User.id == user.id)
            await audit.record("user.role_change", actor=self.actor, object_type="user",
                               object_id=user.id, details={"email": user.email,
                                                           "from": old_role, "to": new_role})
        return await get_user(user_id)

    async def disable(self, user_id: int) -> User:
        async with db.write_transaction():
            user = await get_user(user_id)
            if not user.active:
                return user
            problem = admin_change_problem(
                actor_id=self.actor.id, target_id=user.id, target_role=user.role,
                target_active=user.active, change="disable",
                other_active_admins=await self._other_active_admins(user.id))
            if problem:
                raise Conflict(_(problem))
            # The middleware loads only active users, so every session ends on the next request.
            await User.update({User.active: False, User.disabled_at: datetime.now(UTC)}).where(
                User.id == user.id)
            await audit.record("user.disable", actor=self.actor, object_type="user",
                               object_id=user.id, details={"email": user.email})
            await revoke_api_tokens(user.id, actor=self.actor, reason="disabled")
        return await get_user(user_id)

    async def enable(self, user_id: int) -> User:
        async with db.write_transaction():
            user = await get_user(user_id)
            if user.active:
                return user
            await User.update({User.active: True, User.disabled_at: None}).where(
                User.id == user.id)
            await audit.record("user.enable", actor=self.actor, object_type="user",
                               object_id=user.id, details={"email": user.email})
        return await get_user(user_id)

    async def reset_password(self, user_id: int) -> tuple[User, str]:
        """A new one-time password; the user's sessions end and they must choose a new one."""
        password = generate_one_time_password()
        password_hash = await hash_password_off_loop(password)  # slow: not inside the write
        async with db.write_transaction():
            user = await get_user(user_id)
            await User.update({
                User.password_hash: password_hash,
                User.must_change_password: True,
                User.password_changed_at: datetime.now(UTC),
            }).where(User.id == user.id)
            await audit.record("user.password_reset", actor=self.actor, object_type="user",
                               object_id=user.id, details={"email": user.email})
            await revoke_api_tokens(user.id, actor=self.actor, reason="password_reset")
        return await get_user(user_id), password

    async def reset_2fa(self, user_id: int) -> User:
        """Forget the user's authenticator and recovery codes; they enrol again."""
        async with db.write_transaction():
            user = await get_user(user_id)
            await User.update({
                User.totp_enabled: False,
                User.totp_secret: None,
                User.totp_last_step: None,
                User.recovery_codes: [],
                # ends the user's sessions, like a password change
                User.password_changed_at: datetime.now(UTC),
            }).where(User.id == user.id)
            await audit.record("user.2fa_reset", actor=self.actor, object_type="user",
                               object_id=user.id, details={"email": user.email})
            await revoke_api_tokens(user.id, actor=self.actor, reason="2fa_reset")
        return await get_user(user_id)

    async def disable_by_email(self, email: str) -> User:
        user = await User.objects().where(User.email == normalise_email(email)).first()
        if user is None:
            raise NotFound(_("There is no such user."))
        return await self.disable(user.id)


class AccountService:
    """What signed-in people do to their own account."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def _me(self) -> User:
        if self.actor.id is None:
            raise Forbidden(_("Please sign in."))
        return await get_user(self.actor.id)

    async def change_password(self, *, current: str, new: str, confirm: str) -> User:
        user = await self._me()
        errors: dict[str, str] = {}
        if not await verify_password_off_loop(user.password_hash, current):
            errors["current_password"] = _("Your current password is not right.")
        if problem := password_problem(new, email=user.email, name=user.name):
            errors["new_password"] = problem
        elif new != confirm:
            errors["confirm_password"] = _("The two new passwords are not the same.")
        elif await verify_password_off_loop(user.password_hash, new):
            errors["new_password"] = _("Choose a password different from the current one.")
        if errors:
            raise ValidationFailed(errors)
        password_hash = await hash_password_off_loop(new)  # slow: not inside the write
        async with db.write_transaction():
            await User.update({
                User.password_hash: password_hash,
                User.must_change_password: False,
                User.password_changed_at: datetime.now(UTC),
            }).where(User.id == user.id)
            await audit.record("user.password_change", actor=self.actor, object_type="user",
                               object_id=user.id,
                               details={"was_one_time": bool(user.must_change_password)})
            await revoke_api_tokens(user.id, actor=self.actor, reason="password_change")
        return await get_user(user.id)

    async def pending_totp_secret(self) -> str:
        """The secret being enrolled (created on first call, kept until confirmed)."""
        user = await self._me()
        if user.totp_enabled:
            raise Conflict(_("Two-factor sign-in is already set up."))
        try:
            secret = open_totp_secret(user)
        except totp_crypto.UnreadableSecret:
            # Not confirmed yet, so nothing depends on it: start the set-up again.
            _log_unreadable(user.id, "pending enrolment")
            secret = None
        if secret:
            return secret
        secret = mfa.new_secret()
        await User.update({User.totp_secret: seal_totp_secret(secret, user.id)}).where(
            User.id == user.id)
        return secret

    async def confirm_totp(self, code: str) -> list[str]:
        """Turn 2FA on when ``code`` matches; returns the recovery codes (shown once)."""
        user = await self._me()
        if user.totp_enabled:
            raise Conflict(_("Two-factor sign-in is already set up."))
        try:
            secret = open_totp_secret(user)
        except totp_crypto.UnreadableSecret:
            _log_unreadable(user.id, "enrolment")
            await User.update({User.totp_secret: None}).where(User.id == user.id)
            raise ValidationFailed({"code": _("This set-up has expired. Scan the new QR code "
                                              "below and enter the 6 digits your app shows "
                                              "for it.")}) from None
        step = mfa.totp_step(secret, code)
        if step is None:
            raise ValidationFailed({"code": _("That code is not right. Enter the 6 digits "
                                              "your app shows now.")})
        codes = mfa.new_recovery_codes()
        async with db.write_transaction():
            await User.update({
                User.totp_enabled: True,
                User.totp_last_step: step,
                User.recovery_codes: [mfa.hash_recovery_code(c) for c in codes],
            }).where(User.id == user.id)
            await audit.record("user.2fa_enrol", actor=self.actor, object_type="user",
                               object_id=user.id)
        return codes

    async def disable_totp(self, password: str) -> User:
        """Turn 2FA off (or start again: roles that need it are sent to enrol at once)."""
        user = await self._me()
        if not await verify_password_off_loop(user.password_hash, password):
            raise ValidationFailed({"password": _("Your password is not right.")})
        async with db.write_transaction():
            await User.update({User.totp_enabled: False, User.totp_secret: None,
                               User.totp_last_step: None,
                               User.recovery_codes: []}).where(User.id == user.id)
            await audit.record("user.2fa_disable", actor=self.actor, object_type="user",
                               object_id=user.id)
        return await get_user(user.id)

    async def new_recovery_codes(self, password: str) -> list[str]:
        user = await self._me()
        if not user.totp_enabled:
            raise Conflict(_("Set up two-factor sign-in first."))
        if not await verify_password_off_loop(user.password_hash, password):
            raise ValidationFailed({"password": _("Your password is not right.")})
        codes = mfa.new_recovery_codes()
        async with db.write_transaction():
            await User.update({User.recovery_codes: [mfa.hash_recovery_code(c) for c in codes]}
                              ).where(User.id == user.id)
            await audit.record("user.recovery_codes_new", actor=self.actor, object_type="user",
                               object_id=user.id)
        return codes


async def verify_second_factor(user_id: int, code: str) -> str | None:
    """"totp" or "recovery_code" when ``code`` is right, else None. Each authenticator code
    is accepted once (a replayed code fails); a recovery code is used up. Recovery codes are
    hashes, not encrypted, so they still work when the authenticator secret does not decrypt;
    when neither works in that case, ``SecondFactorUnreadable`` says why."""
    user = await get_user(user_id)
    if not user.totp_enabled:
        return None
    try:
        secret = open_totp_secret(user)
    except totp_crypto.UnreadableSecret:
        _log_unreadable(user_id, "sign-in")
        method = await _use_recovery_code(user_id, code)
        if method is None:
            raise SecondFactorUnreadable from None
        return method
    step = mfa.totp_step(secret, code)
    if step is not None:
        async with db.write_transaction():
            await _lock_user_row(user_id)
            fresh = await get_user(user_id)
            if fresh.totp_last_step is not None and step <= fresh.totp_last_step:
                return None
            await User.update({User.totp_last_step: step}).where(User.id == user_id)
        return "totp"
    return await _use_recovery_code(user_id, code)


async def _use_recovery_code(user_id: int, code: str) -> str | None:
    if not mfa.looks_like_recovery_code(code):
        return None
    async with db.write_transaction():
        await _lock_user_row(user_id)
        fresh = await get_user(user_id)
        stored = mfa.stored_codes(fresh.recovery_codes)
        match = mfa.match_recovery_code(stored, code)
        if match is None:
            return None
        stored.remove(match)
        await User.update({User.recovery_codes: stored}).where(User.id == user_id)
    return "recovery_code"


def remaining_recovery_codes(user: User) -> int:
    return len(mfa.stored_codes(user.recovery_codes))


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


async def account_exists(email: str) -> bool:
    return bool(await User.exists().where(User.email == normalise_email(email)))


async def authenticate(email: str, password: str) -> User | None:
    """The active user with that e-mail and password, or None (same timing either way)."""
    user = await User.objects().where(User.email == normalise_email(email)).first()
    ok = await verify_password_off_loop(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    return user


async def mark_login(user: Any) -> None:
    await User.update({User.last_login_at: datetime.now(UTC)}).where(User.id == user.id)
