"""Hosting the ledger in this process: the embedded node, its /rpc app, the anchoring thread.

``OPSURE_LEDGER=embedded`` (default) opens the py-evm node in ``<data_dir>/chain`` and
serves it at ``/rpc``; ``external`` (implied by ``OPSURE_LEDGER_RPC_URL``) anchors to that
network; ``off`` runs without a ledger (records stay pending in the outbox).

One process holds the node (a file lock on the chain store). It also serves ``/rpc`` on
the chain directory's Unix socket, and every other process (the other ``opsure serve``
workers, or all of them when ``opsure ledger node`` holds the store) forwards its
``/rpc`` requests there (:mod:`ledger.node.rpc_socket`), so every worker answers.

Example::

    host = LedgerHost(runtime)
    host.start()                      # open the node (embedded mode)
    host.start_anchoring()            # the in-process anchoring worker thread
    client = host.chain()             # a ChainClient attached to the AnchorRegistry
    host.close()
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from web3 import Web3

from core.egress import EgressPolicy, egress_client
from ledger.anchoring import AnchorResult, anchoring_round, open_chain, run_anchoring_loop
from ledger.chain_client import ChainClient, ChainError, DispatchProvider, load_or_create_account
from ledger.node import EmbeddedNode, LedgerStoreLocked
from ledger.node.rpc import RpcDispatcher, RpcService, make_rpc_app
from ledger.node.rpc_limits import RpcLimits
from ledger.node.rpc_socket import OwnerSocket, RpcForwarder
from opsure.runtime import Runtime
from partners.jobs import run_partner_jobs

__all__ = ["LedgerHost"]

log = logging.getLogger("opsure.ledger")
PREFUND_WEI = 10**24


class LedgerHost:
    """Owns this process's ledger connection (and the embedded node when it runs here)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.node: EmbeddedNode | None = None
        self._rpc_app: Any = None
        self._rpc_service: RpcService | None = None
        self._owner_socket: OwnerSocket | None = None
        self._client: ChainClient | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None

    @property
    def mode(self) -> str:
        """embedded, external or off."""
        return self.settings.ledger_mode

    def start(self) -> None:
        """Open the embedded node (embedded mode); when another process holds it, forward /rpc."""
        if self.node is not None or self._rpc_app is not None:
            return
        chain_dir = self.settings.data_dir / "chain"
        limits = RpcLimits.from_settings(self.settings)
        if self.mode == "off":
            return
        if self.mode == "external":  # an `opsure ledger node` on this data dir may serve /rpc
            self._rpc_app = RpcForwarder(chain_dir, limits)
            return
        account = load_or_create_account(self.settings.keys_dir)
        try:
            self.node = EmbeddedNode(
                chain_dir,
                chain_id=self.settings.ledger_chain_id,
                prefund={account.address: PREFUND_WEI},
                allowlist=[account.address],
                max_clock_drift=0.0,  # block timestamps never ahead of the clock
            )
        except LedgerStoreLocked:
            log.info("embedded ledger is held by another process; /rpc is forwarded to it")
            self._rpc_app = RpcForwarder(chain_dir, limits)
            return
        self._rpc_service = RpcService(self.node, limits, redis_url=self.settings.redis_url)
        self._rpc_app = make_rpc_app(service=self._rpc_service)
        self._owner_socket = OwnerSocket(chain_dir, make_rpc_app(service=self._rpc_service, trust_client_header=True))
        self._owner_socket.start()
        self.chain()  # deploy (once per chain) now, so signing domains exist from the start

    def chain(self) -> ChainClient:
        """A client attached to the AnchorRegistry (deployed once per network)."""
        with self._lock:
            if self._client is None:
                if self.mode == "embedded":
                    if self.node is None:
                        raise ChainError("the embedded ledger is not open in this process")
                    w3 = Web3(DispatchProvider(RpcDispatcher(self.node).handle_one))
                    self._client = open_chain(self.settings, self.runtime.session_factory, target=w3)
                elif self.mode == "external":
                    self._client = open_chain(self.settings, self.runtime.session_factory)
                else:
                    raise ChainError("the ledger is off (OPSURE_LEDGER=off)")
            return self._client

    def anchor_now(self, *, max_batch: int = 10_000) -> AnchorResult:
        """One anchoring round right now (max_age 0: every pending record is due)."""
        return anchoring_round(
            self.runtime.session_factory, self.chain(), audit=True, max_batch=max_batch, max_age=0.0
        )

    def start_anchoring(self, *, interval: float = 1.0) -> None:
        """Run the anchoring worker in a daemon thread (one leader across processes)."""
        if self.mode == "off" or self._thread is not None:
            return
        if self.mode == "embedded" and self.node is None:
            return  # another process holds the embedded node: it anchors, not us
        self._thread = threading.Thread(
            target=run_anchoring_loop,
            args=(self.runtime, self._stop),
            kwargs={"chain": self.chain, "interval": interval, "on_round": self._after_round},
            name="opsure-anchoring",
            daemon=True,
        )
        self._thread.start()

    def _after_round(self, _result: AnchorResult) -> None:
        # Partner jobs send from the anchorer account too: running them in this thread
        # keeps one sender per process, so nonces never collide.
        if self._http is None:  # one pooled client for every round's webhook deliveries
            self._http = egress_client(EgressPolicy.from_settings(self.runtime.settings))
        try:
            run_partner_jobs(self.runtime.session_factory, chain=self.chain(), http=self._http)
        except Exception:
            log.exception("partner jobs failed; retried next round")

    async def rpc(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry for ``/rpc``: the node's JSON-RPC, here or forwarded to its owner; 503 when off."""
        if self._rpc_app is None:
            reply = JSONResponse(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32000, "message": "no embedded ledger node in this process (OPSURE_LEDGER=off)"},
                },
                status_code=503,
            )
            await reply(scope, receive, send)
            return
        await self._rpc_app(scope, receive, send)

    def close(self) -> None:
        """Stop the anchoring thread and close the node (mining what is pooled)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._owner_socket is not None:
            self._owner_socket.close()
            self._owner_socket = None
        if self._rpc_service is not None:
            self._rpc_service.close()
            self._rpc_service = None
        if self.node is not None:
            self.node.close()
            self.node = None
        self._rpc_app = None
        self._client = None
