"""End to end over HTTP: a risky claim triggers an investigation, auto-assigned, accepted, its trail recorded
and anchored on a real EVM, the signed survey report submitted and reviewed, the claim resumes, is decided and
settled through the payment rail; SLA escalation fires on a simulated clock (jobs run as ``opsure jobs run``
runs them)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from core.auth import Role
from core.clock import MovableClock, business_today, moved_clock
from core.db import transaction
from core.jobs import run_job
from core.settings import Settings
from ledger.anchoring import anchor_pending, open_chain
from ledger.verify import verify_bundle
from partners.eip712 import Domain
from resolvers.investigations import jobs as _jobs  # noqa: F401  (registers the jobs)
from schema.relay import encode_global_id
from tests.claim_factories import make_claim_policy, nodes
from tests.investigation_factories import T0, make_firm, review_claim
from tests.partner_factories import DEADLINE, sign
from tests.payment_factories import play_bank

REPORT = """mutation($input: ReportClaimInput!) { reportClaim(input: $input) { claim { id } errors { code } } }"""
SUBMIT = """mutation($input: ClaimActionInput!) { submitClaim(input: $input) { claim { id state } errors { code } } }"""
MINE = """{ investigations(filter: {states: [ASSIGNED]}) { totalCount edges { node {
  id reference state checks instructions region reportDueAt acceptDueAt
  currentOffer { id state signedInvestigationId caseReference firm { code } } } } } }"""
ACCEPT = """mutation($id: ID!) { acceptInvestigationOffer(input: {offerId: $id}) {
  investigation { state visitDueAt } errors { code message } } }"""
RECORD = """mutation($input: RecordInvestigationEventInput!) { recordInvestigationEvent(input: $input) {
  event { id kind commitment note proof { status } } errors { field code } } }"""
SUBMIT_REPORT = """mutation($input: SubmitSurveyReportInput!) { submitSurveyReport(input: $input) {
  investigation { state reportedAt surveyReport { id primaryType commitment } } errors { field code message } } }"""
REVIEW = """mutation($input: ReviewInvestigationInput!) { reviewInvestigation(input: $input) {
  investigation { state reviewOutcome claim { id state } } errors { code message } } }"""
STAFF = """query($id: ID!) { investigation(id: $id) { state trigger rules escalationLevel
  claim { id state }
  offers { totalCount edges { node { state how firm { code } assignment { id } } } }
  trail { totalCount edges { node { kind finding note commitment proof { status document } } } }
  surveyReport { primaryType commitment assignment { id } proof { status } investigation { id } }
  escalations { edges { node { sla level dueAt } } } } }"""


@pytest.fixture
def clock() -> Iterator[MovableClock]:
    with moved_clock(T0) as c:
        yield c


@pytest.fixture
def chain(settings: Settings, session_factory: Any) -> Any:
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    admin: LocalAccount = Account.create()
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": admin.address, "value": 10**21}))
    return open_chain(settings, session_factory, target=w3, account=admin)


def _report_input(policy_id: int) -> dict[str, Any]:
    start = business_today() - dt.timedelta(days=4)
    return {"policyId": encode_global_id("Policy", policy_id), "eventDate": start.isoformat(),
            "admissionDate": start.isoformat(), "dischargeDate": (start + dt.timedelta(days=3)).isoformat(),
            "hospital": "浙江大学医学院附属第一医院", "diagnosisCode": "J18.9", "claimedAmount": "800.00",
            "channel": "APP", "items": [{"itemCode": "BED-01", "category": "inpatient", "amount": "600.00",
                                         "quantity": 3},
                                        {"itemCode": "LAB-07", "category": "outpatient", "amount": "200.00"}]}


def test_a_risky_claim_is_investigated_online_end_to_end(
        gql: Any, settings: Settings, engine: Any, session_factory: Any, chain: Any, clock: MovableClock) -> None:
    with transaction(session_factory) as s:
        firm, account = make_firm(s, regions=("330100", "110100"))
        policy = make_claim_policy(s, issued_days_ago=5, waiting_period_days=0)  # risky (very early), yet covered
    customer = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    adjuster = gql(Role.ADJUSTER)
    assessor = gql(Role.PARTNER, partner_id=firm.id)
    claim_id = customer(REPORT, {"input": _report_input(policy.id)})["reportClaim"]["claim"]["id"]
    assert customer(SUBMIT, {"input": {"claimId": claim_id}})["submitClaim"]["claim"]["state"] == "INVESTIGATING"

    # the dispatch round opens the investigation the risk step asked for and offers it to the firm
    assert run_job(engine, session_factory, settings.data_dir, "investigations.dispatch", at=clock.now()) == 1
    (offered,) = nodes(assessor(MINE)["investigations"])
    assert offered["checks"] == ["BILLING", "HOSPITAL_VISIT", "MEDICAL_RECORDS"] and offered["state"] == "ASSIGNED"
    offer = offered["currentOffer"]
    assert offer["firm"]["code"] == firm.code and offer["caseReference"] == offered["reference"]
    accepted = assessor(ACCEPT, {"id": offer["id"]})["acceptInvestigationOffer"]
    assert accepted["errors"] == [] and accepted["investigation"]["state"] == "IN_PROGRESS"
    again = assessor(ACCEPT, {"id": offer["id"]})["acceptInvestigationOffer"]
    assert [e["code"] for e in again["errors"]] == ["ALREADY_ACCEPTED"]

    # the trail: each event a ledger record, anchored in a Merkle batch on the chain
    clock.advance(hours=2)
    for kind, extra in (("VISIT", {"note": "ward 7, bed days match the log"}), ("FINDING", {"finding": "STAY_CONFIRMED"})):
        done = assessor(RECORD, {"input": {"investigationId": offered["id"], "kind": kind,
                                           "occurredAt": (clock.now() - dt.timedelta(minutes=30)).isoformat(), **extra}})
        assert done["recordInvestigationEvent"]["errors"] == [], done
        assert done["recordInvestigationEvent"]["event"]["proof"]["status"] == "PENDING"
    bad = assessor(RECORD, {"input": {"investigationId": offered["id"], "kind": "FINDING",
                                      "occurredAt": (clock.now() + dt.timedelta(days=1)).isoformat()}})
    assert sorted(e["code"] for e in bad["recordInvestigationEvent"]["errors"]) == ["DATE_IN_FUTURE",
                                                                                  "FINDING_CODE_REQUIRED"]
    assert anchor_pending(session_factory, chain, max_age=0).records == 2

    # the signed survey report closes the trail
    domain = Domain(chain_id=chain.w3.eth.chain_id, verifying_contract=chain.contract_address)
    message = {"investigationId": int(offer["signedInvestigationId"]), "caseReference": offer["caseReference"],
               "findingsCommitment": "0x" + "ab" * 32, "conclusionCode": 1, "assessor": account.address.lower(),
               "nonce": 1, "deadline": DEADLINE}
    typed, signature = sign(account, "SurveyReport", message, domain)
    reported = assessor(SUBMIT_REPORT, {"input": {"investigationId": offered["id"],
                                                  "record": {"typedData": typed, "signature": signature}}})
    assert reported["submitSurveyReport"]["errors"] == [], reported
    assert reported["submitSurveyReport"]["investigation"]["surveyReport"]["primaryType"] == "SURVEY_REPORT"

    # the adjuster accepts it and the claim resumes in the review queue
    reviewed = adjuster(REVIEW, {"input": {"investigationId": offered["id"], "outcome": "ACCEPTED"}})
    review = reviewed["reviewInvestigation"]
    assert review["errors"] == [] and review["investigation"]["state"] == "COMPLETED"
    assert review["investigation"]["claim"] == {"id": claim_id, "state": "UNDER_REVIEW"}
    assert anchor_pending(session_factory, chain, max_age=0).records == 1  # the survey report

    staff = adjuster(STAFF, {"id": offered["id"]})["investigation"]
    assert staff["trigger"] == "RISK_RULE" and staff["rules"] and staff["claim"]["id"] == claim_id
    (o,) = nodes(staff["offers"])
    assert o["state"] == "DONE" and o["how"] == "AUTO" and o["assignment"]["id"]
    assert staff["surveyReport"]["assignment"]["id"] == o["assignment"]["id"]
    assert staff["surveyReport"]["proof"]["status"] == "ANCHORED"
    assert staff["surveyReport"]["investigation"]["id"] == offered["id"]  # linked both ways
    on_claim = adjuster("query($id: ID!) { claim(id: $id) { investigations { totalCount edges { node { id state } } } } }",
                        {"id": claim_id})["claim"]["investigations"]
    assert nodes(on_claim) == [{"id": offered["id"], "state": "COMPLETED"}] and on_claim["totalCount"] == 1
    trail = nodes(staff["trail"])
    assert [t["kind"] for t in trail] == ["VISIT", "FINDING"] and trail[1]["finding"] == "STAY_CONFIRMED"
    for t in trail:
        assert t["proof"]["status"] == "ANCHORED"
        bundle = json.loads(t["proof"]["document"])
        assert verify_bundle(bundle, None, w3=chain.w3, expect_contract=chain.contract_address).ok
    # the resumed claim is decided and paid; the payout settles through the rail's bank files
    decided = adjuster("""mutation($c: ID!) { adjudicateClaim(input: {claimId: $c, note: "survey confirms the stay"}) {
        claim { state approvedAmount } errors { code } } }""", {"c": claim_id})["adjudicateClaim"]
    assert decided["errors"] == [] and decided["claim"]["state"] == "APPROVED"
    paid = adjuster("""mutation($c: ID!) { payClaim(input: {claimId: $c, idempotencyKey: "inv-e2e-0001"}) {
        claim { state } errors { code } } }""", {"c": claim_id})["payClaim"]
    assert paid["errors"] == [], paid
    assert play_bank(session_factory, settings.data_dir, at=clock.now()).settled == 1
    settled = adjuster("query($c: ID!) { claim(id: $c) { state paidAmount approvedAmount } }", {"c": claim_id})["claim"]
    assert settled["state"] == "PAID" and settled["paidAmount"] == settled["approvedAmount"]
    # the customer sees none of it; a firm never offered the investigation sees nothing either
    assert customer.post(STAFF, {"id": offered["id"]}).json().get("errors")
    with transaction(session_factory) as s:
        stranger, _ = make_firm(s)
    peek = "query($id: ID!) { investigation(id: $id) { state } node(id: $id) { id } investigations { totalCount } }"
    assert gql(Role.PARTNER, partner_id=stranger.id)(peek, {"id": offered["id"]}) == {
        "investigation": None, "node": None, "investigations": {"totalCount": 0}}


def test_sla_escalation_fires_on_a_simulated_clock(gql: Any, settings: Settings, engine: Any,
                                                   session_factory: Any, clock: MovableClock) -> None:
    friday_5pm = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)  # 17:00 in Beijing
    clock.set(friday_5pm)
    with transaction(session_factory) as s:
        slow, _ = make_firm(s, quality="90")
        other, _ = make_firm(s, quality="40")
        claim = review_claim(s)
    adjuster = gql(Role.ADJUSTER)
    asked = adjuster("""mutation($c: ID!) { requestInvestigation(input: {claimId: $c, checks: [IDENTITY],
        region: "330100"}) { investigation { id state } errors { code } } }""",
                     {"c": encode_global_id("Claim", claim.id)})["requestInvestigation"]
    inv_id = asked["investigation"]["id"]
    assigned = adjuster("""mutation($i: ID!) { assignInvestigation(input: {investigationId: $i}) {
        investigation { acceptDueAt currentOffer { firm { code } } } errors { code } } }""", {"i": inv_id})
    found = assigned["assignInvestigation"]["investigation"]
    assert found["currentOffer"]["firm"]["code"] == slow.code
    assert found["acceptDueAt"].startswith("2026-11-30T04:00:00")  # Monday 12:00 Beijing: the weekend is off

    clock.set(dt.datetime(2026, 11, 30, 4, 30, tzinfo=dt.UTC))
    assert run_job(engine, session_factory, settings.data_dir, "investigations.sla", at=clock.now()) == 1
    assert run_job(engine, session_factory, settings.data_dir, "investigations.sla", at=clock.now()) == 0
    assert run_job(engine, session_factory, settings.data_dir, "investigations.dispatch", at=clock.now()) == 1
    staff = adjuster("""query($i: ID!) { investigation(id: $i) { state escalationLevel
        offers { edges { node { state firm { code } } } } escalations { edges { node { sla level } } } } }""",
                     {"i": inv_id})["investigation"]
    assert staff["state"] == "ASSIGNED" and staff["escalationLevel"] == 1
    assert [(o["state"], o["firm"]["code"]) for o in nodes(staff["offers"])] == [("EXPIRED", slow.code),
                                                                                 ("OFFERED", other.code)]
    assert nodes(staff["escalations"]) == [{"sla": "ACCEPTANCE", "level": 1}]
    listed = adjuster("{ investigations(filter: {escalated: true}) { totalCount } }")["investigations"]
    assert listed["totalCount"] == 1
    perf = adjuster("""query($f: DateTime!, $t: DateTime!) { assessorFirmPerformance(from: $f, to: $t) {
        edges { node { firm { code } offers expired acceptanceRate } } } }""",
                    {"f": "2026-11-01T00:00:00Z", "t": "2026-12-01T00:00:00Z"})["assessorFirmPerformance"]
    assert {(n["firm"]["code"], n["offers"], n["expired"], n["acceptanceRate"]) for n in nodes(perf)} == {
        (slow.code, 1, 1, "0.0000"), (other.code, 1, 0, None)}
