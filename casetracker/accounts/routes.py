from typing import Any

from casetracker.accounts.admin import RoleSettingsController, UserAdminController
from casetracker.accounts.controllers import (
    AccountController,
    LoginController,
    NotificationController,
)

ROUTE_HANDLERS = [LoginController, AccountController, NotificationController,
                  UserAdminController, RoleSettingsController]


def unread_notification_count(request: Any) -> int:
    """For the nav: loaded once per page request by the session middleware."""
    if request is None:
        return 0
    return int(request.scope.get("unread_notifications", 0) or 0)


def _register_template_helpers(app: Any) -> None:
    engine = getattr(app, "template_engine", None)
    if engine is not None:
        engine.engine.globals["unread_notification_count"] = unread_notification_count


ON_STARTUP = [_register_template_helpers]
