"""End to end over HTTP: report, upload an invoice, fast-claim payout; risky claims routed with hints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.auth import Role, issue_token
from core.clock import business_today
from core.db import transaction
from schema.relay import encode_global_id
from tests.claim_factories import PDF, make_claim_policy, nodes
from tests.payment_factories import play_bank

REPORT = """
mutation($input: ReportClaimInput!) { reportClaim(input: $input) {
  claim { id number state version duplicateSuspected } errors { field code message } } }"""
SUBMIT = """
mutation($input: ClaimActionInput!) { submitClaim(input: $input) {
  claim { id state fastTrack approvedAmount paidAmount decisionReason
          explanationOfBenefits { outcome claimed payable deductible copay annualLimit annualLimitUsed claimCodes
                                  lines { itemCode claimed covered deductible copay payable codes } summary }
          payments { edges { node { amount payeeKind } } } timeline { edges { node { kind toState reason } } } }
  errors { field code message } } }"""
PAID = """
query($id: ID!) { claim(id: $id) { state paidAmount payments { edges { node { amount status } } }
  timeline { edges { node { kind toState } } } } }"""
STAFF_VIEW = """
query($id: ID!) { claim(id: $id) { state riskLevel riskScore rulesVersion
  riskHints { source code level message }
  timeline(last: 1) { totalCount edges { node { kind fromState toState reason actor } } } } }"""


def _report_input(policy_id: int, *, days_ago: int = 6, amount: str = "800.00", items: bool = True) -> dict[str, Any]:
    start = business_today() - dt.timedelta(days=days_ago)
    data: dict[str, Any] = {
        "policyId": encode_global_id("Policy", policy_id), "eventDate": start.isoformat(),
        "admissionDate": start.isoformat(), "dischargeDate": (start + dt.timedelta(days=max(0, min(3, days_ago)))).isoformat(),
        "hospital": "浙江大学医学院附属第一医院", "diagnosisCode": "J18.9", "claimedAmount": amount, "channel": "APP",
    }
    if items:
        data["items"] = [{"itemCode": "BED-01", "category": "inpatient", "amount": "600.00", "quantity": 3},
                         {"itemCode": "LAB-07", "category": "outpatient", "amount": "200.00"}]
    return data


def _token(runtime: Any, role: Role, **claims: Any) -> str:
    return issue_token(runtime.token_keys, runtime.settings, subject=f"{role.value}-t", role=role, **claims)


def test_report_upload_fast_claim_payout(http: Any, gql: Any, runtime: Any,
                                         session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
    me = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    out = me(REPORT, {"input": _report_input(policy.id)})["reportClaim"]
    assert out["errors"] == [] and out["claim"]["state"] == "DRAFT"
    claim_id = out["claim"]["id"]

    token = _token(runtime, Role.CUSTOMER, customer_id=policy.customer_id)
    resp = http.post(f"/claims/{claim_id}/documents", content=PDF,
                     headers={"authorization": f"Bearer {token}", "content-type": "application/pdf",
                              "x-document-kind": "invoice", "x-filename": "invoice.pdf"})
    assert resp.status_code == 201, resp.text
    doc = resp.json()
    assert doc["contentType"] == "application/pdf" and doc["anchoredRecord"] is True and len(doc["sha256"]) == 64

    done = me(SUBMIT, {"input": {"claimId": claim_id}})["submitClaim"]
    assert done["errors"] == []
    claim = done["claim"]
    # approved and instructed on the payment rail; paid when the bank settles it
    assert claim["state"] == "APPROVED" and claim["fastTrack"] is True
    # deductible 500 on the first line, then 10% co-pay: (600-500)*0.9 + 200*0.9 = 270
    assert claim["approvedAmount"] == "270.00" and claim["paidAmount"] == "0.00"
    assert nodes(claim["payments"]) == [{"amount": "270.00", "payeeKind": "CUSTOMER"}]
    assert "270.00" in claim["decisionReason"]  # customer-facing wording (resolvers.claims.reasons)
    eob = claim["explanationOfBenefits"]
    assert {k: v for k, v in eob.items() if k not in ("lines", "summary")} == {
        "outcome": "APPROVED", "claimed": "800.00", "payable": "270.00", "deductible": "500.00", "copay": "30.00",
        "annualLimit": "100000.00", "annualLimitUsed": "270.00", "claimCodes": []}
    assert eob["lines"][0] == {"itemCode": "BED-01", "claimed": "600.00", "covered": "600.00", "deductible": "500.00",
                               "copay": "10.00", "payable": "90.00", "codes": ["DEDUCTIBLE", "COPAY"]}
    assert eob["summary"][0].startswith("BED-01: ")  # in the reader's words (zh-CN by default)
    assert play_bank(session_factory, runtime.settings.data_dir, at=dt.datetime.now(dt.UTC)).settled == 1
    claim = me(PAID, {"id": claim_id})["claim"]
    assert claim["state"] == "PAID" and claim["paidAmount"] == "270.00"
    assert nodes(claim["payments"]) == [{"amount": "270.00", "status": "SETTLED"}]
    assert [e["toState"] for e in nodes(claim["timeline"]) if e["kind"] == "TRANSITION"] == [
        "SUBMITTED", "APPROVED", "PAID"]


def test_risky_claim_goes_to_investigation_with_hints(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s, issued_days_ago=3)
    me = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    claim_id = me(REPORT, {"input": _report_input(policy.id, days_ago=1)})["reportClaim"]["claim"]["id"]
    done = me(SUBMIT, {"input": {"claimId": claim_id}})["submitClaim"]
    assert done["claim"]["state"] == "INVESTIGATING" and done["claim"]["fastTrack"] is False
    staff = gql(Role.ADJUSTER)(STAFF_VIEW, {"id": claim_id})["claim"]
    assert staff["riskLevel"] == "HIGH" and staff["rulesVersion"]
    codes = {h["code"] for h in staff["riskHints"]}
    assert {"VERY_EARLY_CLAIM", "EARLY_CLAIM"} <= codes
    assert any(h["source"] == "MODEL" and h["level"] is None for h in staff["riskHints"])  # a model feature
    assert {h["level"] for h in staff["riskHints"] if h["code"] == "VERY_EARLY_CLAIM"} == {"HIGH"}
    assert staff["timeline"]["totalCount"] > 1
    (last,) = nodes(staff["timeline"])
    assert last["toState"] == "INVESTIGATING" and "VERY_EARLY_CLAIM" in last["reason"]
    # the customer cannot read risk fields
    resp = me.post(STAFF_VIEW, {"id": claim_id})
    assert resp.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_duplicate_across_channels_is_flagged_and_never_fast(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
    me = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    first = me(REPORT, {"input": _report_input(policy.id)})["reportClaim"]["claim"]
    assert first["duplicateSuspected"] is False
    agent_input = {**_report_input(policy.id), "channel": "PHONE"}
    agent_input.pop("items")
    second = gql(Role.AGENT)(REPORT, {"input": agent_input})["reportClaim"]["claim"]
    assert second["duplicateSuspected"] is True and second["number"] != first["number"]


def test_bad_reports_are_typed_errors(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        other = make_claim_policy(s)
    me = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    future = _report_input(policy.id, days_ago=-2)
    cases = [
        (future, "DATE_IN_FUTURE"),
        (_report_input(policy.id, amount="900.00"), "AMOUNTS_DO_NOT_ADD_UP"),
        (_report_input(other.id), "NOT_FOUND"),
        (_report_input(policy.id, days_ago=400), "POLICY_NOT_IN_FORCE"),
        ({**_report_input(policy.id), "diagnosisCode": "XX9"}, "BAD_ICD10"),
    ]
    for data, code in cases:
        out = me(REPORT, {"input": data})["reportClaim"]
        assert out["claim"] is None and out["errors"][0]["code"] == code, (code, out)
    assert gql(Role.ADJUSTER)("{ claims(first: 50) { totalCount } }")["claims"]["totalCount"] == 0


def test_upload_limits_and_scoping(http: Any, gql: Any, runtime: Any,
                                   session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        stranger = make_claim_policy(s)
    claim_id = gql(Role.CUSTOMER, customer_id=policy.customer_id)(
        REPORT, {"input": _report_input(policy.id)})["reportClaim"]["claim"]["id"]
    url = f"/claims/{claim_id}/documents"
    own = {"authorization": f"Bearer {_token(runtime, Role.CUSTOMER, customer_id=policy.customer_id)}",
           "x-document-kind": "invoice"}
    exe = b"MZ\x90\x00" + b"\x00" * 4000
    assert http.post(url, content=exe, headers=own).json()["errors"][0]["code"] == "UNSUPPORTED_TYPE"
    big = PDF + b"0" * (10 * 1024 * 1024)
    resp = http.post(url, content=big, headers=own)
    assert resp.status_code == 413 and resp.json()["errors"][0]["code"] == "TOO_LARGE"
    foreign = {**own, "authorization": f"Bearer {_token(runtime, Role.CUSTOMER, customer_id=stranger.customer_id)}"}
    assert http.post(url, content=PDF, headers=foreign).status_code == 404
    assert http.post(url, content=PDF, headers={"x-document-kind": "invoice"}).status_code == 401
    multi = http.post(url, files={"file": ("scan.pdf", PDF, "application/pdf")}, data={"kind": "discharge_summary"},
                      headers={"authorization": own["authorization"]})
    assert multi.status_code == 201 and multi.json()["kind"] == "discharge_summary"
    stored = list((runtime.settings.data_dir / "documents").rglob("*"))
    assert not [p for p in stored if p.parent.name == "tmp"], "aborted uploads left temporary files"
