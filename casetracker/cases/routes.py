from casetracker.cases.controllers import CaseController, ProposedOfficersController

ROUTE_HANDLERS: list = [CaseController, ProposedOfficersController]

# The lists, search, CSV, dashboard and API (another engineer's module) join here when present.
try:
    from casetracker.cases.listing_routes import LISTING_ROUTE_HANDLERS
except ImportError:
    LISTING_ROUTE_HANDLERS = []

ROUTE_HANDLERS.extend(LISTING_ROUTE_HANDLERS)
