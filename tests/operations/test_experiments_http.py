"""End to end over HTTP: experiments managed through GraphQL switch the claim flow; results read back."""

from __future__ import annotations

from typing import Any

from core.auth import Role
from core.clock import now
from core.db import transaction
from core.event_stream import drain
from resolvers.operations.events import EXPERIMENT_CONSUMER
from tests.claim_factories import PDF, make_claim_policy
from tests.claims.test_claims_http import REPORT, _report_input, _token
from tests.payment_factories import play_bank

CREATE = """mutation($i: CreateExperimentInput!) { createExperiment(input: $i) {
  experiment { id key flow status version variants { variant weight } coverage namespace seed hashVersion }
  errors { field code message } } }"""
UPDATE = """mutation($i: UpdateExperimentInput!) { updateExperiment(input: $i) {
  experiment { version variants { variant weight } } errors { field code } } }"""
STATUS = """mutation($i: SetExperimentStatusInput!) { setExperimentStatus(input: $i) {
  experiment { status version } errors { code } } }"""
FORCE = """mutation($i: ForceExperimentVariantInput!) { forceExperimentVariant(input: $i) {
  experiment { key } errors { field code } } }"""
RESULTS = """query($id: ID!) { experiment(id: $id) { status results { verdict confidence srmPValue
  variants { variant exposures conversions conversionRate meanHoursToSettle pValue } } } }"""
SUBMIT = """mutation($input: ClaimActionInput!) { submitClaim(input: $input) {
  claim { id state fastTrack timeline { edges { node { reasonCode reason } } } } errors { code } } }"""
STAFF_TIMELINE = """query($id: ID!) { claim(id: $id) { timeline { edges { node { reasonCode reason } } } } }"""
LIST = """{ experiments(filter: {flows: [CLAIM]}) { totalCount edges { node { key status } } } }"""


def _claim(http: Any, gql: Any, runtime: Any, session_factory: Any) -> tuple[dict[str, Any], int]:
    """A customer reports a fast-eligible claim, uploads the invoice and submits it; (the claim, customer id)."""
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
    me = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    claim_id = me(REPORT, {"input": _report_input(policy.id)})["reportClaim"]["claim"]["id"]
    token = _token(runtime, Role.CUSTOMER, customer_id=policy.customer_id)
    resp = http.post(f"/claims/{claim_id}/documents", content=PDF, headers={
        "authorization": f"Bearer {token}", "content-type": "application/pdf", "x-document-kind": "invoice",
        "x-filename": "invoice.pdf"})
    assert resp.status_code == 201, resp.text
    done = me(SUBMIT, {"input": {"claimId": claim_id}})["submitClaim"]
    assert done["errors"] == []
    return done["claim"], policy.customer_id


def _reasons(claim: dict[str, Any]) -> list[str]:
    return [e["node"]["reason"] for e in claim["timeline"]["edges"]]


def test_claim_switch_end_to_end(http: Any, gql: Any, runtime: Any, session_factory: Any, data_dir: Any) -> None:
    manager, qa, adjuster = gql(Role.MANAGER), gql(Role.QA), gql(Role.ADJUSTER)
    bad = manager(CREATE, {"i": {"key": "claim-fast", "flow": "CLAIM", "coverage": "1",
                                 "variants": [{"variant": "FAST", "weight": "0.6"},
                                              {"variant": "VIDEO", "weight": "0.6"}]}})["createExperiment"]
    assert bad["experiment"] is None
    assert {e["code"] for e in bad["errors"]} == {"UNBALANCED_WEIGHTS", "UNKNOWN_VARIANT"}

    made = manager(CREATE, {"i": {"key": "claim-fast", "flow": "CLAIM", "description": "fast vs human review",
                                  "variants": [{"variant": "FAST", "weight": "0"},
                                               {"variant": "STANDARD", "weight": "1"}]}})["createExperiment"]
    assert made["errors"] == []
    exp = made["experiment"]
    assert (exp["status"], exp["namespace"], exp["seed"], exp["hashVersion"]) == ("DRAFT", "claim", "claim-fast", 2)
    clash = manager(CREATE, {"i": {"key": "other", "flow": "CLAIM", "namespaceStart": "0.5",
                                   "variants": [{"variant": "FAST", "weight": "0.5"},
                                                {"variant": "STANDARD", "weight": "0.5"}]}})["createExperiment"]
    assert [e["code"] for e in clash["errors"]] == ["NAMESPACE_OVERLAP"]
    assert qa(FORCE, {"i": {"experimentId": exp["id"], "subject": "qa:1", "variant": "STANDARD"}})[
        "forceExperimentVariant"]["errors"] == []
    started = manager(STATUS, {"i": {"experimentId": exp["id"], "action": "START"}})["setExperimentStatus"]
    assert started["experiment"]["status"] == "RUNNING"

    # standard arm: an eligible claim goes to a human, the adjuster sees why, the customer does not
    claim, _ = _claim(http, gql, runtime, session_factory)
    assert (claim["state"], claim["fastTrack"]) == ("UNDER_REVIEW", False)
    assert _reasons(claim)[-1] == "理赔已转人工审核。" and not any("experiment" in r for r in _reasons(claim))
    staff = adjuster(STAFF_TIMELINE, {"id": claim["id"]})["claim"]
    assert any("EXPERIMENT_STANDARD" in r and "(experiment claim-fast:standard)" in r for r in _reasons(staff))

    # reweighted to fast: new subjects are fast-claimed and paid
    upd = manager(UPDATE, {"i": {"experimentId": exp["id"], "key": "claim-fast", "flow": "CLAIM",
                                 "expectedVersion": started["experiment"]["version"],
                                 "variants": [{"variant": "FAST", "weight": "1"},
                                              {"variant": "STANDARD", "weight": "0"}]}})["updateExperiment"]
    assert upd["errors"] == []
    fast, _ = _claim(http, gql, runtime, session_factory)
    assert (fast["state"], fast["fastTrack"]) == ("APPROVED", True)
    play_bank(session_factory, data_dir, at=now())  # the bank settles the payout: claim.paid
    drain(session_factory, EXPERIMENT_CONSUMER)

    r = manager(RESULTS, {"id": exp["id"]})["experiment"]["results"]
    assert r["verdict"] == "NOT_ENOUGH_DATA" and r["confidence"] == 0.95
    assert [(v["variant"], v["exposures"], v["conversions"]) for v in r["variants"]] == [
        ("FAST", 1, 1), ("STANDARD", 1, 0)]
    assert r["variants"][0]["meanHoursToSettle"] >= 0

    # kill switch: everyone back on the default (fast), nobody exposed
    assert manager(STATUS, {"i": {"experimentId": exp["id"], "action": "KILL"}})["setExperimentStatus"][
        "experiment"]["status"] == "KILLED"
    assert manager(LIST)["experiments"] == {"totalCount": 1, "edges": [{"node": {"key": "claim-fast",
                                                                                 "status": "KILLED"}}]}


def test_customers_cannot_read_or_run_experiments(gql: Any) -> None:
    resp = gql(Role.CUSTOMER, customer_id=1).post(LIST)
    assert resp.status_code == 400 and resp.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    resp = gql(Role.QA).post(STATUS, {"i": {"experimentId": "x", "action": "KILL"}})
    assert resp.status_code == 400 and resp.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
