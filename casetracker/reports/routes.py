"""Routes of the reports package (documents and rescission recommendations)."""

from __future__ import annotations

from typing import Any

from casetracker.reports import rendering
from casetracker.reports.controllers import RecommendationController, case_report

ROUTE_HANDLERS: list[Any] = [RecommendationController, case_report]

# The PDF worker pool starts with the first document and stops with the app.
ON_STARTUP = [rendering.start_pool]
ON_SHUTDOWN = [rendering.shutdown_pool]
