"""Errors raised by services; the web layer turns them into pages or JSON with the right status."""

from __future__ import annotations


class DomainError(Exception):
    """Base for errors a user can act on."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Input broke a rule; `errors` maps each field at fault to a message naming the problem."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """A stale version or an illegal state change."""

    status_code = 409


class PermissionDenied(DomainError):
    status_code = 403


class TooManyAttempts(DomainError):
    status_code = 429
