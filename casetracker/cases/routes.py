from typing import Any

from casetracker.cases.bulk_routes import BULK_ROUTE_HANDLERS
from casetracker.cases.calendar_feed import calendar_feed
from casetracker.cases.controllers import CaseController, ProposedOfficersController

ROUTE_HANDLERS: list = [CaseController, ProposedOfficersController, calendar_feed,
                        *BULK_ROUTE_HANDLERS]

# The lists, search, CSV, dashboard and API (another engineer's module) join here when present.
try:
    from casetracker.cases.listing_routes import LISTING_ROUTE_HANDLERS
except ImportError:
    LISTING_ROUTE_HANDLERS = []

ROUTE_HANDLERS.extend(LISTING_ROUTE_HANDLERS)


def saved_lists(request: Any) -> list[dict[str, Any]]:
    """For the navigation: the person's saved lists, loaded once per page request by the
    session middleware."""
    if request is None:
        return []
    return list(request.scope.get("saved_lists", ()) or ())


def _register_template_helpers(app: Any) -> None:
    engine = getattr(app, "template_engine", None)
    if engine is not None:
        engine.engine.globals["saved_lists"] = saved_lists


ON_STARTUP = [_register_template_helpers]
