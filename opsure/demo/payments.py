"""Demo payments: customers and hospitals register bank accounts; the demo plays the bank.

A customer registers an account in the app with their first claim, and the hospital's account
is registered by the front office. After the claims are loaded, the rail's built-in file
adapter writes the batch file to ``<data_dir>/payments/outbox/``; the demo then answers it
as a bank would, with a returns file in the documented format (docs/PAYMENTS.md) dropped in
``<data_dir>/payments/returns/``, and imports it: every payout settles except one, which the
bank returns (AC04, account closed) and which is then re-instructed to the customer's new
account and settled in a second batch. Only then are the paid claims PAID.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal
from opsure.demo.actors import ADJUSTER, MAKER, audit, customer_principal
from opsure.demo.clock import DemoClock
from opsure.demo.partners import DemoPartner
from resolvers.payments import service
from resolvers.payments.adapter import FileRailAdapter
from resolvers.payments.bankfile import answer_batch
from resolvers.payments.service import Payee, PayeeKind
from resolvers.policies.models import Customer
from schema.relay import encode_global_id

__all__ = ["PaymentsLoaded", "bank_day", "ensure_account", "open_accounts", "play_the_bank"]

_BANKS = ("ICBC", "CCB", "BOC", "ABC", "CMB")


@dataclass
class PaymentsLoaded:
    """What the demo's bank exchange did."""

    batches: list[str] = field(default_factory=list)
    settled: int = 0
    returned: int = 0
    reinstructed: int = 0


def _register(session: Session, principal: Principal, payee: Payee, *, bank: str, number: str, holder: str) -> None:
    row = service.register_account(session, principal=principal, payee=payee, bank_code=bank, account_number=number,
                                   holder_name=holder)
    audit(session, principal, "registerPayeeAccount", {"bankCode": bank},
          target=encode_global_id("PayeeAccount", row.id))


def _number(seed: str) -> str:
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    return f"6222{digest % 10**15:015d}"


def ensure_account(session: Session, customer_id: int) -> None:
    """The customer registers the account claims are paid into (once; the app asks on the first claim)."""
    payee = Payee(PayeeKind.CUSTOMER, customer_id)
    if service.current_account(session, payee) is None:
        holder = session.get_one(Customer, customer_id).name  # the account is in the customer's own name
        _register(session, customer_principal(customer_id), payee, bank=_BANKS[customer_id % len(_BANKS)],
                  number=_number(f"customer:{customer_id}"), holder=holder)


def open_accounts(session: Session, *, partners: dict[str, DemoPartner]) -> None:
    """The front office registers the hospital's account (it is paid for direct-billed claims)."""
    hospital = partners["hospital"].partner
    _register(session, MAKER, Payee(PayeeKind.PARTNER, hospital.id), bank="ICBC",
              number=_number(f"partner:{hospital.id}"), holder=hospital.name[:100])


def _exchange(session: Session, adapter: FileRailAdapter, clock: DemoClock, *, days_ago: int,
              returned: int = 0) -> tuple[str, int, list[int]] | None:
    """One batch out and the bank's answer in; the first ``returned`` lines come back AC04."""
    at = clock.at(days_ago, 18)
    batch = service.export_batch(session, now=at, adapter=adapter.name)
    if batch is None:
        return None
    text = service.batch_text(session, batch)
    adapter.deliver_batch(batch.reference, text)
    batch.written_at = at
    refs = [line.split("|")[1] for line in text.splitlines() if line.startswith("D|")]
    name, answer = answer_batch(text, date_iso=clock.day(days_ago).isoformat(),
                                returned=dict.fromkeys(refs[:returned], "AC04"))
    path = adapter.drop_returns(name, answer)
    outcome = service.import_returns(session, name=name, text=answer,
                                     sha256=hashlib.sha256(answer.encode()).hexdigest(), at=at)
    adapter.done(next(d for d in adapter.pending_returns() if d.path == path), ok=outcome.error is None)
    assert outcome.file is not None and not outcome.file.rejected, outcome
    failed = [i.id for i in session.scalars(select(service.PaymentInstruction).where(
        service.PaymentInstruction.batch_id == batch.id,
        service.PaymentInstruction.state == service.InstructionState.FAILED))]
    return batch.reference, outcome.file.settled, failed


def bank_day(session: Session, clock: DemoClock, data_dir: Path, *, days_ago: int) -> int:
    """The bank settles what was instructed so far (a scenario that closes a paid claim needs it PAID first)."""
    done = _exchange(session, FileRailAdapter(data_dir / "payments"), clock, days_ago=days_ago)
    return 0 if done is None else done[1]


def play_the_bank(session: Session, clock: DemoClock, data_dir: Path) -> PaymentsLoaded:
    """Export every instruction, answer as the bank (one returned), re-instruct it to a new account, settle."""
    adapter = FileRailAdapter(data_dir / "payments")
    loaded = PaymentsLoaded()
    first = _exchange(session, adapter, clock, days_ago=1, returned=1)
    if first is None:
        return loaded
    reference, settled, failed = first
    loaded.batches.append(reference)
    loaded.settled, loaded.returned = settled, len(failed)
    for instruction_id in failed:
        row = session.get_one(service.PaymentInstruction, instruction_id)
        owner = session.get_one(service.PayeeAccount, row.payee_account_id)
        who = customer_principal(owner.owner_id) if owner.owner_kind is PayeeKind.CUSTOMER else MAKER
        _register(session, who, Payee(owner.owner_kind, owner.owner_id),
                  bank="CMB", number=_number(f"again:{row.id}"), holder=owner.holder_name)
        key = f"demo-again-{row.reference}"
        again = service.reinstruct(session, principal=ADJUSTER, instruction_id=row.id, idempotency_key=key,
                                   now=clock.at(0, 9))
        audit(session, ADJUSTER, "reinstructPayment", {"instructionId": encode_global_id("PaymentInstruction",
                                                                                          row.id), "idempotencyKey": key},
              target=encode_global_id("PaymentInstruction", again.id))
        loaded.reinstructed += 1
    second = _exchange(session, adapter, clock, days_ago=0)
    if second is not None:
        loaded.batches.append(second[0])
        loaded.settled += second[1]
    return loaded
