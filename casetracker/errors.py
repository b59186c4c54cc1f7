"""One exception hierarchy; web/errors.py maps it to HTTP in one place."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class CaseTrackerError(Exception):
    """Base of every error the domain raises on purpose."""

    status_code = 400

    def __init__(self, message: str = "", **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class NotFound(CaseTrackerError):
    status_code = 404


class Forbidden(CaseTrackerError):
    status_code = 403


class InvalidTransition(CaseTrackerError):
    """A workflow step that is not allowed from the object's current state."""

    status_code = 409


class Conflict(CaseTrackerError):
    status_code = 409


class ValidationFailed(CaseTrackerError):
    """Input that breaks a rule; ``errors`` maps field names to messages."""

    status_code = 422

    def __init__(self, errors: dict[str, str], message: str = "") -> None:
        super().__init__(message or "; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class RateLimited(CaseTrackerError):
    """Too many requests of one kind from one address in the window."""

    status_code = 429


def found(row: T | None, message: str) -> T:
    """``row`` itself, or NotFound(message) when the query found nothing (a record deleted
    meanwhile, or a reference that should hold and does not): a 404, never a TypeError on
    ``None[...]`` deeper down."""
    if row is None:
        raise NotFound(message)
    return row
