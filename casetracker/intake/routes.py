"""Public intake routes: the public site and the partner intake API."""

from casetracker.intake.api import ComplaintsApiController
from casetracker.intake.controllers import PublicController

ROUTE_HANDLERS = [PublicController, ComplaintsApiController]
