"""Route guards. The app-level ``session_guard`` protects every route not marked public;
``requires`` checks a permission through the policy module.

Guards are ``async`` although they do no I/O: Litestar runs a plain function guard in a
worker thread, a thread hand-off on every request (most of a small request's time)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission
from casetracker.auth.policies import has_permission
from casetracker.web.errors import LoginRequired, RedirectRequired

# Route opts
PUBLIC = "public"  # no sign-in needed (public site, login page, static files)
API = "api"  # token-authenticated JSON API: the API's own guard authenticates
MFA_STEP = "mfa_step"  # reachable between password and second factor
SETUP_STEP = "setup_step"  # reachable while a password change or 2FA enrolment is pending


def actor_from_connection(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    user = connection.scope.get("user")
    ip = connection.client.host if connection.client else None
    if user is None:
        return None
    return Actor.from_user(user, ip_address=ip)


def _api_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    """The API token's owner, which the token middleware put in the scope."""
    return cast("Actor | None", connection.scope.get("api_actor"))


async def session_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    opt = handler.opt
    if opt.get(PUBLIC) or opt.get(API):
        return
    user = connection.scope.get("user")
    if user is None:
        raise LoginRequired()
    stage = connection.scope.get("auth_stage", "full")
    if stage == "mfa":
        if opt.get(MFA_STEP):
            return
        raise RedirectRequired("/login/2fa")
    if opt.get(SETUP_STEP) or opt.get(MFA_STEP):
        return
    if user.must_change_password:
        raise RedirectRequired("/account/password")
    from casetracker.accounts.rules import requires_2fa_enrolment

    # The session middleware puts the roles that need 2FA (settings + admin page) in the scope.
    required: Iterable[str] = connection.scope.get(  # type: ignore[assignment]  # our key in the ASGI scope
        "require_2fa_roles", connection.app.state.get("require_2fa_roles", ()))
    if requires_2fa_enrolment(user, required):
        raise RedirectRequired("/account/2fa")


def requires(*permissions: Permission):
    """Guard factory: the signed-in user must hold every listed permission."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = actor_from_connection(connection) or _api_actor(connection)
        if actor is None:
            raise LoginRequired()
        for permission in permissions:
            if not has_permission(actor, permission):
                raise PermissionDeniedException("You do not have permission to do that.")

    guard.__name__ = "requires_" + "_".join(p.value.replace(":", "_") for p in permissions)
    guard.permissions = permissions  # type: ignore[attr-defined]
    return guard


def requires_any(*permissions: Permission):
    """Guard factory: the signed-in user must hold at least one of the listed permissions
    (e.g. any of the case-reading ones; which objects they then see is for the policies)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = actor_from_connection(connection) or _api_actor(connection)
        if actor is None:
            raise LoginRequired()
        if not any(has_permission(actor, permission) for permission in permissions):
            raise PermissionDeniedException("You do not have permission to do that.")

    guard.__name__ = "requires_any_" + "_".join(p.value.replace(":", "_") for p in permissions)
    guard.permissions = permissions  # type: ignore[attr-defined]
    return guard
