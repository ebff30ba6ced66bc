"""Migration 0006: prose timelines and decisions become reason codes; unknown prose stays for staff only."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from opsure.migrate import MIGRATIONS, alembic_config, pending_drift, upgrade
from resolvers.claims.reasons import render_reason


def _migration() -> Any:
    spec = importlib.util.spec_from_file_location("m0006", MIGRATIONS / "versions" / "0006_claim_reason_codes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


M = _migration()

# (prose exactly as the code before 0006 wrote it, event kind, to_state) -> (code, params)
LEGACY = [
    (("reported via app", "reported", "draft"), ("REPORTED", {"channel": "app"})),
    (("overlaps claim CLM20260601ABCDEF01 (same insured, hospital and dates)", "duplicate_suspected", None),
     ("POSSIBLE_DUPLICATE", {"duplicateOf": "CLM20260601ABCDEF01"})),
    (("2 line items from customer_app", "invoice_data", None),
     ("LINE_ITEMS_ENTERED", {"count": 2, "source": "customer_app"})),
    (("submitted by the claimant", "transition", "submitted"), ("SUBMITTED", {})),
    (("risk high score 0.0119; rules DUPLICATE_SUSPECTED, VERY_EARLY_CLAIM (version 2026.06-1)", "risk", None),
     ("RISK_ASSESSED", {"level": "high", "score": 0.0119, "rules": ["DUPLICATE_SUSPECTED", "VERY_EARLY_CLAIM"],
                        "rulesVersion": "2026.06-1"})),
    (("risk low score 0.0091; rules none (version 2026.06-1)", "risk", None),
     ("RISK_ASSESSED", {"level": "low", "score": 0.0091, "rules": [], "rulesVersion": "2026.06-1"})),
    (("high risk: model score", "transition", "investigating"),
     ("ROUTED_TO_INVESTIGATION", {"rules": ["MODEL_SCORE"]})),
    (("invoice missing", "transition", "documents_pending"), ("ROUTED_TO_DOCUMENTS", {"kind": "invoice"})),
    (("not fast-claim: risk level medium; amount 8000.00 above the fast-claim limit 5000", "transition",
      "under_review"),
     ("ROUTED_TO_REVIEW", {"note": "risk level medium; amount 8000.00 above the fast-claim limit 5000"})),
    (("fast-claim calculation gave partially_approved; a person decides", "transition", "under_review"),
     ("ROUTED_TO_REVIEW", {"blockers": ["CALCULATED_PARTIALLY_APPROVED"]})),
    (("fast-claim: low risk, amount 800.00 within limit, complete invoice data", "transition", "approved"),
     ("FAST_CLAIM_APPROVED", {})),
    (("approved with nothing payable: the annual deductible absorbs the amount", "transition", "closed"),
     ("NOTHING_PAYABLE", {})),
    (("adjudicated by adjuster-cli: rejected, payable 0", "transition", "rejected"),
     ("ADJUDICATED", {"actor": "adjuster-cli", "outcome": "rejected", "payable": "0"})),
    (("adjudicated by adjuster-1: approved, payable 6750.00 — SIU: check again", "transition", "approved"),
     ("ADJUDICATED", {"actor": "adjuster-1", "outcome": "approved", "payable": "6750.00",
                      "note": "SIU: check again"})),
    (("payment 1 of 1170.45 to the hospital (direct billing), key fast-CLM20260601AB", "transition", "paid"),
     ("PAID", {"seq": 1, "amount": "1170.45", "payee": "hospital", "key": "fast-CLM20260601AB"})),
    (("payment 1 of 270.00 to the customer, key pay-key-0001", "transition", "paid"),
     ("PAID", {"seq": 1, "amount": "270.00", "payee": "customer", "key": "pay-key-0001"})),
    (("hospital bill B-17 verified (EIP-712), 1800.50", "signed_bill", None),
     ("SIGNED_BILL_VERIFIED", {"billNumber": "B-17", "amount": "1800.50"})),
    (("invoice uploaded (1234 bytes)", "document", None), ("DOCUMENT_UPLOADED", {"kind": "invoice", "size": 1234})),
    (("invoice due 2026-06-15", "document_requested", None),
     ("DOCUMENT_REQUESTED", {"kind": "invoice", "dueOn": "2026-06-15"})),
    (("paper original of invoice received 2026-06-02", "original_received", None),
     ("ORIGINAL_RECEIVED", {"kind": "invoice", "receivedOn": "2026-06-02"})),
    (("customer called, fraud suspected", "transition", "investigating"),
     ("MOVED_BY_STAFF", {"to": "investigating", "note": "customer called, fraud suspected"})),
    (("something else entirely", "note", None), ("OTHER", {"note": "something else entirely"})),
]


@pytest.mark.parametrize(("legacy", "expected"), LEGACY)
def test_known_prose_maps_to_its_code(legacy: tuple[str, str, str | None], expected: tuple[str, dict[str, Any]]) -> None:
    prose, kind, to_state = legacy
    assert M.reason_of(prose, kind=kind, to_state=to_state) == expected
    code, params = expected
    assert "score" not in render_reason(code, params, role="customer") and \
        "adjuster" not in render_reason(code, params, role="partner", locale="en")


def test_a_written_summary_becomes_codes() -> None:
    eob = {"outcome": "partially_approved", "lines": [{"itemCode": "X", "codes": ["NOT_COVERED"]}],
           "summary": ["The policy's annual limit is used up.", "X: This kind of item is not covered by the product."]}
    assert M.eob_codes(eob) == {"outcome": "partially_approved", "lines": eob["lines"],
                                "claimCodes": ["ANNUAL_LIMIT_REACHED"]}
    rejected = {"outcome": "rejected", "lines": [], "summary": ["fraud ring member"]}
    assert M.eob_codes(rejected)["claimCodes"] == ["REJECTED_AFTER_REVIEW"]
    assert M.eob_codes({"claimCodes": []}) == {"claimCodes": []}


def test_upgrade_rewrites_existing_rows(engine: Engine) -> None:
    """Rows written before 0006 (the test database taken back to 0005, filled, upgraded again) lose their prose."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    filler = {"number": "CLM-OLD-1", "channel": "app", "state": "rejected", "hospital": "h", "diagnosis_code": "J18.9",
              "claimed_amount": 1, "deductible_applied": 0, "paid_amount": 0, "reported_by": "x", "risk_hints": "[]",
              "fast_track": False, "version": 1, "policy_id": 1, "customer_id": 1, "event_date": "2026-06-01",
              "admission_date": "2026-06-01", "discharge_date": "2026-06-02",
              "decision_reason": "fraud ring member per SIU file 42",
              "eob": json.dumps({"outcome": "rejected", "lines": [], "summary": ["fraud ring member per SIU file 42"]})}
    # the rows below stand alone: no foreign-key checks (SQLite: a connection without the pragma)
    writer = create_engine(engine.url) if engine.dialect.name == "sqlite" else engine
    with writer.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"INSERT INTO claim (id, {', '.join(filler)}) VALUES (1, {', '.join(':' + k for k in filler)})"),
                     filler)
        for i, ((prose, kind, to_state), _) in enumerate(LEGACY):
            conn.execute(text("INSERT INTO claim_event (id, claim_id, at, actor, kind, to_state, reason) "
                              "VALUES (:id, 1, '2026-06-01 00:00:00', 'x', :kind, :to, :reason)"),
                         {"id": i + 1, "kind": kind, "to": to_state, "reason": prose})
    if writer is not engine:
        writer.dispose()
    upgrade(engine)
    assert pending_drift(engine) == []
    with engine.connect() as conn:
        events = conn.execute(text("SELECT reason_code, reason_params FROM claim_event ORDER BY id")).all()
        claim = conn.execute(text("SELECT decision_reason_code, decision_reason_params, eob FROM claim")).one()
    assert [(code, _json(params)) for code, params in events] == [expected for _, expected in LEGACY]
    assert (claim[0], _json(claim[1])) == ("MOVED_BY_STAFF", {"to": "rejected",
                                                              "note": "fraud ring member per SIU file 42"})
    assert _json(claim[2]) == {"outcome": "rejected", "lines": [], "claimCodes": ["REJECTED_AFTER_REVIEW"]}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
