"""The anchoring worker: pending records → Merkle batch → one anchor transaction → proofs.

One round (:func:`anchor_pending`):

1. **Recover** every batch left ``prepared`` or ``sent`` by an earlier run: if the chain
   says ``anchoredAt(root) != 0`` the ``Anchored`` event (``eth_getLogs`` on the root
   topic, in exactly that block) gives tx hash and block and the batch is finished;
   a ``sent`` transaction the node still holds is waited for; otherwise it is re-sent.
2. **Prepare** a batch per record kind whose pending records are many (``max_batch``) or
   old (``max_age`` seconds): build OpenZeppelin's StandardMerkleTree over the leaf values
   ``[commitment, kind]`` and, in ONE transaction, write the batch (root + tree dump) as
   ``prepared``, every record's proof, and the records' ``batch_id``.
3. **Send**: ``anchoredAt(root)`` must still be 0; the transaction is signed, its hash
   stored (batch ``sent``) and only then broadcast; wait for the receipt.
4. **Finish** in ONE transaction: batch ``confirmed`` with tx hash and block; its records
   ``anchored``.

A crash at any point leaves a batch ``prepared`` or ``sent``, which step 1 finishes from
what the chain says; the contract refuses a root twice, and step 3 checks before sending,
so no record is lost or anchored twice. Chain errors are retried with exponential backoff
a bounded number of times per call (ChainClient); the round then reports the error and
leaves every record pending, and :func:`run_anchoring_loop` retries forever with backoff.

Only one process runs the loop: on PostgreSQL it holds ``pg_try_advisory_lock`` on a
dedicated connection for as long as it leads; on SQLite a ``flock`` on
``<data_dir>/anchoring.lock`` (SQLite is single-writer anyway, and a racing preparer's
claim fails its row-count check and rolls back).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from eth_account.signers.local import LocalAccount
from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from web3 import Web3
from web3.providers.base import BaseProvider

from core.db import transaction, utcnow
from core.errors import ConflictError, StaleVersionError
from core.settings import Settings
from ledger import events as ledger_events
from ledger.chain_client import (
    AnchorEvent,
    ChainClient,
    ChainError,
    ChainProtocolError,
    ChainRevertedError,
    ContractMissingError,
    load_or_create_account,
)
from ledger.commitments import LEAF_ENCODING
from ledger.merkle import StandardMerkleTree, keccak256
from ledger.models import (
    AnchorBatch,
    AnchorTree,
    BatchStatus,
    LedgerDeployment,
    LedgerRecord,
    RecordProof,
    RecordStatus,
)
from ledger.proofs import pack_proof
from ledger.service import anchor_audit_log, gc_paused

__all__ = [
    "ADVISORY_LOCK_KEY",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_BATCH",
    "AnchorResult",
    "AnchorTxFailedError",
    "anchor_pending",
    "anchoring_round",
    "build_tree",
    "ensure_registry",
    "leadership",
    "open_chain",
    "run_anchoring_loop",
]

log = logging.getLogger("opsure.ledger.anchoring")

#: Largest number of records in one Merkle tree / anchor transaction.
DEFAULT_MAX_BATCH = 10_000
#: A pending record waits at most this many seconds before a (smaller) batch is cut.
DEFAULT_MAX_AGE = 2.0
ADVISORY_LOCK_KEY = 0x0A5C0_1ED6E  # names the anchoring-leader lock

Factory = sessionmaker[Session]


class RuntimeLike(Protocol):
    """What the loop needs of the process runtime (opsure.runtime.Runtime fits)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]


class AnchorTxFailedError(ChainError):
    """The anchor transaction was mined but reverted, and the root is not anchored."""


