"""Every permission in the system, as "resource:action". Roles map to sets of these in
auth/policies.py, the one place that decides who may do what."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # accounts and administration
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    API_TOKENS_OWN = "api_tokens:own"
    JOBS_MANAGE = "jobs:manage"  # see failed background jobs and retry them
    # registry
    REGISTRY_READ = "registry:read"
    REGISTRY_EDIT = "registry:edit"
    REGISTRY_IMPORT = "registry:import"
    DESIGNATION_SUSPEND = "designation:suspend"
    # cases
    CASE_READ_ALL = "case:read_all"
    CASE_READ_ASSIGNED = "case:read_assigned"
    CASE_READ_TRIAGE = "case:read_triage"
    CASE_TRIAGE = "case:triage"
    CASE_ASSIGN = "case:assign"
    CASE_INVESTIGATE = "case:investigate"
    CASE_REVIEW = "case:review"
    CASE_EXPORT = "case:export"
    CASE_VIEW_CONTACT = "case:view_contact"
    # evidence
    EVIDENCE_READ = "evidence:read"
    EVIDENCE_UPLOAD = "evidence:upload"
    EVIDENCE_WITHDRAW = "evidence:withdraw"
    EVIDENCE_VERIFY = "evidence:verify"
    # reports
    REPORT_CASE = "report:case"
    RECOMMENDATION_DRAFT = "recommendation:draft"
    RECOMMENDATION_APPROVE = "recommendation:approve"
    RECOMMENDATION_ISSUE = "recommendation:issue"
    # oversight
    OVERSIGHT_METRICS = "oversight:metrics"
    OVERSIGHT_FLAGS = "oversight:flags"
    OVERSIGHT_IMPORT = "oversight:import"
