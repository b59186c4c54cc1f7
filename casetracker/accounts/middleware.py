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
SESSION_STARTED = "started"  # when the person signed in: sessions end after session_max_hours


class SessionUserMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["user"] = None
        session = scope.get("session")
        marked = _has_cookie(scope, SIGNED_IN_COOKIE)
        if isinstance(session, dict) and session.get(SESSION_USER):
            now = time.time()
            settings = get_settings()
            idle = now - float(session.get(SESSION_SEEN, 0)) > settings.session_idle_minutes * 60
            too_long = now - float(session.get(SESSION_STARTED, now)) > (
                settings.session_max_hours * 3600)
            if idle or too_long:
                session.clear()
                send = _tell_login_page(send, "idle" if idle else "expired")
            else:
                user = await User.objects().where(
                    (User.id == session[SESSION_USER]) & (User.active == True)  # noqa: E712
                ).first()
                if user is None or session.get(SESSION_VERSION) != _password_version(user):
                    session.clear()
                    send = _with_cookie(send, _forget_marker())
                else:
                    session[SESSION_SEEN] = now
                    session.setdefault(SESSION_STARTED, now)  # sessions from before the limit
                    scope["user"] = user
                    stage = session.get(SESSION_STAGE, "full")
                    scope["auth_stage"] = stage  # type: ignore[typeddict-unknown-key]
                    if stage == "full":
                        await _load_signed_in_context(scope, user)
                    if not marked:
                        send = _with_cookie(send, f"{SIGNED_IN_COOKIE}=1; Path=/; "
                                                  f"Max-Age={MARKER_SECONDS}; HttpOnly; "
                                                  "SameSite=Lax")
        elif isinstance(session, dict) and marked:
            # Signed in on this browser, and the server no longer holds the session: it was
            # dropped by the store after the person had been away even longer.
            send = _tell_login_page(send, "idle")
        await next_app(scope, receive, send)


# A cookie holding no secret ("1") that says "someone signed in on this browser and did not
# sign out": when the server-side session has gone, the login page can still say why.
SIGNED_IN_COOKIE = "ct_staff"
MARKER_SECONDS = 30 * 24 * 3600


def _has_cookie(scope: Scope, name: str) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"cookie" and any(part.strip().split("=", 1)[0] == name
                                    for part in value.decode("latin-1").split(";")):
            return True
    return False


def _forget_marker() -> str:
    return f"{SIGNED_IN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"


def _tell_login_page(send: Send, why: str) -> Send:
    """The login page keeps no session (so no flash): a short-lived cookie tells it to say why
    the person has to sign in again."""
    send = _with_cookie(send, f"{ENDED_COOKIE}={why}; Path=/login; Max-Age=600; HttpOnly; "
                              "SameSite=Lax")
    return _with_cookie(send, _forget_marker())


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
        from casetracker.cases import saved_filters

        scope["saved_lists"] = await saved_filters.for_nav(user.id)  # type: ignore[typeddict-unknown-key]


def _password_version(user: User) -> str:
    changed = user.password_changed_at
    return changed.isoformat() if changed else "initial"


def start_session(session: dict, user: User, *, stage: str) -> None:
    from casetracker.accounts.sessions import rotate_session

    session.clear()
    session[SESSION_USER] = user.id
    session[SESSION_STAGE] = stage
    session[SESSION_SEEN] = time.time()
    session[SESSION_STARTED] = session[SESSION_SEEN]
    session[SESSION_VERSION] = _password_version(user)
    rotate_session(session)
