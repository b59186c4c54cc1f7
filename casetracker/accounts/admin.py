"""Administrators manage users (create, change role, disable / re-enable, reset password or
two-factor sign-in; never delete) and the roles that must use two-factor sign-in."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect

from casetracker.accounts import role_settings, services
from casetracker.accounts.tables import Role, User
from casetracker.auth.guards import actor_from_connection, requires
from casetracker.auth.permissions import Permission
from casetracker.errors import Conflict, ValidationFailed
from casetracker.web.flash import flash, keep_for_next_page, take_from_last_page
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PAGE_SIZE = 50
ROLES = [r.value for r in Role]


def _actor(request: Request[Any, Any, Any]) -> Any:
    actor = actor_from_connection(request)
    assert actor is not None
    return actor


def _show_one_time_password(request: Request[Any, Any, Any], user_id: int, password: str, *,
                            created: bool) -> Redirect:
    keep_for_next_page(request, "one_time_password",
                       {"user_id": user_id, "password": password, "created": created})
    return Redirect(path=f"/admin/users/{user_id}/one-time-password", status_code=303)


class UserAdminController(Controller):
    path = "/admin/users"
    guards = [requires(Permission.USERS_MANAGE)]  # noqa: RUF012 - Litestar reads this

    @get("/", name="admin.users")
    async def index(self, q: FromQuery[str | None] = None, role: FromQuery[str | None] = None,
                    status: FromQuery[str | None] = None, page: FromQuery[int] = 1) -> Template:
        where: Any = None

        def add(clause: Any) -> None:
            nonlocal where
            where = clause if where is None else where & clause

        search = (q or "").strip()[:100]
        if search:
            pattern = f"%{search.replace('%', '').replace('_', '')}%"
            add(User.email.ilike(pattern) | User.name.ilike(pattern))
        if role in ROLES:
            add(User.role == role)
        if status == "active":
            add(User.active == True)  # noqa: E712
        elif status == "disabled":
            add(User.active == False)  # noqa: E712
        page = max(1, min(page, 10_000))
        query = User.select(User.id, User.email, User.name, User.role, User.active,
                            User.totp_enabled, User.last_login_at, User.must_change_password)
        count = User.count()
        if where is not None:
            query = query.where(where)
            count = count.where(where)
        rows = await query.order_by(User.name).order_by(User.id).limit(PAGE_SIZE).offset(
            (page - 1) * PAGE_SIZE)
        total = await count
        return Template("admin/users.html.j2", context={
            "users": rows, "q": search, "role": role or "", "status": status or "",
            "roles": ROLES, "page": page, "total": total,
            "has_next": page * PAGE_SIZE < total})

    @get("/new", name="admin.users.new")
    async def new_form(self) -> Template:
        return Template("admin/user_new.html.j2", context={
            "roles": ROLES, "values": {"role": "investigator"}, "errors": {}})

    @post("/new", name="admin.users.create")
    async def create(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        values = {k: str(data.get(k, ""))[:300] for k in ("name", "email", "role")}
        try:
            user, password = await services.UserService(_actor(request)).\
                create_with_one_time_password(**values)
        except ValidationFailed as exc:
            return Template("admin/user_new.html.j2", status_code=422, context={
                "roles": ROLES, "values": values, "errors": exc.errors})
        return _show_one_time_password(request, user.id, password, created=True)

    @get("/{user_id:int}", name="admin.users.detail")
    async def detail(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Template:
        user = await services.get_user(user_id)
        return Template("admin/user_detail.html.j2", context={
            "account": user, "roles": ROLES,
            "recovery_left": services.remaining_recovery_codes(user),
            "is_self": user.id == _actor(request).id})

    async def _change(self, request: Request[Any, Any, Any], user_id: int, verb: str,
                      message: str, **kwargs: Any) -> Redirect:
        service = services.UserService(_actor(request))
        try:
            await getattr(service, verb)(user_id, **kwargs)
        except (Conflict, ValidationFailed) as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, message)
        return Redirect(path=f"/admin/users/{user_id}", status_code=303)

    @post("/{user_id:int}/role", name="admin.users.role")
    async def change_role(self, request: Request[Any, Any, Any], user_id: FromPath[int],
                          data: FormBody) -> Redirect:
        return await self._change(request, user_id, "change_role", _("The role was changed."),
                                  new_role=str(data.get("role", "")))

    @post("/{user_id:int}/disable", name="admin.users.disable")
    async def disable(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Redirect:
        return await self._change(request, user_id, "disable",
                                  _("The account is disabled; its sessions have ended."))

    @post("/{user_id:int}/enable", name="admin.users.enable")
    async def enable(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Redirect:
        return await self._change(request, user_id, "enable", _("The account is enabled again."))

    @post("/{user_id:int}/reset-2fa", name="admin.users.reset_2fa")
    async def reset_2fa(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Redirect:
        return await self._change(request, user_id, "reset_2fa",
                                  _("Two-factor sign-in was reset; the person sets it up again "
                                    "at their next sign-in."))

    @post("/{user_id:int}/reset-password", name="admin.users.reset_password")
    async def reset_password(self, request: Request[Any, Any, Any],
                             user_id: FromPath[int]) -> Redirect:
        user, password = await services.UserService(_actor(request)).reset_password(user_id)
        return _show_one_time_password(request, user.id, password, created=False)

    @get("/{user_id:int}/one-time-password", name="admin.users.one_time_password")
    async def one_time_password(self, request: Request[Any, Any, Any],
                                user_id: FromPath[int]) -> Any:
        """The password the last POST made, shown once: a reload shows it no more (and
        resets nothing again)."""
        kept = take_from_last_page(request, "one_time_password")
        if kept is None or kept.get("user_id") != user_id:
            flash(request, _("The one-time password was shown once and is not kept. If it was "
                             "lost, reset the password again."), "error")
            return Redirect(path=f"/admin/users/{user_id}", status_code=303)
        user = await services.get_user(user_id)
        page = Template("admin/one_time_password.html.j2", context={
            "account": user, "password": kept["password"], "created": kept["created"]})
        page.headers["cache-control"] = "no-store"
        return page


class RoleSettingsController(Controller):
    path = "/admin/roles"
    guards = [requires(Permission.USERS_MANAGE)]  # noqa: RUF012 - Litestar reads this

    @get("/", name="admin.roles")
    async def index(self) -> Template:
        return Template("admin/roles.html.j2", context={
            "roles": ROLES, "ticked": await role_settings.effective_2fa_roles(),
            "always": role_settings.configured_roles(),
            "by_default": role_settings.default_roles()})

    @post("/", name="admin.roles.submit")
    async def save(self, request: Request[Any, Any, Any]) -> Redirect:
        form = await request.form()
        wanted = await role_settings.set_required_roles(_actor(request),
                                                        form.getall("require_2fa", []))
        flash(request, _("Saved. People in the ticked roles set up two-factor sign-in at their "
                         "next page view."))
        if role_settings.default_roles() - wanted:
            flash(request, _("Some roles that can see complainants' identity or evidence now "
                             "sign in with a password alone. This is recorded in the audit "
                             "log."), "warning")
        return Redirect(path="/admin/roles", status_code=303)
