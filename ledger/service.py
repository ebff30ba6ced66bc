"""Public service functions of the ledger (keyword-only, take a Session, caller commits).

* :func:`record` / :func:`record_many` — validate, canonicalise, commit and store records;
  the stored row *is* the outbox entry (``batch_id IS NULL``), so it is written in the
  caller's transaction together with whatever the record belongs to.
* :func:`erase` — right to be forgotten: body and salt are deleted; the commitment stays
  (it is on chain, and without the salt it links to no one); proofs answer "erased".
* :func:`proof_bundle` — the self-contained proof JSON of a record (see ledger.proofs).
* :func:`ledger_status`, :func:`records_query`, :func:`batches_query`, :func:`get_batch`,
  :func:`batches_by_id` — what the auditor's API reads.
* :func:`anchor_audit_log` — commit new entries of the hash-chained audit log
  (kind AUDIT_LOG) so they are anchored like every other record.

Example::

    with transaction(factory) as session:
        rec = record(session, kind=RecordKind.MEDICAL,
                     body={"documentType": "invoice", "provider": "H-1", "issuedOn": "2026-05-01"})
    ...  # the anchoring worker runs
    with factory() as session:
        bundle = proof_bundle(session, record_id=rec.id)
"""

from __future__ import annotations

import gc
import json
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.audit import AuditEntry
from core.crypto import bind_row
from core.db import utcnow
from core.errors import NotFoundError, StaleVersionError
from ledger.commitments import (
    SALT_BYTES,
    TenantKey,
    canonicalize,
    commit,
    current_tenant_key,
    parse_kind,
    validate_body,
)
from ledger.contract import RecordKind
from ledger.models import (
    AnchorBatch,
    AnchorTree,
    BatchStatus,
    LedgerCursor,
    LedgerRecord,
    RecordProof,
    RecordStatus,
)
from ledger.proofs import anchored_bundle, erased_bundle, pending_bundle

__all__ = [
    "AUDIT_CURSOR",
    "LedgerStatus",
    "anchor_audit_log",
    "anchored_bundles",
    "batch_tree",
    "batches_by_id",
    "batches_query",
    "erase",
    "get_batch",
    "get_record",
    "ledger_status",
    "proof_bundle",
    "proof_bundles",
    "record",
    "record_body",
    "record_many",
    "records_query",
    "verify_record",
]

AUDIT_CURSOR = "audit_log"
#: Bulk calls at least this large pause the cyclic garbage collector (see gc_paused).
BULK_GC_PAUSE = 1000


@contextmanager
def gc_paused(enabled: bool = True) -> Iterator[None]:
    """Pause Python's cyclic GC for one bulk step (it only holds acyclic rows).

    Bulk steps allocate tens of thousands of small containers; the collector would walk
    every live object several times meanwhile (measured: about a third of the anchoring
    worker's time). Collection only waits; it resumes when the step ends.
    """
    if not enabled or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def record(
    session: Session,
    *,
    kind: RecordKind | int | str,
    body: Mapping[str, Any],
    tenant_key: TenantKey | None = None,
) -> LedgerRecord:
    """Commit to ``body`` and store it (encrypted) as a pending record; returns the row."""
    c = commit(tenant_key or current_tenant_key(), kind, body)
    row = LedgerRecord(
        kind=int(c.kind),
        body=c.canonical.decode(),
        salt=c.salt.hex(),
        commitment=c.hex,
        status=RecordStatus.PENDING,
    )
    session.add(row)
    session.flush()
    return row


def record_many(
    session: Session,
    *,
    kind: RecordKind | int | str,
    bodies: Sequence[Mapping[str, Any]],
    tenant_key: TenantKey | None = None,
) -> list[int]:
    """Bulk :func:`record` (one executemany); returns the new ids in input order."""
    if not bodies:
        return []
    with gc_paused(len(bodies) >= BULK_GC_PAUSE):
        return _record_many(session, parse_kind(kind), bodies, tenant_key or current_tenant_key())


