"""End to end: a survey signed with ethers.js by an approved assessor's key is accepted through
GraphQL, anchored, and its proof verifies; approval and suspension change on-chain roles."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from core.auth import Role
from core.egress import EgressPolicy, egress_client
from ledger.anchoring import anchor_pending, open_chain
from ledger.chain_client import ChainClient
from ledger.commitments import TenantKey, install_tenant_key
from ledger.verify import verify_bundle
from partners import eip712
from partners.chain_roles import has_partner_role, sync_chain_roles
from partners.jobs import run_partner_jobs
from partners.webhooks import verify_signature
from schema.relay import decode_global_id
from tests import npm_tools
from tests.partner_factories import WebhookReceiver

REPO = Path(__file__).resolve().parents[2]
SIGNER_JS = REPO / "tests" / "partners" / "js" / "sign_survey.mjs"


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(TenantKey.generate())
    yield
    install_tenant_key(None)


@pytest.fixture
def settings(settings: Any) -> Any:
    """The suite's settings (no ledger started by the app) allowing loopback webhooks."""
    return settings.with_(extra={**settings.extra, "partners.webhooks_allow_insecure": "1"},
                          egress_allow=("127.0.0.1/32",))


@pytest.fixture
def chain(settings: Any, session_factory: Any) -> ChainClient:
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    admin: LocalAccount = Account.create()
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": admin.address, "value": 10**21}))
    return open_chain(settings, session_factory, target=w3, account=admin)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver().start()
    yield r
    r.stop()


