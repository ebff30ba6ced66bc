"""The work-order state machine: every allowed move, explicitly; anything else is refused.

Skipping a state (NEW straight to RESOLVED or CLOSED, PENDING_* before the order was opened) is
``INVALID_TRANSITION``; any change of a CLOSED or MERGED order is ``ORDER_CLOSED``.
"""

from __future__ import annotations

from core.errors import ConflictError, InvalidTransitionError
from resolvers.service.models import FINAL_STATES, WorkOrderState

__all__ = ["TRANSITIONS", "check_editable", "check_transition"]

S = WorkOrderState

#: From each state, the states it may move to.
TRANSITIONS: dict[WorkOrderState, frozenset[WorkOrderState]] = {
    S.NEW: frozenset({S.OPEN, S.MERGED}),
    S.OPEN: frozenset({S.PENDING_CUSTOMER, S.PENDING_INTERNAL, S.RESOLVED, S.MERGED}),
    S.PENDING_CUSTOMER: frozenset({S.OPEN, S.RESOLVED, S.MERGED}),
    S.PENDING_INTERNAL: frozenset({S.OPEN, S.RESOLVED, S.MERGED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
    S.MERGED: frozenset(),
}


def check_editable(state: WorkOrderState) -> None:
    """Refuse any change of a closed or merged order."""
    if state in FINAL_STATES:
        raise ConflictError(f"the work order is {state.value}: nothing may change", field="workOrderId",
                            code="ORDER_CLOSED")


def check_transition(current: WorkOrderState, target: WorkOrderState) -> None:
    """Refuse a move the table does not list (a closed order: ORDER_CLOSED; a skip: INVALID_TRANSITION)."""
    check_editable(current)
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.name for s in TRANSITIONS[current]))
        raise InvalidTransitionError(f"a {current.name} work order cannot move to {target.name} (allowed: {allowed})",
                                     field="state", code="INVALID_TRANSITION")
