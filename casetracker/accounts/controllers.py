"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from casetracker.accounts import services
from casetracker.accounts.middleware import start_session
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.guards import MFA_STEP, PUBLIC, SETUP_STEP
from casetracker.web.i18n import gettext as _

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dashboard"
    return target


class LoginController(Controller):
    path = "/"

    @get("/login", name="login", opt={PUBLIC: True, "skip_session": True})
    async def login_form(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template:
        return Template("accounts/login.html.j2", context={"next": safe_next(next), "email": "",
                                                          "errors": {}})

    @post("/login", name="login.submit", opt={PUBLIC: True})
    async def login(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        email = str(data.get("email", ""))[:254]
        password = str(data.get("password", ""))[:1024]
        target = safe_next(str(data.get("next", "")))
        ip = request.client.host if request.client else None
        user = await services.authenticate(email, password)
        if user is None:
            await audit.record("login.failed", actor=Actor(id=None, label=email[:254] or "?",
                                                           ip_address=ip),
                               object_type="user", details={"email": email[:254]})
            return Template(
                "accounts/login.html.j2",
                context={"next": target, "email": email,
                         "errors": {"form": _("The e-mail address or password is not right. "
                                              "Check them and try again.")}},
                status_code=422,
            )
        actor = Actor.from_user(user, ip_address=ip)
        if user.totp_enabled:
            start_session(request.session, user, stage="mfa")
            request.session["next"] = target
            return Redirect(path="/login/2fa", status_code=303)
        start_session(request.session, user, stage="full")
        await services.mark_login(user)
        await audit.record("login", actor=actor, object_type="user", object_id=user.id)
        return Redirect(path=target, status_code=303)

    @post("/logout", name="logout", opt={MFA_STEP: True, SETUP_STEP: True})
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        user = request.scope.get("user")
        if user is not None:
            ip = request.client.host if request.client else None
            await audit.record("logout", actor=Actor.from_user(user, ip), object_type="user",
                               object_id=user.id)
        request.clear_session()
        return Redirect(path="/login?signed_out=1", status_code=303)
