"""Events of advances: applied, decided, paid, balance moved, overdue, defaulted (amounts and ids only)."""

from __future__ import annotations

from decimal import Decimal

from core.event_stream import EventPayload, register_event_type
from core.roles import ADVANCE_READERS

__all__ = ["AdvanceApplied", "AdvanceBalanceMoved", "AdvanceStateChanged"]


class AdvanceApplied(EventPayload):
    """A customer (or an agent for them) applied; ``state`` says whether pay-first approved it at once."""

    advance_id: int
    customer_id: int
    requested: Decimal
    state: str


class AdvanceStateChanged(EventPayload):
    """An advance moved: approved, rejected, paid, overdue, defaulted, closed."""

    advance_id: int
    customer_id: int
    state: str


class AdvanceBalanceMoved(EventPayload):
    """A repayment, offset or write-off reduced what is outstanding."""

    advance_id: int
    customer_id: int
    kind: str
    amount: Decimal
    outstanding: Decimal


register_event_type("advance.applied", 1, AdvanceApplied, aggregate="Advance", readers=ADVANCE_READERS)
register_event_type("advance.state_changed", 1, AdvanceStateChanged, aggregate="Advance", readers=ADVANCE_READERS)
register_event_type("advance.balance_moved", 1, AdvanceBalanceMoved, aggregate="Advance", readers=ADVANCE_READERS)
