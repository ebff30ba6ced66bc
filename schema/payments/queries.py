"""Root query fields of the rail, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.auth import Principal
from core.errors import NotFoundError, ValidationError
from core.roles import PAYEE_ACCOUNT_READERS, PAYMENT_READERS
from resolvers.payments import service
from schema.context import Context
from schema.node import NodeFetcher
from schema.payments.enums import PaymentInstructionState, PaymentPurpose, PaymentReturnHoldState
from schema.payments.types import PayeeAccount, PaymentInstruction, PaymentReturnHold
from schema.permissions import allow
from schema.relay import PAGING, Connection, connection, page_request, parse_global_id

__all__ = ["NODES", "PaymentsQuery"]

First = Annotated[int | None, strawberry.argument(
    description="Forward paging: how many items from the start, or after `after` (0..100; default 20).")]
After = Annotated[str | None, strawberry.argument(
    description="Forward paging: the items after this cursor (an edge's `cursor`).")]
Last = Annotated[int | None, strawberry.argument(
    description="Backward paging: how many items from the end, or before `before` (0..100); not with `first`.")]
Before = Annotated[str | None, strawberry.argument(
    description="Backward paging: the items before this cursor (an edge's `cursor`).")]


def _instruction(ctx: Context, pk: int) -> PaymentInstruction | None:
    if ctx.principal.role not in PAYMENT_READERS:
        return None
    try:
        return PaymentInstruction.from_row(service.get_instruction(ctx.session, pk))
    except NotFoundError:
        return None


def _hold(ctx: Context, pk: int) -> PaymentReturnHold | None:
    if ctx.principal.role not in PAYMENT_READERS:
        return None
    row = ctx.session.get(service.ReturnHold, pk)
    return PaymentReturnHold.from_row(row) if row is not None else None


#: ``node(id:)``: an instruction for payment readers; an account as ``payeeAccounts`` shows it (holder or staff).
NODES: dict[str, NodeFetcher] = {
    "PaymentInstruction": _instruction,
    "PaymentReturnHold": _hold,
    "PayeeAccount": lambda ctx, pk: PayeeAccount.from_row(
        service.get_account(ctx.session, principal=ctx.principal, account_id=pk)),
}


def _own(principal: Principal) -> service.Payee | None:
    """The caller's own payee: a customer's or a partner's (None for staff)."""
    if principal.customer_id is not None:
        return service.Payee(service.PayeeKind.CUSTOMER, principal.customer_id)
    if principal.partner_id is not None:
        return service.Payee(service.PayeeKind.PARTNER, principal.partner_id)
    return None


def _owner(value: strawberry.ID) -> service.Payee:
    kind, pk = parse_global_id(value, field="owner")
    if kind == "Customer":
        return service.Payee(service.PayeeKind.CUSTOMER, pk)
    if kind == "Partner":
        return service.Payee(service.PayeeKind.PARTNER, pk)
    raise NotFoundError("the owner is a Customer or a Partner", field="owner")


@strawberry.type
class PaymentsQuery:
    @strawberry.field(description=f"Payment instructions, oldest first, filtered by state and purpose. {PAGING}",
                      metadata=allow(PAYMENT_READERS))
    def payment_instructions(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        state: Annotated[PaymentInstructionState | None, strawberry.argument(  # type: ignore[valid-type]
            description="Only instructions in this state.")] = None,
        purpose: Annotated[PaymentPurpose | None, strawberry.argument(  # type: ignore[valid-type]
            description="Only instructions of this purpose.")] = None,
    ) -> Connection[PaymentInstruction]:
        ctx = info.context
        page = service.list_instructions(ctx.session, page=page_request(first, after, last, before, ctx.settings),
                                         state=state, purpose=purpose)
        return connection(page, PaymentInstruction.from_row,
                          count=lambda: service.count_instructions(ctx.session, state=state, purpose=purpose))

    @strawberry.field(description="Returns-file lines held back because their owner could not apply them, oldest "
                      f"first: retrying, dead-lettered (finance's queue) or applied later. {PAGING}",
                      metadata=allow(PAYMENT_READERS))
    def payment_return_holds(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        state: Annotated[PaymentReturnHoldState | None, strawberry.argument(  # type: ignore[valid-type]
            description="Only lines in this state (DEAD_LETTER: what needs a person).")] = None,
    ) -> Connection[PaymentReturnHold]:
        ctx = info.context
        page = service.list_holds(ctx.session, page=page_request(first, after, last, before, ctx.settings),
                                  state=state)
        return connection(page, PaymentReturnHold.from_row,
                          count=lambda: service.count_holds(ctx.session, state=state))

    @strawberry.field(description=f"A customer's or partner's bank accounts, newest first (the holder: its own; "
                      f"staff: anyone's). {PAGING}", metadata=allow(PAYEE_ACCOUNT_READERS))
    def payee_accounts(
        self, info: Info[Context, Any],
        first: First = None, after: After = None, last: Last = None, before: Before = None,
        owner: Annotated[strawberry.ID | None, strawberry.argument(
            description="The Customer or Partner global id (default: the caller itself, a customer or partner; "
            "staff name one).")] = None,
    ) -> Connection[PayeeAccount]:
        ctx = info.context
        payee = _owner(owner) if owner is not None else _own(ctx.principal)
        if payee is None:
            raise ValidationError("name the owner: a Customer or Partner global id", field="owner")
        page = service.list_accounts(ctx.session, principal=ctx.principal, payee=payee,
                                     page=page_request(first, after, last, before, ctx.settings))
        return connection(page, PayeeAccount.from_row, count=lambda: len(
            service.accounts_of(ctx.session, principal=ctx.principal, payee=payee)))
