"""End to end over HTTP: an advance credit-checked, paid through the bank files, offset against the claim
payment with the balance right; an overdue advance defaults on a simulated clock (the jobs, run on demand)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from core.jobs import run_job
from resolvers.advances import jobs as _advance_jobs  # noqa: F401  (registers advances.overdue)
from schema.relay import encode_global_id
from tests.advance_factories import credit_report
from tests.claim_factories import make_approved_claim, make_claim_policy
from tests.payment_factories import play_bank

TODAY = business_today()
NOW = dt.datetime.now(dt.UTC)
APPLY = """mutation($input: ApplyAdvanceInput!) { applyAdvance(input: $input) {
  advance { id number state decision scoreBand requested } errors { field code message } } }"""
ADVANCE = """query($id: ID!) { advance(id: $id) { state advanced repaid offset outstanding writtenOff paidOn
  overdueSince defaultedOn installments { seq dueOn amount covered }
  movements(first: 10) { totalCount edges { node { kind state amount } } } } }"""
PAY_CLAIM = """mutation($input: PayClaimInput!) { payClaim(input: $input) {
  payment { amount status } claim { state } errors { code } } }"""
INSTRUCTIONS = """query($purpose: PaymentPurpose) { paymentInstructions(first: 10, purpose: $purpose) {
  totalCount edges { node { amount state attempt direction sourceId
  payeeAccount { accountNumber holderName last4 } } } } }"""


def _apply(gql: Any, policy_id: int, report_id: int | None, amount: str = "4000.00") -> dict[str, Any]:
    agent = gql(Role.AGENT)
    data = agent(APPLY, {"input": {
        "policyId": encode_global_id("Policy", policy_id), "diagnosisCode": "J18.9",
        "admissionDate": (TODAY - dt.timedelta(days=2)).isoformat(), "hospital": "浙江大学医学院附属第一医院",
        "amount": amount,
        **({"creditReportId": encode_global_id("SignedRecord", report_id)} if report_id else {})}})["applyAdvance"]
    assert data["errors"] == [], data
    return data["advance"]  # type: ignore[no-any-return]


def test_an_advance_is_credit_checked_paid_offset_and_balanced(gql: Any, session_factory: Any, runtime: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        report = credit_report(s, policy, band=4, issued_on=TODAY, now=NOW)
        policy_id, customer_id, report_id = policy.id, policy.customer_id, report.id
    advance = _apply(gql, policy_id, report_id)
    assert (advance["state"], advance["decision"], advance["scoreBand"]) == ("APPROVED", "PAY_FIRST", 4)

    assert play_bank(session_factory, runtime.settings.data_dir, at=NOW).settled == 1  # the bank pays it
    me = gql(Role.CUSTOMER, customer_id=customer_id)
    paid = me(ADVANCE, {"id": advance["id"]})["advance"]
    assert (paid["state"], paid["advanced"], paid["outstanding"]) == ("PAID", "4000.00", "4000.00")
    assert [i["amount"] for i in paid["installments"]] == ["1333.33", "1333.33", "1333.34"]

    with transaction(session_factory) as s:  # discharged; the claim is decided: 6750.00 payable
        claim = make_approved_claim(s, policy=s.get_one(type(policy), policy_id))
        claim_id = claim.id
    adjuster = gql(Role.ADJUSTER)
    out = adjuster(PAY_CLAIM, {"input": {"claimId": encode_global_id("Claim", claim_id),
                                         "idempotencyKey": "e2e-claim-payout"}})["payClaim"]
    assert out["errors"] == [] and out["payment"] == {"amount": "6750.00", "status": "INSTRUCTED"}
    payouts = adjuster(INSTRUCTIONS, {"purpose": "CLAIM_PAYOUT"})["paymentInstructions"]
    (payout,) = [e["node"] for e in payouts["edges"]]
    assert payout["amount"] == "2750.00" and payout["direction"] == "CREDIT"  # 6750 less the 4000 kept
    source = adjuster("query($id: ID!) { node(id: $id) { ... on ClaimPayment { amount status } } }",
                      {"id": payout["sourceId"]})["node"]
    assert source == {"amount": "6750.00", "status": "INSTRUCTED"}
    assert payout["payeeAccount"]["accountNumber"].isdigit()  # payment operators read it in full
    analyst = gql(Role.ANALYST)(INSTRUCTIONS, {"purpose": "CLAIM_PAYOUT"})["paymentInstructions"]
    masked = analyst["edges"][0]["node"]["payeeAccount"]
    assert masked["accountNumber"] == "*" * 12 + masked["last4"] and masked["holderName"].endswith("*")

    assert play_bank(session_factory, runtime.settings.data_dir, at=NOW).settled == 1
    closed = me(ADVANCE, {"id": advance["id"]})["advance"]
    assert (closed["state"], closed["offset"], closed["outstanding"], closed["repaid"], closed["writtenOff"]) == (
        "CLOSED", "4000.00", "0.00", "0.00", "0.00")
    assert Decimal(closed["advanced"]) == sum(Decimal(closed[k]) for k in ("repaid", "offset", "outstanding",
                                                                          "writtenOff"))
    claim_state = adjuster("query($id: ID!) { claim(id: $id) { state paidAmount } }",
                           {"id": encode_global_id("Claim", claim_id)})["claim"]
    assert claim_state == {"state": "PAID", "paidAmount": "6750.00"}


def test_an_overdue_advance_defaults_after_the_grace_period(gql: Any, session_factory: Any, runtime: Any,
                                                            engine: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        report = credit_report(s, policy, band=5, issued_on=TODAY, now=NOW)
        policy_id, report_id = policy.id, report.id
    advance = _apply(gql, policy_id, report_id, amount="900.00")
    play_bank(session_factory, runtime.settings.data_dir, at=NOW)
    officer = gql(Role.ADJUSTER)
    repaid = officer("""mutation($input: RecordAdvanceRepaymentInput!) { recordAdvanceRepayment(input: $input) {
      advance { repaid outstanding } errors { code } } }""", {"input": {
        "advanceId": advance["id"], "amount": "300.00", "channel": "TRANSFER", "idempotencyKey": "e2e-repay-1"}})
    assert repaid["recordAdvanceRepayment"] == {"advance": {"repaid": "300.00", "outstanding": "600.00"},
                                                "errors": []}
    too_much = officer("""mutation($input: RecordAdvanceRepaymentInput!) { recordAdvanceRepayment(input: $input) {
      advance { id } errors { code field } } }""", {"input": {
        "advanceId": advance["id"], "amount": "600.01", "channel": "TRANSFER", "idempotencyKey": "e2e-repay-2"}})
    assert too_much["recordAdvanceRepayment"] == {
        "advance": None, "errors": [{"code": "REPAYMENT_EXCEEDS_BALANCE", "field": "amount"}]}

    def run_on(days: int) -> dict[str, Any]:
        at = NOW + dt.timedelta(days=days)
        run_job(engine, session_factory, runtime.settings.data_dir, "advances.overdue", at=at)
        return officer(ADVANCE, {"id": advance["id"]})["advance"]  # type: ignore[no-any-return]

    assert run_on(45)["state"] == "PAID"  # the first instalment (day 30) is covered by the repayment
    overdue = run_on(61)
    assert overdue["state"] == "OVERDUE" and overdue["overdueSince"] == (TODAY + dt.timedelta(days=60)).isoformat()
    assert run_on(90)["state"] == "OVERDUE"  # within the 30-day grace period
    defaulted = run_on(92)
    assert (defaulted["state"], defaulted["writtenOff"], defaulted["outstanding"], defaulted["repaid"]) == (
        "DEFAULTED", "600.00", "0.00", "300.00")
    assert [e["node"] for e in defaulted["movements"]["edges"]] == [
        {"kind": "REPAYMENT", "state": "APPLIED", "amount": "300.00"},
        {"kind": "WRITE_OFF", "state": "APPLIED", "amount": "600.00"}]
    assert run_on(120) == defaulted  # a later round changes nothing
