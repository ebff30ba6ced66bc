"""Advances: eligibility, pay-first on a signed credit report, payout by the rail, schedule, repayments,
offset against the claim payment, overdue and default; every balance checked against the invariant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import business_today
from core.db import transaction
from core.errors import ConflictError, DomainError, DomainErrors
from resolvers.advances import service
from resolvers.advances.models import Advance, AdvanceState, Installment, Movement
from resolvers.claims import payments
from resolvers.claims.models import Claim, ClaimState
from resolvers.payments.models import PaymentInstruction, Purpose
from resolvers.payments.service import instructions_of
from resolvers.policies.models import Policy
from tests.advance_factories import CONFIG, OFFICER, apply, balanced, credit_report
from tests.claim_factories import ADJUSTER, make_approved_claim, make_claim_policy
from tests.claims.test_claims_payments import _at_once
from tests.payment_factories import bank_round

TODAY = business_today()
NOW = dt.datetime.now(dt.UTC)


def _advance(session_factory: Any, advance_id: int) -> Advance:
    with session_factory() as s:
        row = s.get_one(Advance, advance_id)
        assert balanced(row), row
        return row


def _paid_advance(session_factory: Any, *, band: int = 4, amount: str = "3000.00") -> tuple[int, int]:
    """A pay-first advance whose payout the bank settled; returns (advance id, policy id)."""
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        report = credit_report(s, policy, band=band, issued_on=TODAY, now=NOW)
        advance = apply(s, policy, today=TODAY, now=NOW, amount=Decimal(amount), report=report)
        assert advance.state is AdvanceState.APPROVED
        bank_round(s, at=NOW)
        return advance.id, policy.id


def test_pay_first_approves_at_once_pays_through_the_rail_and_starts_the_schedule(session_factory: Any) -> None:
    advance_id, _ = _paid_advance(session_factory)
    advance = _advance(session_factory, advance_id)
    assert (advance.state, advance.advanced, advance.outstanding, advance.score_band) == (
        AdvanceState.PAID, Decimal("3000.00"), Decimal("3000.00"), 4)
    with session_factory() as s:
        schedule = service.installments_of(s, [advance_id])[advance_id]
        (payout,) = instructions_of(s, Purpose.ADVANCE_PAYOUT, advance_id)
    assert [(i.seq, i.amount, (i.due_on - TODAY).days) for i in schedule] == [
        (1, Decimal("1000.00"), 30), (2, Decimal("1000.00"), 60), (3, Decimal("1000.00"), 90)]
    assert payout.amount == Decimal("3000.00") and payout.state.value == "settled"


def test_a_low_band_or_no_report_goes_to_manual_review(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        low = apply(s, policy, today=TODAY, now=NOW, report=credit_report(s, policy, band=2, issued_on=TODAY, now=NOW))
        assert low.state is AdvanceState.IN_REVIEW and low.score_band == 2
        assert instructions_of(s, Purpose.ADVANCE_PAYOUT, low.id) == []
        approved = service.review_advance(s, principal=OFFICER, advance_id=low.id, approve=True,
                                          expected_version=low.version, now=NOW)
        assert approved.state is AdvanceState.APPROVED and len(instructions_of(s, Purpose.ADVANCE_PAYOUT, low.id)) == 1
        other = make_claim_policy(s)
        bare = apply(s, other, today=TODAY, now=NOW)
        rejected = service.review_advance(s, principal=OFFICER, advance_id=bare.id, approve=False,
                                          expected_version=None, now=NOW)
        assert rejected.state is AdvanceState.REJECTED and instructions_of(s, Purpose.ADVANCE_PAYOUT, bare.id) == []


def test_bad_applications_get_every_error_at_once_and_store_nothing(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)  # annual limit 100,000: an advance at most 20,000 (the product cap)
        wrong_case = credit_report(s, policy, band=5, issued_on=TODAY, now=NOW, case="ADV-SOMEONE-ELSE")
        policy_id = policy.id
    with transaction(session_factory) as s, pytest.raises(DomainErrors) as err:
        service.apply_advance(s, principal=OFFICER, policy_id=policy_id, diagnosis_code="XX99",
                              admission_date=TODAY + dt.timedelta(days=2), hospital=" ", amount=Decimal("20000.01"),
                              credit_report_id=wrong_case.id, today=TODAY, now=NOW, config=CONFIG)
    assert {e.code for e in err.value.errors} == {"BAD_ICD10", "DATE_IN_FUTURE", "INVALID", "ABOVE_LIMIT",
                                                  "BAD_CREDIT_REPORT"}
    with session_factory() as s:
        assert s.scalars(select(Advance)).all() == []


def test_the_limit_is_a_share_of_the_annual_limit_still_open(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s, annual_limit=Decimal("10000"))
        claim = make_approved_claim(s, policy=policy)  # 6750.00 of the 10,000 annual limit used
        limit = ((Decimal("10000") - (claim.approved_amount or 0)) * Decimal("0.5")).quantize(Decimal("0.01"))
        assert limit == Decimal("1625.00")
        policy_id = policy.id
    with transaction(session_factory) as s, pytest.raises(DomainError) as err:
        service.apply_advance(s, principal=OFFICER, policy_id=policy_id, diagnosis_code="J18.9",
                              admission_date=TODAY, hospital="h", amount=limit + Decimal("0.01"),
                              credit_report_id=None, today=TODAY, now=NOW, config=CONFIG)
    assert err.value.code == "ABOVE_LIMIT" and str(limit) in str(err.value)


def test_repayments_never_exceed_what_is_owed_and_a_debit_waits_for_the_bank(session_factory: Any) -> None:
    advance_id, _ = _paid_advance(session_factory)
    with transaction(session_factory) as s:
        service.record_repayment(s, principal=OFFICER, advance_id=advance_id, amount=Decimal("1200.00"),
                                 idempotency_key="repay-transfer-1", channel=service.RepaymentChannel.TRANSFER,
                                 today=TODAY)
        service.record_repayment(s, principal=OFFICER, advance_id=advance_id, amount=Decimal("1000.00"),
                                 idempotency_key="repay-debit-0001", channel=service.RepaymentChannel.DIRECT_DEBIT,
                                 today=TODAY)
    with transaction(session_factory) as s, pytest.raises(ConflictError) as err:
        service.record_repayment(s, principal=OFFICER, advance_id=advance_id, amount=Decimal("800.01"),
                                 idempotency_key="repay-too-much", channel=service.RepaymentChannel.TRANSFER,
                                 today=TODAY)
    assert err.value.code == "REPAYMENT_EXCEEDS_BALANCE"  # 3000 - 1200 - 1000 pending = 800
    advance = _advance(session_factory, advance_id)
    assert (advance.repaid, advance.outstanding) == (Decimal("1200.00"), Decimal("1800.00"))
    with transaction(session_factory) as s:
        (debit,) = bank_round(s, at=NOW)
        assert debit.direction.value == "debit" and debit.amount == Decimal("1000.00")
    advance = _advance(session_factory, advance_id)
    assert (advance.repaid, advance.outstanding, advance.state) == (
        Decimal("2200.00"), Decimal("800.00"), AdvanceState.PAID)
    with session_factory() as s:
        covered = [i.covered for i in service.installments_of(s, [advance_id])[advance_id]]
    assert covered == [Decimal("1000.00"), Decimal("1000.00"), Decimal("200.00")]


def test_the_claim_payment_keeps_what_the_advance_owes(session_factory: Any) -> None:
    advance_id, policy_id = _paid_advance(session_factory, amount="2000.00")
    with transaction(session_factory) as s:
        claim = make_approved_claim(s, policy=s.get_one(Policy, policy_id))  # 6750.00 payable
        payment = payments.pay_claim(s, principal=ADJUSTER, claim_id=claim.id, idempotency_key="pay-with-offset",
                                     now=NOW)
        (instruction,) = s.scalars(select(PaymentInstruction).where(
            PaymentInstruction.purpose == Purpose.CLAIM_PAYOUT, PaymentInstruction.source_id == payment.id)).all()
        assert payment.amount == Decimal("6750.00") and instruction.amount == Decimal("4750.00")
        claim_id = claim.id
    advance = _advance(session_factory, advance_id)
    assert (advance.state, advance.offset_amount, advance.outstanding, advance.claim_id) == (
        AdvanceState.CLOSED, Decimal("2000.00"), Decimal(0), claim_id)
    with transaction(session_factory) as s:
        bank_round(s, at=NOW)
        claim = s.get_one(Claim, claim_id)
        assert claim.state is ClaimState.PAID and claim.paid_amount == Decimal("6750.00")


def test_an_advance_larger_than_the_claim_keeps_all_of_it_and_the_claim_is_paid_at_once(
        session_factory: Any) -> None:
    advance_id, policy_id = _paid_advance(session_factory, amount="9000.00")
    with transaction(session_factory) as s:
        claim = make_approved_claim(s, policy=s.get_one(Policy, policy_id))
        payments.pay_claim(s, principal=ADJUSTER, claim_id=claim.id, idempotency_key="pay-all-offset", now=NOW)
        assert s.get_one(Claim, claim.id).state is ClaimState.PAID
        assert s.scalars(select(PaymentInstruction).where(PaymentInstruction.purpose == Purpose.CLAIM_PAYOUT)).all() == []
    advance = _advance(session_factory, advance_id)
    assert (advance.state, advance.offset_amount, advance.outstanding) == (
        AdvanceState.PAID, Decimal("6750.00"), Decimal("2250.00"))


def test_paying_an_advance_twice_at_once_instructs_one_payout(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        advance = apply(s, policy, today=TODAY, now=NOW)  # no report: manual review
        s.flush()
        s.execute(Advance.__table__.update().where(Advance.id == advance.id).values(state="approved"))
        advance_id = advance.id

    def pay(key: str) -> Any:
        with transaction(session_factory) as s:
            return service.pay_advance(s, principal=OFFICER, advance_id=advance_id, idempotency_key=key, now=NOW).id

    results = _at_once([partial(pay, f"advance-pay-{i:03d}") for i in range(6)] +
                       [partial(pay, "advance-pay-same")] * 4)
    codes = {getattr(r, "code", None) for r in results if not isinstance(r, int)}
    assert codes <= {"ALREADY_PAID"} and any(isinstance(r, int) for r in results), results
    with session_factory() as s:
        assert len(instructions_of(s, Purpose.ADVANCE_PAYOUT, advance_id)) == 1


def test_overdue_then_default_after_the_grace_period(session_factory: Any) -> None:
    advance_id, _ = _paid_advance(session_factory)
    with transaction(session_factory) as s:
        assert service.mark_overdue(s, today=TODAY + dt.timedelta(days=30), grace_days=30) == 0  # due today: not late
        assert service.mark_overdue(s, today=TODAY + dt.timedelta(days=31), grace_days=30) == 1
    advance = _advance(session_factory, advance_id)
    assert advance.state is AdvanceState.OVERDUE and advance.overdue_since == TODAY + dt.timedelta(days=30)
    with transaction(session_factory) as s:  # paying the late instalment ends the overdue state
        service.record_repayment(s, principal=OFFICER, advance_id=advance_id, amount=Decimal("1000.00"),
                                 idempotency_key="catch-up-0001", channel=service.RepaymentChannel.TRANSFER,
                                 today=TODAY + dt.timedelta(days=35))
    assert _advance(session_factory, advance_id).state is AdvanceState.PAID
    with transaction(session_factory) as s:
        assert service.mark_overdue(s, today=TODAY + dt.timedelta(days=61), grace_days=30) == 1
        assert service.mark_overdue(s, today=TODAY + dt.timedelta(days=90), grace_days=30) == 0  # 30 days: grace
        assert service.mark_overdue(s, today=TODAY + dt.timedelta(days=91), grace_days=30) == 1
        assert service.mark_overdue(s, today=TODAY + dt.timedelta(days=92), grace_days=30) == 0  # once
    advance = _advance(session_factory, advance_id)
    assert (advance.state, advance.written_off, advance.outstanding, advance.repaid) == (
        AdvanceState.DEFAULTED, Decimal("2000.00"), Decimal(0), Decimal("1000.00"))
    with session_factory() as s:
        kinds = [m.kind.value for m in s.scalars(select(Movement).where(Movement.advance_id == advance_id))]
        assert kinds == ["repayment", "write_off"]
        assert s.scalar(select(Installment.id).limit(1)) is not None


def test_concurrent_repayments_never_take_more_than_is_owed(session_factory: Any) -> None:
    advance_id, _ = _paid_advance(session_factory)  # 3000.00 owed

    def repay(i: int) -> Any:
        with transaction(session_factory) as s:
            channel = service.RepaymentChannel.DIRECT_DEBIT if i % 2 else service.RepaymentChannel.TRANSFER
            return service.record_repayment(s, principal=OFFICER, advance_id=advance_id, amount=Decimal("1000.00"),
                                            idempotency_key=f"race-repay-{i:03d}", channel=channel, today=TODAY).id

    results = _at_once([partial(repay, i) for i in range(7)])
    made = [r for r in results if isinstance(r, int)]
    assert len(made) == 3 and {getattr(r, "code", None) for r in results if not isinstance(r, int)} == {
        "REPAYMENT_EXCEEDS_BALANCE"}, results
    with transaction(session_factory) as s:
        bank_round(s, at=NOW)  # the debits among them settle
    advance = _advance(session_factory, advance_id)
    assert (advance.repaid, advance.outstanding, advance.state) == (Decimal("3000.00"), Decimal(0),
                                                                    AdvanceState.CLOSED)
