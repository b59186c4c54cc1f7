"""Guardrail: every staff route checks a permission (``auth.guards.requires``) unless it is a
page any signed-in staff member may open, listed here by name on purpose.

Public routes (opt ``public``) and token-authenticated API routes (opt ``api``) are left out:
the session guard lets them through and their own guards decide.
"""

from __future__ import annotations

from typing import Any

from casetracker.auth.guards import API, PUBLIC

# Pages for "any signed-in staff member": their own account, the dashboard, sign-out and the
# second sign-in step, notifications. Keep this short and explicit.
ANY_STAFF_ROUTE_NAMES = frozenset({
    "staff.home",
    "dashboard",
    "logout",
    "login.2fa",
    "login.2fa.submit",
    "account",
    "account.password",
    "account.password.submit",
    "account.2fa",
    "account.2fa.confirm",
    "account.2fa.recovery", "account.2fa.recovery.shown",
    "account.2fa.disable",
    "account.notifications",
    "account.calendar",
    "notifications",
    "notifications.read",
    "notifications.read_all",
})


def _handlers(app: Any) -> list[tuple[str, Any]]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            found.append((route.path, handler))
    return found


def _permissions(handler: Any) -> set[Any]:
    """Permissions demanded by the handler's ``requires`` guards (Litestar wraps guards; the
    original is ``.func``)."""
    found: set[Any] = set()
    for guard in handler.resolve_guards():
        found |= set(getattr(getattr(guard, "func", guard), "permissions", ()) or ())
    return found


def _has_permission_guard(handler: Any) -> bool:
    return bool(_permissions(handler))


def test_every_staff_route_has_a_permission_guard_or_is_allow_listed(app: Any) -> None:
    unguarded = []
    for path, handler in _handlers(app):
        opt = handler.opt or {}
        if opt.get(PUBLIC) or opt.get(API):
            continue
        if set(getattr(handler, "http_methods", ())) == {"OPTIONS"}:
            continue  # Litestar's automatic OPTIONS answers carry no data
        if _has_permission_guard(handler) or handler.name in ANY_STAFF_ROUTE_NAMES:
            continue
        unguarded.append(f"{sorted(getattr(handler, 'http_methods', []))} {path} "
                         f"(name={handler.name!r})")
    assert not unguarded, ("Routes without a permission guard (add guards=[requires(...)] or, "
                           "for a page every staff member may open, add the route name to "
                           "ANY_STAFF_ROUTE_NAMES):\n" + "\n".join(sorted(unguarded)))


def test_account_pages_in_the_allow_list_exist(app: Any) -> None:
    names = {handler.name for _, handler in _handlers(app)}
    ours = {n for n in ANY_STAFF_ROUTE_NAMES if n.startswith(("account", "login", "notif"))}
    assert ours <= names, sorted(ours - names)


def test_admin_routes_all_require_an_administrator_permission(app: Any) -> None:
    from casetracker.auth.policies import ROLE_PERMISSIONS

    admin_only = ROLE_PERMISSIONS["administrator"] - frozenset().union(
        *(perms for role, perms in ROLE_PERMISSIONS.items() if role != "administrator"))
    for path, handler in _handlers(app):
        if not path.startswith("/admin"):
            continue
        if set(getattr(handler, "http_methods", ())) == {"OPTIONS"}:
            continue
        assert _permissions(handler) & admin_only, f"{path} can be reached by non-administrators"
