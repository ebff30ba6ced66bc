"""Signed records: accepted ones are stored and committed; every bad input is refused with its
code, storing nothing and committing nothing to the ledger."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import func, select

from core.db import transaction
from core.errors import DomainError
from core.pagination import PageRequest
from ledger import service as ledger
from ledger.commitments import TenantKey, install_tenant_key
from ledger.contract import RecordKind
from ledger.models import LedgerRecord
from partners import assignments, keys, review, signed_records
from partners.eip712 import Domain
from partners.errors import RecordRejected
from partners.models import AssignmentKind, PartnerKind, SignedRecord, SignerNonce
from partners.signed_records import Submission, verify_and_store
from tests.partner_factories import (
    CHECKER,
    DOMAIN,
    NOW,
    bill_message,
    credit_message,
    high_s,
    make_assignment,
    make_key,
    make_partner,
    partner_principal,
    sign,
    survey_message,
)


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(TenantKey.generate())
    yield
    install_tenant_key(None)


@pytest.fixture
def world(session_factory: Any) -> dict[str, Any]:
    """Two approved assessor firms with keys and a survey assignment each."""
    with transaction(session_factory) as s:
        firm = make_partner(s)
        other = make_partner(s)
        key, acct = make_key(s, firm)
        _, other_acct = make_key(s, other)
        mine = make_assignment(s, firm)
        theirs = make_assignment(s, other)
        return {"firm": firm, "other": other, "key": key, "acct": acct, "other_acct": other_acct,
                "mine": mine, "theirs": theirs}


def _counts(session_factory: Any) -> tuple[int, int, int]:
    with session_factory() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0)  # type: ignore[return-value]
                     for t in (SignedRecord, SignerNonce, LedgerRecord))


def _submit(session_factory: Any, partner: Any, payload: Any, signature: Any, *, now: dt.datetime = NOW,
            domain: Domain = DOMAIN) -> SignedRecord:
    with transaction(session_factory) as s:
        return signed_records.submit_signed_record(s, principal=partner_principal(partner), domain=domain,
                                                   typed_data=payload, signature=signature, now=now)


def _refused(session_factory: Any, partner: Any, payload: Any, signature: Any, **kw: Any) -> str:
    before = _counts(session_factory)
    with pytest.raises(DomainError) as info:
        _submit(session_factory, partner, payload, signature, **kw)
    assert _counts(session_factory) == before, "a refused record left rows behind"
    return info.value.code


def test_an_assigned_assessors_survey_is_stored_with_its_signature_and_committed(
    world: dict[str, Any], session_factory: Any
) -> None:
    acct = world["acct"]
    payload, signature = sign(acct, "SurveyReport", survey_message(world["mine"], acct.address, nonce=5))
    rec = _submit(session_factory, world["firm"], payload, signature)
    assert rec.signer == acct.address.lower() and rec.nonce == "5" and rec.signature == signature
    assert rec.assignment_id == world["mine"].id and rec.partner_id == world["firm"].id
    with session_factory() as s:
        row = ledger.get_record(s, record_id=rec.ledger_record_id)
        assert row.kind == RecordKind.SURVEY and row.commitment == rec.commitment
        body = ledger.record_body(row)
        assert body is not None and body["signature"] == signature and body["digest"] == rec.digest
        assert body["assessor"] == acct.address.lower() and body["message"]["nonce"] == "5"
        assert ledger.verify_record(s, record_id=row.id)
        assert ledger.proof_bundle(s, record_id=row.id)["status"] == "pending"
    assert _counts(session_factory) == (1, 1, 1)


def test_hospital_bills_and_credit_reports_from_assigned_partners(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        hospital = make_partner(s, kind=PartnerKind.HOSPITAL)
        bureau = make_partner(s, kind=PartnerKind.CREDIT_PROVIDER)
        _, h_acct = make_key(s, hospital)
        _, b_acct = make_key(s, bureau)
        bill_case = make_assignment(s, hospital, kind=AssignmentKind.HOSPITAL_BILL, case_reference="CLM-9")
        credit_case = make_assignment(s, bureau, kind=AssignmentKind.CREDIT_REPORT, case_reference="CLM-9")
    bill = _submit(session_factory, hospital, *sign(h_acct, "HospitalBill", bill_message(bill_case, h_acct.address)))
    credit = _submit(session_factory, bureau, *sign(b_acct, "CreditReport", credit_message(credit_case, b_acct.address)))
    with session_factory() as s:
        bill_body = ledger.record_body(ledger.get_record(s, record_id=bill.ledger_record_id))
        credit_row = ledger.get_record(s, record_id=credit.ledger_record_id)
        assert bill_body is not None and bill_body["amount"] == "12345.67"
        assert credit_row.kind == RecordKind.CREDIT
    # the hospital is not the credit provider of this case
    wrong = sign(h_acct, "CreditReport", credit_message(credit_case, h_acct.address))
    assert _refused(session_factory, hospital, *wrong) == "NOT_ASSIGNED"


def test_every_bad_input_is_refused_with_its_own_code(world: dict[str, Any], session_factory: Any) -> None:
    firm, acct, mine = world["firm"], world["acct"], world["mine"]
    stranger = Account.create()

    def survey(signer: Any = acct, **over: Any) -> dict[str, Any]:
        return survey_message(mine, signer.address, **over)

    # wrong signer: an unknown key; a key of another partner; a signature not by the named assessor
    assert _refused(session_factory, firm, *sign(stranger, "SurveyReport", survey(stranger))) == "WRONG_SIGNER"
    other_acct = world["other_acct"]
    assert _refused(session_factory, firm, *sign(other_acct, "SurveyReport", survey(other_acct))) == "WRONG_SIGNER"
    assert _refused(session_factory, firm, *sign(stranger, "SurveyReport", survey())) == "WRONG_SIGNER"
    # wrong chain / contract: signed for another domain
    assert _refused(session_factory, firm, *sign(acct, "SurveyReport", survey(),
                                                 Domain(1, DOMAIN.verifying_contract))) == "WRONG_CHAIN"
    assert _refused(session_factory, firm, *sign(acct, "SurveyReport", survey(),
                                                 Domain(DOMAIN.chain_id, "0x" + "77" * 20))) == "WRONG_CONTRACT"
    # expired deadline
    assert _refused(session_factory, firm, *sign(acct, "SurveyReport", survey(deadline=int(NOW.timestamp()) - 1))) \
        == "DEADLINE_PASSED"
    # malleable signature
    payload, signature = sign(acct, "SurveyReport", survey())
    assert _refused(session_factory, firm, payload, high_s(signature)) == "HIGH_S"
    # malformed typed data and signature
    broken = json.loads(json.dumps(payload))
    broken["message"]["conclusionCode"] = "two"
    assert _refused(session_factory, firm, broken, signature) == "MALFORMED"
    assert _refused(session_factory, firm, payload, "0xdeadbeef") == "MALFORMED"
    # not assigned: another firm's investigation; a case reference that is not this investigation's
    theirs = world["theirs"]
    assert _refused(session_factory, firm, *sign(acct, "SurveyReport", survey_message(theirs, acct.address))) \
        == "NOT_ASSIGNED"
    assert _refused(session_factory, firm, *sign(acct, "SurveyReport", survey(caseReference="CASE-OTHER"))) \
        == "NOT_ASSIGNED"
    # replayed nonce
    _submit(session_factory, firm, *sign(acct, "SurveyReport", survey(nonce=77)))
    assert _refused(session_factory, firm, *sign(acct, "SurveyReport", survey(nonce=77, conclusionCode=9))) \
        == "NONCE_REUSED"


def test_key_status_decides_revoked_not_yet_valid_expired(world: dict[str, Any], session_factory: Any) -> None:
    firm, mine = world["firm"], world["mine"]
    later = NOW + dt.timedelta(hours=1)
    with transaction(session_factory) as s:
        _, future_acct = make_key(s, firm, valid_from=NOW + dt.timedelta(days=1))
        new_key = Account.create()
        rotated = keys.rotate_key(s, principal=CHECKER, key_id=world["key"].id, new_address=new_key.address,
                                  valid_from=NOW, old_valid_until=NOW + dt.timedelta(minutes=30), now=NOW)
        revoked_key, revoked_acct = make_key(s, firm)
        keys.revoke_key(s, principal=CHECKER, key_id=revoked_key.id, reason="laptop stolen", now=NOW)
    assert rotated.rotated_from_id == world["key"].id
    assert _refused(session_factory, firm, *sign(future_acct, "SurveyReport",
                                                 survey_message(mine, future_acct.address))) == "KEY_NOT_YET_VALID"
    assert _refused(session_factory, firm, *sign(revoked_acct, "SurveyReport",
                                                 survey_message(mine, revoked_acct.address))) == "KEY_REVOKED"
    old = world["acct"]
    # within the overlap the old key still signs; after its end it is expired; the new key works
    _submit(session_factory, firm, *sign(old, "SurveyReport", survey_message(mine, old.address)))
    assert _refused(session_factory, firm, *sign(old, "SurveyReport", survey_message(mine, old.address)),
                    now=later) == "KEY_EXPIRED"
    _submit(session_factory, firm, *sign(new_key, "SurveyReport", survey_message(mine, new_key.address)), now=later)


def test_suspended_partner_and_foreign_reads_are_refused(world: dict[str, Any], session_factory: Any) -> None:
    firm, acct, mine, theirs = world["firm"], world["acct"], world["mine"], world["theirs"]
    rec = _submit(session_factory, firm, *sign(acct, "SurveyReport", survey_message(mine, acct.address)))
    with session_factory() as s:
        with pytest.raises(RecordRejected) as info:
            assignments.get_assignment(s, principal=partner_principal(firm), assignment_id=theirs.id)
        assert info.value.code == "FORBIDDEN"
        with pytest.raises(RecordRejected) as info:
            signed_records.get_signed_record(s, principal=partner_principal(world["other"]), record_id=rec.id)
        assert info.value.code == "FORBIDDEN"
        mine_only = assignments.list_assignments(s, principal=partner_principal(firm), page=PageRequest(first=10))
        assert [a.id for a in mine_only.items] == [mine.id]
    with transaction(session_factory) as s:
        review.suspend(s, principal=CHECKER, partner_id=firm.id, reason="audit", now=NOW)
    assert _refused(session_factory, firm, *sign(acct, "SurveyReport", survey_message(mine, acct.address))) \
        == "PARTNER_NOT_APPROVED"


def test_batches_judge_each_record_alone_and_catch_replays_inside_the_batch(
    world: dict[str, Any], session_factory: Any
) -> None:
    acct, mine = world["acct"], world["mine"]
    good = [Submission(*sign(acct, "SurveyReport", survey_message(mine, acct.address, nonce=n))) for n in range(1, 6)]
    replay = Submission(*sign(acct, "SurveyReport", survey_message(mine, acct.address, nonce=3, conclusionCode=1)))
    expired = Submission(*sign(acct, "SurveyReport", survey_message(mine, acct.address, deadline=1)))
    with transaction(session_factory) as s:
        outcomes = verify_and_store(s, principal=partner_principal(world["firm"]), domain=DOMAIN,
                                    submissions=[*good, replay, expired], now=NOW)
    assert [o.error.code if o.error else "ok" for o in outcomes] == ["ok"] * 5 + ["NONCE_REUSED", "DEADLINE_PASSED"]
    assert _counts(session_factory) == (5, 5, 5)
    ids = [o.record_id for o in outcomes[:5]]
    assert len(set(ids)) == 5


def test_racing_submissions_of_one_nonce_store_exactly_one(world: dict[str, Any], session_factory: Any) -> None:
    acct, mine, firm = world["acct"], world["mine"], world["firm"]
    subs = [Submission(*sign(acct, "SurveyReport", survey_message(mine, acct.address, nonce=99, conclusionCode=c)))
            for c in (1, 2)]
    first_stored = threading.Event()
    results: dict[int, list[Any]] = {}

    def first() -> None:
        with transaction(session_factory) as s:
            results[0] = verify_and_store(s, principal=partner_principal(firm), domain=DOMAIN, submissions=[subs[0]],
                                          now=NOW)
            first_stored.set()
            threading.Event().wait(0.3)  # hold the transaction open while the second checks nonces

    def second() -> None:
        first_stored.wait(5)
        with transaction(session_factory) as s:
            results[1] = verify_and_store(s, principal=partner_principal(firm), domain=DOMAIN, submissions=[subs[1]],
                                          now=NOW)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    codes = sorted(r[0].error.code if r[0].error else "ok" for r in results.values())
    assert codes == ["NONCE_REUSED", "ok"]
    assert _counts(session_factory) == (1, 1, 1)


def test_reverification_judges_an_old_signature_by_the_key_status_at_receipt(
    world: dict[str, Any], session_factory: Any
) -> None:
    acct, mine = world["acct"], world["mine"]
    rec = _submit(session_factory, world["firm"], *sign(acct, "SurveyReport", survey_message(mine, acct.address)))
    with transaction(session_factory) as s:
        keys.revoke_key(s, principal=CHECKER, key_id=world["key"].id, reason="rotated out",
                        now=NOW + dt.timedelta(days=2))
    with session_factory() as s:
        verdict = signed_records.reverify(s, record_id=rec.id, now=NOW + dt.timedelta(days=3))
        assert verdict.signature_valid
        assert verdict.key_status_at_receipt == keys.KeyStatus.ACTIVE
        assert verdict.key_status_now == keys.KeyStatus.REVOKED
    with transaction(session_factory) as s:  # a compromise dated back before receipt voids it
        s.get(type(world["key"]), world["key"].id).revoked_at = NOW - dt.timedelta(hours=1)
    with session_factory() as s:
        assert signed_records.reverify(s, record_id=rec.id, now=NOW).key_status_at_receipt == keys.KeyStatus.REVOKED


def test_bulk_ingest_checks_on_worker_processes_and_stores_in_order(
    world: dict[str, Any], session_factory: Any
) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    acct, mine = world["acct"], world["mine"]
    subs = [Submission(*sign(acct, "SurveyReport", survey_message(mine, acct.address, nonce=n))) for n in range(1, 13)]
    subs[4] = Submission(subs[4].typed_data, high_s(subs[4].signature))
    subs[9] = subs[2]  # a replay in a later batch
    batches = [subs[0:4], subs[4:8], subs[8:12]]
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = list(signed_records.ingest(session_factory, principal=partner_principal(world["firm"]), domain=DOMAIN,
                                          batches=batches, now=lambda: NOW, executor=pool))
    codes = [o.error.code if o.error else "ok" for outcomes in done for o in outcomes]
    assert codes == ["ok"] * 4 + ["HIGH_S"] + ["ok"] * 4 + ["NONCE_REUSED"] + ["ok"] * 2
    assert _counts(session_factory) == (10, 10, 10)