def _record_many(
    session: Session, k: RecordKind, bodies: Sequence[Mapping[str, Any]], key: TenantKey
) -> list[int]:
    now, code, mac = utcnow(), int(k), key.mac
    salts = secrets.token_bytes(SALT_BYTES * len(bodies))  # one fresh random salt per record
    rows = []
    for i, body in enumerate(bodies):  # commit() inlined: this loop is the bulk hot path
        validate_body(k, body)
        canonical = canonicalize(body)
        salt = salts[i * SALT_BYTES : (i + 1) * SALT_BYTES]
        commitment = "0x" + mac(salt, canonical).hex()
        rows.append(
            {
                "kind": code,
                "body": bind_row(canonical.decode(), commitment),  # sealed bound to this row
                "salt": bind_row(salt.hex(), commitment),
                "commitment": commitment,
                "status": RecordStatus.PENDING,
                "created_at": now,
                "version": 1,
            }
        )
    table = cast(Table, LedgerRecord.__table__)
    result = session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [int(r[0]) for r in result]


def get_record(session: Session, *, record_id: int) -> LedgerRecord:
    """The record ``record_id``; NotFoundError if there is none."""
    row = session.get(LedgerRecord, record_id)
    if row is None:
        raise NotFoundError(f"ledger record {record_id} not found", field="recordId")
    return row


def record_body(row: LedgerRecord) -> dict[str, Any] | None:
    """The decrypted body of ``row`` (None once erased)."""
    if row.body is None:
        return None
    body: dict[str, Any] = json.loads(row.body)
    return body


def verify_record(session: Session, *, record_id: int, tenant_key: TenantKey | None = None) -> bool:
    """Recompute the commitment from the stored canonical body and salt; False if they differ.

    Raises NotFoundError for unknown ids; an erased record cannot be checked (False).
    """
    row = get_record(session, record_id=record_id)
    if row.body is None or row.salt is None:
        return False
    key = tenant_key or current_tenant_key()
    digest = key.mac(bytes.fromhex(row.salt), row.body.encode())
    return "0x" + digest.hex() == row.commitment


def erase(session: Session, *, record_id: int) -> LedgerRecord:
    """Right to be forgotten: delete body and salt, keep the commitment (idempotent)."""
    row = get_record(session, record_id=record_id)
    if row.erased_at is not None:
        return row
    row.body = None
    row.salt = None
    row.status = RecordStatus.ERASED
    row.erased_at = utcnow()
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersionError(
            f"ledger record {record_id} changed meanwhile; retry the erasure", field="recordId"
        ) from None
    return row


def proof_bundle(session: Session, *, record_id: int) -> dict[str, Any]:
    """The record's proof bundle: anchored, pending, or erased (see ledger.proofs)."""
    row = get_record(session, record_id=record_id)
    if row.erased_at is not None:
        return erased_bundle(kind=row.kind, erased_at=row.erased_at)
    if row.batch_id is None:
        return pending_bundle(commitment=row.commitment, kind=row.kind, batched=False)
    batch = session.get(AnchorBatch, row.batch_id)
    proof = session.get(RecordProof, row.id)
    if batch is None or proof is None or batch.status is not BatchStatus.CONFIRMED:
        return pending_bundle(commitment=row.commitment, kind=row.kind, batched=True)
    assert batch.chain_id is not None and batch.contract and batch.tx_hash and batch.block_number
    return anchored_bundle(
        commitment=row.commitment,
        kind=row.kind,
        proof=proof.proof,
        root=batch.root,
        leaf_count=batch.count,
        chain_id=batch.chain_id,
        contract=batch.contract,
        tx_hash=batch.tx_hash,
        block_number=batch.block_number,
    )


