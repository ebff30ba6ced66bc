"""Object types of advances: the advance with its balances and schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import ADVANCE_READERS
from resolvers.advances import models as m
from resolvers.advances import service
from schema.advances.enums import AdvanceDecision, AdvanceMovementKind, AdvanceMovementState, AdvanceState
from schema.advances.loaders import InstallmentsByAdvanceIdLoader
from schema.context import Context
from schema.payments.queries import After, Before, First, Last
from schema.permissions import access
from schema.relay import PAGING, Connection, Node, connection, encode_global_id, page_request
from schema.scalars import Money

__all__ = ["Advance", "AdvanceInstallment", "AdvanceMovement"]


@strawberry.type(description="One instalment of an advance's repayment schedule.")
@access(ADVANCE_READERS)
class AdvanceInstallment:
    seq: int = strawberry.field(description="1, 2, ... in due order.")
    due_on: dt.date = strawberry.field(description="Due date (business date).")
    amount: Money = strawberry.field(description="Amount due.")
    covered: Money = strawberry.field(description="How much of it repayments and offsets have covered.")

    @classmethod
    def from_row(cls, r: m.Installment) -> AdvanceInstallment:
        return cls(seq=r.seq, due_on=r.due_on, amount=r.amount, covered=r.covered)


@strawberry.type(description="A repayment, offset or write-off of an advance.")
@access(ADVANCE_READERS)
class AdvanceMovement:
    kind: AdvanceMovementKind = strawberry.field(description="What it is.")  # type: ignore[valid-type]
    state: AdvanceMovementState = strawberry.field(description="Whether it applied.")  # type: ignore[valid-type]
    amount: Money = strawberry.field(description="Amount.")
    on_day: dt.date = strawberry.field(description="Business date it was recorded.")

    @classmethod
    def from_row(cls, r: m.Movement) -> AdvanceMovement:
        return cls(kind=r.kind, state=r.state, amount=r.amount, on_day=r.on_day)


@strawberry.type(description="An advance paid to a customer in hospital against an expected claim. At every step "
                 "advanced = repaid + offset + outstanding + writtenOff.")
@access(ADVANCE_READERS)
class Advance(Node):
    number: str = strawberry.field(description="The advance's number (ADV + date + 8 hex digits).")
    state: AdvanceState = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    decision: AdvanceDecision | None = strawberry.field(  # type: ignore[valid-type]
        description="How it was decided (null while in review).")
    requested: Money = strawberry.field(description="The amount applied for (paid out when approved).")
    advanced: Money = strawberry.field(description="Paid out (settled by the bank).")
    repaid: Money = strawberry.field(description="Repaid by the customer.")
    offset: Money = strawberry.field(description="Kept from the claim payment.")
    outstanding: Money = strawberry.field(description="Still owed.")
    written_off: Money = strawberry.field(description="Written off on default.")
    score_band: int | None = strawberry.field(description="The credit report's score band (null without one).")
    diagnosis_code: str = strawberry.field(description="The admission's ICD-10 diagnosis.")
    admission_date: dt.date = strawberry.field(description="The hospital admission date.")
    hospital: str = strawberry.field(description="The hospital.")
    paid_on: dt.date | None = strawberry.field(description="When the payout settled (business date).")
    overdue_since: dt.date | None = strawberry.field(description="Due date of the earliest uncovered instalment "
                                                     "while OVERDUE.")
    defaulted_on: dt.date | None = strawberry.field(description="When it defaulted.")
    version: int = strawberry.field(description="Optimistic-locking version (reviewAdvance's expectedVersion).")
    pk: strawberry.Private[int]

    @strawberry.field(description="The repayment schedule (a few instalments, fixed when the advance is paid).")
    def installments(self, info: Info[Context, Any]) -> list[AdvanceInstallment]:
        return info.context.loader(InstallmentsByAdvanceIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.pk, AdvanceInstallment.from_row)

    @strawberry.field(description=f"Repayments, offsets and write-offs, oldest first. {PAGING}")
    def movements(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                  before: Before = None) -> Connection[AdvanceMovement]:
        ctx = info.context
        page = service.list_movements(ctx.session, advance_id=self.pk,
                                      page=page_request(first, after, last, before, ctx.settings))
        return connection(page, AdvanceMovement.from_row,
                          count=lambda: service.count_movements(ctx.session, advance_id=self.pk))

    @classmethod
    def from_row(cls, r: m.Advance) -> Advance:
        return cls(id=strawberry.ID(encode_global_id("Advance", r.id)), number=r.number, state=r.state,
                   decision=r.decision, requested=r.requested, advanced=r.advanced, repaid=r.repaid,
                   offset=r.offset_amount, outstanding=r.outstanding, written_off=r.written_off,
                   score_band=r.score_band, diagnosis_code=r.diagnosis_code, admission_date=r.admission_date,
                   hospital=r.hospital, paid_on=r.paid_on, overdue_since=r.overdue_since,
                   defaulted_on=r.defaulted_on, version=r.version, pk=r.id)
