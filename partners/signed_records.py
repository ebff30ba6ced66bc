"""Signed records: verify EIP-712 submissions, store them, commit them to the ledger.

A submission of an approved partner (else PARTNER_NOT_APPROVED) is accepted only if, in
this order:

1. the typed data is one of our types, for our domain (MALFORMED, WRONG_DOMAIN,
   WRONG_CHAIN, WRONG_CONTRACT), and the signature is well formed and low-s
   (MALFORMED, HIGH_S);
2. its deadline has not passed (DEADLINE_PASSED);
3. the submitting partner is assigned to the case (NOT_ASSIGNED; a survey: to that
   investigation, with the same case reference);
4. the signature recovers to the address the message names as its signer, and that is a
   key of the submitting partner (WRONG_SIGNER), live right now (KEY_REVOKED,
   KEY_NOT_YET_VALID, KEY_EXPIRED);
5. the signer has not used the nonce (NONCE_REUSED; the ``signer_nonce`` primary key
   also stops two racing submissions).

Accepted records go through ``ledger.service.record_many`` (commitment + outbox, in the
caller's transaction) with the signature kept beside them in ``signed_record``; the
ledger body also carries the signature and digest, so the anchored commitment binds who
signed what. Refused ones store nothing.

Batches (:func:`verify_and_store`) share look-ups: one query each for assignments, keys
and nonces, and bulk inserts. Steps 1, 2 and the recovery of 4 are CPU-bound and need
no database (:mod:`partners.verification`); :func:`ingest` runs them for the next batch
on worker processes while this process stores the current one (bulk intake; the
benchmark measures both paths).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, Row, Select, Table, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.auth import Principal, Role
from core.clock import business_date
from core.db import transaction, utcnow
from core.errors import DomainError, NotFoundError, ValidationError
from core.event_stream import Actor
from ledger import service as ledger
from ledger.contract import RecordKind
from partners import eip712, events, ledger_seam
from partners.errors import RecordRejected, RejectCode
from partners.keys import KeyStatus, key_status
from partners.models import (
    Assignment,
    AssignmentKind,
    Partner,
    PartnerStatus,
    SignedRecord,
    SignedRecordType,
    SignerKey,
    SignerNonce,
)
from partners.scoping import owned_by_caller, require_own, require_partner
from partners.service import Page, PageRequest, count_of, keyset_page
from partners.verification import Checked, Refusal, Submission, check_all, collect, submit_checks

__all__ = [
    "LEDGER_KIND",
    "Outcome",
    "Submission",
    "count_signed_records",
    "get_signed_record",
    "ingest",
    "list_signed_records",
    "notify_anchored",
    "reverify",
    "submit_signed_record",
    "verify_and_store",
]

LEDGER_KIND: dict[str, RecordKind] = {
    "SurveyReport": RecordKind.SURVEY,
    "HospitalBill": RecordKind.HOSPITAL_BILL,
    "CreditReport": RecordKind.CREDIT,
}
_KEY_REFUSAL = {
    KeyStatus.REVOKED: (RejectCode.KEY_REVOKED, "the signing key is revoked"),
    KeyStatus.NOT_YET_VALID: (RejectCode.KEY_NOT_YET_VALID, "the signing key is not valid yet"),
    KeyStatus.EXPIRED: (RejectCode.KEY_EXPIRED, "the signing key's validity ended"),
}
_NONCES = cast(Table, SignerNonce.__table__)
_SIGNED = cast(Table, SignedRecord.__table__)


@dataclass
class Outcome:
    """The fate of one submission: the stored record's id, or why it was refused."""

    record_id: int | None = None
    error: DomainError | None = None


@dataclass
class _Item:
    index: int
    record: eip712.TypedRecord
    digest: bytes
    sig65: bytes
    signer: str = ""
    assignment_id: int = 0
    key_id: int = 0

    @cached_property
    def message_json(self) -> dict[str, Any]:
        return self.record.json_message()

    @cached_property
    def signature_hex(self) -> str:
        return "0x" + self.sig65[:64].hex() + format(self.sig65[64] + 27, "02x")


