"""Shared risk data: blinded ids, publishing, cross-insurer look-ups with proofs, disclosures."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from sqlalchemy import select
from web3 import EthereumTesterProvider, Web3

from core.auth import Role
from core.db import transaction
from core.errors import ConflictError, ValidationError
from core.event_stream import drain
from core.settings import Settings
from ledger.anchoring import anchor_pending, open_chain
from ledger.commitments import TenantKey, install_tenant_key
from ledger.models import LedgerRecord
from ledger.verify import verify_bundle
from partners import risk
from partners.errors import RecordRejected
from partners.models import PartnerKind, WebhookDelivery
from partners.risk import ConsortiumKey
from partners.webhooks import WEBHOOK_CONSUMER, register_endpoint
from schema.relay import encode_global_id
from tests.partner_factories import NOW, make_partner, partner_principal

ID_NUMBER = "11010119900307001X"


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(TenantKey.generate())
    yield
    install_tenant_key(None)


@pytest.fixture
def insurers(session_factory: Any) -> dict[str, Any]:
    with transaction(session_factory) as s:
        return {
            "a": make_partner(s, kind=PartnerKind.INSURER),
            "b": make_partner(s, kind=PartnerKind.INSURER),
            "hospital": make_partner(s, kind=PartnerKind.HOSPITAL),
            "pending": make_partner(s, kind=PartnerKind.INSURER, approved=False),
        }


def test_blinded_id_is_a_keyed_hmac_of_the_normalised_number(tmp_path: Path) -> None:
    key = ConsortiumKey.load_or_create(tmp_path / "keys")
    assert ConsortiumKey.load_or_create(tmp_path / "keys") == key  # created once, then read
    assert (tmp_path / "keys" / "consortium.key").stat().st_mode & 0o777 == 0o600
    want = hmac.new(key.key, ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    assert key.blind(ID_NUMBER) == key.blind("110101 19900307 001x") == key.blind("110101-19900307-001X") == want
    assert ConsortiumKey.generate().blind(ID_NUMBER) != want
    assert ID_NUMBER not in repr(key) and "secret" in repr(key)
    with pytest.raises(ValidationError):
        key.blind("12")


def test_publish_and_query_across_insurers(session_factory: Any, insurers: dict[str, Any]) -> None:
    key = ConsortiumKey.generate()
    blinded = key.blind(ID_NUMBER)
    a, b = partner_principal(insurers["a"]), partner_principal(insurers["b"])
    with transaction(session_factory) as s:
        register_endpoint(s, principal=a, partner_id=insurers["a"].id, url="https://a.example/hooks",
                          events=("flag.matched",), now=NOW)
        flag = risk.publish_flag(s, principal=a, blinded_id=blinded, flag_code="duplicate_claim", level="high", now=NOW)
        assert flag.flag_code == "DUPLICATE_CLAIM"
        risk.publish_flag(s, principal=b, blinded_id=blinded, flag_code="FRAUD_SUSPECTED", level="medium", now=NOW)
    drain(session_factory, WEBHOOK_CONSUMER)  # the webhook consumer turns the second flag into a delivery
    with session_factory() as s:
        matches = risk.find_flags(s, principal=b, blinded_id=blinded.upper())
        assert [(f.flag_code, f.publisher_id) for f in matches] == [
            ("FRAUD_SUSPECTED", insurers["b"].id), ("DUPLICATE_CLAIM", insurers["a"].id)]
        assert risk.find_flags(s, principal=a, blinded_id=key.blind("110101199003070020")) == []
        # the earlier flagger heard that another insurer flagged the same person
        (delivery,) = s.scalars(select(WebhookDelivery)).all()
        assert delivery.partner_id == insurers["a"].id and delivery.event == "flag.matched"
        # nothing personal went into the ledger: only the blinded id
        bodies = [r.body or "" for r in s.scalars(select(LedgerRecord))]
        assert len(bodies) == 2 and all(ID_NUMBER not in body and blinded in body for body in bodies)


def test_who_may_publish_and_read(session_factory: Any, insurers: dict[str, Any]) -> None:
    blinded = ConsortiumKey.generate().blind(ID_NUMBER)
    with transaction(session_factory) as s:
        for who, code in [("hospital", "FORBIDDEN"), ("pending", "PARTNER_NOT_APPROVED")]:
            with pytest.raises(RecordRejected) as info:
                risk.publish_flag(s, principal=partner_principal(insurers[who]), blinded_id=blinded,
                                  flag_code="X_FLAG", level="low", now=NOW)
            assert info.value.code == code
            with pytest.raises(RecordRejected):
                risk.find_flags(s, principal=partner_principal(insurers[who]), blinded_id=blinded)
        a = partner_principal(insurers["a"])
        with pytest.raises(ValidationError):
            risk.publish_flag(s, principal=a, blinded_id=ID_NUMBER, flag_code="X_FLAG", level="low", now=NOW)
        with pytest.raises(ValidationError):
            risk.publish_flag(s, principal=a, blinded_id=blinded, flag_code="X_FLAG", level="extreme", now=NOW)
        risk.publish_flag(s, principal=a, blinded_id=blinded, flag_code="X_FLAG", level="low", now=NOW)
        with pytest.raises(ConflictError):
            risk.publish_flag(s, principal=a, blinded_id=blinded, flag_code="X_FLAG", level="high", now=NOW)


def test_matches_carry_proofs_and_disclosures_verify_against_the_anchor(
    gql: Any, settings: Settings, session_factory: Any, insurers: dict[str, Any]
) -> None:
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    admin: LocalAccount = Account.create()
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": admin.address, "value": 10**21}))
    chain = open_chain(settings, session_factory, target=w3, account=admin)
    key = risk.consortium_key(settings.keys_dir)  # the embedded default's key file
    blinded = key.blind(ID_NUMBER)
    a = gql(Role.PARTNER, partner_id=insurers["a"].id)
    b = gql(Role.PARTNER, partner_id=insurers["b"].id)
    published = a("""mutation($b: String!) { publishRiskFlag(input: {blindedId: $b, flagCode: "STAGED_ACCIDENT",
        level: HIGH}) { riskFlag { id commitment level } errors { code } } }""", {"b": blinded})["publishRiskFlag"]
    flag = published["riskFlag"]
    assert anchor_pending(session_factory, chain, max_age=0).records == 1
    assert flag["level"] == "HIGH"
    q = """query($b: String!) { riskFlags(blindedId: $b) { totalCount edges { node { id flagCode level commitment
             publisher { code name } proof { status document } } } } }"""
    found = b(q, {"b": blinded})["riskFlags"]
    (match,) = [e["node"] for e in found["edges"]]
    assert found["totalCount"] == 1 and match["id"] == flag["id"]
    assert match["publisher"]["code"] == insurers["a"].code and match["commitment"] == flag["commitment"]
    assert match["proof"]["status"] == "ANCHORED"
    bundle = json.loads(match["proof"]["document"])
    assert verify_bundle(bundle, None, w3=chain.w3, expect_contract=chain.contract_address).ok
    # staff look a person up by ID number; the blinding happens server side
    staff = gql(Role.ADJUSTER)("query($n: String!) { riskFlagsForIdNumber(idNumber: $n) { edges { node { flagCode } } } }",
                               {"n": ID_NUMBER})
    assert staff["riskFlagsForIdNumber"]["edges"] == [{"node": {"flagCode": "STAGED_ACCIDENT"}}]
    # the holder discloses body and salt; the other insurer verifies them against the anchored commitment
    disclosure = a("query($id: ID!) { riskFlagDisclosure(riskFlagId: $id) { body salt commitment } }",
                   {"id": flag["id"]})["riskFlagDisclosure"]
    assert disclosure["body"]["blindedId"] == blinded
    verify = "query($c: String!, $body: JSON!, $salt: String!) { verifyDisclosure(commitment: $c, body: $body, " \
             "salt: $salt) { matches anchored kind } }"
    args = {"c": disclosure["commitment"], "body": disclosure["body"], "salt": disclosure["salt"]}
    assert b(verify, args)["verifyDisclosure"] == {"matches": True, "anchored": True, "kind": "RISK_FLAG"}
    tampered = {**args, "body": {**disclosure["body"], "level": "low"}}
    assert b(verify, tampered)["verifyDisclosure"] == {"matches": False, "anchored": False, "kind": None}
    wrong_salt = {**args, "salt": "00" * 32}
    assert b(verify, wrong_salt)["verifyDisclosure"]["matches"] is False
    # only the holder may disclose
    other = b.post("query($id: ID!) { riskFlagDisclosure(riskFlagId: $id) { salt } }", {"id": flag["id"]}).json()
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    hospital = gql(Role.PARTNER, partner_id=insurers["hospital"].id).post(q, {"b": blinded}).json()
    assert hospital["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert encode_global_id("RiskFlag", 1) == flag["id"]
    # by global id only its publisher and risk staff read a flag (ids are sequential; blinded ids are not)
    by_id = "query($id: ID!) { node(id: $id) { id ... on RiskFlag { flagCode } } }"
    assert a(by_id, {"id": flag["id"]})["node"] == {"id": flag["id"], "flagCode": "STAGED_ACCIDENT"}
    assert gql(Role.ADJUSTER)(by_id, {"id": flag["id"]})["node"]["flagCode"] == "STAGED_ACCIDENT"
    assert b(by_id, {"id": flag["id"]})["node"] is None
    assert gql(Role.AGENT)("query($id: ID!) { node(id: $id) { id } }", {"id": flag["id"]})["node"] is None
