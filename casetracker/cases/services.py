"""CaseService: the verbs of case work, one module per thing staff do.

- ``casework.py``: the shared base (loading under a lock, policy checks, audit, notifications)
  and the two audited reads (the case, the complainant's contact);
- ``triage.py``, ``assignment.py``, ``investigation.py``, ``review.py``, ``referrals.py``,
  ``designations.py``: the verbs;
- ``case_page.py``: the case page's view-model; ``listing.py``: lists, filters and search.

``CaseService`` gathers the verbs so callers hold one object per acting user.
"""

from __future__ import annotations

from casetracker.cases.assignment import AssignmentVerbs, CaseWorkload
from casetracker.cases.case_page import NamedClock, case_clocks, case_page_context
from casetracker.cases.designations import DesignationVerbs, designations_for
from casetracker.cases.investigation import InvestigationVerbs
from casetracker.cases.review import ReviewVerbs
from casetracker.cases.triage import TriageVerbs

__all__ = [
    "CaseService",
    "CaseWorkload",
    "NamedClock",
    "case_clocks",
    "case_page_context",
    "designations_for",
]


class CaseService(TriageVerbs, AssignmentVerbs, InvestigationVerbs, ReviewVerbs,
                  DesignationVerbs):
    """Every case verb, for one acting user (see the modules above for each kind of work)."""
