"""The claim state machine: every legal move in one table, applied by one function.

Every move and event carries a :class:`~resolvers.claims.reasons.Reason` (a code and its
parameters), never prose; ``reasons.render_reason`` words it for each reader.

Example::

    transition(session, claim, ClaimState.UNDER_REVIEW, actor=principal,
               reason=Reason(ReasonCode.ROUTED_TO_REVIEW, {"blockers": ["AMOUNT_OVER_LIMIT"]}))
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.auth import Principal
from core.db import utcnow
from core.errors import InvalidTransitionError
from resolvers.claims import events
from resolvers.claims.models import Claim, ClaimEvent, ClaimEventKind, ClaimState
from resolvers.claims.reasons import Reason

__all__ = ["DECIDED", "OPEN_FOR_DOCUMENTS", "TRANSITIONS", "allowed", "record_event", "transition"]

S = ClaimState
TRANSITIONS: dict[ClaimState, frozenset[ClaimState]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CLOSED}),
    S.SUBMITTED: frozenset({S.DOCUMENTS_PENDING, S.UNDER_REVIEW, S.INVESTIGATING, S.APPROVED,
                            S.PARTIALLY_APPROVED, S.REJECTED}),
    S.DOCUMENTS_PENDING: frozenset({S.UNDER_REVIEW, S.INVESTIGATING, S.REJECTED, S.CLOSED}),
    S.UNDER_REVIEW: frozenset({S.DOCUMENTS_PENDING, S.INVESTIGATING, S.APPROVED, S.PARTIALLY_APPROVED,
                               S.REJECTED}),
    S.INVESTIGATING: frozenset({S.UNDER_REVIEW, S.DOCUMENTS_PENDING, S.APPROVED, S.PARTIALLY_APPROVED,
                                S.REJECTED}),
    S.APPROVED: frozenset({S.PAID, S.CLOSED, S.REOPENED}),  # closed: approved, nothing payable
    S.PARTIALLY_APPROVED: frozenset({S.PAID, S.REOPENED}),
    S.REJECTED: frozenset({S.CLOSED, S.REOPENED}),
    S.PAID: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.UNDER_REVIEW, S.INVESTIGATING, S.DOCUMENTS_PENDING}),
}
#: States carrying a benefit decision (approved amount and explanation of benefits).
DECIDED = frozenset({S.APPROVED, S.PARTIALLY_APPROVED, S.REJECTED})
#: States in which documents may still be uploaded or requested.
OPEN_FOR_DOCUMENTS = frozenset({S.DRAFT, S.SUBMITTED, S.DOCUMENTS_PENDING, S.UNDER_REVIEW, S.INVESTIGATING,
                                S.REOPENED})


def allowed(current: ClaimState, target: ClaimState) -> bool:
    """Whether the table lets a claim move from ``current`` to ``target``."""
    return target in TRANSITIONS[current]


def record_event(
    session: Session, claim: Claim, *, actor: Principal, kind: ClaimEventKind, reason: Reason,
    from_state: ClaimState | None = None, to_state: ClaimState | None = None, at: dt.datetime | None = None,
) -> ClaimEvent:
    """Append one entry to the claim's timeline."""
    row = ClaimEvent(
        claim_id=claim.id, at=at or utcnow(), actor=actor.subject, role=actor.role.value if actor.role else None,
        kind=kind.value, from_state=from_state.value if from_state else None,
        to_state=to_state.value if to_state else None, reason_code=reason.code.value,
        reason_params=reason.stored_params(),
    )
    session.add(row)
    return row


def transition(
    session: Session, claim: Claim, target: ClaimState, *, actor: Principal, reason: Reason,
    at: dt.datetime | None = None,
) -> Claim:
    """Move ``claim`` to ``target`` if the table allows it, recording who and why."""
    current = claim.state
    if not allowed(current, target):
        raise InvalidTransitionError(f"a {current.value} claim cannot become {target.value}", field="state")
    if current is S.APPROVED and target is S.CLOSED and (claim.approved_amount or 0) > claim.paid_amount:
        raise InvalidTransitionError("an approved claim with money owed is paid, not closed", field="state")
    claim.state = target
    record_event(session, claim, actor=actor, kind=ClaimEventKind.TRANSITION, reason=reason, from_state=current,
                 to_state=target, at=at)
    events.moved(session, claim, current, target, actor=actor, reason=reason)
    return claim
