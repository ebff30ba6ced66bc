"""Direct billing: a hospital's EIP-712 signed bill becomes a claim settled with the hospital."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from core.settings import Settings
from partners.models import AssignmentKind, PartnerKind
from resolvers.claims.service import LineItemSpec, items_commitment
from tests.claim_factories import make_claim_policy, nodes
from tests.partner_factories import DOMAIN, bill_message, make_assignment, make_key, make_partner, sign
from tests.payment_factories import add_account, bank_round

DIRECT = """
mutation($input: DirectBillInput!) { submitDirectBill(input: $input) {
  claim { id number state channel fastTrack approvedAmount hospital
    payments { totalCount edges { node { amount payeeKind status } } } }
  errors { field code message } } }"""
MINE = "{ claims(first: 10) { edges { node { number state channel paidAmount } } } }"


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url, ledger_mode="off", anchoring_in_process=False,
                    extra={"partners.chain_id": str(DOMAIN.chain_id),
                           "partners.verifying_contract": DOMAIN.verifying_contract})


ITEMS = [LineItemSpec("SURG-11", "inpatient", Decimal("1500.00"), 1), LineItemSpec("DRUG-02", "inpatient",
                                                                                     Decimal("300.50"), 5)]


def _input(typed: Any, signature: str, items: list[LineItemSpec]) -> dict[str, Any]:
    day = business_today() - dt.timedelta(days=4)
    return {"typedData": typed, "signature": signature, "hospitalName": "杭州市第一人民医院",
            "admissionDate": day.isoformat(), "dischargeDate": (day + dt.timedelta(days=2)).isoformat(),
            "diagnosisCode": "K35.8",
            "items": [{"itemCode": i.item_code, "category": i.category, "amount": str(i.amount),
                       "quantity": i.quantity} for i in items]}


def test_signed_hospital_bill_is_settled_with_the_hospital(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        hospital = make_partner(s, kind=PartnerKind.HOSPITAL)
        _key, account = make_key(s, hospital)
        make_assignment(s, hospital, kind=AssignmentKind.HOSPITAL_BILL, case_reference=policy.number)
        add_account(s, partner_id=hospital.id)  # the hospital is paid into its bank account
        hospital_id, customer_id, hospital_name = hospital.id, policy.customer_id, hospital.name
    msg = bill_message(type("A", (), {"case_reference": policy.number})(), account.address,  # type: ignore[arg-type]
                       amountFen=180050, itemsCommitment=items_commitment(ITEMS))
    typed, signature = sign(account, "HospitalBill", msg)
    partner = gql(Role.PARTNER, partner_id=hospital_id)

    # line items that do not match the signed commitment are refused, and nothing is stored
    tampered = [ITEMS[0], LineItemSpec("DRUG-02", "inpatient", Decimal("300.50"), 6)]
    bad = partner(DIRECT, {"input": _input(typed, signature, tampered)})["submitDirectBill"]
    assert bad["claim"] is None and bad["errors"][0]["code"] == "ITEMS_MISMATCH"

    out = partner(DIRECT, {"input": _input(typed, signature, ITEMS)})["submitDirectBill"]
    assert out["errors"] == [], out
    claim = out["claim"]
    # approved at once and instructed on the rail; PAID when the bank settles
    assert claim["channel"] == "DIRECT_BILLING" and claim["state"] == "APPROVED" and claim["fastTrack"] is True
    # the claim names the hospital as registered, not the name the caller typed
    assert claim["hospital"] == hospital_name != "杭州市第一人民医院"
    # 1800.50 inpatient: deductible 500, 10% co-pay -> 1170.45, paid to the hospital
    assert claim["approvedAmount"] == "1170.45"
    assert claim["payments"]["totalCount"] == 1
    assert nodes(claim["payments"]) == [{"amount": "1170.45", "payeeKind": "HOSPITAL", "status": "INSTRUCTED"}]
    with transaction(session_factory) as s:
        (instruction,) = bank_round(s, at=dt.datetime.now(dt.UTC))
        assert instruction.amount == Decimal("1170.45")

    replay = partner(DIRECT, {"input": _input(typed, signature, ITEMS)})["submitDirectBill"]
    assert replay["errors"][0]["code"] == "NONCE_REUSED"

    seen = gql(Role.CUSTOMER, customer_id=customer_id)(MINE)["claims"]["edges"]
    assert [e["node"]["number"] for e in seen] == [claim["number"]]
    assert seen[0]["node"]["state"] == "PAID"


NOT_ASSIGNED = {"field": "typedData.message.caseReference", "code": "NOT_ASSIGNED",
                "message": "no direct-billing authorisation covers this case reference on the admission date"}


def test_a_hospital_learns_nothing_about_policies_it_is_not_assigned_to(gql: Any, session_factory: Any) -> None:
    """Unassigned, unknown and not-in-force policy numbers get one answer, and nothing is stored."""
    from sqlalchemy import func, select

    from partners.models import SignedRecord, SignerNonce
    from resolvers.claims.models import Claim

    with transaction(session_factory) as s:
        in_force = make_claim_policy(s, code="ORA1")
        not_yet = make_claim_policy(s, code="ORA2", issued_days_ago=1)  # starts after the admission date
        assigned_not_yet = make_claim_policy(s, code="ORA3", issued_days_ago=1)
        hospital = make_partner(s, kind=PartnerKind.HOSPITAL)
        _key, account = make_key(s, hospital)
        make_assignment(s, hospital, kind=AssignmentKind.HOSPITAL_BILL, case_reference=assigned_not_yet.number)
        hospital_id = hospital.id
    partner = gql(Role.PARTNER, partner_id=hospital_id)
    answers = {}
    for label, number in [("unknown", "POL-DOES-NOT-EXIST"), ("not assigned", in_force.number),
                          ("not assigned, not in force", not_yet.number),
                          ("assigned, not in force", assigned_not_yet.number)]:
        msg = bill_message(type("A", (), {"case_reference": number})(), account.address,  # type: ignore[arg-type]
                           amountFen=180050, itemsCommitment=items_commitment(ITEMS))
        typed, signature = sign(account, "HospitalBill", msg)
        out = partner(DIRECT, {"input": _input(typed, signature, ITEMS)})["submitDirectBill"]
        answers[label] = (out["claim"], out["errors"])
    assert answers == {label: (None, [NOT_ASSIGNED]) for label in answers}
    with session_factory() as s:
        assert s.scalar(select(func.count(SignedRecord.id))) == 0
        assert s.scalar(select(func.count(SignerNonce.signer))) == 0
        assert s.scalar(select(func.count(Claim.id))) == 0
