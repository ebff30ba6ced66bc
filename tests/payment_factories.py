"""Payment factories: payee accounts, and a bank that answers batches (through the documented file formats)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.auth import Principal, Role
from resolvers.payments import jobs, service
from resolvers.payments.adapter import FileRailAdapter
from resolvers.payments.bankfile import answer_batch, format_returns
from resolvers.payments.jobs import ImportSummary
from resolvers.payments.models import InstructionState, PayeeAccount, PaymentInstruction
from resolvers.payments.service import Payee, PayeeKind

OPERATOR = Principal(subject="payments-operator", role=Role.ADMIN)
_numbers = itertools.count(1)


def account_number() -> str:
    """A fresh 19-digit account number."""
    return f"6222{next(_numbers):015d}"


def add_account(session: Session, *, customer_id: int | None = None, partner_id: int | None = None,
                number: str | None = None) -> PayeeAccount:
    """Register a bank account for a customer or a partner (staff registers it)."""
    payee = Payee(PayeeKind.CUSTOMER, customer_id) if customer_id is not None else \
        Payee(PayeeKind.PARTNER, partner_id or 0)
    return service.register_account(session, principal=OPERATOR, payee=payee, bank_code="ICBC",
                                    account_number=number or account_number(), holder_name="张三")


def returns_text(rows: list[PaymentInstruction], returned: Mapping[str, str] | None = None,
                 reference: str = "R1") -> str:
    """The bank's answer to ``rows``: each SETTLED, or RETURNED with the code ``returned`` names by reference."""
    returned = returned or {}
    answers = [(r.reference, r.reference not in returned, r.amount, returned.get(r.reference, f"TX{r.id:08d}"))
               for r in rows]
    return format_returns(reference, "2026-11-27", answers)


def bank_round(session: Session, *, at: dt.datetime, returned: Mapping[str, str] | None = None,
               settle: bool = True) -> list[PaymentInstruction]:
    """Export what waits into a batch and (with ``settle``) answer it, all in this session; returns the batch."""
    batch = service.export_batch(session, now=at, adapter="test")
    if batch is None:
        return []
    rows = list(session.scalars(select(PaymentInstruction).where(PaymentInstruction.batch_id == batch.id)
                                .order_by(PaymentInstruction.id)))
    if settle:
        text = returns_text(rows, returned, reference=batch.reference.replace("B", "R"))
        outcome = service.import_returns(session, name=f"{batch.reference}.ret", text=text,
                                         sha256=hashlib.sha256(text.encode()).hexdigest(), at=at)
        assert outcome.error is None and outcome.file is not None and not outcome.file.rejected, outcome
    return rows


def settled_total(session: Session) -> Decimal:
    """Sum of every settled instruction."""
    return sum((r.amount for r in session.scalars(select(PaymentInstruction).where(
        PaymentInstruction.state == InstructionState.SETTLED))), Decimal(0))


def play_bank(session_factory: sessionmaker[Session], data_dir: Path, *, at: dt.datetime,
              returned: Mapping[str, str] | None = None) -> ImportSummary:
    """The whole exchange through files: export a batch, answer it as the bank would, import the answer."""
    adapter = FileRailAdapter(data_dir / "payments")
    jobs.export_batches(session_factory, at, adapter)
    for batch in sorted(adapter.outbox.glob("*.txt")):
        name, text = answer_batch(batch.read_text(encoding="utf-8"), date_iso=at.date().isoformat(),
                                  returned=returned)
        if not (adapter.returns / "processed" / name).exists():
            adapter.drop_returns(name, text)
    return jobs.import_returns(session_factory, at, adapter)
