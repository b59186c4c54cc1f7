"""Public intake routes: the complaint form, the status pages and the partner intake API."""

from casetracker.intake.api import ComplaintsApiController
from casetracker.intake.controllers import PublicController
from casetracker.intake.letter_routes import LetterController
from casetracker.intake.staff_routes import StaffIntakeController
from casetracker.intake.status import StatusController

ROUTE_HANDLERS = [PublicController, StatusController, ComplaintsApiController,
                  StaffIntakeController, LetterController]