def ethers_sign(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sign with ethers v6 in node (independent of our Python)."""
    npm_tools.package("ethers")
    node = npm_tools.node()
    out = subprocess.run([node, str(SIGNER_JS)], input=json.dumps({"records": records}), capture_output=True,
                         text=True, timeout=60, check=True)
    results: list[dict[str, Any]] = json.loads(out.stdout)["results"]
    return results


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["errors"] == [], payload["errors"]
    return payload


REGISTER = """mutation($input: RegisterPartnerInput!) { registerPartner(input: $input) {
  partner { id status version } errors { field code message } } }"""
REVIEW_STEP = """mutation($input: PartnerReviewInput!) { %s(input: $input) {
  partner { id status version } errors { field code message } } }"""
REGISTER_KEY = """mutation($input: RegisterSignerKeyInput!) { registerSignerKey(input: $input) {
  key { id address status } errors { field code message } } }"""
ASSIGN = """mutation($input: CreateAssignmentInput!) { createAssignment(input: $input) {
  assignment { id investigationId caseReference } errors { code message } } }"""
DOMAIN_Q = "{ partnerSigningDomain { name version chainId verifyingContract types { name fields { name type } } } }"
SUBMIT = """mutation($input: SignedRecordInput!) { submitSignedRecord(input: $input) {
  record { id signer signature digest commitment assignment { caseReference } }
  errors { field code message } } }"""
RECORD_Q = "query($id: ID!) { signedRecord(id: $id) { id proof { status commitment document } } }"
WEBHOOK = """mutation($input: RegisterWebhookEndpointInput!) { registerWebhookEndpoint(input: $input) {
  endpoint { id url events } secret errors { code message } } }"""


@pytest.mark.npm
def test_ethers_signed_survey_through_graphql_is_anchored_and_roles_follow_status(
    gql: Any, chain: ChainClient, session_factory: Any, receiver: WebhookReceiver
) -> None:
    agent, manager, adjuster = gql(Role.AGENT), gql(Role.MANAGER), gql(Role.ADJUSTER)
    partner = ok(agent(REGISTER, {"input": {
        "code": "SURVEY-CO", "name": "Survey Co Loss Assessors", "kind": "ASSESSOR_FIRM",
        "licences": [{"number": "NFRA-77", "issuer": "NFRA", "validFrom": "2025-01-01", "validUntil": "2099-12-31"}],
        "documents": [{"kind": "PRACTICE_LICENCE", "name": "licence.pdf", "sha256": "ab" * 32, "size": 1024}],
    }})["registerPartner"])["partner"]
    pid = partner["id"]
    firm = gql(Role.PARTNER, partner_id=decode_global_id(pid, "Partner"))

    # the partner registers its signer key and a webhook endpoint before approval
    signer: LocalAccount = Account.create()
    key = ok(firm(REGISTER_KEY, {"input": {"address": signer.address}})["registerSignerKey"])["key"]
    assert key["address"] == signer.address.lower()
    hook = ok(firm(WEBHOOK, {"input": {"url": receiver.url}})["registerWebhookEndpoint"])
    secret = hook["secret"]
    assert secret.startswith("whsec_")

    # agents do not review (declared permission); a manager reviews and approves
    refused = agent.post(REVIEW_STEP % "startPartnerReview", {"input": {"partnerId": pid}})
    assert refused.status_code == 400 and refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    ok(manager(REVIEW_STEP % "startPartnerReview", {"input": {"partnerId": pid}})["startPartnerReview"])
    approved = ok(manager(REVIEW_STEP % "approvePartner", {"input": {"partnerId": pid}})["approvePartner"])
    assert approved["partner"]["status"] == "APPROVED"

    assert not has_partner_role(chain, signer.address)
    result = sync_chain_roles(session_factory, chain)
    assert result.granted == 1 and not result.errors
    assert has_partner_role(chain, signer.address)

    assignment = ok(adjuster(ASSIGN, {"input": {
        "partnerId": pid, "kind": "SURVEY", "caseReference": "CLM-2026-0042", "investigationId": "4711",
    }})["createAssignment"])["assignment"]
    assert assignment["investigationId"] == "4711"

    domain = firm(DOMAIN_Q)["partnerSigningDomain"]
    assert domain["name"] == "Opsure" and domain["verifyingContract"] == chain.contract_address
    assert int(domain["chainId"]) == chain.chain_id()
    types = {t["name"]: t["fields"] for t in domain["types"]}  # as ethers' signTypedData takes them
    message = {
        "investigationId": "4711", "caseReference": "CLM-2026-0042",
        "findingsCommitment": "0x" + "3c" * 32, "conclusionCode": 1,
        "assessor": signer.address, "nonce": "1", "deadline": "4102444800",
    }
    signed = ethers_sign([{
        "privateKey": "0x" + bytes(signer.key).hex(),
        "domain": {"name": "Opsure", "version": "1", "chainId": domain["chainId"],
                   "verifyingContract": domain["verifyingContract"]},
        "primaryType": "SurveyReport", "types": {"SurveyReport": types["SurveyReport"]},
        "message": message,
    }])[0]
    submitted = ok(firm(SUBMIT, {"input": {"typedData": signed["typedData"], "signature": signed["signature"]}})
                   ["submitSignedRecord"])["record"]
    assert submitted["signer"] == signer.address.lower() and submitted["digest"] == signed["digest"]
    assert submitted["assignment"]["caseReference"] == "CLM-2026-0042"

    # the same signature again is a replay
    again = firm(SUBMIT, {"input": {"typedData": signed["typedData"], "signature": signed["signature"]}})
    assert again["submitSignedRecord"]["errors"][0]["code"] == "NONCE_REUSED"

    assert anchor_pending(session_factory, chain, max_age=0).records == 1
    proof = firm(RECORD_Q, {"id": submitted["id"]})["signedRecord"]["proof"]
    assert proof["status"] == "ANCHORED" and proof["commitment"] == submitted["commitment"]
    bundle = json.loads(proof["document"])
    verdict = verify_bundle(bundle, None, w3=chain.w3, expect_contract=chain.contract_address)
    assert verdict.ok, verdict.render()

    # the partner hears of its assignment and of the anchoring, HMAC-signed
    with egress_client(EgressPolicy.from_entries(["127.0.0.1/32"]), timeout=5) as http:
        done = run_partner_jobs(session_factory, chain=chain, http=http)
    assert done["records_anchored_notified"] == 1 and done["webhooks_delivered"] == 2
    events = {h["opsure-event"]: (h, body) for h, body in receiver.calls}
    assert set(events) == {"assignment.created", "record.anchored"}
    for headers, body in events.values():
        assert verify_signature(secret, headers["opsure-signature"], body)
    assert json.loads(events["record.anchored"][1])["data"]["commitment"] == submitted["commitment"]
    created = json.loads(events["assignment.created"][1])["data"]
    assert created["investigationId"] == 4711 and created["assignmentId"] == assignment["id"]  # a global id

    # suspension revokes the role on chain
    ok(manager(REVIEW_STEP % "suspendPartner", {"input": {"partnerId": pid, "reason": "licence under review"}})
       ["suspendPartner"])
    result = sync_chain_roles(session_factory, chain)
    assert result.revoked == 1
    assert not has_partner_role(chain, signer.address)
    # and the suspended firm can no longer submit
    signed2 = ethers_sign([{
        "privateKey": "0x" + bytes(signer.key).hex(),
        "domain": {"name": "Opsure", "version": "1", "chainId": domain["chainId"],
                   "verifyingContract": domain["verifyingContract"]},
        "primaryType": "SurveyReport", "types": {"SurveyReport": types["SurveyReport"]},
        "message": {**message, "nonce": "2"},
    }])[0]
    late = firm(SUBMIT, {"input": {"typedData": signed2["typedData"], "signature": signed2["signature"]}})
    assert late["submitSignedRecord"]["errors"][0]["code"] == "PARTNER_NOT_APPROVED"


def test_role_sync_is_idempotent_and_follows_key_revocation(
    gql: Any, chain: ChainClient, session_factory: Any
) -> None:
    from core.db import transaction
    from partners import keys
    from tests.partner_factories import CHECKER, NOW, make_key, make_partner

    with transaction(session_factory) as s:
        firm = make_partner(s)
        key, acct = make_key(s, firm, now=NOW)
        _, other = make_key(s, firm, now=NOW)
    assert sync_chain_roles(session_factory, chain).granted == 2
    again = sync_chain_roles(session_factory, chain)
    assert again.granted == again.revoked == again.unchanged == 0  # nothing due
    with transaction(session_factory) as s:
        keys.revoke_key(s, principal=CHECKER, key_id=key.id, reason="left the firm", now=NOW)
    assert sync_chain_roles(session_factory, chain).revoked == 1
    assert not has_partner_role(chain, acct.address) and has_partner_role(chain, other.address)
    assert eip712.Domain(chain.chain_id(), chain.contract_address).verifying_contract == chain.contract_address
