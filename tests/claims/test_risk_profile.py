"""Customer.riskProfile for adjusters and risk staff (history features, shared flags with proofs, hints), and
quotes that consult the consortium's shared flags: a flag at a referring level sends the quote to manual
underwriting with a reason that names nothing of the flag."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
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
from resolvers.claims.models import ClaimState
from resolvers.policies.models import Customer, QuoteStatus, UnderwritingOutcome
from resolvers.policies.underwriting import Decision, UnderwritingReason, refer_on_shared_risk
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, make_claim_policy, report
from tests.factories import make_customer, make_product
from tests.partner_factories import make_partner, partner_principal
from tests.rule_factories import submitted_claim

NOW = dt.datetime.now(dt.UTC)
PROFILE = """query($id: ID!) { node(id: $id) { ... on Customer { riskProfile {
  totalClaims openClaims claims365 amount365 rejected365 highRisk365 lastEventOn
  sharedFlags { flagCode level proof { status } } hints { code level } } } } }"""
QUOTE = """mutation($i: RequestQuoteInput!) { requestQuote(input: $i) {
  quote { id outcome status reasons { code text } } errors { code } } }"""
ISSUE = """mutation($q: ID!) { issuePolicy(quoteId: $q) { policy { id } errors { field code } } }"""
REFERRAL = """query($q: ID!) { node(id: $q) { ... on Quote { outcome referralFlags { flagCode level
  proof { status } } } } }"""
ANSWERS = [{"question": q, "answer": False, "diagnoses": []}
           for q in ("cancer", "chronic", "hospitalized_2y", "pending_investigation", "smoker")]


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(TenantKey.generate())
    yield
    install_tenant_key(None)


def _flag(s: Any, key: risk.ConsortiumKey, customer_id: int, *, level: str, code: str = "STAGED_ACCIDENT") -> None:
    insurer = make_partner(s, kind=PartnerKind.INSURER)
    id_number = s.get_one(Customer, customer_id).id_number
    risk.publish_flag(s, principal=partner_principal(insurer), blinded_id=key.blind(id_number), flag_code=code,
                      level=level, now=NOW)


def test_adjusters_read_the_profile_with_history_shared_flags_and_hints(
        gql: Any, settings: Settings, session_factory: Any) -> None:
    key = risk.consortium_key(settings.keys_dir)
    with transaction(session_factory) as s:
        policy = make_claim_policy(s, code="RP1")
        for i in range(4):  # four stays that do not overlap (no duplicate suspected)
            c = report(s, policy, days_ago=20 + 5 * i)
            service.submit_claim(s, principal=ADJUSTER, claim_id=c.id, expected_version=None,
                                 today=business_today(), now=NOW)
        report(s, policy)  # a draft: not in the profile
        _flag(s, key, policy.customer_id, level="high")
        customer = encode_global_id("Customer", policy.customer_id)
    got = gql(Role.ADJUSTER)(PROFILE, {"id": customer})["node"]["riskProfile"]
    event_on = (business_today() - dt.timedelta(days=20)).isoformat()
    assert got | {"sharedFlags": None, "hints": None} == {
        "totalClaims": 4, "openClaims": 4, "claims365": 4, "amount365": "3200.00", "rejected365": 0,
        "highRisk365": 0, "lastEventOn": event_on, "sharedFlags": None, "hints": None}
    assert got["sharedFlags"] == [{"flagCode": "STAGED_ACCIDENT", "level": "HIGH", "proof": {"status": "PENDING"}}]
    assert [(h["code"], h["level"]) for h in got["hints"]] == [
        ("SHARED_FLAG_HIGH", "HIGH"), ("FREQUENT_CLAIMANT", "MEDIUM")]
    for role in (Role.CUSTOMER, Role.AGENT):
        refused = gql(role, customer_id=policy.customer_id).post(PROFILE, {"id": customer})
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", role


def _quote(gql: Any, customer_id: int, product_id: int) -> dict[str, Any]:
    me = gql(Role.CUSTOMER, customer_id=customer_id)
    return me(QUOTE, {"i": {"customerId": encode_global_id("Customer", customer_id),  # type: ignore[no-any-return]
                            "productId": encode_global_id("Product", product_id),
                            "startDate": business_today().isoformat(), "answers": ANSWERS}})["requestQuote"]


def test_a_shared_high_flag_sends_the_quote_to_manual_underwriting_without_naming_it(
        gql: Any, settings: Settings, session_factory: Any) -> None:
    key = risk.consortium_key(settings.keys_dir)
    with transaction(session_factory) as s:
        product = make_product(s, code="RP-Q")
        flagged, low, clean = make_customer(s), make_customer(s), make_customer(s)
        _flag(s, key, flagged.id, level="high")
        _flag(s, key, low.id, level="low", code="MINOR_NOTE")
        ids = (flagged.id, low.id, clean.id, product.id)
    referred = _quote(gql, ids[0], ids[3])
    assert referred["errors"] == []
    quote = referred["quote"]
    assert (quote["outcome"], quote["status"]) == ("REFER", "REFERRED")
    assert [r["code"] for r in quote["reasons"]] == ["REFERRED_FOR_REVIEW"]
    assert "STAGED" not in quote["reasons"][0]["text"] and "flag" not in quote["reasons"][0]["text"].lower()
    issued = gql(Role.CUSTOMER, customer_id=ids[0])(ISSUE, {"q": quote["id"]})["issuePolicy"]
    assert issued == {"policy": None, "errors": [{"field": "quoteId", "code": "QUOTE_REFERRED"}]}
    assert gql(Role.ADJUSTER)(REFERRAL, {"q": quote["id"]})["node"] == {"outcome": "REFER", "referralFlags": [
        {"flagCode": "STAGED_ACCIDENT", "level": "HIGH", "proof": {"status": "PENDING"}}]}
    hidden = gql(Role.CUSTOMER, customer_id=ids[0]).post(REFERRAL, {"q": quote["id"]})
    assert hidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for customer_id in ids[1:3]:
        accepted = _quote(gql, customer_id, ids[3])["quote"]
        assert (accepted["outcome"], accepted["status"]) == ("ACCEPT", "OPEN")
        assert gql(Role.MANAGER)(REFERRAL, {"q": accepted["id"]})["node"]["referralFlags"] == []
        assert [r["code"] for r in accepted["reasons"]] == ["STANDARD_RISK"]


def test_referral_keeps_the_declarations_own_reasons_and_never_overrides_a_decline() -> None:
    loaded = Decision(UnderwritingOutcome.ACCEPT_WITH_EXCLUSIONS, ["E11"],
                      [UnderwritingReason.CONDITIONS_EXCLUDED, UnderwritingReason.SMOKER_LOADING], smoker=True)
    referred = refer_on_shared_risk(loaded, ["low", "medium"])
    assert referred.outcome is UnderwritingOutcome.REFER and referred.exclusions == ["E11"] and referred.smoker
    assert referred.reasons == [UnderwritingReason.CONDITIONS_EXCLUDED, UnderwritingReason.SMOKER_LOADING,
                                UnderwritingReason.REFERRED_FOR_REVIEW]
    declined = Decision(UnderwritingOutcome.DECLINE, [], [UnderwritingReason.DECLINED_MALIGNANCY])
    assert refer_on_shared_risk(declined, ["high"]) is declined
    assert refer_on_shared_risk(loaded, ["low"]) is loaded and refer_on_shared_risk(loaded, []) is loaded


def test_the_profile_counts_rejections_and_high_risk_claims(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        claim = submitted_claim(s, amount=Decimal("60000.00"), days_ago=3)
        service.transition_claim(s, principal=ADJUSTER, claim_id=claim.id, to=ClaimState.REJECTED,
                                 reason="fraud confirmed", expected_version=None, now=NOW)
        customer = encode_global_id("Customer", claim.customer_id)
        assert QuoteStatus.REFERRED.value == "referred"
    got = gql(Role.MANAGER)(PROFILE, {"id": customer})["node"]["riskProfile"]
    assert (got["rejected365"], got["openClaims"], got["sharedFlags"]) == (1, 0, [])
    assert ("REJECTED_BEFORE", "MEDIUM") in [(h["code"], h["level"]) for h in got["hints"]]


DECIDE = """mutation($q: ID!, $d: ReferralDecision!) { decideReferredQuote(quoteId: $q, decision: $d) {
  quote { status outcome reasons { code text } } errors { field code } } }"""


def test_an_underwriter_accepts_or_declines_a_referred_quote_once(
        gql: Any, settings: Settings, session_factory: Any) -> None:
    key = risk.consortium_key(settings.keys_dir)
    with transaction(session_factory) as s:
        product = make_product(s, code="RP-D")
        first, second = make_customer(s), make_customer(s)
        for customer in (first, second):
            _flag(s, key, customer.id, level="high")
        ids = (first.id, second.id, product.id)
    to_accept = _quote(gql, ids[0], ids[2])["quote"]["id"]
    to_decline = _quote(gql, ids[1], ids[2])["quote"]["id"]
    refused = gql(Role.CUSTOMER, customer_id=ids[0]).post(DECIDE, {"q": to_accept, "d": "ACCEPT"})
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for role in (Role.AGENT, Role.ADJUSTER):
        assert gql(role).post(DECIDE, {"q": to_accept, "d": "ACCEPT"}).json()["errors"][0]["extensions"]["code"] \
            == "FORBIDDEN", role

    underwriter = gql(Role.MANAGER)
    accepted = underwriter(DECIDE, {"q": to_accept, "d": "ACCEPT"})["decideReferredQuote"]
    assert accepted["errors"] == []
    assert (accepted["quote"]["status"], accepted["quote"]["outcome"]) == ("OPEN", "ACCEPT")
    assert [r["code"] for r in accepted["quote"]["reasons"]] == ["ACCEPTED_AFTER_REVIEW"]
    again = underwriter(DECIDE, {"q": to_accept, "d": "DECLINE"})["decideReferredQuote"]
    assert again == {"quote": None, "errors": [{"field": "quoteId", "code": "NOT_REFERRED"}]}
    issued = gql(Role.CUSTOMER, customer_id=ids[0])(ISSUE, {"q": to_accept})["issuePolicy"]
    assert issued["errors"] == [] and issued["policy"]["id"]

    declined = underwriter(DECIDE, {"q": to_decline, "d": "DECLINE"})["decideReferredQuote"]
    assert (declined["quote"]["status"], declined["quote"]["outcome"]) == ("DECLINED", "DECLINE")
    assert "flag" not in declined["quote"]["reasons"][0]["text"].lower()
    blocked = gql(Role.CUSTOMER, customer_id=ids[1])(ISSUE, {"q": to_decline})["issuePolicy"]
    assert blocked == {"policy": None, "errors": [{"field": "quoteId", "code": "QUOTE_DECLINED"}]}