def proof_bundles(session: Session, *, record_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """:func:`proof_bundle` of many records in three queries (for DataLoaders); unknown ids are absent."""
    ids = sorted(set(record_ids))
    if not ids:
        return {}
    r, p, b = LedgerRecord, RecordProof, AnchorBatch
    rows = session.execute(
        select(r.id, r.kind, r.commitment, r.batch_id, r.erased_at).where(r.id.in_(ids))
    ).all()
    batch_ids = {row.batch_id for row in rows if row.batch_id is not None and row.erased_at is None}
    batches = {
        x.id: x
        for x in session.execute(
            select(b.id, b.root, b.count.label("leaf_count"), b.status, b.chain_id, b.contract,
                   b.tx_hash, b.block_number).where(b.id.in_(batch_ids))
        )
    } if batch_ids else {}
    confirmed = [row.id for row in rows if row.batch_id in batches
                 and batches[row.batch_id].status is BatchStatus.CONFIRMED]
    proofs = dict(
        session.execute(select(p.record_id, p.proof).where(p.record_id.in_(confirmed))).tuples().all()
    ) if confirmed else {}
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.erased_at is not None:
            out[row.id] = erased_bundle(kind=row.kind, erased_at=row.erased_at)
        elif row.id in proofs:
            x = batches[row.batch_id]
            out[row.id] = anchored_bundle(
                commitment=row.commitment, kind=row.kind, proof=proofs[row.id], root=x.root,
                leaf_count=x.leaf_count, chain_id=x.chain_id, contract=x.contract, tx_hash=x.tx_hash,
                block_number=x.block_number,
            )
        else:
            out[row.id] = pending_bundle(
                commitment=row.commitment, kind=row.kind, batched=row.batch_id is not None
            )
    return out


def batch_tree(session: Session, *, root: str) -> dict[str, Any]:
    """The whole Merkle tree (OpenZeppelin ``standard-v1`` dump) of the batch with ``root``."""
    dump = session.execute(
        select(AnchorTree.dump).join(AnchorBatch, AnchorBatch.id == AnchorTree.batch_id)
        .where(AnchorBatch.root == root.lower())
    ).scalar_one_or_none()
    if dump is None:
        raise NotFoundError(f"no batch with root {root}", field="root")
    tree: dict[str, Any] = json.loads(dump)
    return tree


def anchored_bundles(session: Session, *, chunk: int = 2000) -> Iterator[dict[str, Any]]:
    """Every anchored, non-erased record's bundle, in record order (streamed in chunks)."""
    r, p, b = LedgerRecord, RecordProof, AnchorBatch
    last = 0
    while True:
        rows = session.execute(
            select(
                r.id, r.commitment, r.kind, p.proof, b.root, b.count.label("leaf_count"), b.chain_id, b.contract,
                b.tx_hash, b.block_number,
            )
            .join(p, p.record_id == r.id)
            .join(b, b.id == r.batch_id)
            .where(r.id > last, r.status == RecordStatus.ANCHORED, b.status == BatchStatus.CONFIRMED)
            .order_by(r.id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        for row in rows:
            yield anchored_bundle(
                commitment=row.commitment, kind=row.kind, proof=row.proof, root=row.root,
                leaf_count=row.leaf_count, chain_id=row.chain_id, contract=row.contract,
                tx_hash=row.tx_hash, block_number=row.block_number,
            )
        last = rows[-1].id


def anchor_audit_log(
    session: Session, *, limit: int = 10_000, tenant_key: TenantKey | None = None
) -> int:
    """Commit audit-log entries not yet committed (kind AUDIT_LOG); returns how many.

    The position advances in ``ledger_cursor`` under optimistic locking, so two callers
    never commit the same entry twice (the loser gets StaleVersionError and commits nothing).
    """
    cursor = session.get(LedgerCursor, AUDIT_CURSOR)
    if cursor is None:
        cursor = LedgerCursor(name=AUDIT_CURSOR, position=0)
        session.add(cursor)
        session.flush()
    entries = session.execute(
        select(AuditEntry.seq, AuditEntry.hash, AuditEntry.prev_hash)
        .where(AuditEntry.seq > cursor.position)
        .order_by(AuditEntry.seq)
        .limit(limit)
    ).all()
    if not entries:
        return 0
    bodies = [{"seq": int(e.seq), "hash": e.hash, "prevHash": e.prev_hash} for e in entries]
    record_many(session, kind=RecordKind.AUDIT_LOG, bodies=bodies, tenant_key=tenant_key)
    cursor.position = int(entries[-1].seq)
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersionError("audit log anchoring raced another worker; retry") from None
    return len(entries)


@dataclass(frozen=True)
class LedgerStatus:
    """The ledger at a glance: records and batches by status, the outbox, the last confirmed batch."""

    records: dict[RecordStatus, int]
    outbox: int
    batches: dict[BatchStatus, int]
    last_batch: AnchorBatch | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form (``opsure ledger status``)."""
        last = self.last_batch
        return {
            "records": {s.value: n for s, n in self.records.items()},
            "outbox": self.outbox,
            "batches": {s.value: n for s, n in self.batches.items()},
            "lastBatch": None if last is None else {
                "root": last.root,
                "count": last.count,
                "kind": RecordKind(last.kind).name,
                "txHash": last.tx_hash,
                "blockNumber": last.block_number,
                "chainId": last.chain_id,
                "contract": last.contract,
            },
        }


def ledger_status(session: Session) -> LedgerStatus:
    """Counts of records and batches by status, the outbox, and the last confirmed batch."""
    records = dict(
        session.execute(select(LedgerRecord.status, func.count()).group_by(LedgerRecord.status)).tuples().all()
    )
    outbox = session.scalar(
        select(func.count()).select_from(LedgerRecord).where(LedgerRecord.batch_id.is_(None))
    )
    batches = dict(
        session.execute(select(AnchorBatch.status, func.count()).group_by(AnchorBatch.status)).tuples().all()
    )
    last = session.execute(
        select(AnchorBatch)
        .where(AnchorBatch.status == BatchStatus.CONFIRMED)
        .order_by(AnchorBatch.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return LedgerStatus(
        records={s: int(records.get(s, 0)) for s in RecordStatus},
        outbox=int(outbox or 0),
        batches={s: int(batches.get(s, 0)) for s in BatchStatus},
        last_batch=last,
    )


def records_query(
    *, status: RecordStatus | None = None, kind: RecordKind | None = None, commitment: str | None = None
) -> Select[LedgerRecord]:
    """Ledger records, optionally of one status, kind and commitment (unordered: the pager orders by id)."""
    stmt = select(LedgerRecord)
    if status is not None:
        stmt = stmt.where(LedgerRecord.status == status)
    if kind is not None:
        stmt = stmt.where(LedgerRecord.kind == int(kind))
    if commitment is not None:
        stmt = stmt.where(LedgerRecord.commitment == commitment.lower())
    return stmt


def batches_query(
    *, status: BatchStatus | None = None, kind: RecordKind | None = None
) -> Select[AnchorBatch]:
    """Anchor batches, optionally of one status and kind (unordered: the pager orders by id)."""
    stmt = select(AnchorBatch)
    if status is not None:
        stmt = stmt.where(AnchorBatch.status == status)
    if kind is not None:
        stmt = stmt.where(AnchorBatch.kind == int(kind))
    return stmt


def get_batch(session: Session, *, batch_id: int) -> AnchorBatch:
    """The anchor batch ``batch_id``; NotFoundError if there is none."""
    row = session.get(AnchorBatch, batch_id)
    if row is None:
        raise NotFoundError(f"anchor batch {batch_id} not found", field="batchId")
    return row


def batches_by_id(session: Session, *, batch_ids: Sequence[int]) -> dict[int, AnchorBatch]:
    """Anchor batches by id in one query (for DataLoaders); unknown ids are absent."""
    ids = sorted(set(batch_ids))
    if not ids:
        return {}
    return {b.id: b for b in session.scalars(select(AnchorBatch).where(AnchorBatch.id.in_(ids)))}
