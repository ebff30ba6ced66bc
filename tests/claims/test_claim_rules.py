"""The rule library through GraphQL: draft (every problem of a table at once), test against past claims,
publish, pin, roll back; every claim records the version that judged it; only risk managers change it."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.auth import Principal, Role
from core.db import transaction
from core.errors import DomainError, collect_errors
from resolvers.claims.models import ClaimState
from resolvers.claims.risk import rules_service
from resolvers.claims.risk.rule_check import check_document
from resolvers.claims.risk.rule_models import ClaimRuleVersion, RuleVersionStatus
from resolvers.claims.risk.rules import RuleLibrary
from schema.relay import encode_global_id
from tests.claim_factories import nodes
from tests.conftest import PG_URL
from tests.rule_factories import BUILTIN, candidate, rule, submitted_claim, table

MANAGER = Principal(subject="risk-manager", role=Role.MANAGER)
DRAFT = """mutation($i: DraftClaimRuleVersionInput!) { draftClaimRuleVersion(input: $i) {
  ruleVersion { id label status live version rules { code level score conditions { fact expression } } }
  errors { field code message } } }"""
TEST = """mutation($i: TestClaimRuleVersionInput!) { testClaimRuleVersion(input: $i) {
  report { tested changed levelChanges results { claim { number } judgedBy currentLevel candidateLevel
           addedRules removedRules changed } }
  ruleVersion { lastTestClaims lastTestChanged } errors { field code } } }"""
PUBLISH = """mutation($i: PublishClaimRuleVersionInput!) { publishClaimRuleVersion(input: $i) {
  ruleVersion { label status live } errors { field code } } }"""
PIN = """mutation($i: PinClaimRuleVersionInput!) { pinClaimRuleVersion(input: $i) {
  live { label pinned } errors { field code } } }"""
ROLLBACK = """mutation($i: RollBackClaimRuleVersionInput!) { rollBackClaimRuleVersion(input: $i) {
  rolledBack { label status rollbackReason live } live { label live } errors { field code } } }"""
VERSIONS = """{ liveClaimRuleVersion { label } claimRuleVersions(first: 10) { totalCount
  edges { node { label status live pinned } } } }"""
SUBMIT = """mutation($i: ClaimActionInput!) { submitClaim(input: $i) { claim { state rulesVersion riskLevel
  riskHints { code } } errors { code } } }"""


def _draft(gql: Any, label: str, document: Any, role: Role = Role.MANAGER) -> dict[str, Any]:
    out = gql(role)(DRAFT, {"i": {"label": label, "document": document, "description": f"test {label}"}})
    return out["draftClaimRuleVersion"]  # type: ignore[no-any-return]


def test_a_table_that_does_not_parse_is_refused_with_every_problem_and_nothing_stored(
        gql: Any, session_factory: Any) -> None:
    document = candidate(rule("FIRST", amount="> > 5"), rule("SECOND", level="severe", score="'x'"),
                         rule("DUPLICATE_SUSPECTED", dup="true"))
    content = table(document)
    content["hitPolicy"] = "first"
    content["inputs"].append({"id": "ghost", "name": "ghost", "field": "claim.hospitalName"})
    out = _draft(gql, "bad-1", document)
    assert out["ruleVersion"] is None
    found = {(e["code"], e["field"]) for e in out["errors"]}
    base = "document.nodes[1].content"
    assert found == {
        ("BAD_HIT_POLICY", f"{base}.hitPolicy"),
        ("UNKNOWN_FACT", f"{base}.inputs[10].field"),
        ("BAD_EXPRESSION", f"{base}.rules[10].amount"),
        ("BAD_OUTPUT", f"{base}.rules[11].score"),
        ("BAD_OUTPUT", f"{base}.rules[11].level"),
        ("DUPLICATE_RULE_CODE", f"{base}.rules[12].code"),
    }, out["errors"]
    assert _draft(gql, "bad 2", {"nodes": "no"})["errors"] == [
        {"field": "label", "code": "BAD_LABEL", "message": "label: 1-40 letters, digits, '.', '_' or '-'"},
        {"field": "document.nodes", "code": "BAD_DOCUMENT", "message": "nodes must be a list of node objects"}]
    with transaction(session_factory) as s:
        assert s.query(ClaimRuleVersion).filter(ClaimRuleVersion.status == RuleVersionStatus.DRAFT).count() == 0


def test_draft_test_publish_pin_and_roll_back_and_claims_record_their_version(
        gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        small = submitted_claim(s, amount=Decimal("800.00"))
        large = submitted_claim(s, amount=Decimal("6000.00"))
        numbers = {"small": small.number, "large": large.number}
        assert large.state is ClaimState.UNDER_REVIEW and large.rules_version == BUILTIN
    draft = _draft(gql, "2026.07-1", candidate(rule("MID_AMOUNT", amount="> 5000")))
    assert draft["errors"] == [] and draft["ruleVersion"]["status"] == "DRAFT"
    assert draft["ruleVersion"]["rules"][-1] == {"code": "MID_AMOUNT", "level": "HIGH", "score": 40,
                                                 "conditions": [{"fact": "claim.amount", "expression": "> 5000"}]}
    version_id = draft["ruleVersion"]["id"]
    tested = gql(Role.MANAGER)(TEST, {"i": {"versionId": version_id, "last": 10}})["testClaimRuleVersion"]
    assert tested["errors"] == []
    report = tested["report"]
    by_number = {r["claim"]["number"]: r for r in report["results"]}
    assert report["tested"] == 2 and report["changed"] == 1 and report["levelChanges"] == 1
    assert by_number[numbers["large"]] | {"claim": None} == {
        "claim": None, "judgedBy": BUILTIN, "currentLevel": "MEDIUM", "candidateLevel": "HIGH",
        "addedRules": ["MID_AMOUNT"], "removedRules": [], "changed": True}
    assert by_number[numbers["small"]]["changed"] is False
    assert tested["ruleVersion"] == {"lastTestClaims": 2, "lastTestChanged": 1}

    published = gql(Role.MANAGER)(PUBLISH, {"i": {"versionId": version_id, "expectedVersion": 2}})
    assert published["publishClaimRuleVersion"] == {
        "ruleVersion": {"label": "2026.07-1", "status": "PUBLISHED", "live": True}, "errors": []}
    again = gql(Role.MANAGER)(PUBLISH, {"i": {"versionId": version_id}})["publishClaimRuleVersion"]
    assert again["errors"] == [{"field": "versionId", "code": "NOT_A_DRAFT"}]
    listed = gql(Role.ADJUSTER)(VERSIONS)
    assert listed["liveClaimRuleVersion"] == {"label": "2026.07-1"}
    assert [(n["label"], n["status"], n["live"]) for n in nodes(listed["claimRuleVersions"])] == [
        ("2026.07-1", "PUBLISHED", True), (BUILTIN, "PUBLISHED", False)]

    with transaction(session_factory) as s:
        judged = submitted_claim(s, amount=Decimal("6000.00"))
        assert (judged.state, judged.rules_version) == (ClaimState.INVESTIGATING, "2026.07-1")
        assert "MID_AMOUNT" in [h["code"] for h in judged.risk_hints]

    builtin_id = encode_global_id("ClaimRuleVersion", 1)
    assert gql(Role.MANAGER)(PIN, {"i": {"versionId": builtin_id}})["pinClaimRuleVersion"] == {
        "live": {"label": BUILTIN, "pinned": True}, "errors": []}
    with transaction(session_factory) as s:
        assert submitted_claim(s, amount=Decimal("6000.00")).rules_version == BUILTIN
    assert gql(Role.MANAGER)(PIN, {"i": {"versionId": None}})["pinClaimRuleVersion"]["live"] == {
        "label": "2026.07-1", "pinned": False}

    rolled = gql(Role.MANAGER)(ROLLBACK, {"i": {"versionId": version_id, "reason": "too many investigations"}})
    assert rolled["rollBackClaimRuleVersion"] == {
        "rolledBack": {"label": "2026.07-1", "status": "ROLLED_BACK", "rollbackReason": "too many investigations",
                       "live": False},
        "live": {"label": BUILTIN, "live": True}, "errors": []}
    twice = gql(Role.MANAGER)(ROLLBACK, {"i": {"versionId": version_id, "reason": ""}})["rollBackClaimRuleVersion"]
    assert {(e["code"], e["field"]) for e in twice["errors"]} == {
        ("NOT_LIVE", "versionId"), ("REASON_REQUIRED", "reason")}
    pin_rolled = gql(Role.MANAGER)(PIN, {"i": {"versionId": version_id}})["pinClaimRuleVersion"]
    assert pin_rolled["errors"] == [{"field": "versionId", "code": "NOT_PUBLISHED"}]
    with transaction(session_factory) as s:
        after = submitted_claim(s, amount=Decimal("6000.00"))
        assert (after.state, after.rules_version) == (ClaimState.UNDER_REVIEW, BUILTIN)


def test_only_risk_managers_change_the_library_and_customers_do_not_read_it(gql: Any) -> None:
    document = candidate(rule("MID_AMOUNT", amount="> 5000"))
    refused = gql(Role.ADJUSTER).post(DRAFT, {"i": {"label": "x-1", "document": document}})
    assert refused.status_code == 400 and refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert gql(Role.CUSTOMER, customer_id=1).post(VERSIONS).json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert _draft(gql, "x-1", document, role=Role.ADMIN)["errors"] == []
    taken = _draft(gql, "x-1", document)
    assert taken["errors"] == [{"field": "label", "code": "LABEL_TAKEN", "message": "version x-1 exists already"}]


def test_rolling_back_the_same_version_twice_at_once_withdraws_one(session_factory: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    with transaction(session_factory) as s:
        draft = rules_service.draft_version(s, principal=MANAGER, label="race-1", description="",
                                            document=candidate(rule("MID_AMOUNT", amount="> 5000")), now=now)
        rules_service.publish_version(s, principal=MANAGER, version_id=draft.id, expected_version=None, now=now)
        version_id = draft.id
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def roll() -> None:
        barrier.wait()
        try:
            with transaction(session_factory) as s:
                rules_service.rollback_version(s, principal=MANAGER, version_id=version_id, reason="race", now=now)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=roll) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    with transaction(session_factory) as s:
        assert [v.label for v in s.query(ClaimRuleVersion).filter_by(status=RuleVersionStatus.ROLLED_BACK)] == [
            "race-1"]
        live = rules_service.live_version(s)
        assert live is not None and live.label == BUILTIN
    if PG_URL:
        assert set(outcomes) == {"ok", "NOT_LIVE"}, outcomes


_CELL = st.one_of(st.sampled_from(["", "> 5", "< 30", "true", "[1..5]", "startsWith($, 'Z')", "> > 3", "foo(",
                                   "'a'", "== 2", "(", "not(true)"]), st.text(max_size=8))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.sampled_from(["amount", "policyDays", "dx", "score", "level", "code"]), _CELL),
                      min_size=1, max_size=6))
def test_a_checked_table_always_compiles_and_runs_and_every_refusal_names_its_place(
        cells: list[tuple[str, str]]) -> None:
    document = candidate(rule("EXTRA_ONE"))
    rows = table(document)["rules"]
    for i, (column, cell) in enumerate(cells):
        rows[i % len(rows)][column] = cell
    try:
        with collect_errors() as errors:
            check_document(document, errors)
    except DomainError as exc:
        problems = getattr(exc, "errors", [exc])
        assert all(p.field and p.field.startswith("document") and p.code for p in problems)
        return
    outcome = RuleLibrary({**document, "version": "prop"}).evaluate(
        {"claim": {"amount": 6000.0, "itemCount": 1, "duplicate": True, "diagnosis": "Z00.0", "maxLineShare": 1.0,
                   "reportDelayDays": 200, "weekendAdmission": True}, "policy": {"ageDays": 3},
         "history": {"claims365": 9, "sharedFlags": 1}})
    assert all(h.level in ("low", "medium", "high") for h in outcome.hits)
