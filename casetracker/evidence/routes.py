"""Evidence routes (staff). The public intake uses evidence.ingest from its own routes."""

from casetracker.evidence.controllers import EvidenceController

ROUTE_HANDLERS = [EvidenceController]
