"""Assigning work-queue claims to staff: team leads assign to anyone, an adjuster takes or returns their own."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import (
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
    collect_errors,
)
from core.roles import CLAIM_ASSIGNERS
from resolvers.claims.models import Claim, ClaimState
from resolvers.claims.scoping import claim_visible

__all__ = ["DONE_STATES", "assign_claim"]

#: States in which a claim waits for nobody: it cannot be assigned.
DONE_STATES = (ClaimState.DRAFT, ClaimState.PAID, ClaimState.CLOSED, ClaimState.REJECTED)
_SUBJECT = re.compile(r"^[^\s]{1,200}$")


def assign_claim(session: Session, *, principal: Principal, claim_id: int, assignee: str | None,
                 expected_version: int | None) -> Claim:
    """Assign ``claim_id`` to ``assignee`` (a staff subject; None: unassign), checking every refusal at once."""
    claim = session.scalar(select(Claim).where(Claim.id == claim_id, claim_visible(principal)).with_for_update())
    if claim is None:
        raise NotFoundError("claim not found", field="claimId")
    target = assignee.strip() if assignee else None
    with collect_errors() as errors:
        if expected_version is not None and claim.version != expected_version:
            errors.add(StaleVersionError(f"the claim is at version {claim.version}", field="expectedVersion"))
        if target is not None and not _SUBJECT.match(target):
            errors.add(ValidationError("assignee: a subject of 1-200 characters without spaces", field="assignee"))
        if claim.state in DONE_STATES:
            errors.add(InvalidTransitionError(f"a {claim.state.value} claim waits for nobody", field="claimId",
                                              code="INVALID_TRANSITION"))
        if principal.role not in CLAIM_ASSIGNERS:
            mine = target in (None, principal.subject) and claim.assignee in (None, principal.subject)
            if not mine:
                errors.add(ForbiddenError("adjusters take claims for themselves or give back their own; team "
                                          "leads assign to others", field="assignee"))
    claim.assignee = target
    session.flush()
    return claim
