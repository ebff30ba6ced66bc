"""Typed domain errors: every refusal has a stable code, a message and maybe a field."""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConflictError",
    "DomainError",
    "ForbiddenError",
    "InvalidTransitionError",
    "NotFoundError",
    "StaleVersionError",
    "ValidationError",
]


class DomainError(Exception):
    """A refusal the caller can act on; mapped to a typed GraphQL error, never a 500."""

    code: str = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class ValidationError(DomainError):
    """Input that breaks a rule of the domain."""

    code = "INVALID"


class NotFoundError(DomainError):
    """The thing asked for does not exist, or is not visible to the caller."""

    code = "NOT_FOUND"


class ConflictError(DomainError):
    """The request collides with existing state (duplicate, already done)."""

    code = "CONFLICT"


class StaleVersionError(ConflictError):
    """Optimistic locking: the row changed since the caller read it."""

    code = "STALE_VERSION"


class InvalidTransitionError(DomainError):
    """A state machine refused a transition."""

    code = "INVALID_TRANSITION"


class ForbiddenError(DomainError):
    """The caller is authenticated but may not do this."""

    code = "FORBIDDEN"


class AuthError(DomainError):
    """The caller could not be authenticated (missing, expired or forged token)."""

    code = "UNAUTHENTICATED"