def _ledger_body(item: _Item, partner: Partner, domain: eip712.Domain, now: dt.datetime) -> dict[str, Any]:
    msg = item.record.message
    common = {
        "recordType": item.record.primary_type,
        "message": item.message_json,
        "signer": item.signer,
        "signature": item.signature_hex,
        "digest": "0x" + item.digest.hex(),
        "chainId": str(domain.chain_id),
        "verifyingContract": domain.verifying_contract.lower(),
        "partner": partner.code,
        "receivedAt": now.isoformat(),
    }
    ptype = item.record.primary_type
    if ptype == "SurveyReport":
        return {**common, "assessor": item.signer, "conclusion": str(msg["conclusionCode"]),
                "surveyedOn": business_date(now).isoformat()}
    if ptype == "HospitalBill":
        fen = int(msg["amountFen"])
        return {**common, "billNo": msg["billNumber"], "amount": f"{fen // 100}.{fen % 100:02d}",
                "issuedOn": msg["issuedOn"]}
    return {**common, "bureau": partner.code, "reportRef": msg["reportReference"], "issuedOn": msg["issuedOn"]}


_MAX_BIGINT = 2**63 - 1
if TYPE_CHECKING:
    _AssignmentRow = Row[int, int, AssignmentKind, str, int | None, bool]


def _assignments(session: Session, partner_id: int, items: Iterable[_Item]) -> dict[Any, _AssignmentRow]:
    """The assignments the items may answer, keyed by investigation or (kind, case), one query."""
    investigations = {inv for it in items if it.record.kind is AssignmentKind.SURVEY
                      if (inv := int(it.record.message["investigationId"])) <= _MAX_BIGINT}
    refs = {it.record.case_reference for it in items if it.record.kind is not AssignmentKind.SURVEY}
    conds: list[ColumnElement[bool]] = []
    if investigations:
        conds.append(Assignment.investigation_id.in_(investigations))
    if refs:
        conds.append((Assignment.partner_id == partner_id) & Assignment.case_reference.in_(refs))
    if not conds:
        return {}
    a = Assignment
    found: dict[Any, _AssignmentRow] = {}
    for row in session.execute(
        select(a.id, a.partner_id, a.kind, a.case_reference, a.investigation_id, a.active).where(or_(*conds))
    ):
        if row.kind is AssignmentKind.SURVEY:
            found[("inv", row.investigation_id)] = row
        elif row.partner_id == partner_id:
            found[(row.kind, row.case_reference)] = row
    return found


def _check_assignment(item: _Item, partner_id: int, found: dict[Any, _AssignmentRow]) -> int:
    """The id of the assignment ``item`` answers; NOT_ASSIGNED otherwise."""
    rec = item.record
    if rec.kind is AssignmentKind.SURVEY:
        a = found.get(("inv", int(rec.message["investigationId"])))
        if a is None or not a.active or a.partner_id != partner_id:
            raise RecordRejected(RejectCode.NOT_ASSIGNED, "your firm is not assigned to this investigation",
                                 field="typedData.message.investigationId")
        if a.case_reference != rec.case_reference:
            raise RecordRejected(RejectCode.NOT_ASSIGNED, "the case reference is not this investigation's",
                                 field="typedData.message.caseReference")
        return int(a.id)
    a = found.get((rec.kind, rec.case_reference))
    if a is None or not a.active:
        raise RecordRejected(RejectCode.NOT_ASSIGNED, "you are not assigned to this case",
                             field="typedData.message.caseReference")
    return int(a.id)


def _check_key(item: _Item, partner_id: int, keys: dict[str, SignerKey], now: dt.datetime) -> SignerKey:
    if item.signer != item.record.signer:
        raise RecordRejected(RejectCode.WRONG_SIGNER, "the signature is not by the signer the message names",
                             field="signature")
    key = keys.get(item.signer)
    if key is None or key.partner_id != partner_id:
        raise RecordRejected(RejectCode.WRONG_SIGNER, "the signer is not a key of your partner", field="signature")
    status = key_status(key, now)
    if status is not KeyStatus.ACTIVE:
        code, message = _KEY_REFUSAL[status]
        raise RecordRejected(code, message, field="signature")
    return key


