from casetracker.cases.calendar_feed import calendar_feed
from casetracker.cases.controllers import CaseController, ProposedOfficersController

ROUTE_HANDLERS: list = [CaseController, ProposedOfficersController, calendar_feed]

# The lists, search, CSV, dashboard and API (another engineer's module) join here when present.
try:
    from casetracker.cases.listing_routes import LISTING_ROUTE_HANDLERS
except ImportError:
    LISTING_ROUTE_HANDLERS = []

ROUTE_HANDLERS.extend(LISTING_ROUTE_HANDLERS)