@dataclass
class AnchorResult:
    """What one anchoring round did."""

    batches: int = 0
    records: int = 0
    recovered: int = 0
    pending: int = 0
    roots: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the round met no chain error."""
        return self.error is None


# ------------------------------------------------------------------ chain + registry


def open_chain(
    settings: Settings,
    session_factory: Factory,
    *,
    target: str | BaseProvider | Web3 | None = None,
    account: LocalAccount | None = None,
    contract: str | None = None,
    deploy: bool = True,
    **client_kwargs: Any,
) -> ChainClient:
    """Connect to the ledger (``target`` or ``settings.ledger_rpc_url``) and attach the registry.

    The anchorer key comes from ``<data_dir>/keys/anchorer.key`` (or ``OPSURE_ANCHORER_KEY``)
    unless ``account`` is given; the registry address from ``contract`` (or
    ``OPSURE_LEDGER_CONTRACT``), else the deployment recorded for this network (chain id +
    genesis hash), else a new deployment (when ``deploy``).
    """
    contract = contract or os.environ.get("OPSURE_LEDGER_CONTRACT") or None
    where = target if target is not None else settings.ledger_rpc_url
    if where is None:
        raise ChainError("no ledger RPC configured: set OPSURE_LEDGER_RPC_URL or pass a provider")
    acct = account or load_or_create_account(settings.keys_dir)
    client = ChainClient.connect(where, account=acct, **client_kwargs)
    ensure_registry(session_factory, client, contract=contract, deploy=deploy)
    return client


def ensure_registry(
    session_factory: Factory, client: ChainClient, *, contract: str | None = None, deploy: bool = True
) -> str:
    """Attach ``client`` to this network's AnchorRegistry, deploying it once if needed."""
    if contract:
        client.attach(contract)
        return client.contract_address
    chain_id, genesis = client.chain_id(), client.genesis_hash()
    with session_factory() as s:
        known = s.execute(
            select(LedgerDeployment.contract).where(
                LedgerDeployment.chain_id == chain_id, LedgerDeployment.genesis_hash == genesis
            )
        ).scalar_one_or_none()
    if known is not None:
        client.attach(known)
        return client.contract_address
    if not deploy:
        raise ContractMissingError(f"no AnchorRegistry recorded for chain {chain_id}")
    d = client.deploy()
    try:
        with transaction(session_factory) as s:
            s.add(
                LedgerDeployment(
                    chain_id=chain_id, genesis_hash=genesis, contract=d.address,
                    deployer=client.sender, tx_hash=d.tx_hash, block_number=d.block_number,
                )
            )
    except IntegrityError:  # another process recorded its deployment first: use that one
        return ensure_registry(session_factory, client, deploy=False)
    return d.address


# ---------------------------------------------------------------------------- batches


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def build_tree(commitments: list[str], kind: int) -> StandardMerkleTree:
    """``StandardMerkleTree.of([[c, kind] for c in commitments], LEAF_ENCODING)``, faster.

    For the fixed encoding ``["bytes32", "uint8"]`` the leaf is
    ``keccak256(keccak256(commitment || uint256(kind)))``; leaves are sorted, laid out
    and paired exactly as OpenZeppelin does (tests compare with ``StandardMerkleTree.of``).
    """
    if not commitments:
        raise ValueError("Expected non-zero number of leaves")
    if not 0 <= kind <= 255:
        raise ValueError("kind must be a uint8")
    if any(len(c) != 66 for c in commitments):
        raise ValueError("commitments must be 0x-prefixed 32-byte hex")
    k = keccak256
    tail = kind.to_bytes(32, "big")
    fromhex = bytes.fromhex
    hashes = [k(k(fromhex(c[2:]) + tail)) for c in commitments]
    order = sorted(range(len(hashes)), key=hashes.__getitem__)
    n = len(hashes)
    nodes: list[bytes] = [b""] * (n - 1)
    nodes.extend(hashes[i] for i in reversed(order))
    for i in range(n - 2, -1, -1):
        a, b = nodes[2 * i + 1], nodes[2 * i + 2]
        nodes[i] = k(a + b if a < b else b + a)
    last = 2 * n - 2
    tree_index = [0] * n
    for pos, i in enumerate(order):
        tree_index[i] = last - pos
    values = [[c.lower(), kind] for c in commitments]
    return StandardMerkleTree(nodes, values, tree_index, LEAF_ENCODING)


def _due_kind(s: Session, max_batch: int, max_age: float, now: dt.datetime) -> int | None:
    r = LedgerRecord
    rows = s.execute(
        select(r.kind, func.count(), func.min(r.created_at)).where(r.batch_id.is_(None)).group_by(r.kind)
    ).all()
    cutoff = now - dt.timedelta(seconds=max_age)
    due = [(oldest, kind) for kind, n, oldest in rows if n >= max_batch or oldest <= cutoff]
    return min(due)[1] if due else None


