"""Typed domain errors: every refusal has a stable code, a message and maybe a field.

A service that checks several inputs reports every refusal at once: it collects them and
raises them together at the end of the block (``DomainErrors``); a single one is raised as
itself, so ``except NotFoundError`` keeps working.

Example::

    with collect_errors() as errors:
        if amount <= 0:
            errors.add(ValidationError("must be positive", field="amount", code="NOT_POSITIVE"))
        with errors.check():                 # a DomainError raised inside is collected
            policy = policy_by_number(session, number=number)
        errors.raise_if_any()                # stop before writing anything
        ...                                  # only reached when everything passed
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = [
    "AuthError",
    "ConflictError",
    "DomainError",
    "DomainErrors",
    "ErrorCollector",
    "ForbiddenError",
    "InvalidTransitionError",
    "NotFoundError",
    "StaleVersionError",
    "ValidationError",
    "collect_errors",
    "each_error",
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


class DomainErrors(DomainError):
    """Several refusals at once (a service checked every input before refusing); ``errors`` lists them."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        flat = [e for error in errors for e in each_error(error)]
        if not flat:
            raise ValueError("DomainErrors needs at least one error")
        super().__init__("; ".join(e.message for e in flat), field=flat[0].field, code=flat[0].code)
        self.errors = flat


def each_error(error: DomainError) -> list[DomainError]:
    """The single refusals inside ``error`` (itself unless it is a ``DomainErrors``)."""
    return list(error.errors) if isinstance(error, DomainErrors) else [error]


class ErrorCollector:
    """Refusals gathered while checking inputs (see :func:`collect_errors`)."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []
        self._raised: DomainError | None = None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def add(self, error: DomainError) -> None:
        """Record one refusal (or every refusal of a ``DomainErrors``)."""
        self.errors.extend(each_error(error))

    @contextmanager
    def check(self) -> Iterator[None]:
        """Collect a ``DomainError`` raised inside the block instead of letting it escape."""
        try:
            yield
        except DomainError as exc:
            if exc is self._raised:
                raise
            self.add(exc)

    def raise_if_any(self) -> None:
        """Raise what was collected: one refusal as itself, several as ``DomainErrors``."""
        if not self.errors:
            return
        error = self.errors[0] if len(self.errors) == 1 else DomainErrors(self.errors)
        self._raised = error
        raise error


@contextmanager
def collect_errors() -> Iterator[ErrorCollector]:
    """Collect refusals in the block and raise them all together when it ends."""
    collector = ErrorCollector()
    try:
        yield collector
    except DomainError as exc:
        if exc is collector._raised or not collector:
            raise
        collector.add(exc)  # a refusal raised directly joins the ones collected before it
        collector.raise_if_any()
    collector.raise_if_any()
