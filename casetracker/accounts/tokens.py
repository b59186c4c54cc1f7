"""Personal API tokens: created by their owner, shown once, stored as sha256, revocable.

For API routes (see docs/accounts.md)::

    from casetracker.accounts.tokens import api_auth_guard
    Router(path="/api/cases", route_handlers=[...],
           opt={API: True, "skip_session": True, "exclude_from_csrf": True},
           guards=[api_auth_guard, requires(Permission.CASE_READ_ALL)])

``api_auth_guard`` puts the token owner's Actor in ``connection.scope["api_actor"]`` (which
``auth.guards.requires`` reads) or answers 401 JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

from casetracker import db
from casetracker.accounts.tables import ApiToken, User
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.errors import NotFound, ValidationFailed
from casetracker.web.i18n import gettext as _

TOKEN_PREFIX = "ct_"  # noqa: S105 - a marker, not a secret
MAX_TOKENS_PER_USER = 20
# last_used_at is written at most this often per token (each API call need not be a write)
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def bearer_token(authorization_header: str | None) -> str | None:
    if not authorization_header:
        return None
    scheme, _, value = authorization_header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX) or len(value) > 200:
        return None
    return value


async def actor_for_token(authorization_header: str | None, ip: str | None) -> Actor | None:
    """The Actor a ``Authorization: Bearer <token>`` header stands for, or None when the token
    is missing, unknown, revoked, or its owner is disabled or has a password change or a
    two-factor enrolment pending. Notes the token's last use."""
    token = bearer_token(authorization_header)
    if token is None:
        return None
    digest = hash_token(token)
    row = await ApiToken.select(
        ApiToken.id, ApiToken.token_hash, ApiToken.revoked_at, ApiToken.last_used_at,
        ApiToken.user.id.as_alias("user_id"),
    ).where(ApiToken.token_hash == digest).first()
    if row is None or row["revoked_at"] is not None or not hmac.compare_digest(
            row["token_hash"], digest):
        return None
    user = await User.objects().where(
        (User.id == row["user_id"]) & (User.active == True)  # noqa: E712
    ).first()
    if user is None or user.must_change_password:
        return None
    from casetracker.accounts.role_settings import effective_2fa_roles
    from casetracker.accounts.rules import requires_2fa_enrolment

    # A token must not get round what the website insists on first: a reset (one-time)
    # password or a pending two-factor enrolment (e.g. after an administrator's reset).
    if requires_2fa_enrolment(user, await effective_2fa_roles()):
        return None
    now = datetime.now(UTC)
    last = row["last_used_at"]
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return Actor.from_user(user, ip_address=ip)


async def api_auth_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
                         ) -> None:
    """Litestar guard for token-authenticated API routes: 401 JSON without a valid token."""
    ip = connection.client.host if connection.client else None
    actor = await actor_for_token(connection.headers.get("authorization"), ip)
    if actor is None:
        raise NotAuthorizedException(
            "Send a valid personal API token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": 'Bearer realm="casetracker"'},
        )
    connection.scope["api_actor"] = actor  # type: ignore[typeddict-unknown-key]


def provide_api_actor(request: Any) -> Actor:
    """Dependency for API handlers behind ``api_auth_guard``: ``Provide(provide_api_actor,
    sync_to_thread=False)``."""
    actor = request.scope.get("api_actor")
    if actor is None:
        raise NotAuthorizedException("Send a valid personal API token.")
    return actor


@dataclass(frozen=True)
class CreatedToken:
    id: int
    name: str
    token: str  # shown once, never stored


class TokenService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def list_mine(self) -> list[dict[str, Any]]:
        return await ApiToken.select(
            ApiToken.id, ApiToken.name, ApiToken.token_prefix, ApiToken.created_at,
            ApiToken.last_used_at, ApiToken.revoked_at,
        ).where(ApiToken.user == self.actor.id).order_by(ApiToken.id, ascending=False)

    async def create(self, name: str) -> CreatedToken:
        name = name.strip()
        if not name:
            raise ValidationFailed({"name": _("Give the token a name, such as the program "
                                              "that will use it.")})
        if len(name) > 100:
            raise ValidationFailed({"name": _("Use at most 100 characters.")})
        token = new_token()
        async with db.write_transaction():
            active = await ApiToken.count().where(
                (ApiToken.user == self.actor.id) & ApiToken.revoked_at.is_null())
            if active >= MAX_TOKENS_PER_USER:
                raise ValidationFailed({"name": _("You have too many tokens; revoke one you "
                                                  "no longer use first.")})
            row = ApiToken(user=self.actor.id, name=name, token_prefix=token[:10],
                           token_hash=hash_token(token))
            await row.save()
            await audit.record("api_token.create", actor=self.actor, object_type="api_token",
                               object_id=row.id, details={"name": name})
        return CreatedToken(id=row.id, name=name, token=token)

    async def revoke(self, token_id: int) -> None:
        async with db.write_transaction():
            row = await ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.revoked_at).where(
                (ApiToken.id == token_id) & (ApiToken.user == self.actor.id)).first()
            if row is None:
                raise NotFound(_("There is no such token."))
            if row["revoked_at"] is not None:
                return
            await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(
                ApiToken.id == token_id)
            await audit.record("api_token.revoke", actor=self.actor, object_type="api_token",
                               object_id=token_id, details={"name": row["name"]})
