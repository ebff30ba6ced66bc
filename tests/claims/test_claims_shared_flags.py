"""Risk flags partners shared on the insured (partners.risk) feed the claim's risk profile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from core.settings import Settings
from ledger.commitments import TenantKey, install_tenant_key
from partners import risk
from partners.models import PartnerKind
from resolvers.claims import service
from resolvers.claims.models import ClaimState, RiskLevel
from resolvers.policies.models import Customer
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, make_claim_policy, report
from tests.partner_factories import make_partner, partner_principal

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(TenantKey.generate())
    yield
    install_tenant_key(None)


def _publish(s: Any, key: risk.ConsortiumKey, customer_id: int, code: str = "STAGED_ACCIDENT") -> None:
    insurer = make_partner(s, kind=PartnerKind.INSURER)
    id_number = s.get_one(Customer, customer_id).id_number
    risk.publish_flag(s, principal=partner_principal(insurer), blinded_id=key.blind(id_number), flag_code=code,
                      level="high", now=NOW)


def _submit(s: Any, claim_id: int, key: risk.ConsortiumKey | None) -> Any:
    return service.submit_claim(s, principal=ADJUSTER, claim_id=claim_id, expected_version=None,
                                today=business_today(), now=NOW, consortium=key)


def test_a_shared_flag_raises_the_risk_and_names_the_flag(session_factory: Any) -> None:
    key = risk.ConsortiumKey.generate()
    with transaction(session_factory) as s:
        flagged, clean = make_claim_policy(s, code="SF1"), make_claim_policy(s, code="SF2")
        _publish(s, key, flagged.customer_id)
        flagged_claim, clean_claim = report(s, flagged), report(s, clean)
    with transaction(session_factory) as s:
        a = _submit(s, flagged_claim.id, key)
        b = _submit(s, clean_claim.id, key)
        assert a.risk_level is RiskLevel.HIGH and a.state is ClaimState.INVESTIGATING
        codes = [(h["source"], h["code"]) for h in a.risk_hints]
        assert ("rule", "SHARED_RISK_FLAG") in codes and ("shared", "STAGED_ACCIDENT") in codes
        shared = next(h for h in a.risk_hints if h["source"] == "shared")
        assert shared["level"] == "high" and "STAGED_ACCIDENT" in shared["message"]
        assert b.risk_level is RiskLevel.LOW and all(h["source"] != "shared" for h in b.risk_hints)


def test_without_a_consortium_key_nothing_is_looked_up(session_factory: Any) -> None:
    key = risk.ConsortiumKey.generate()
    with transaction(session_factory) as s:
        policy = make_claim_policy(s, code="SF3")
        _publish(s, key, policy.customer_id)
        claim = report(s, policy)
    with transaction(session_factory) as s:
        c = _submit(s, claim.id, None)
        assert c.risk_level is RiskLevel.LOW and all(h["source"] != "shared" for h in c.risk_hints)


def test_submit_claim_mutation_uses_the_data_dirs_consortium_key(gql: Any, settings: Settings,
                                                                session_factory: Any) -> None:
    key = risk.consortium_key(settings.keys_dir)
    with transaction(session_factory) as s:
        policy = make_claim_policy(s, code="SF4")
        _publish(s, key, policy.customer_id, code="DUPLICATE_CLAIM")
        claim = report(s, policy)
        customer_id, claim_id = policy.customer_id, claim.id
    submitted = gql(Role.CUSTOMER, customer_id=customer_id)(
        "mutation($id: ID!) { submitClaim(input: {claimId: $id}) { claim { state } errors { code } } }",
        {"id": encode_global_id("Claim", claim_id)})["submitClaim"]
    assert submitted["errors"] == [] and submitted["claim"]["state"] == "INVESTIGATING"
    seen = gql(Role.ADJUSTER)("query($id: ID!) { claim(id: $id) { riskLevel riskHints { source code level } } }",
                              {"id": encode_global_id("Claim", claim_id)})["claim"]
    assert seen["riskLevel"] == "HIGH"
    assert {"source": "SHARED", "code": "DUPLICATE_CLAIM", "level": "HIGH"} in seen["riskHints"]
