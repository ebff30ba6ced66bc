"""Partners through GraphQL: maker-checker, partner scoping, typed refusals, keys, batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.auth import Role
from core.db import transaction
from core.settings import Settings
from ledger.commitments import TenantKey, install_tenant_key
from ledger.models import LedgerRecord
from partners.eip712 import Domain
from partners.models import SignedRecord
from schema.relay import encode_global_id
from tests.partner_factories import (
    DOMAIN,
    high_s,
    make_assignment,
    make_key,
    make_partner,
    sign,
    survey_message,
)


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(TenantKey.generate())
    yield
    install_tenant_key(None)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with the signing domain pinned (no chain in these tests)."""
    return settings.with_(extra={**settings.extra, "partners.chain_id": str(DOMAIN.chain_id),
                                 "partners.verifying_contract": DOMAIN.verifying_contract})


@pytest.fixture
def two_firms(session_factory: Any) -> dict[str, Any]:
    with transaction(session_factory) as s:
        a, b = make_partner(s), make_partner(s)
        _, acct_a = make_key(s, a)
        _, acct_b = make_key(s, b)
        case_a, case_b = make_assignment(s, a), make_assignment(s, b)
        return {"a": a, "b": b, "acct_a": acct_a, "acct_b": acct_b, "case_a": case_a, "case_b": case_b}


SUBMIT = """mutation($input: SignedRecordInput!) { submitSignedRecord(input: $input) {
  record { id nonce primaryType proof } errors { field code message } } }"""
BATCH = """mutation($inputs: [SignedRecordInput!]!) { submitSignedRecords(inputs: $inputs) {
  accepted results { index record { id } errors { code } } errors { code } } }"""


def _gid(name: str, pk: int) -> str:
    return encode_global_id(name, pk)


def _count(session_factory: Any, model: Any) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_maker_checker_through_graphql(gql: Any) -> None:
    manager, admin = gql(Role.MANAGER), gql(Role.ADMIN)
    created = manager("""mutation { registerPartner(input: {code: "H-ONE", name: "First Hospital", kind: HOSPITAL,
        licences: [{number: "MI-1", issuer: "NHC", validFrom: "2025-01-01", validUntil: "2030-01-01"}]}) {
        partner { id status submittedBy } errors { code } } }""")["registerPartner"]["partner"]
    assert created["status"] == "SUBMITTED" and created["submittedBy"] == "manager-test"
    start = "mutation($id: ID!) { startPartnerReview(input: {partnerId: $id}) { partner { status } errors { code } } }"
    own = manager(start, {"id": created["id"]})["startPartnerReview"]
    assert own == {"partner": None, "errors": [{"code": "MAKER_CHECKER"}]}
    assert admin(start, {"id": created["id"]})["startPartnerReview"]["partner"]["status"] == "REVIEWING"
    trail = admin("query($id: ID!) { partner(id: $id) { reviewEvents { fromStatus toStatus actor } } }",
                  {"id": created["id"]})["partner"]["reviewEvents"]
    assert [(e["fromStatus"], e["toStatus"], e["actor"]) for e in trail] == [
        (None, "SUBMITTED", "manager-test"), ("SUBMITTED", "REVIEWING", "admin-test")]
    refused = [e["node"] for e in admin(
        "{ auditEntries(first: 100) { edges { node { action outcome refusalCodes } } } }")["auditEntries"]["edges"]]
    assert {"action": "startPartnerReview", "outcome": "REFUSED", "refusalCodes": ["MAKER_CHECKER"]} in refused


