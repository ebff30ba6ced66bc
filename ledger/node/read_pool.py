"""Heavy JSON-RPC reads in their own processes, so they cannot starve the API.

EVM calls and bulk reads (:data:`ISOLATED_METHODS`) are CPU-bound Python: in the API
process they would hold the GIL against GraphQL however few threads ran them. Here
they run in ``limits.read_processes`` spawned processes, each with the chain store
opened read-only (SQLite WAL: they see every committed block, never a half-written one)
and a lower scheduling priority (nice 10), so on a busy machine the API runs first.
Admission is bounded: at most ``limits.read_queue`` requests queued or running, at most
``limits.max_inflight_per_client`` of them from one client; beyond that a request is
refused at once (:class:`ReadPoolBusy`) instead of queueing forever. In the process, a
request gets ``limits.call_timeout`` seconds of work (a batch shares them), enforced
inside the EVM loop (:mod:`ledger.node.evm_deadline`).

Example::

    pool = ReadPool(node.data_dir, node.chain_id, limits)
    pool.admit("203.0.113.7")                      # raises ReadPoolBusy when full
    answers = await pool.run("203.0.113.7", [{"jsonrpc": "2.0", "id": 1, "method": "eth_call", ...}])
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ledger.node.chain import chain_class
from ledger.node.reader import LedgerReader, StoreView
from ledger.node.rpc_codec import INTERNAL_ERROR, LIMIT_EXCEEDED, RpcError
from ledger.node.rpc_dispatch import RpcDispatcher, encode, error_answer
from ledger.node.rpc_limits import RpcLimits
from ledger.node.rpc_methods import ReadMethods, request_deadline
from ledger.node.store import SqliteStore

__all__ = ["ISOLATED_METHODS", "ReadPool", "ReadPoolBusy", "answer_within", "request_id"]

log = logging.getLogger("opsure.ledger.rpc")

#: Methods answered in the read processes: the EVM and every read whose size a caller picks.
ISOLATED_METHODS = frozenset(
    {
        "eth_call",
        "eth_estimateGas",
        "eth_getLogs",
        "eth_feeHistory",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
    }
)


class ReadPoolBusy(Exception):
    """The read processes have no room for this request now (JSON-RPC -32005)."""


def request_id(message: Any) -> Any:
    """The id of a request object (None if it has none or is not an object)."""
    return message.get("id") if isinstance(message, dict) else None


def answer_within(
    dispatcher: RpcDispatcher, messages: Sequence[Any], budget: float | None, max_bytes: int
) -> list[bytes | None]:
    """Encoded answers (None for notifications) with a shared time budget and size cap."""
    deadline = None if budget is None else time.monotonic() + budget
    out: list[bytes | None] = []
    size = 0
    with request_deadline(deadline):
        for message in messages:
            if deadline is not None and time.monotonic() > deadline:
                refused = RpcError(LIMIT_EXCEEDED, f"request time budget of {budget:g} s exhausted")
                answer: dict[str, Any] | None = error_answer(request_id(message), refused)
            else:
                answer = dispatcher.handle_one(message)
            if answer is None or (isinstance(message, dict) and "id" not in message):
                out.append(None)
                continue
            data = encode(answer)
            if size + len(data) > max_bytes:
                refused = RpcError(LIMIT_EXCEEDED, f"response too large (max {max_bytes} bytes)")
                data = encode(error_answer(request_id(message), refused))
            size += len(data)
            out.append(data)
    return out


# -- the read process ----------------------------------------------------------------------

_CHILD: tuple[RpcDispatcher, RpcLimits] | None = None


#: Scheduling niceness of the read processes: on a busy machine the API's processes go first.
READ_NICENESS = 10


def _child_init(data_dir: str, chain_id: int, limits: RpcLimits) -> None:
    global _CHILD
    with contextlib.suppress(OSError, AttributeError):
        os.nice(READ_NICENESS)
    store = SqliteStore.open_readonly(Path(data_dir))
    reader = LedgerReader(store, chain_class(chain_id))
    methods = ReadMethods(StoreView(store, reader, chain_id), limits)
    _CHILD = (RpcDispatcher(methods=methods), limits)


def _child_answer(messages: list[Any]) -> list[bytes | None]:
    assert _CHILD is not None, "read process not initialised"
    dispatcher, limits = _CHILD
    return answer_within(dispatcher, messages, limits.call_timeout, limits.max_response_bytes)


def _child_ping() -> bool:
    return _CHILD is not None


# -- the owner's side ----------------------------------------------------------------------


class ReadPool:
    """A small process pool answering ISOLATED_METHODS, with bounded admission."""

    def __init__(self, data_dir: Path, chain_id: int, limits: RpcLimits) -> None:
        self.data_dir = Path(data_dir)
        self.chain_id = chain_id
        self.limits = limits
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._running = 0
        self._per_client: dict[str, int] = {}
        self._closed = False

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("read pool is closed")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=max(1, self.limits.read_processes),
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_child_init,
                    initargs=(str(self.data_dir), self.chain_id, self.limits),
                )
            return self._executor

    def start(self) -> None:
        """Spawn the read processes now (they take a second to import py-evm)."""
        pool = self._pool()
        for _ in range(max(1, self.limits.read_processes)):
            pool.submit(_child_ping)

    def admit(self, client: str) -> None:
        """Take a slot for one request of `client`; ReadPoolBusy when none is free."""
        with self._lock:
            if self._running >= self.limits.read_queue:
                raise ReadPoolBusy("server busy: too many heavy reads in progress; retry shortly")
            mine = self._per_client.get(client, 0)
            if mine >= self.limits.max_inflight_per_client:
                raise ReadPoolBusy(
                    f"too many heavy reads in progress from this client (max "
                    f"{self.limits.max_inflight_per_client}); wait for their answers"
                )
            self._running += 1
            self._per_client[client] = mine + 1

    def release(self, client: str) -> None:
        """Give back a slot taken by admit() (run() does it when its work ends)."""
        with self._lock:
            self._running -= 1
            left = self._per_client.get(client, 1) - 1
            if left > 0:
                self._per_client[client] = left
            else:
                self._per_client.pop(client, None)

    async def run(self, client: str, messages: list[Any]) -> list[bytes | None]:
        """Answer `messages` in a read process (the caller was admitted for `client`)."""
        try:
            future: Future[list[bytes | None]] = self._pool().submit(_child_answer, messages)
        except BaseException:
            self.release(client)
            raise
        # the slot is freed when the work ends, even if this request is cancelled first
        future.add_done_callback(lambda _f: self.release(client))
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            log.exception("a read process died; starting new ones")
            self._reset()
            failed = RpcError(INTERNAL_ERROR, "read process failed; retry")
            return [encode(error_answer(request_id(m), failed)) for m in messages]

    def pids(self) -> set[int]:
        """Process ids of the live read processes (empty before the first heavy read)."""
        with self._lock:
            executor = self._executor
        processes = getattr(executor, "_processes", None) or {}  # CPython's executor keeps them here
        return {int(p.pid) for p in processes.values() if p.pid is not None}

    def _reset(self) -> None:
        with self._lock:
            broken, self._executor = self._executor, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the read processes (waits for running reads: they end at their deadline)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
