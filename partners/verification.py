"""The CPU-bound half of accepting signed records: parse, hash, check, recover — no database.

:func:`check_signatures` is pure (picklable in and out), so big batches can run it on
other cores: :func:`check_all` splits a batch into chunks for an executor, such as the
process pool of :func:`verification_pool`. (A thread pool does not help: coincurve drops
the GIL inside libsecp256k1, but each recovery must take it back, and the hashing thread
holds it, so workers convoy behind the switch interval.)

Example::

    results = check_all(submissions, domain, now_ts, executor=verification_pool())
    for r in results:
        if isinstance(r, Refusal): ...          # MALFORMED, WRONG_CHAIN, HIGH_S, DEADLINE_PASSED, …
        else: r.signer                          # the recovered address (None: none recovers)
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from core.errors import DomainError
from partners import eip712
from partners.errors import RecordRejected, RejectCode

__all__ = [
    "MAX_AMOUNT_FEN",
    "Checked",
    "Refusal",
    "Submission",
    "check_all",
    "check_signatures",
    "collect",
    "submit_checks",
    "verification_pool",
]

#: Largest hospital bill amount (fen) a ledger record carries (18 integer digits of yuan).
MAX_AMOUNT_FEN = 10**19


@dataclass(frozen=True)
class Submission:
    """One signed record as submitted: the typed-data JSON and the 65-byte hex signature."""

    typed_data: Any
    signature: Any


@dataclass(frozen=True)
class Checked:
    """A submission whose shape, domain, signature form and deadline passed."""

    record: eip712.TypedRecord
    digest: bytes
    sig65: bytes
    #: The recovered lowercase address; None when no key recovers from the signature.
    signer: str | None


@dataclass(frozen=True)
class Refusal:
    """Why a submission failed the pure checks."""

    code: RejectCode
    message: str
    field: str | None

    def error(self) -> RecordRejected:
        """The refusal as the domain error services raise."""
        return RecordRejected(self.code, self.message, field=self.field)


def _check(sub: Submission, domain: eip712.Domain, now_ts: int) -> Checked | Refusal:
    try:
        record = eip712.parse_typed_data(sub.typed_data, expected=domain)
        sig65 = eip712.parse_signature(sub.signature)
        if record.primary_type == "HospitalBill" and int(record.message["amountFen"]) >= MAX_AMOUNT_FEN:
            raise RecordRejected(RejectCode.MALFORMED, "amount is too large", field="typedData.message.amountFen")
        if record.deadline < now_ts:
            raise RecordRejected(RejectCode.DEADLINE_PASSED, "the record's deadline has passed",
                                 field="typedData.message.deadline")
        digest = eip712.digest(record, domain)
    except DomainError as exc:
        return Refusal(RejectCode(exc.code), exc.message, exc.field)
    try:
        signer: str | None = eip712.recover(digest, sig65)
    except RecordRejected:
        signer = None
    return Checked(record, digest, sig65, signer)


def check_signatures(submissions: Sequence[Submission], domain: eip712.Domain, now_ts: int) -> list[Checked | Refusal]:
    """Parse, hash and recover each submission (deadline against ``now_ts``, unix seconds)."""
    return [_check(sub, domain, now_ts) for sub in submissions]


def check_all(
    submissions: Sequence[Submission],
    domain: eip712.Domain,
    now_ts: int,
    *,
    executor: Executor | None = None,
    chunk: int = 256,
) -> list[Checked | Refusal]:
    """:func:`check_signatures` over a batch, in chunks on ``executor`` when given, in order."""
    return collect(submit_checks(submissions, domain, now_ts, executor=executor, chunk=chunk))


def submit_checks(
    submissions: Sequence[Submission],
    domain: eip712.Domain,
    now_ts: int,
    *,
    executor: Executor | None = None,
    chunk: int = 256,
) -> list[Future[list[Checked | Refusal]]] | list[Checked | Refusal]:
    """Start checking a batch on ``executor`` (futures, one per chunk), or check it now."""
    if executor is None:
        return check_signatures(submissions, domain, now_ts)
    return [executor.submit(check_signatures, list(submissions[i : i + chunk]), domain, now_ts)
            for i in range(0, len(submissions), chunk)]


def collect(started: list[Future[list[Checked | Refusal]]] | list[Checked | Refusal]) -> list[Checked | Refusal]:
    """The results of :func:`submit_checks`, in order (waiting for futures)."""
    out: list[Checked | Refusal] = []
    for part in started:
        if isinstance(part, Future):
            out.extend(part.result())
        else:
            out.append(part)
    return out


_pool: list[ProcessPoolExecutor] = []
_pool_lock = threading.Lock()


def verification_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """The process-wide pool of verification workers (spawned once, ``os.cpu_count()`` of them).

    Spawned, not forked, so a threaded parent (uvicorn, the worker) is safe.
    """
    with _pool_lock:
        if not _pool:
            context = multiprocessing.get_context("spawn")
            _pool.append(ProcessPoolExecutor(max_workers=workers or max(1, os.cpu_count() or 1),
                                             mp_context=context))
        return _pool[0]
