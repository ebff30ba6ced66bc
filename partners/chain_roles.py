"""On-chain PARTNER_ROLE mirrors the registry: approved partners' live signer keys hold it.

Services never talk to the chain. They call :func:`request_sync` in their own transaction
(approval, suspension, expiry, key registration, rotation, revocation), which marks the
addresses due in ``chain_role_sync``. The worker's :func:`sync_chain_roles` then, per due
address, computes the wanted state from the registry *at that moment*, reads
``hasRole(PARTNER_ROLE, address)`` and sends ``grantPartner`` / ``revokePartner`` only if
they differ. Re-running it is harmless (idempotent), a crash loses nothing (the row stays
due until confirmed), and a request made while a sync was in flight keeps the row due.

This module is also the seam for role transactions: ``ledger.chain_client.ChainClient``
signs only ``anchor``; here the registry's ``grantPartner``/``revokePartner`` are built with
web3, signed by the client's (admin) account and sent through ``ChainClient.send_raw``.

Example::

    with transaction(factory) as s:
        review.approve(s, principal=checker, partner_id=7, now=now)   # requests the sync
    sync_chain_roles(factory, chain)                                     # grants on chain
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from core.db import transaction, utcnow
from ledger.chain_client import ChainClient, ChainError, SignedTx
from ledger.contract import PARTNER_ROLE, abi
from partners.models import ChainRoleSync, Partner, PartnerStatus, SignerKey

__all__ = ["RoleSyncResult", "desired_grant", "has_partner_role", "request_sync", "sync_chain_roles"]

log = logging.getLogger("opsure.partners.chain_roles")


def request_sync(session: Session, *, partner_id: int, addresses: Iterable[str], now: dt.datetime) -> None:
    """Mark ``addresses`` due for an on-chain role check (in the caller's transaction)."""
    for address in {a.lower() for a in addresses}:
        row = session.get(ChainRoleSync, address)
        if row is None:
            try:
                with session.begin_nested():
                    session.add(ChainRoleSync(address=address, partner_id=partner_id, requested_at=now,
                                              synced_at=None, attempts=0))
                    session.flush()
                continue
            except IntegrityError:  # a concurrent request inserted it first
                row = session.get(ChainRoleSync, address)
                if row is None:  # pragma: no cover - deleted in between; nothing deletes these
                    raise
        row.partner_id = partner_id
        row.requested_at = now
        row.synced_at = None
    session.flush()


def desired_grant(session: Session, *, address: str, now: dt.datetime) -> bool:
    """Whether ``address`` should hold PARTNER_ROLE now (approved partner, live key)."""
    row = session.execute(
        select(SignerKey, Partner.status)
        .join(Partner, Partner.id == SignerKey.partner_id)
        .where(SignerKey.address == address.lower())
    ).first()
    if row is None:
        return False
    key, status = row
    if status is not PartnerStatus.APPROVED or key.revoked_at is not None:
        return False
    return key.valid_until is None or key.valid_until > now


def _registry(client: ChainClient) -> Any:
    return client.w3.eth.contract(address=Web3.to_checksum_address(client.contract_address), abi=abi())


def has_partner_role(client: ChainClient, address: str) -> bool:
    """``hasRole(PARTNER_ROLE, address)`` on the attached AnchorRegistry."""
    try:
        return bool(_registry(client).functions.hasRole(PARTNER_ROLE, Web3.to_checksum_address(address)).call())
    except ChainError:
        raise
    except Exception as exc:
        raise ChainError(f"hasRole({address}) failed: {exc}") from exc


def _send_role_tx(client: ChainClient, function: str, address: str) -> str:
    if client.account is None:
        raise ChainError("no admin account configured to change roles")
    sender = client.sender
    try:
        fn = getattr(_registry(client).functions, function)(Web3.to_checksum_address(address))
        tx = fn.build_transaction({
            "from": sender,
            "chainId": client.chain_id(),
            "nonce": client.w3.eth.get_transaction_count(Web3.to_checksum_address(sender), "pending"),
        })
        signed = client.account.sign_transaction(tx)
    except ChainError:
        raise
    except Exception as exc:
        raise ChainError(f"{function}({address}) could not be prepared: {exc}") from exc
    st = SignedTx(raw=bytes(signed.raw_transaction), hash="0x" + bytes(signed.hash).hex(), nonce=int(tx["nonce"]))
    client.send_raw(st)
    receipt = client.wait_for_receipt(st.hash)
    if receipt.status != 1:
        raise ChainError(f"{function}({address}) reverted in {st.hash}")
    return st.hash


@dataclass
class RoleSyncResult:
    """What one sync round did."""

    granted: int = 0
    revoked: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def sync_chain_roles(
    session_factory: sessionmaker[Session],
    client: ChainClient,
    *,
    now: dt.datetime | None = None,
    limit: int = 100,
) -> RoleSyncResult:
    """Bring PARTNER_ROLE on chain in line with the registry for every due address."""
    result = RoleSyncResult()
    with session_factory() as s:
        due = list(
            s.execute(
                select(ChainRoleSync.address, ChainRoleSync.requested_at)
                .where(ChainRoleSync.synced_at.is_(None))
                .order_by(ChainRoleSync.requested_at)
                .limit(limit)
            ).tuples()
        )
    for address, requested_at in due:
        at = now or utcnow()
        try:
            with session_factory() as s:
                want = desired_grant(s, address=address, now=at)
            has = has_partner_role(client, address)
            tx_hash = None
            if want != has:
                tx_hash = _send_role_tx(client, "grantPartner" if want else "revokePartner", address)
                if want:
                    result.granted += 1
                else:
                    result.revoked += 1
            else:
                result.unchanged += 1
        except ChainError as exc:
            result.errors.append(f"{address}: {exc.message}")
            log.warning("role sync of %s failed: %s", address, exc.message)
            with transaction(session_factory) as s:
                row = s.get(ChainRoleSync, address)
                if row is not None:
                    row.attempts += 1
                    row.last_error = exc.message[:2000]
            continue
        with transaction(session_factory) as s:
            row = s.get(ChainRoleSync, address)
            if row is None:  # pragma: no cover - rows are never deleted
                continue
            row.granted = want
            row.last_error = None
            if tx_hash is not None:
                row.tx_hash = tx_hash
            if row.requested_at == requested_at:  # no newer request arrived meanwhile
                row.synced_at = at
    return result