def _prepare(
    session_factory: Factory, client: ChainClient, *, max_batch: int, max_age: float
) -> int | None:
    """Cut the next due batch (one write transaction); its id, or None if nothing is due.

    The tree and proofs are computed from a read snapshot before the write transaction
    starts (short writer lock); the claim then checks every chosen record is still
    unbatched, else the whole transaction rolls back.
    """
    with gc_paused():
        return _prepare_batch(session_factory, client, max_batch=max_batch, max_age=max_age)


def _prepare_batch(
    session_factory: Factory, client: ChainClient, *, max_batch: int, max_age: float
) -> int | None:
    r = LedgerRecord
    with session_factory() as s:
        kind = _due_kind(s, max_batch, max_age, utcnow())
        if kind is None:
            return None
        rows = s.execute(
            select(r.id, r.commitment)
            .where(r.batch_id.is_(None), r.kind == kind)
            .order_by(r.id)
            .limit(max_batch)
        ).all()
    if not rows:
        return None
    tree = build_tree([c for _, c in rows], kind)
    dump = tree.dumps()
    ti, proof = tree.tree_index, tree.get_proof_bytes
    proofs = [
        {"record_id": rid, "batch_id": 0, "leaf_index": ti(i), "proof": pack_proof(proof(i))}
        for i, (rid, _) in enumerate(rows)
    ]
    with transaction(session_factory) as s:
        batch = AnchorBatch(
            root=tree.root,
            kind=kind,
            count=len(rows),
            status=BatchStatus.PREPARED,
            chain_id=client.chain_id(),
            contract=client.contract_address,
        )
        s.add(batch)
        try:
            s.flush()
        except IntegrityError:  # the same root is being prepared by another worker
            raise ConflictError("another worker prepared this batch; retrying") from None
        bid = batch.id
        for p in proofs:
            p["batch_id"] = bid
        s.execute(insert(_table(AnchorTree)), {"batch_id": bid, "dump": dump})
        s.execute(insert(_table(RecordProof)), proofs)
        claimed = s.execute(
            update(r)
            .where(
                r.id.in_(select(RecordProof.record_id).where(RecordProof.batch_id == bid)),
                r.batch_id.is_(None),
            )
            .values(batch_id=bid, version=r.version + 1)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != len(rows):  # type: ignore[attr-defined]
            raise ConflictError("another worker claimed some of these records; retrying")
    log.info("prepared batch %d: %d records of kind %d, root %s", bid, len(rows), kind, tree.root)
    return bid


def _mark_sent(session_factory: Factory, batch_id: int, tx_hash: str, client: ChainClient) -> None:
    with transaction(session_factory) as s:
        b = s.get(AnchorBatch, batch_id)
        assert b is not None
        b.status = BatchStatus.SENT
        b.tx_hash = tx_hash
        b.attempts += 1
        b.sent_at = utcnow()
        b.chain_id = client.chain_id()
        b.contract = client.contract_address
        _flush(s, batch_id)


def _note_error(session_factory: Factory, batch_id: int, message: str) -> None:
    try:
        with transaction(session_factory) as s:
            b = s.get(AnchorBatch, batch_id)
            if b is not None and b.status is not BatchStatus.CONFIRMED:
                b.last_error = message[:2000]
                _flush(s, batch_id)
    except Exception:  # bookkeeping only; the batch is retried regardless
        log.exception("could not record the error of batch %d", batch_id)


def _flush(s: Session, batch_id: int) -> None:
    try:
        s.flush()
    except StaleDataError:
        raise StaleVersionError(f"anchor batch {batch_id} changed meanwhile") from None


def _finish(session_factory: Factory, batch_id: int, event: AnchorEvent, client: ChainClient) -> int:
    """Confirm the batch and anchor its records (one transaction); records newly anchored."""
    with transaction(session_factory) as s:
        b = s.get(AnchorBatch, batch_id)
        assert b is not None
        if b.status is BatchStatus.CONFIRMED:
            return 0
        if event.count != b.count or event.kind != b.kind:
            log.warning(
                "root %s anchored with count %d kind %d; batch %d says %d / %d",
                b.root, event.count, event.kind, batch_id, b.count, b.kind,
            )
        b.status = BatchStatus.CONFIRMED
        b.tx_hash = event.tx_hash
        b.block_number = event.block_number
        b.chain_id = client.chain_id()
        b.contract = event.contract
        b.confirmed_at = utcnow()
        b.last_error = None
        _flush(s, batch_id)
        r = LedgerRecord
        s.execute(
            update(r)
            .where(r.batch_id == batch_id, r.status == RecordStatus.PENDING)
            .values(status=RecordStatus.ANCHORED, version=r.version + 1)
            .execution_options(synchronize_session=False)
        )
        ledger_events.batch_anchored(s, b)
        log.info("batch %d confirmed: root %s in block %d tx %s", batch_id, b.root, event.block_number, event.tx_hash)
        return b.count


def _event_on_chain(client: ChainClient, root: str) -> AnchorEvent | None:
    block = client.anchored_at(root)
    if not block:
        return None
    event = client.find_anchor(root, from_block=block, to_block=block)
    if event is None:
        raise ChainProtocolError(f"root {root} is anchored in block {block} but its Anchored event is missing")
    return event


def _process(session_factory: Factory, client: ChainClient, batch_id: int) -> int:
    """Drive one prepared/sent batch to confirmed; returns the number of records anchored."""
    with session_factory() as s:
        b = s.get(AnchorBatch, batch_id)
        assert b is not None
        status, root, count, kind, sent_hash = b.status, b.root, b.count, b.kind, b.tx_hash
        sent_to = (b.chain_id, b.contract)
    if status is BatchStatus.CONFIRMED:
        return 0
    here = (client.chain_id(), client.contract_address)
    if status is BatchStatus.SENT and sent_to != here:
        # it may be anchored over there: sending it here too would anchor it twice
        raise ChainError(
            f"batch {batch_id} was sent to chain {sent_to[0]} registry {sent_to[1]}, but the ledger "
            f"is now chain {here[0]} registry {here[1]}; reconnect to the old network to finish it"
        )
    event = _event_on_chain(client, root)
    if event is not None:  # anchored already (by an earlier run that crashed)
        return _finish(session_factory, batch_id, event, client)
    if status is BatchStatus.SENT and sent_hash:
        receipt = client.receipt(sent_hash)
        if receipt is None and client.transaction_known(sent_hash):
            receipt = client.wait_for_receipt(sent_hash)
        if receipt is not None:
            event = _event_on_chain(client, root)
            if event is not None:
                return _finish(session_factory, batch_id, event, client)
        # never broadcast, dropped, or reverted: send again (the contract refuses duplicates)
    try:
        signed = client.sign_anchor(root, count, kind)
    except ChainRevertedError as exc:
        if exc.error_name == "RootAlreadyAnchored":  # anchored between our check and now
            event = _event_on_chain(client, root)
            if event is not None:
                return _finish(session_factory, batch_id, event, client)
        raise
    _mark_sent(session_factory, batch_id, signed.hash, client)
    client.send_raw(signed)
    receipt = client.wait_for_receipt(signed.hash)
    if receipt.status != 1:
        event = _event_on_chain(client, root)
        if event is not None:
            return _finish(session_factory, batch_id, event, client)
        raise AnchorTxFailedError(f"anchor transaction {signed.hash} of batch {batch_id} reverted")
    events = [e for e in client.anchor_events(receipt) if e.root == root]
    if not events:
        raise ChainProtocolError(f"receipt of {signed.hash} carries no Anchored event for {root}")
    return _finish(session_factory, batch_id, events[0], client)


def _unfinished(session_factory: Factory) -> list[int]:
    with session_factory() as s:
        return list(
            s.execute(
                select(AnchorBatch.id)
                .where(AnchorBatch.status.in_([BatchStatus.PREPARED, BatchStatus.SENT]))
                .order_by(AnchorBatch.id)
            ).scalars()
        )


def _pending_count(session_factory: Factory) -> int:
    with session_factory() as s:
        return int(
            s.scalar(select(func.count()).select_from(LedgerRecord).where(LedgerRecord.status == RecordStatus.PENDING))
            or 0
        )


def anchor_pending(
    session_factory: Factory,
    chain: ChainClient,
    *,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_age: float = DEFAULT_MAX_AGE,
    max_batches: int | None = None,
    count_pending: bool = True,
) -> AnchorResult:
    """One anchoring round: recover unfinished batches, then cut, send and confirm due ones.

    Chain errors end the round early with ``result.error`` set; nothing is lost (the
    records stay pending, a prepared batch is finished by a later round).
    """
    if max_batch < 1:
        raise ValueError("max_batch must be at least 1")
    result = AnchorResult()
    current: int | None = None
    try:
        chain.ping()
        for batch_id in _unfinished(session_factory):
            current = batch_id
            done = _process(session_factory, chain, batch_id)
            if done:
                result.recovered += 1
                result.batches += 1
                result.records += done
        current = None
        conflicts = 0
        while max_batches is None or result.batches < max_batches:
            try:
                new_id = _prepare(session_factory, chain, max_batch=max_batch, max_age=max_age)
            except ConflictError as exc:
                log.warning("%s", exc.message)
                conflicts += 1
                if conflicts > 3:
                    break
                continue
            if new_id is None:
                break
            current = new_id
            done = _process(session_factory, chain, new_id)
            current = None
            result.batches += 1
            result.records += done
            with session_factory() as s:
                root = s.execute(select(AnchorBatch.root).where(AnchorBatch.id == new_id)).scalar_one()
            result.roots.append(root)
    except ChainError as exc:
        result.error = exc.message
        log.warning("anchoring stopped: %s", exc.message)
        if current is not None:
            _note_error(session_factory, current, exc.message)
    if count_pending:
        result.pending = _pending_count(session_factory)
    return result


def anchoring_round(
    session_factory: Factory,
    chain: ChainClient,
    *,
    audit: bool = True,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_age: float = DEFAULT_MAX_AGE,
) -> AnchorResult:
    """Commit new audit-log entries (if ``audit``), then :func:`anchor_pending`."""
    if audit:
        try:
            with transaction(session_factory) as s:
                anchor_audit_log(s)
        except StaleVersionError:
            log.info("audit-log commitments raced another worker; next round catches up")
    return anchor_pending(session_factory, chain, max_batch=max_batch, max_age=max_age)


# ---------------------------------------------------------------------------- leading


class _Leader:
    """Holds the anchoring leadership until released."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self._conn: Connection | None = None
        self._fh: Any = None

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar())
                conn.commit()  # the session-level lock outlives the transaction
            except Exception:
                conn.close()
                raise
            if not got:
                conn.close()
                return False
            self._conn = conn
            return True
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX: rely on SQLite's writer lock
            return True
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.data_dir / "anchoring.lock", "a+")  # noqa: SIM115 - held while leading
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def alive(self) -> bool:
        """Whether the lock is still held (the PostgreSQL connection still answers)."""
        if self._conn is None:
            return True
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None


@contextlib.contextmanager
def leadership(engine: Engine, data_dir: Path) -> Iterator[_Leader | None]:
    """Try to become the anchoring leader; yields the held lock, or None if another leads."""
    leader = _Leader(engine, data_dir)
    if not leader.acquire():
        yield None
        return
    try:
        yield leader
    finally:
        leader.release()


def run_anchoring_loop(
    runtime: RuntimeLike,
    stop_event: threading.Event,
    *,
    chain: ChainClient | Callable[[], ChainClient] | None = None,
    interval: float = 1.0,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_age: float = DEFAULT_MAX_AGE,
    audit: bool = True,
    max_backoff: float = 60.0,
    on_round: Callable[[AnchorResult], None] | None = None,
) -> None:
    """Anchor forever (until ``stop_event``) while this process leads; back off on errors.

    ``chain`` is a client, a factory of one (retried until the node answers), or None for
    :func:`open_chain` on ``runtime.settings.ledger_rpc_url``.
    """
    client: ChainClient | None = chain if isinstance(chain, ChainClient) else None

    def make() -> ChainClient:
        if callable(chain):
            return chain()
        return open_chain(runtime.settings, runtime.session_factory)

    failures = 0
    while not stop_event.is_set():
        with leadership(runtime.engine, runtime.settings.data_dir) as leader:
            if leader is None:
                stop_event.wait(max(interval, 5.0))
                continue
            log.info("anchoring leader: started")
            while not stop_event.is_set() and leader.alive():
                try:
                    if client is None:
                        client = make()
                    result = anchoring_round(
                        runtime.session_factory, client, audit=audit, max_batch=max_batch, max_age=max_age
                    )
                    if on_round is not None:
                        on_round(result)
                    failures = failures + 1 if result.error else 0
                except ChainError as exc:
                    log.warning("ledger unavailable: %s", exc.message)
                    failures += 1
                except Exception:  # keep leading; the next round retries
                    log.exception("anchoring round failed")
                    failures += 1
                delay = interval if failures == 0 else min(max_backoff, interval * 2 ** min(failures, 16))
                stop_event.wait(delay)
            log.info("anchoring leader: stopped")
