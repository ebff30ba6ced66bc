"""The CLI and the demo: tokens verify against the server's key; the policy history is consistent;
``opsure demo`` loads every capability, anchored, once per data directory."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.audit import AuditEntry, verify_chain
from core.auth import Role, TokenKeys, verify_token
from core.settings import override_settings
from ledger.models import LedgerCursor, LedgerRecord, RecordStatus
from ledger.service import AUDIT_CURSOR
from opsure.cli import main
from opsure.demo import DemoAlreadyLoaded, DemoResult, load_demo, run_demo
from opsure.demo.signing import demo_signer
from opsure.runtime import Runtime
from partners import credentials
from partners.models import (
    Assignment,
    AssignmentKind,
    ChainRoleSync,
    Partner,
    PartnerKind,
    PartnerStatus,
    RiskFlag,
    SignedRecord,
    SignerKey,
)
from partners.signed_records import reverify
from resolvers.advances.models import Advance, AdvanceState
from resolvers.claims.envelope import open_object
from resolvers.claims.models import (
    Claim,
    ClaimChannel,
    ClaimDocument,
    ClaimEvent,
    ClaimState,
    DocumentKind,
    PayeeKind,
    Payment,
)
from resolvers.claims.storage import document_storage
from resolvers.investigations.models import (
    Investigation,
    InvestigationEscalation,
    InvestigationEvent,
    InvestigationState,
)
from resolvers.payments.models import InstructionState, PaymentInstruction
from resolvers.policies.models import Customer, Policy, PolicyStatus
from schema.relay import decode_global_id

pytestmark = pytest.mark.timeout(240)


def test_token_command_mints_a_verifiable_token(settings) -> None:  # type: ignore[no-untyped-def]
    override_settings(settings)
    try:
        result = CliRunner().invoke(main, ["token", "--role", "customer", "--customer-id", "5"])
        assert result.exit_code == 0, result.output
        principal = verify_token(TokenKeys.load_or_create(settings.keys_dir), settings, result.output.strip())
        assert principal.role is Role.CUSTOMER and principal.customer_id == 5
        refused = CliRunner().invoke(main, ["token", "--role", "customer"])
        assert refused.exit_code != 0 and "customer-id" in refused.output
    finally:
        override_settings(None)


def test_policy_history_spans_two_years(runtime, session_factory) -> None:  # type: ignore[no-untyped-def]
    today = dt.date(2026, 6, 1)
    counts = load_demo(runtime, customers=40, years=2, seed=3, today=today)
    assert counts["customers"] == 40 and counts["products"] == 3 and counts["policies"] >= 40
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 40
        starts = s.scalars(select(Policy.period_start)).all()
        assert min(starts) < today - dt.timedelta(days=365) and max(starts) <= today
        statuses = set(s.scalars(select(Policy.status)).all())
        assert {PolicyStatus.ACTIVE, PolicyStatus.EXPIRED} <= statuses
    again = load_demo(runtime, customers=5, years=2, seed=4, today=today)
    assert again["products"] == 0  # products are not duplicated


# --- the whole platform ---------------------------------------------------------------------------


def _rows(runtime: Runtime, entity: Any, *where: Any) -> list[Any]:
    with runtime.session_factory() as s:
        stmt = select(entity).where(*where) if where else select(entity)
        return list(s.scalars(stmt))


def _every_claim_state_is_present(runtime: Runtime, result: DemoResult) -> None:
    states = {c.state for c in _rows(runtime, Claim)}
    # submission routes a claim on at once: `submitted` is a state every submitted claim passes
    assert states == set(ClaimState) - {ClaimState.SUBMITTED}
    assert _rows(runtime, ClaimEvent, ClaimEvent.to_state == ClaimState.SUBMITTED.value)
    table = result.summary.sections["claims by state"]
    assert all(table[s.value] for s in ClaimState if s is not ClaimState.SUBMITTED)
    assert "passing state" in str(table[ClaimState.SUBMITTED.value])


def _every_partner_kind_is_approved_with_a_key_on_chain(runtime: Runtime, result: DemoResult) -> None:
    partners = _rows(runtime, Partner)
    approved = {p.kind for p in partners if p.status is PartnerStatus.APPROVED}
    assert approved == set(PartnerKind)
    assert {p.status for p in partners} == {PartnerStatus.APPROVED, PartnerStatus.REJECTED, PartnerStatus.SUSPENDED}
    keys = {k.partner_id: k.address for k in _rows(runtime, SignerKey)}
    roles = {r.address: r.granted for r in _rows(runtime, ChainRoleSync)}
    for p in partners:
        if p.status is PartnerStatus.APPROVED:
            assert keys[p.id] == demo_signer(11, p.code).address.lower()  # derived from the seed
            assert roles[keys[p.id]] is True  # the role sync ran: granted on chain
        if p.status is PartnerStatus.SUSPENDED:
            assert roles[keys[p.id]] is False


def _direct_billed_claim_carries_a_verified_hospital_bill(runtime: Runtime, result: DemoResult) -> None:
    [claim] = _rows(runtime, Claim, Claim.channel == ClaimChannel.DIRECT_BILLING)
    assert claim.state is ClaimState.PAID and claim.signed_record_id is not None
    [payment] = _rows(runtime, Payment, Payment.claim_id == claim.id)
    assert payment.payee_kind is PayeeKind.HOSPITAL and payment.amount == claim.approved_amount
    with runtime.session_factory() as s:
        bill = s.get_one(SignedRecord, claim.signed_record_id)
        assert bill.primary_type == "HospitalBill"
        assert claim.hospital == s.get_one(Partner, bill.partner_id).name  # the hospital as registered
        assert reverify(s, record_id=bill.id, now=dt.datetime.now(dt.UTC)).signature_valid


def _investigated_claim_matched_a_shared_flag_and_has_a_signed_survey(runtime: Runtime, result: DemoResult) -> None:
    showcase = json.loads(result.showcase_file.read_text())["claims"]["investigating"]
    [claim] = _rows(runtime, Claim, Claim.id == decode_global_id(showcase["id"], "Claim"))
    assert claim.state is ClaimState.INVESTIGATING
    assert {("rule", "SHARED_RISK_FLAG"), ("shared", "STAGED_ACCIDENT")} <= {
        (h["source"], h["code"]) for h in claim.risk_hints}
    [assignment] = _rows(runtime, Assignment, Assignment.case_reference == claim.number)
    [survey] = _rows(runtime, SignedRecord, SignedRecord.assignment_id == assignment.id)
    assert survey.primary_type == "SurveyReport"
    assert assignment.kind is AssignmentKind.SURVEY and assignment.case_reference == claim.number
    assert assignment.investigation_id == claim.id
    assert {r.primary_type for r in _rows(runtime, SignedRecord)} == {"SurveyReport", "HospitalBill", "CreditReport"}
    assert len(_rows(runtime, RiskFlag)) >= 2  # the matched one and flags on customers without claims


def _analytics_rollups_are_live_and_equal_a_rebuild(runtime: Runtime, result: DemoResult) -> None:
    from core.db import transaction
    from opsure.worker import drain_consumers_once
    from resolvers.analytics.facts import Fact
    from resolvers.analytics.rollups import rebuild, rollup_totals

    while drain_consumers_once(runtime).get("analytics.rollups"):
        pass  # the live consumer re-derives every row the demo touched: nothing changes
    with runtime.session_factory() as s:
        live = rollup_totals(s)
    assert {Fact.POLICY_ISSUED, Fact.CLAIM_REPORTED, Fact.CLAIM_PAID, Fact.PREMIUM_RATE, Fact.ADVANCE_PAID,
            Fact.ADVANCE_WENT_OVERDUE, Fact.ADVANCE_DEFAULTED, Fact.COMPLAINT_RECEIVED} <= {k[0] for k in live}
    with transaction(runtime.session_factory) as s:
        rebuild(s)
        assert rollup_totals(s) == live
    tiles = result.summary.sections["analytics (KPI tiles)"]
    assert float(tiles["written premium, last 365 days"]) > 0 and float(tiles["loss ratio, last 365 days"]) > 0
    assert {tiles[f"alert {k}"] for k in ("loss-ratio-30d", "surrender-rate-90d", "premium-anomaly")} <= {
        "ok", "pending", "firing", "resolved"} and tiles["reports"] == 2
    assert isinstance(tiles["risk robot: customers watched"], int)


def _two_rule_versions_live_and_qa_samples_reviewed(runtime: Runtime, result: DemoResult) -> None:
    from resolvers.claims.ops.models import QaSample, QaStatus
    from resolvers.claims.risk.rule_models import ClaimRuleVersion, RuleVersionStatus

    versions = _rows(runtime, ClaimRuleVersion)
    assert [v.status for v in versions] == [RuleVersionStatus.PUBLISHED] * 2 and versions[-1].last_test_claims
    table = result.summary.sections["claims operations"]
    assert table["rule versions published"] == 2 and table[f"claims judged by {versions[0].label}"]
    samples = _rows(runtime, QaSample)
    reviewed = [q for q in samples if q.status is QaStatus.REVIEWED]
    assert samples and reviewed and table["QA samples"] == len(samples) and any(q.findings for q in reviewed)
    assert table["flow templates"] == 1 and table["claims assigned in the queue"]


def _investigations_in_every_state_with_an_anchored_trail(runtime: Runtime, result: DemoResult) -> None:
    investigations = _rows(runtime, Investigation)
    assert {i.state for i in investigations} == set(InvestigationState)
    table = result.summary.sections["investigations"]
    assert all(table[s.value] for s in InvestigationState)
    trail = _rows(runtime, InvestigationEvent)
    assert trail and table["trail events on the ledger"] == len(trail)
    assert {e.sla.value for e in _rows(runtime, InvestigationEscalation)} >= {"acceptance", "first_visit"}
    reported = [i for i in investigations if i.survey_record_id is not None]
    surveys = {r.id for r in _rows(runtime, SignedRecord, SignedRecord.primary_type == "SurveyReport")}
    assert reported and {i.survey_record_id for i in reported} <= surveys
    with runtime.session_factory() as s:
        for event in trail:  # anchored with everything else
            assert s.get_one(LedgerRecord, event.ledger_record_id).status is RecordStatus.ANCHORED
    from core.clock import now
    from resolvers.investigations.qualification import QualificationState, qualifications

    codes = {p.id: p.code for p in _rows(runtime, Partner)}
    with runtime.session_factory() as s:  # the claims managers' qualification review
        firms = {p.partner_id: p for p in qualifications(s, now=now())}
    by_code = {codes[pid]: q for pid, q in firms.items()}
    assert by_code["DEMO-ASSESSOR-4"].state is QualificationState.DUE_FOR_REVIEW
    renewed = by_code["DEMO-ASSESSOR-5"]
    assert renewed.state is QualificationState.APPROVED and renewed.days_left is not None and renewed.days_left > 300
    assert QualificationState.SUSPENDED in {q.state for q in firms.values()}


def _knowledge_is_served_searched_and_answers_coverage_with_its_source(runtime: Runtime, result: DemoResult) -> None:
    from opsure.demo.knowledge import ARTICLES, SEARCH

    rows = result.summary.sections["knowledge"]
    assert rows["articles published"] == 6 and int(rows["graph edges"]) > 20
    assert rows[f"search {SEARCH!r}"] == ARTICLES["dental"][0]
    assert str(rows["MEDI-BASIC covers K02.1 (龋)?"]).startswith("excluded via K00-K14, source: 牙科")
    assert str(rows["MEDI-BASIC covers C34.1 (支气管和肺恶性肿瘤)?"]).startswith("covered via C00-C97")


def _partial_approval_explains_its_benefits(runtime: Runtime, result: DemoResult) -> None:
    [claim] = _rows(runtime, Claim, Claim.state == ClaimState.PARTIALLY_APPROVED)
    assert claim.eob is not None and claim.eob["outcome"] == "partially_approved"
    assert any("NOT_COVERED" in line["codes"] for line in claim.eob["lines"])


def _documents_are_sealed_files_and_medical_ones_on_the_ledger(runtime: Runtime, result: DemoResult) -> None:
    docs = _rows(runtime, ClaimDocument)
    assert {d.content_type for d in docs} == {"application/pdf", "image/png"}
    store = document_storage(runtime.settings.data_dir)
    for doc in docs:
        assert doc.data_key is not None  # envelope-encrypted, as an upload is
        data = b"".join(open_object(store, doc.storage_key, doc.data_key).read(0, doc.size))
        assert hashlib.sha256(data).hexdigest() == doc.sha256
        assert (doc.ledger_record_id is not None) == (doc.kind is not DocumentKind.ID_CARD)


def _everything_is_anchored_and_the_audit_chain_intact(runtime: Runtime, result: DemoResult) -> None:
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(LedgerRecord)
                        .where(LedgerRecord.status != RecordStatus.ANCHORED)) == 0
        last_seq = s.scalar(select(func.max(AuditEntry.seq)))
        assert s.get_one(LedgerCursor, AUDIT_CURSOR).position == last_seq
        assert verify_chain(s) is None
        actions = set(s.scalars(select(AuditEntry.action).distinct()))
    assert {"registerPartner", "partner.status", "submitClaim", "adjudicateClaim", "submitDirectBill",
            "submitSignedRecord", "publishRiskFlag", "uploadClaimDocument"} <= actions
    assert result.summary.sections["ledger"]["records pending"] == 0
    assert "anchored by this process" in "\n".join(result.summary.notes)
    events = result.summary.sections["event stream"]
    assert all(int(events.get(f"{domain} events", 0)) > 0 for domain in ("policy", "claim", "partner")), events


def _handouts_hold_working_credentials_and_name_the_showcase(runtime: Runtime, result: DemoResult) -> None:
    assert stat.S_IMODE(result.partners_file.stat().st_mode) == 0o600
    handout = json.loads(result.partners_file.read_text())
    hospital = handout["partners"]["hospital"]
    with runtime.session_factory() as s:
        client = credentials.authenticate(s, client_id=hospital["clientId"], client_secret=hospital["clientSecret"],
                                          now=dt.datetime.now(dt.UTC))
        assert client.partner_id == decode_global_id(hospital["id"], "Partner")
    assert handout["partners"]["rejectedHospital"]["clientId"] is None
    showcase = json.loads(result.showcase_file.read_text())
    with runtime.session_factory() as s:
        for entry in showcase["claims"].values():
            claim = s.get_one(Claim, decode_global_id(entry["id"], "Claim"))
            assert claim.state.value == entry["state"] and claim.customer_id == entry["customerId"]
    assert showcase["claims"]["directBilled"]["channel"] == "direct_billing"


def _a_second_run_refuses_and_changes_nothing(runtime: Runtime, result: DemoResult) -> None:
    before = len(_rows(runtime, Claim)), len(_rows(runtime, AuditEntry))
    with pytest.raises(DemoAlreadyLoaded, match="loads once"):
        run_demo(runtime, customers=5, years=1, seed=11)
    override_settings(runtime.settings)
    try:
        refused = CliRunner().invoke(main, ["demo", "--customers", "5"])
    finally:
        override_settings(None)
    assert refused.exit_code == 1 and "loaded into this data directory already" in refused.output
    assert (len(_rows(runtime, Claim)), len(_rows(runtime, AuditEntry))) == before


def _payouts_settled_through_bank_files_one_returned_and_reinstructed(runtime: Runtime, result: DemoResult) -> None:
    payments_dir = runtime.settings.data_dir / "payments"
    batches = sorted((payments_dir / "outbox").glob("B*.txt"))
    assert len(batches) >= 2 and all(b.stat().st_mode & 0o777 == 0o600 for b in batches)
    assert len(list((payments_dir / "returns" / "processed").glob("R*.txt"))) == len(batches)
    rows = _rows(runtime, PaymentInstruction)
    failed = [r for r in rows if r.state is InstructionState.FAILED]
    assert [r.return_code for r in failed] == ["AC04"]
    assert {(r.source_id, r.attempt, r.state) for r in rows
            if (r.purpose, r.source_id) == (failed[0].purpose, failed[0].source_id)} == {
        (failed[0].source_id, 1, InstructionState.FAILED), (failed[0].source_id, 2, InstructionState.SETTLED)}
    assert all(r.state is InstructionState.SETTLED for r in rows if r not in failed)
    paid = _rows(runtime, Claim, Claim.state == ClaimState.PAID)
    assert paid and all(c.paid_amount == c.approved_amount for c in paid)


def _advances_paid_offset_overdue_defaulted_and_balanced(runtime: Runtime, result: DemoResult) -> None:
    advances = _rows(runtime, Advance)
    assert {a.state for a in advances} >= {AdvanceState.PAID, AdvanceState.CLOSED, AdvanceState.OVERDUE,
                                           AdvanceState.DEFAULTED, AdvanceState.IN_REVIEW}
    assert all(a.advanced == a.repaid + a.offset_amount + a.outstanding + a.written_off for a in advances)
    assert any(a.offset_amount > 0 and a.claim_id is not None for a in advances)
    assert any(a.written_off > 0 and a.state is AdvanceState.DEFAULTED for a in advances)
    assert result.summary.sections["advances"][AdvanceState.DEFAULTED.value] == 1


def _service_orders_in_every_state_a_breach_and_complaints(runtime: Runtime, result: DemoResult) -> None:
    from resolvers.service.models import ComplaintState, WorkOrder, WorkOrderBreach, WorkOrderState

    assert {o.state for o in _rows(runtime, WorkOrder)} == set(WorkOrderState)
    assert any(b.sla.value == "first_response" for b in _rows(runtime, WorkOrderBreach))
    table = result.summary.sections["customer service"]
    assert table[f"complaints {ComplaintState.ESCALATED.value}"] == 1
    assert table[f"complaints {ComplaintState.ACKNOWLEDGED.value}"] == 1
    assert int(table["missed SLAs escalated"]) >= 1


def _tags_a_segment_and_a_finished_campaign(runtime: Runtime, result: DemoResult) -> None:
    table = result.summary.sections["tags, segments, campaigns"]
    assert table["tag vip (manual)"] and table["tag browser (rule)"] and table["segment d11-target"]
    campaign = next(v for k, v in table.items() if k.startswith("campaign double-11"))
    assert "conversions 0 " not in str(campaign) and "gold" in str(table["value tiers"])


def _visitors_identified_and_the_platforms_behaviour_events(runtime: Runtime, result: DemoResult) -> None:
    table = result.summary.sections["behaviour events"]
    assert table["platform: purchase"] >= 30 and table["platform: claim.reported"] >= 1
    assert table["visitors identified"] == 2
    assert any(k.endswith(": events") and "sent before signing in" in str(v) for k, v in table.items())


def test_the_demo_loads_every_capability_once(runtime: Runtime) -> None:
    """One small ``run_demo`` on this data directory's embedded ledger, read back aspect by aspect."""
    runtime.settings = runtime.settings.with_(ledger_mode="embedded", anchoring_in_process=False)
    result = run_demo(runtime, customers=30, years=1, seed=11)
    _every_claim_state_is_present(runtime, result)
    _every_partner_kind_is_approved_with_a_key_on_chain(runtime, result)
    _direct_billed_claim_carries_a_verified_hospital_bill(runtime, result)
    _payouts_settled_through_bank_files_one_returned_and_reinstructed(runtime, result)
    _advances_paid_offset_overdue_defaulted_and_balanced(runtime, result)
    _investigated_claim_matched_a_shared_flag_and_has_a_signed_survey(runtime, result)
    _investigations_in_every_state_with_an_anchored_trail(runtime, result)
    _two_rule_versions_live_and_qa_samples_reviewed(runtime, result)
    _knowledge_is_served_searched_and_answers_coverage_with_its_source(runtime, result)
    _service_orders_in_every_state_a_breach_and_complaints(runtime, result)
    _analytics_rollups_are_live_and_equal_a_rebuild(runtime, result)
    _tags_a_segment_and_a_finished_campaign(runtime, result)
    _visitors_identified_and_the_platforms_behaviour_events(runtime, result)
    _partial_approval_explains_its_benefits(runtime, result)
    _documents_are_sealed_files_and_medical_ones_on_the_ledger(runtime, result)
    _everything_is_anchored_and_the_audit_chain_intact(runtime, result)
    _handouts_hold_working_credentials_and_name_the_showcase(runtime, result)
    _a_second_run_refuses_and_changes_nothing(runtime, result)


def test_without_a_ledger_the_demo_refuses_before_writing_anything(runtime: Runtime) -> None:
    """Partners sign for the deployed registry's domain: with the ledger off there is none to sign for."""
    from core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        run_demo(runtime, customers=3, years=1, seed=11)
    assert refused.value.code == "LEDGER_NOT_READY"
    assert not _rows(runtime, Customer) and not (runtime.settings.data_dir / "demo").exists()
