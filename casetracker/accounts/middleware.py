"""Loads the signed-in user from the session into ``scope["user"]``, ending idle sessions.

Guards decide what an anonymous or half-signed-in user may reach (auth/guards.py).
"""

from __future__ import annotations

import time
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from casetracker.accounts.tables import User
from casetracker.settings import get_settings

SESSION_USER = "uid"
SESSION_STAGE = "stage"  # "mfa" while the second factor is pending, "full" once signed in
SESSION_SEEN = "seen"
SESSION_VERSION = "pwv"  # password-change marker: other sessions end when the password changes


class SessionUserMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["user"] = None  # type: ignore[typeddict-unknown-key]
        session = scope.get("session")
        if isinstance(session, dict) and session.get(SESSION_USER):
            now = time.time()
            idle_limit = get_settings().session_idle_minutes * 60
            if now - float(session.get(SESSION_SEEN, 0)) > idle_limit:
                session.clear()
                # The login page keeps no session (so no flash): a short-lived cookie tells it
                # to say why the person has to sign in again.
                send = _with_cookie(send, f"{ENDED_COOKIE}=idle; Path=/login; Max-Age=600; "
                                          "HttpOnly; SameSite=Lax")
            else:
                user = await User.objects().where(
                    (User.id == session[SESSION_USER]) & (User.active == True)  # noqa: E712
                ).first()
                if user is None or session.get(SESSION_VERSION) != _password_version(user):
                    session.clear()
                else:
                    session[SESSION_SEEN] = now
                    scope["user"] = user  # type: ignore[typeddict-unknown-key]
                    stage = session.get(SESSION_STAGE, "full")
                    scope["auth_stage"] = stage  # type: ignore[typeddict-unknown-key]
                    if stage == "full":
                        await _load_signed_in_context(scope, user)
        await next_app(scope, receive, send)


ENDED_COOKIE = "ct_ended"


def _with_cookie(send: Send, cookie: str) -> Send:
    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start":
            MutableScopeHeaders.from_message(message).add("set-cookie", cookie)
        await send(message)

    return wrapped


async def _load_signed_in_context(scope: Scope, user: User) -> None:
    """What the guards and the page chrome need: the roles that must use 2FA (cached; the
    session guard is synchronous) and, for pages, the unread notification count."""
    from casetracker.accounts import notifications, role_settings

    scope["require_2fa_roles"] = await role_settings.effective_2fa_roles()  # type: ignore[typeddict-unknown-key]
    if scope.get("method") in ("GET", "HEAD"):
        scope["unread_notifications"] = await notifications.unread_count(user.id)  # type: ignore[typeddict-unknown-key]


def _password_version(user: User) -> str:
    changed = user.password_changed_at
    return changed.isoformat() if changed else "initial"


def start_session(session: dict, user: User, *, stage: str) -> None:
    from casetracker.accounts.sessions import rotate_session

    session.clear()
    session[SESSION_USER] = user.id
    session[SESSION_STAGE] = stage
    session[SESSION_SEEN] = time.time()
    session[SESSION_VERSION] = _password_version(user)
    rotate_session(session)
