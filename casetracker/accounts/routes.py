from casetracker.accounts.controllers import LoginController

ROUTE_HANDLERS = [LoginController]