def _used_nonces(session: Session, items: Sequence[_Item]) -> set[tuple[str, str]]:
    if not items:
        return set()
    wanted = {(it.signer, str(it.record.nonce)) for it in items}
    out: set[tuple[str, str]] = set()
    pairs = list(wanted)
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        rows = session.execute(
            select(SignerNonce.signer, SignerNonce.nonce).where(tuple_(SignerNonce.signer, SignerNonce.nonce).in_(chunk))
        ).tuples()
        out.update(rows)
    return out


def verify_and_store(
    session: Session,
    *,
    principal: Principal,
    domain: eip712.Domain,
    submissions: Sequence[Submission],
    now: dt.datetime,
    executor: Executor | None = None,
    checked: Sequence[Checked | Refusal] | None = None,
) -> list[Outcome]:
    """Verify a batch of submissions of the calling partner; store and commit the good ones.

    Returns one :class:`Outcome` per submission, in order. The CPU-bound checks (parse,
    hash, recover) run on ``executor`` when given, else in this thread — unless
    ``checked`` already holds their results (see :func:`ingest`).
    """
    partner_id = require_partner(principal)
    outcomes = [Outcome() for _ in submissions]
    partner = session.get(Partner, partner_id)
    if partner is None or partner.status is not PartnerStatus.APPROVED:
        state = partner.status.value if partner is not None else "unknown"
        for o in outcomes:
            o.error = RecordRejected(RejectCode.PARTNER_NOT_APPROVED, f"partner is {state}")
        return outcomes
    items: list[_Item] = []
    signers: list[str | None] = []
    if checked is None:
        checked = check_all(submissions, domain, int(now.timestamp()), executor=executor)
    for i, result in enumerate(checked):
        if isinstance(result, Refusal):
            outcomes[i].error = result.error()
        else:
            items.append(_Item(i, result.record, result.digest, result.sig65))
            signers.append(result.signer)
    found = _assignments(session, partner_id, items)
    assigned: list[tuple[_Item, str | None]] = []
    for it, signer in zip(items, signers, strict=True):
        try:
            it.assignment_id = _check_assignment(it, partner_id, found)
            assigned.append((it, signer))
        except DomainError as exc:
            outcomes[it.index].error = exc
    keys = {k.address: k for k in session.scalars(
        select(SignerKey).where(SignerKey.address.in_({s for _, s in assigned if s is not None})))}
    keyed: list[_Item] = []
    for it, signer in assigned:
        try:
            if signer is None:
                raise RecordRejected(RejectCode.WRONG_SIGNER, "signature recovers to no key", field="signature")
            it.signer = signer
            it.key_id = _check_key(it, partner_id, keys, now).id
            keyed.append(it)
        except DomainError as exc:
            outcomes[it.index].error = exc
    used = _used_nonces(session, keyed)
    accepted: list[_Item] = []
    for it in keyed:
        pair = (it.signer, str(it.record.nonce))
        if pair in used:
            outcomes[it.index].error = RecordRejected(RejectCode.NONCE_REUSED, "this nonce was used by this signer",
                                                      field="typedData.message.nonce")
            continue
        used.add(pair)
        accepted.append(it)
    if accepted:
        _store(session, partner, domain, accepted, outcomes, now)
    return outcomes


def _store(
    session: Session, partner: Partner, domain: eip712.Domain, items: list[_Item], outcomes: list[Outcome],
    now: dt.datetime,
) -> None:
    try:
        with session.begin_nested():
            ids = _insert(session, partner, domain, items, now)
    except (IntegrityError, RecordRejected):  # a racing nonce, or one unfit body: one by one
        for it in items:
            try:
                with session.begin_nested():
                    outcomes[it.index].record_id = _insert(session, partner, domain, [it], now)[0]
            except IntegrityError:
                outcomes[it.index].error = RecordRejected(
                    RejectCode.NONCE_REUSED, "this nonce was used by this signer", field="typedData.message.nonce")
            except RecordRejected as exc:
                outcomes[it.index].error = exc
        return
    for it, rid in zip(items, ids, strict=True):
        outcomes[it.index].record_id = rid


