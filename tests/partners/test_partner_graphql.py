"""Partners through GraphQL: maker-checker, partner scoping, typed refusals, keys, batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.auth import Role
from core.db import transaction
from core.settings import Settings
from ledger.commitments import TenantKey, install_tenant_key
from ledger.models import LedgerRecord
from partners.eip712 import Domain
from partners.models import Partner, SignedRecord
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
  record { id nonce primaryType proof { status commitment } } errors { field code message } } }"""
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
    trail = admin("query($id: ID!) { partner(id: $id) { reviewEvents { edges { node { fromStatus toStatus actor } } } } }",
                  {"id": created["id"]})["partner"]["reviewEvents"]["edges"]
    assert [(e["node"]["fromStatus"], e["node"]["toStatus"], e["node"]["actor"]) for e in trail] == [
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
    assert rec["primaryType"] == "SURVEY_REPORT" and rec["proof"]["status"] == "PENDING"
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
    page = firm_a("{ myPartner { signerKeys { totalCount edges { node { id address status } } } } }")
    keys = [e["node"] for e in page["myPartner"]["signerKeys"]["edges"]]
    assert [k["status"] for k in keys] == ["ACTIVE"] and page["myPartner"]["signerKeys"]["totalCount"] == 1
    new = Account.create()
    rotated = firm_a("""mutation($id: ID!, $addr: String!) { rotateSignerKey(input: {keyId: $id, newAddress: $addr,
        validFrom: "2026-06-01T00:00:00Z", oldValidUntil: "2099-01-01T00:00:00Z"}) {
        key { address rotatedFrom status } errors { code } } }""", {"id": keys[0]["id"], "addr": new.address})
    assert rotated["rotateSignerKey"]["key"]["rotatedFrom"] == keys[0]["id"]
    naive = firm_a.post("""mutation($id: ID!) { revokeSignerKey(input: {keyId: $id, reason: "x",
        effectiveAt: "2026-01-01T00:00:00"}) { key { id } errors { code field } } }""", {"id": keys[0]["id"]})
    assert naive.status_code == 400 and "explicit zone" in naive.json()["errors"][0]["message"]
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
    listed = admin("query($id: ID!) { partnerClients(partnerId: $id) { edges { node { id clientId revokedAt } } } }",
                   {"id": pid})
    (client,) = [e["node"] for e in listed["partnerClients"]["edges"]]
    assert client["clientId"] == made["client"]["clientId"] and client["revokedAt"] is None
    by_id = "query($id: ID!) { node(id: $id) { ... on PartnerClientCredential { clientId } } }"
    assert admin(by_id, {"id": client["id"]})["node"] == {"clientId": client["clientId"]}
    assert "clientSecret" not in str(listed)
    partner = gql(Role.PARTNER, partner_id=two_firms["a"].id)
    assert partner.post("query($id: ID!) { partnerClients(partnerId: $id) { totalCount } }",
                        {"id": pid}).status_code == 400
    assert partner("query($id: ID!) { node(id: $id) { id } }", {"id": client["id"]})["node"] is None


REGISTER = """mutation($input: RegisterPartnerInput!) { registerPartner(input: $input) {
  partner { id } errors { field code message } } }"""


def test_register_partner_reports_every_bad_field_at_once(gql: Any, session_factory: Any) -> None:
    agent = gql(Role.AGENT)
    out = agent(REGISTER, {"input": {
        "code": "no spaces", "name": "", "kind": "HOSPITAL",
        "licences": [{"number": "L-1", "issuer": "NHC", "validFrom": "2026-02-01", "validUntil": "2026-01-01"}],
        "documents": [{"kind": "BUSINESS_LICENCE", "name": "licence.pdf", "sha256": "xyz", "size": 10}],
    }})["registerPartner"]
    assert out["partner"] is None
    assert [(e["field"], e["code"]) for e in out["errors"]] == [
        ("code", "BAD_CODE"), ("name", "INVALID"), ("licences[0].validUntil", "BAD_PERIOD"),
        ("documents[0].sha256", "INVALID")]
    assert _count(session_factory, Partner) == 0
    with session_factory() as s:
        (outcome,) = s.scalars(select(AuditEntry.outcome).where(AuditEntry.action == "registerPartner")).all()
    assert outcome.startswith("refused:BAD_CODE,INVALID,BAD_PER")  # the codes, cut at 32 characters


def test_every_partner_type_resolves_by_global_id_as_its_own_query(gql: Any, two_firms: dict[str, Any]) -> None:
    """node(id:) answers a partner's own rows and null for another partner's (never FORBIDDEN)."""
    a, b = two_firms["a"], two_firms["b"]
    acct = two_firms["acct_a"]
    firm_a, firm_b = gql(Role.PARTNER, partner_id=a.id), gql(Role.PARTNER, partner_id=b.id)
    typed, sig = sign(acct, "SurveyReport", survey_message(two_firms["case_a"], acct.address))
    record = firm_a(SUBMIT, {"input": {"typedData": typed, "signature": sig}})["submitSignedRecord"]["record"]
    keys = firm_a("{ myPartner { signerKeys { edges { node { id } } } } }")["myPartner"]["signerKeys"]["edges"]
    ids = {"Partner": _gid("Partner", a.id), "Assignment": _gid("Assignment", two_firms["case_a"].id),
           "SignedRecord": record["id"], "SignerKey": keys[0]["node"]["id"]}
    q = "query($id: ID!) { node(id: $id) { __typename id } }"
    for type_name, gid in ids.items():
        assert firm_a(q, {"id": gid})["node"] == {"__typename": type_name, "id": gid}
        assert gql(Role.AUDITOR)(q, {"id": gid})["node"] == {"__typename": type_name, "id": gid}
        assert firm_b(q, {"id": gid})["node"] is None, type_name
        assert gql(Role.CUSTOMER, customer_id=1)(q, {"id": gid})["node"] is None, type_name
    message = """query($id: ID!) { node(id: $id) { ... on SignedRecord { primaryType
        message { __typename ... on SurveyReportMessage { investigationId conclusionCode assessor nonce } } } } }"""
    got = firm_a(message, {"id": record["id"]})["node"]
    assert got == {"primaryType": "SURVEY_REPORT", "message": {
        "__typename": "SurveyReportMessage", "investigationId": str(two_firms["case_a"].investigation_id),
        "conclusionCode": 2, "assessor": acct.address.lower(), "nonce": record["nonce"]}}


def test_lists_page_backward_with_exact_flags(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm = make_partner(s)
        cases = [make_assignment(s, firm).id for _ in range(5)]
        for _ in range(3):
            make_key(s, firm)
    partner = gql(Role.PARTNER, partner_id=firm.id)
    page = """query($last: Int, $before: String) { assignments(last: $last, before: $before) { totalCount
        edges { cursor node { id } } pageInfo { hasPreviousPage hasNextPage startCursor } } }"""
    last_two = partner(page, {"last": 2})["assignments"]
    assert [e["node"]["id"] for e in last_two["edges"]] == [_gid("Assignment", c) for c in cases[3:]]
    assert last_two["totalCount"] == 5 and last_two["pageInfo"]["hasPreviousPage"] is True
    assert last_two["pageInfo"]["hasNextPage"] is False
    earlier = partner(page, {"last": 3, "before": last_two["pageInfo"]["startCursor"]})["assignments"]
    assert [e["node"]["id"] for e in earlier["edges"]] == [_gid("Assignment", c) for c in cases[:3]]
    assert earlier["pageInfo"] == {**earlier["pageInfo"], "hasPreviousPage": False, "hasNextPage": True}
    keys = """query($last: Int, $before: String) { myPartner { signerKeys(last: $last, before: $before) {
        totalCount edges { node { id } } pageInfo { hasPreviousPage hasNextPage startCursor } } } }"""
    newest = partner(keys, {"last": 1})["myPartner"]["signerKeys"]
    assert newest["totalCount"] == 3 and newest["pageInfo"]["hasPreviousPage"] is True
    rest = partner(keys, {"last": 5, "before": newest["pageInfo"]["startCursor"]})["myPartner"]["signerKeys"]
    assert len(rest["edges"]) == 2 and rest["pageInfo"]["hasPreviousPage"] is False
    assert rest["pageInfo"]["hasNextPage"] is True
    both = gql(Role.PARTNER, partner_id=firm.id).post("{ assignments(first: 1, last: 1) { totalCount } }").json()
    assert both["errors"][0]["extensions"]["code"] == "PAGE_SIZE"


def test_eth_account_signs_with_the_published_domain_as_given(gql: Any, two_firms: dict[str, Any]) -> None:
    """What the examples do: read partnerSigningDomain, sign with eth-account, submit; no hard-coded types."""
    firm_a = gql(Role.PARTNER, partner_id=two_firms["a"].id)
    acct, case = two_firms["acct_a"], two_firms["case_a"]
    published = firm_a("""{ partnerSigningDomain { name version chainId verifyingContract
        types { name recordType fields { name type } } domainFields { name type } } }""")["partnerSigningDomain"]
    domain = {k: published[k] for k in ("name", "version", "chainId", "verifyingContract")}
    types = {t["name"]: t["fields"] for t in published["types"]}
    assert {t["recordType"] for t in published["types"]} == {"SURVEY_REPORT", "HOSPITAL_BILL", "CREDIT_REPORT"}
    message = {**survey_message(case, acct.address), "investigationId": str(case.investigation_id)}
    signable = encode_typed_data(domain, {"SurveyReport": types["SurveyReport"]}, message)
    signature = "0x" + bytes(acct.sign_message(signable).signature).hex()
    typed = {"types": {"EIP712Domain": published["domainFields"], "SurveyReport": types["SurveyReport"]},
             "primaryType": "SurveyReport", "domain": domain, "message": message}
    out = firm_a(SUBMIT, {"input": {"typedData": typed, "signature": signature}})["submitSignedRecord"]
    assert out["errors"] == [] and out["record"]["primaryType"] == "SURVEY_REPORT"
