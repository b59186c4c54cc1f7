"""Background jobs: the administrators' page, and the in-process runner started with the app."""

from casetracker.jobs.controllers import JobsController
from casetracker.jobs.runner import start_in_process, stop_in_process

ROUTE_HANDLERS = [JobsController]
ON_STARTUP = [start_in_process]
ON_SHUTDOWN = [stop_in_process]