def _insert(session: Session, partner: Partner, domain: eip712.Domain, items: list[_Item], now: dt.datetime) -> list[int]:
    session.execute(insert(_NONCES),
                    [{"signer": it.signer, "nonce": str(it.record.nonce), "used_at": now} for it in items])
    by_kind: dict[RecordKind, list[int]] = {}
    for pos, it in enumerate(items):
        by_kind.setdefault(LEDGER_KIND[it.record.primary_type], []).append(pos)
    ledger_id_at: dict[int, int] = {}
    for kind, positions in by_kind.items():
        try:
            new_ids = ledger.record_many(
                session, kind=kind, bodies=[_ledger_body(items[p], partner, domain, now) for p in positions])
        except ValidationError as exc:
            raise RecordRejected(RejectCode.MALFORMED, f"record does not fit the ledger: {exc.message}",
                                 field="typedData.message") from exc
        ledger_id_at.update(zip(positions, new_ids, strict=True))
    ledger_ids = [ledger_id_at[p] for p in range(len(items))]
    commitments = ledger_seam.commitments_of(session, ledger_ids)
    rows = [
        {
            "partner_id": partner.id,
            "assignment_id": it.assignment_id,
            "primary_type": it.record.primary_type,
            "signer": it.signer,
            "signer_key_id": it.key_id,
            "nonce": str(it.record.nonce),
            "deadline": str(it.record.deadline),
            "digest": "0x" + it.digest.hex(),
            "signature": it.signature_hex,
            "message": json.dumps(it.message_json, sort_keys=True, separators=(",", ":")),
            "chain_id": domain.chain_id,
            "verifying_contract": domain.verifying_contract.lower(),
            "ledger_record_id": lid,
            "commitment": commitments[lid],
            "received_at": now,
            "anchored_notified": False,
        }
        for it, lid in zip(items, ledger_ids, strict=True)
    ]
    result = session.execute(insert(_SIGNED).returning(_SIGNED.c.id, sort_by_parameter_order=True), rows)
    ids = [int(r[0]) for r in result]
    for it, rid, lid in zip(items, ids, ledger_ids, strict=True):
        events.publish(session, events.SignedRecordAccepted(
            partner_id=partner.id, signed_record_id=rid, assignment_id=it.assignment_id,
            record_type=SignedRecordType(it.record.primary_type), commitment=commitments[lid]),
            actor=Actor(f"signer:{it.signer}", Role.PARTNER.value))
    return ids


def submit_signed_record(
    session: Session,
    *,
    principal: Principal,
    domain: eip712.Domain,
    typed_data: Any,
    signature: Any,
    now: dt.datetime,
) -> SignedRecord:
    """Verify and store one submission; raises the refusal (RecordRejected) otherwise."""
    outcome = verify_and_store(session, principal=principal, domain=domain,
                               submissions=[Submission(typed_data, signature)], now=now)[0]
    if outcome.error is not None:
        raise outcome.error
    assert outcome.record_id is not None
    row = session.get(SignedRecord, outcome.record_id)
    assert row is not None
    return row


def ingest(
    session_factory: sessionmaker[Session],
    *,
    principal: Principal,
    domain: eip712.Domain,
    batches: Iterable[Sequence[Submission]],
    now: Callable[[], dt.datetime] = utcnow,
    executor: Executor | None = None,
) -> Iterator[list[Outcome]]:
    """Bulk intake, pipelined: batch k+1 is checked on ``executor`` while batch k is stored.

    Each batch is stored in its own transaction; yields each batch's outcomes in order.
    With a process pool (``verification_pool()``) the parse/hash/recover half runs on
    other cores, and only the database half stays in this process.
    """
    pending: tuple[Sequence[Submission], dt.datetime, Any] | None = None
    for batch in batches:
        at = now()
        started = submit_checks(batch, domain, int(at.timestamp()), executor=executor)
        if pending is not None:
            yield _store_checked(session_factory, principal, domain, pending)
        pending = (batch, at, started)
    if pending is not None:
        yield _store_checked(session_factory, principal, domain, pending)


