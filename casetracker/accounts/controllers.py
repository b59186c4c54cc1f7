"""Sign-in (password, second factor, throttling), sign-out and the person's own account:
password, two-factor sign-in, API tokens and notifications."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect

from casetracker.accounts import mfa, notifications, preferences, services, throttle
from casetracker.accounts.middleware import start_session
from casetracker.accounts.role_settings import effective_2fa_roles
from casetracker.accounts.tokens import TokenService
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.guards import MFA_STEP, PUBLIC, SETUP_STEP, actor_from_connection, requires
from casetracker.auth.permissions import Permission
from casetracker.errors import CaseTrackerError, ValidationFailed
from casetracker.web.flash import flash, keep_for_next_page, take_from_last_page
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dashboard"
    return target


def _ip(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _field(data: dict[str, Any], name: str, limit: int = 1024) -> str:
    return str(data.get(name, ""))[:limit]


def _locked_message(state: throttle.ThrottleState | None = None) -> str:
    from casetracker.settings import get_settings

    if state is not None and state.busy:
        return _("Many people are signing in from your network at this moment. Please try "
                 "again in a minute.")
    return _("Too many failed sign-in attempts. For your security, sign-in is paused for "
             "%(minutes)s minutes. Wait, then try again, or ask an administrator for help.",
             minutes=get_settings().login_lockout_minutes)


async def _typed_account(email: str) -> tuple[str, dict[str, Any]]:
    """How the audit log names what was typed as the e-mail of a failed or locked sign-in: the
    address when it is an account's; otherwise a keyed digest, never the text (people type
    their password into the wrong field), so repeated tries still line up."""
    if email and await services.account_exists(email):
        return email[:254], {"email": email[:254]}
    digest = throttle.account_key(email).split(":", 1)[1][:16]
    return "unknown account", {"unknown_account": digest}


async def _record_lockout(email: str, ip: str | None, state: throttle.ThrottleState,
                          stage: str) -> None:
    label, who = await _typed_account(email)
    await audit.record("login.locked", actor=Actor(id=None, label=label, ip_address=ip),
                       object_type="user", details={**who, "reason": state.reason,
                                                    "stage": stage})


class LoginController(Controller):
    path = "/"

    @get("/login", name="login", opt={PUBLIC: True, "skip_session": True})
    async def login_form(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template:
        from casetracker.accounts.middleware import ENDED_COOKIE
        from casetracker.settings import get_settings

        ended = request.cookies.get(ENDED_COOKIE)
        response = Template("accounts/login.html.j2", context={
            "next": safe_next(next), "email": "", "errors": {},
            "ended_idle": ended == "idle", "ended_expired": ended == "expired",
            "max_hours": get_settings().session_max_hours})
        if ended:
            response.delete_cookie(ENDED_COOKIE, path="/login")
        return response

    @post("/login", name="login.submit", opt={PUBLIC: True})
    async def login(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        email = _field(data, "email", 254)
        password = _field(data, "password")
        target = safe_next(str(data.get("next", "")))
        ip = _ip(request)
        context = {"next": target, "email": email}
        attempt = await throttle.reserve_attempt(email, ip)
        if attempt.state.locked:
            # The password is not even checked while locked, so guessing gains nothing.
            await _record_lockout(email, ip, attempt.state, "password")
            return Template("accounts/login.html.j2", status_code=429,
                            context={**context, "errors": {"form": _locked_message(attempt.state)}})
        user = await services.authenticate(email, password)
        if user is None:
            # The reserved attempt stays counted against the account; now the address too.
            await throttle.settle_failure(attempt, ip)
            label, who = await _typed_account(email)
            await audit.record("login.failed", actor=Actor(id=None, label=label, ip_address=ip),
                               object_type="user", details=who)
            return Template(
                "accounts/login.html.j2",
                context={**context,
                         "errors": {"form": _("The e-mail address or password is not right. "
                                              "Check them and try again.")}},
                status_code=422,
            )
        await throttle.forgive(attempt)
        if user.totp_enabled:
            start_session(request.session, user, stage="mfa")
            request.session["next"] = target
            return Redirect(path="/login/2fa", status_code=303)
        start_session(request.session, user, stage="full")
        await services.mark_login(user)
        await throttle.clear_account(email)
        await audit.record("login", actor=Actor.from_user(user, ip_address=ip),
                           object_type="user", object_id=user.id)
        return Redirect(path=target, status_code=303)

    @get("/login/2fa", name="login.2fa", opt={MFA_STEP: True})
    async def second_factor_form(self, request: Request[Any, Any, Any]) -> Any:
        if request.scope.get("auth_stage") == "full":
            return Redirect(path="/dashboard", status_code=303)
        return Template("accounts/login_2fa.html.j2", context={"errors": {}})

    @post("/login/2fa", name="login.2fa.submit", opt={MFA_STEP: True})
    async def second_factor(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        user = request.scope["user"]
        if request.scope.get("auth_stage") == "full":
            return Redirect(path="/dashboard", status_code=303)
        ip = _ip(request)
        attempt = await throttle.reserve_attempt(user.email, ip)
        if attempt.state.locked:
            await _record_lockout(user.email, ip, attempt.state, "second_factor")
            return Template("accounts/login_2fa.html.j2", status_code=429,
                            context={"errors": {"form": _locked_message(attempt.state)}})
        code = _field(data, "code", 64).strip()
        try:
            method = await services.verify_second_factor(user.id, code)
            unreadable = False
        except services.SecondFactorUnreadable:
            method, unreadable = None, True
        if method is None:
            # The reserved attempt stays counted against the account; now the address too.
            await throttle.settle_failure(attempt, ip)
            details = {"email": user.email, "stage": "second_factor"}
            if unreadable:
                details["reason"] = "totp_secret_unreadable"
            await audit.record("login.failed", actor=Actor.from_user(user, ip_address=ip),
                               object_type="user", object_id=user.id, details=details)
            if unreadable:
                # Not the person's fault: say so, and what still works.
                message = _("Your authenticator codes cannot be checked: this server's security "
                            "key has changed. Sign in with one of your recovery codes, or ask "
                            "an administrator to reset your two-factor sign-in.")
            else:
                message = _("That code is not right. Enter the 6 digits your authenticator "
                            "app shows now, or one of your recovery codes.")
            return Template("accounts/login_2fa.html.j2", status_code=422,
                            context={"errors": {"code": message}})
        await throttle.forgive(attempt)
        target = safe_next(request.session.get("next"))
        start_session(request.session, user, stage="full")
        await services.mark_login(user)
        await throttle.clear_account(user.email)
        await audit.record("login", actor=Actor.from_user(user, ip_address=ip),
                           object_type="user", object_id=user.id,
                           details={"second_factor": method})
        if method == "recovery_code":
            fresh = await services.get_user(user.id)
            flash(request, _("You signed in with a recovery code; it cannot be used again. "
                             "%(count)s recovery codes are left.",
                             count=services.remaining_recovery_codes(fresh)), "warning")
        return Redirect(path=target, status_code=303)

    @post("/logout", name="logout", opt={MFA_STEP: True, SETUP_STEP: True})
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        user = request.scope.get("user")
        if user is not None:
            await audit.record("logout", actor=Actor.from_user(user, _ip(request)),
                               object_type="user", object_id=user.id)
        request.clear_session()
        from casetracker.accounts.middleware import SIGNED_IN_COOKIE

        response = Redirect(path="/login?signed_out=1", status_code=303)
        response.delete_cookie(SIGNED_IN_COOKIE, path="/")
        return response


def _show_recovery_codes(request: Request[Any, Any, Any], codes: list[str], *,
                         new_setup: bool) -> Redirect:
    keep_for_next_page(request, "recovery_codes", {"codes": list(codes), "new_setup": new_setup})
    return Redirect(path="/account/2fa/recovery-codes", status_code=303)


class AccountController(Controller):
    """The signed-in person's own account (any staff role)."""

    path = "/account"

    @get("/", name="account")
    async def overview(self, request: Request[Any, Any, Any]) -> Template:
        actor = actor_from_connection(request)
        assert actor is not None
        user = await services.get_user(actor.id)  # type: ignore[arg-type]
        tokens = await TokenService(actor).list_mine()
        required = user.role in await effective_2fa_roles()
        return Template("accounts/account.html.j2", context={
            "account": user, "tokens": [t for t in tokens if t["revoked_at"] is None],
            "recovery_left": services.remaining_recovery_codes(user), "requires_2fa": required,
            "calendar_url": preferences.calendar_url(user.id, user.calendar_nonce),
        })

    @post("/notifications", name="account.notifications")
    async def notification_email(self, request: Request[Any, Any, Any]) -> Redirect:
        """Turn notification e-mails (and the daily digest by e-mail) on or off."""
        actor = actor_from_connection(request)
        assert actor is not None
        form = await request.form()
        on = form.get("email_notifications") == "on"
        await preferences.PreferenceService(actor).set_email_notifications(on)
        flash(request, _("You will get notifications by e-mail too.") if on else
              _("You will get notifications in the app only."))
        return Redirect(path="/account#notification-email", status_code=303)

    @post("/calendar", name="account.calendar")
    async def calendar(self, request: Request[Any, Any, Any]) -> Redirect:
        """Make a (new) secret link for the calendar feed, or turn the feed off."""
        actor = actor_from_connection(request)
        assert actor is not None
        form = await request.form()
        service = preferences.PreferenceService(actor)
        if form.get("action") == "off":
            await service.turn_off_calendar()
            flash(request, _("The calendar feed is off; its link no longer works."))
        else:
            await service.new_calendar_link()
            flash(request, _("Your calendar link is below. Any earlier link no longer works."))
        return Redirect(path="/account#calendar", status_code=303)

    @get("/password", name="account.password", opt={SETUP_STEP: True})
    async def password_form(self, request: Request[Any, Any, Any]) -> Template:
        return Template("accounts/password.html.j2", context={"errors": {}})

    @post("/password", name="account.password.submit", opt={SETUP_STEP: True})
    async def change_password(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        actor = actor_from_connection(request)
        assert actor is not None
        was_forced = bool(request.scope["user"].must_change_password)
        try:
            user = await services.AccountService(actor).change_password(
                current=_field(data, "current_password"), new=_field(data, "new_password", 2048),
                confirm=_field(data, "confirm_password", 2048))
        except ValidationFailed as exc:
            return Template("accounts/password.html.j2", status_code=422,
                            context={"errors": exc.errors})
        # This session carries on under the new password; every other session ends.
        start_session(request.session, user, stage="full")
        flash(request, _("Your password has been changed. Any other sessions have been "
                         "signed out."))
        return Redirect(path="/dashboard" if was_forced else "/account", status_code=303)

    @get("/2fa", name="account.2fa", opt={SETUP_STEP: True})
    async def two_factor(self, request: Request[Any, Any, Any]) -> Template:
        return await self._two_factor_page(request, errors={})

    async def _two_factor_page(self, request: Request[Any, Any, Any], *, errors: dict[str, str],
                               status_code: int = 200) -> Template:
        actor = actor_from_connection(request)
        assert actor is not None
        user = await services.get_user(actor.id)  # type: ignore[arg-type]
        context: dict[str, Any] = {"account": user, "errors": errors,
                                   "required": user.role in await effective_2fa_roles(),
                                   "recovery_left": services.remaining_recovery_codes(user)}
        if not user.totp_enabled:
            secret = await services.AccountService(actor).pending_totp_secret()
            from casetracker.settings import get_settings

            uri = mfa.provisioning_uri(secret, user.email, get_settings().organisation_name)
            context.update(qr=mfa.qr_data_uri(uri), secret=mfa.grouped_secret(secret))
        return Template("accounts/two_factor.html.j2", context=context, status_code=status_code)

    @post("/2fa", name="account.2fa.confirm", opt={SETUP_STEP: True})
    async def confirm_two_factor(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        actor = actor_from_connection(request)
        assert actor is not None
        try:
            codes = await services.AccountService(actor).confirm_totp(_field(data, "code", 64))
        except ValidationFailed as exc:
            return await self._two_factor_page(request, errors=exc.errors, status_code=422)
        except CaseTrackerError:
            return Redirect(path="/account/2fa", status_code=303)
        return _show_recovery_codes(request, codes, new_setup=True)

    @post("/2fa/recovery-codes", name="account.2fa.recovery", opt={SETUP_STEP: True})
    async def new_recovery_codes(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        actor = actor_from_connection(request)
        assert actor is not None
        try:
            codes = await services.AccountService(actor).new_recovery_codes(
                _field(data, "password"))
        except ValidationFailed as exc:
            return await self._two_factor_page(request, errors=exc.errors, status_code=422)
        return _show_recovery_codes(request, codes, new_setup=False)

    @get("/2fa/recovery-codes", name="account.2fa.recovery.shown", opt={SETUP_STEP: True})
    async def recovery_codes_page(self, request: Request[Any, Any, Any]) -> Any:
        """The codes the last POST made, shown once (a reload makes no new codes)."""
        kept = take_from_last_page(request, "recovery_codes")
        if kept is None:
            flash(request, _("Recovery codes are shown only once. If you did not save them, "
                             "make new ones below."), "error")
            return Redirect(path="/account/2fa", status_code=303)
        page = Template("accounts/recovery_codes.html.j2", context={
            "codes": kept["codes"], "new_setup": kept["new_setup"]})
        page.headers["cache-control"] = "no-store"
        return page

    @post("/2fa/disable", name="account.2fa.disable", opt={SETUP_STEP: True})
    async def disable_two_factor(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        actor = actor_from_connection(request)
        assert actor is not None
        try:
            await services.AccountService(actor).disable_totp(_field(data, "password"))
        except ValidationFailed as exc:
            return await self._two_factor_page(request, errors=exc.errors, status_code=422)
        flash(request, _("Two-factor sign-in is off. Your old authenticator entry and recovery "
                         "codes no longer work; set it up again below."), "warning")
        return Redirect(path="/account/2fa", status_code=303)

    @get("/tokens", name="account.tokens", guards=[requires(Permission.API_TOKENS_OWN)])
    async def tokens(self, request: Request[Any, Any, Any]) -> Template:
        return await self._tokens_page(request)

    async def _tokens_page(self, request: Request[Any, Any, Any], *,
                           errors: dict[str, str] | None = None, created: Any = None,
                           name: str = "", status_code: int = 200) -> Template:
        actor = actor_from_connection(request)
        assert actor is not None
        return Template("accounts/tokens.html.j2", status_code=status_code, context={
            "tokens": await TokenService(actor).list_mine(), "errors": errors or {},
            "created": created, "name": name})

    @post("/tokens", name="account.tokens.create", guards=[requires(Permission.API_TOKENS_OWN)])
    async def create_token(self, request: Request[Any, Any, Any], data: FormBody) -> Template:
        actor = actor_from_connection(request)
        assert actor is not None
        name = _field(data, "name", 200)
        try:
            created = await TokenService(actor).create(name)
        except ValidationFailed as exc:
            return await self._tokens_page(request, errors=exc.errors, name=name,
                                           status_code=422)
        return await self._tokens_page(request, created=created)

    @post("/tokens/{token_id:int}/revoke", name="account.tokens.revoke",
          guards=[requires(Permission.API_TOKENS_OWN)])
    async def revoke_token(self, request: Request[Any, Any, Any],
                           token_id: FromPath[int]) -> Redirect:
        actor = actor_from_connection(request)
        assert actor is not None
        await TokenService(actor).revoke(token_id)
        flash(request, _("The token has been revoked; programs using it can no longer sign in."))
        return Redirect(path="/account/tokens", status_code=303)


class NotificationController(Controller):
    path = "/notifications"

    @get("/", name="notifications")
    async def index(self, request: Request[Any, Any, Any],
                    show: FromQuery[str | None] = None,
                    before: FromQuery[int | None] = None) -> Template:
        user = request.scope["user"]
        rows = await notifications.list_for(user.id, unread_only=show == "unread",
                                            before_id=before)
        more = len(rows) == notifications.PAGE_SIZE
        return Template("accounts/notifications.html.j2", context={
            "items": rows, "show": show or "all",
            "next_before": rows[-1]["id"] if more else None})

    @post("/{notification_id:int}/read", name="notifications.read")
    async def read(self, request: Request[Any, Any, Any], notification_id: FromPath[int],
                   data: FormBody) -> Redirect:
        row = await notifications.mark_read(request.scope["user"].id, notification_id)
        if data.get("open") and row["link"]:
            return Redirect(path=safe_next(row["link"]), status_code=303)
        return Redirect(path="/notifications", status_code=303)

    @post("/read-all", name="notifications.read_all")
    async def read_all(self, request: Request[Any, Any, Any]) -> Redirect:
        await notifications.mark_all_read(request.scope["user"].id)
        flash(request, _("All notifications are marked as read."))
        return Redirect(path="/notifications", status_code=303)
