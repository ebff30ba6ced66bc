"""The rail's GraphQL contract: accounts registered by their holder (every error at once, masked for others),
a returned payout re-instructed once through reinstructPayment, and a customer applying for their own advance."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from resolvers.claims import payments
from resolvers.payments.models import PaymentInstruction
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, make_approved_claim, make_claim_policy
from tests.payment_factories import bank_round

NOW = dt.datetime.now(dt.UTC)
REGISTER = """mutation($input: RegisterPayeeAccountInput!) { registerPayeeAccount(input: $input) {
  account { id bankCode accountNumber holderName last4 } errors { field code } } }"""
ACCOUNTS = """query($owner: ID) { payeeAccounts(owner: $owner, first: 5) { totalCount
  edges { node { accountNumber holderName } } } }"""
REINSTRUCT = """mutation($input: ReinstructPaymentInput!) { reinstructPayment(input: $input) {
  instruction { attempt state amount returnCode } errors { code } } }"""


def test_a_customer_registers_their_account_and_others_see_it_masked(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        other = make_claim_policy(s)
        mine, theirs = policy.customer_id, other.customer_id
    me = gql(Role.CUSTOMER, customer_id=mine)
    owner = encode_global_id("Customer", mine)
    bad = me(REGISTER, {"input": {"owner": owner, "bankCode": "icbc", "accountNumber": "12-34",
                                  "holderName": "a|b"}})["registerPayeeAccount"]
    assert bad["account"] is None and {e["code"] for e in bad["errors"]} == {
        "BAD_BANK_CODE", "BAD_ACCOUNT_NUMBER", "BAD_HOLDER_NAME"}
    ok = me(REGISTER, {"input": {"owner": owner, "bankCode": "CMB", "accountNumber": "6214 8301 2345 6789",
                                 "holderName": "王小明"}})["registerPayeeAccount"]
    assert ok["errors"] == [] and ok["account"]["accountNumber"] == "6214830123456789"
    assert ok["account"]["last4"] == "6789"
    refused = gql(Role.CUSTOMER, customer_id=theirs)(REGISTER, {"input": {
        "owner": owner, "bankCode": "CMB", "accountNumber": "6214830123450000", "holderName": "X"}})
    assert refused["registerPayeeAccount"]["errors"] == [{"field": "payee", "code": "FORBIDDEN"}]
    assert me(ACCOUNTS, {"owner": None})["payeeAccounts"]["edges"][0]["node"] == {
        "accountNumber": "6214830123456789", "holderName": "王小明"}
    assert gql(Role.CUSTOMER, customer_id=theirs)(ACCOUNTS, {"owner": owner})["payeeAccounts"]["totalCount"] == 0
    seen = gql(Role.AGENT)(ACCOUNTS, {"owner": owner})["payeeAccounts"]
    assert seen["totalCount"] == 2 and seen["edges"][0]["node"] == {"accountNumber": "************6789",
                                                                    "holderName": "王**"}


def test_a_returned_payout_is_reinstructed_once_over_graphql(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        claim = make_approved_claim(s)
        payments.pay_claim(s, principal=ADJUSTER, claim_id=claim.id, idempotency_key="api-returned-01", now=NOW)
        ref = s.scalars(select(PaymentInstruction.reference)).one()
        (failed,) = bank_round(s, at=NOW, returned={ref: "AC01"})
        failed_id = failed.id
    ops = gql(Role.ADJUSTER)
    data = {"input": {"instructionId": encode_global_id("PaymentInstruction", failed_id),
                      "idempotencyKey": "api-again-0001"}}
    first = ops(REINSTRUCT, data)["reinstructPayment"]
    assert first == {"instruction": {"attempt": 2, "state": "INSTRUCTED", "amount": "6750.00", "returnCode": None},
                     "errors": []}
    assert ops(REINSTRUCT, data)["reinstructPayment"] == first  # a retry: the same attempt
    data["input"]["idempotencyKey"] = "api-again-0002"
    assert ops(REINSTRUCT, data)["reinstructPayment"] == {"instruction": None,
                                                          "errors": [{"code": "ALREADY_INSTRUCTED"}]}
    listed = ops("""{ paymentInstructions(first: 5, state: FAILED) { totalCount edges { node { returnCode } } } }""")
    assert listed["paymentInstructions"] == {"totalCount": 1, "edges": [{"node": {"returnCode": "AC01"}}]}


def test_a_customer_applies_for_their_own_advance_only(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        other = make_claim_policy(s)
    apply = """mutation($input: ApplyAdvanceInput!) { applyAdvance(input: $input) {
      advance { state decision } errors { field code } } }"""
    today = business_today()

    def body(policy_id: int) -> dict[str, Any]:
        return {"input": {"policyId": encode_global_id("Policy", policy_id), "diagnosisCode": "J18.9",
                          "admissionDate": today.isoformat(), "hospital": "北京协和医院", "amount": "2000.00"}}

    me = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    assert me(apply, body(policy.id))["applyAdvance"] == {"advance": {"state": "IN_REVIEW", "decision": None},
                                                          "errors": []}
    assert me(apply, body(other.id))["applyAdvance"] == {"advance": None,
                                                         "errors": [{"field": "policyId", "code": "NOT_FOUND"}]}
    again = me(apply, body(policy.id))["applyAdvance"]
    assert again["errors"] == [{"field": "policyId", "code": "ADVANCE_OPEN"}]