def test_a_partner_sees_only_its_own_cases_and_records(gql: Any, two_firms: dict[str, Any]) -> None:
    a, b = two_firms["a"], two_firms["b"]
    firm_a, firm_b = gql(Role.PARTNER, partner_id=a.id), gql(Role.PARTNER, partner_id=b.id)
    listed = firm_a("{ assignments { edges { node { id caseReference partner { code } } } } }")["assignments"]
    assert [e["node"]["id"] for e in listed["edges"]] == [_gid("Assignment", two_firms["case_a"].id)]
    assert listed["edges"][0]["node"]["partner"]["code"] == a.code
    q = "query($id: ID!) { assignment(id: $id) { caseReference } }"
    foreign = firm_a.post(q, {"id": _gid("Assignment", two_firms["case_b"].id)}).json()
    assert foreign["data"]["assignment"] is None
    assert foreign["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    foreign_partner = firm_a.post("query($id: ID!) { partner(id: $id) { code } }", {"id": _gid("Partner", b.id)})
    assert foreign_partner.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert firm_a("{ myPartner { code status } }")["myPartner"] == {"code": a.code, "status": "APPROVED"}
    # the registry list and staff-only fields are closed to partners
    assert firm_a.post("{ partners { edges { node { code } } } }").json()["errors"][0]["extensions"]["code"] \
        == "FORBIDDEN"
    assert firm_a.post("{ myPartner { submittedBy } }").status_code == 400
    # records: B's record is FORBIDDEN to A
    acct_b = two_firms["acct_b"]
    payload, sig = sign(acct_b, "SurveyReport", survey_message(two_firms["case_b"], acct_b.address))
    rec = firm_b(SUBMIT, {"input": {"typedData": payload, "signature": sig}})["submitSignedRecord"]["record"]
    assert rec["primaryType"] == "SurveyReport" and rec["proof"]["status"] == "pending"
    read = firm_a.post("query($id: ID!) { signedRecord(id: $id) { id } }", {"id": rec["id"]}).json()
    assert read["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert firm_a("{ signedRecords { edges { node { id } } } }")["signedRecords"]["edges"] == []
    assert [e["node"]["id"] for e in firm_b("{ signedRecords { edges { node { id } } } }")
            ["signedRecords"]["edges"]] == [rec["id"]]


def test_refused_submissions_are_typed_errors_and_store_nothing(
    gql: Any, two_firms: dict[str, Any], session_factory: Any
) -> None:
    firm_a = gql(Role.PARTNER, partner_id=two_firms["a"].id)
    acct, case = two_firms["acct_a"], two_firms["case_a"]
    payload, sig = sign(acct, "SurveyReport", survey_message(case, acct.address))
    cases = {
        "WRONG_SIGNER": sign(Account.create(), "SurveyReport", survey_message(case, acct.address)),
        "HIGH_S": (payload, high_s(sig)),
        "MALFORMED": ({"primaryType": "SurveyReport"}, sig),
        "WRONG_CHAIN": sign(acct, "SurveyReport", survey_message(case, acct.address), Domain(5, DOMAIN.verifying_contract)),
        "NOT_ASSIGNED": sign(acct, "SurveyReport", survey_message(two_firms["case_b"], acct.address)),
    }
    for code, (typed, signature) in cases.items():
        out = firm_a(SUBMIT, {"input": {"typedData": typed, "signature": signature}})["submitSignedRecord"]
        assert out["record"] is None and out["errors"][0]["code"] == code, (code, out)
    assert _count(session_factory, SignedRecord) == 0 and _count(session_factory, LedgerRecord) == 0
    with session_factory() as s:
        outcomes = s.scalars(select(AuditEntry.outcome).where(AuditEntry.action == "submitSignedRecord")).all()
    assert sorted(outcomes) == sorted(f"refused:{c}" for c in cases)
    # staff may not submit partners' records at all
    staff = gql(Role.ADMIN).post(SUBMIT, {"input": {"typedData": payload, "signature": sig}})
    assert staff.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_batch_submission_reports_each_record(gql: Any, two_firms: dict[str, Any], session_factory: Any) -> None:
    firm_a = gql(Role.PARTNER, partner_id=two_firms["a"].id)
    acct, case = two_firms["acct_a"], two_firms["case_a"]
    inputs = []
    for n in (1, 2, 2):
        typed, sig = sign(acct, "SurveyReport", survey_message(case, acct.address, nonce=n))
        inputs.append({"typedData": typed, "signature": sig})
    out = firm_a(BATCH, {"inputs": inputs})["submitSignedRecords"]
    assert out["accepted"] == 2 and out["errors"] == []
    assert [r["errors"] for r in out["results"]] == [[], [], [{"code": "NONCE_REUSED"}]]
    too_many = firm_a(BATCH, {"inputs": inputs * 34})["submitSignedRecords"]
    assert too_many["errors"] == [{"code": "TOO_MANY"}] and _count(session_factory, SignedRecord) == 2


def test_keys_rotate_and_revoke_through_graphql(gql: Any, two_firms: dict[str, Any]) -> None:
    a = two_firms["a"]
    firm_a = gql(Role.PARTNER, partner_id=a.id)
    keys = firm_a("{ myPartner { signerKeys { id address status } } }")["myPartner"]["signerKeys"]
    assert [k["status"] for k in keys] == ["ACTIVE"]
    new = Account.create()
    rotated = firm_a("""mutation($id: ID!, $addr: String!) { rotateSignerKey(input: {keyId: $id, newAddress: $addr,
        validFrom: "2026-06-01T00:00:00Z", oldValidUntil: "2099-01-01T00:00:00Z"}) {
        key { address rotatedFrom status } errors { code } } }""", {"id": keys[0]["id"], "addr": new.address})
    assert rotated["rotateSignerKey"]["key"]["rotatedFrom"] == keys[0]["id"]
    naive = firm_a("""mutation($id: ID!) { revokeSignerKey(input: {keyId: $id, reason: "x",
        effectiveAt: "2026-01-01T00:00:00"}) { key { id } errors { code field } } }""", {"id": keys[0]["id"]})
    assert naive["revokeSignerKey"]["errors"][0]["field"] == "effectiveAt"
    revoked = firm_a("""mutation($id: ID!) { revokeSignerKey(input: {keyId: $id, reason: "lost"}) {
        key { status revokedReason } errors { code } } }""", {"id": keys[0]["id"]})["revokeSignerKey"]
    assert revoked["key"] == {"status": "REVOKED", "revokedReason": "lost"}
    other = gql(Role.PARTNER, partner_id=two_firms["b"].id)
    theirs = other("""mutation($id: ID!) { revokeSignerKey(input: {keyId: $id, reason: "x"}) {
        errors { code } } }""", {"id": keys[0]["id"]})["revokeSignerKey"]
    assert theirs["errors"][0]["code"] == "NOT_FOUND"
    dup = firm_a("""mutation($addr: String!) { registerSignerKey(input: {address: $addr}) { errors { code } } }""",
                 {"addr": new.address})["registerSignerKey"]
    assert dup["errors"][0]["code"] == "DUPLICATE_KEY"


def test_client_credentials_secret_is_shown_once(gql: Any, two_firms: dict[str, Any]) -> None:
    admin = gql(Role.ADMIN)
    pid = _gid("Partner", two_firms["a"].id)
    made = admin("""mutation($id: ID!) { createPartnerClient(input: {partnerId: $id, label: "claims system"}) {
        client { clientId label } clientSecret errors { code } } }""", {"id": pid})["createPartnerClient"]
    assert made["client"]["clientId"].startswith("pc_") and len(made["clientSecret"]) >= 40
    listed = admin("query($id: ID!) { partnerClients(partnerId: $id) { clientId revokedAt } }", {"id": pid})
    assert listed["partnerClients"] == [{"clientId": made["client"]["clientId"], "revokedAt": None}]
    assert "clientSecret" not in str(listed)
    partner = gql(Role.PARTNER, partner_id=two_firms["a"].id)
    assert partner.post("query($id: ID!) { partnerClients(partnerId: $id) { clientId } }", {"id": pid}).status_code == 400