def _store_checked(
    session_factory: sessionmaker[Session], principal: Principal, domain: eip712.Domain,
    pending: tuple[Sequence[Submission], dt.datetime, Any],
) -> list[Outcome]:
    batch, at, started = pending
    checked = collect(started)
    with transaction(session_factory) as s:
        return verify_and_store(s, principal=principal, domain=domain, submissions=batch, now=at, checked=checked)


def get_signed_record(session: Session, *, principal: Principal, record_id: int) -> SignedRecord:
    """A signed record; FORBIDDEN when another partner's, NotFoundError when absent."""
    row = session.get(SignedRecord, record_id)
    if row is None:
        raise NotFoundError("signed record not found", field="id")
    require_own(principal, row.partner_id, what="this record")
    return row


def _signed_records(principal: Principal, assignment_id: int | None) -> Select[SignedRecord]:
    stmt = select(SignedRecord).where(owned_by_caller(principal, SignedRecord.partner_id))
    if assignment_id is not None:
        stmt = stmt.where(SignedRecord.assignment_id == assignment_id)
    return stmt


def list_signed_records(
    session: Session, *, principal: Principal, page: PageRequest, assignment_id: int | None = None
) -> Page[SignedRecord]:
    """A page of the signed records the caller may see (a partner: its own), oldest first."""
    return keyset_page(session, _signed_records(principal, assignment_id), SignedRecord.id, request=page)


def count_signed_records(session: Session, *, principal: Principal, assignment_id: int | None = None) -> int:
    """How many signed records the caller may see (with the filter of :func:`list_signed_records`)."""
    return count_of(session, _signed_records(principal, assignment_id))


@dataclass(frozen=True)
class Reverification:
    """A stored record checked again: does the signature still recover to its key, and
    what was that key's status when the record was received?"""

    signature_valid: bool
    key_status_at_receipt: KeyStatus
    key_status_now: KeyStatus


def reverify(session: Session, *, record_id: int, now: dt.datetime) -> Reverification:
    """Re-check a stored record; a key revoked later does not void it (judged at receipt)."""
    row = session.get(SignedRecord, record_id)
    if row is None:
        raise NotFoundError("signed record not found", field="id")
    domain = eip712.Domain(chain_id=row.chain_id, verifying_contract=row.verifying_contract)
    payload = eip712.typed_data(row.primary_type, json.loads(row.message), domain)
    record = eip712.parse_typed_data(payload, expected=domain)
    try:
        signer = eip712.recover(eip712.digest(record, domain), eip712.parse_signature(row.signature))
    except RecordRejected:
        signer = ""
    key = session.get(SignerKey, row.signer_key_id)
    assert key is not None
    return Reverification(
        signature_valid=signer == row.signer == key.address,
        key_status_at_receipt=key_status(key, row.received_at),
        key_status_now=key_status(key, now),
    )


#: Who tells partners their records are anchored: the worker's partner jobs.
ANCHORING_NEWS = Actor.system("partners.anchoring-news")


def notify_anchored(session: Session, *, now: dt.datetime, limit: int = 1000) -> int:
    """Tell partners (webhook ``record.anchored``) which of their records are anchored now."""
    rows = session.execute(
        select(SignedRecord.id, SignedRecord.partner_id, SignedRecord.ledger_record_id,
               SignedRecord.commitment, SignedRecord.primary_type)
        .where(SignedRecord.anchored_notified.is_(False))
        .order_by(SignedRecord.id)
        .limit(limit)
    ).all()
    anchored = ledger_seam.anchored_ids(session, [r.ledger_record_id for r in rows])
    done = [r for r in rows if r.ledger_record_id in anchored]
    for r in done:  # the webhook consumer tells the partner
        events.publish(session, events.SignedRecordAnchored(
            partner_id=r.partner_id, signed_record_id=r.id, record_type=SignedRecordType(r.primary_type),
            commitment=r.commitment), actor=ANCHORING_NEWS)
    if done:
        session.execute(
            update(SignedRecord).where(SignedRecord.id.in_([r.id for r in done]))
            .values(anchored_notified=True).execution_options(synchronize_session=False)
        )
    return len(done)
