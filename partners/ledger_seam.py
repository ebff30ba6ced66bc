"""Thin seam over ledger facts the ledger service does not (yet) expose as functions.

* :func:`signing_domain` — the EIP-712 domain: the AnchorRegistry's chain id and address
  from the latest ``ledger_deployment`` row (settings ``extra`` may pin both:
  ``partners.chain_id`` and ``partners.verifying_contract``).
* :func:`anchored_ids` — which of some ledger records are anchored (one query).
* :func:`record_id_by_commitment` — a record found by its commitment (disclosures).
* :func:`commitments_of` — the commitments of records just written by
  ``ledger.service.record_many`` (which returns ids only).

All only read; if ``ledger.service`` grows ``current_deployment()``,
``record_statuses(ids)``, ``find_by_commitment(c)`` (and ``record_many`` returns
commitments), these become one-line calls.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import DomainError
from core.settings import Settings
from ledger.models import LedgerDeployment, LedgerRecord, RecordStatus
from partners.eip712 import Domain

__all__ = ["anchored_ids", "commitments_of", "record_id_by_commitment", "signing_domain"]


def signing_domain(session: Session, settings: Settings) -> Domain:
    """The domain partners sign for; DomainError LEDGER_NOT_READY before any deployment."""
    chain = settings.extra.get("partners.chain_id")
    contract = settings.extra.get("partners.verifying_contract")
    if chain and contract:
        return Domain(chain_id=int(chain), verifying_contract=contract)
    row = session.execute(
        select(LedgerDeployment.chain_id, LedgerDeployment.contract).order_by(LedgerDeployment.id.desc()).limit(1)
    ).first()
    if row is None:
        raise DomainError(
            "no AnchorRegistry is deployed yet, so no signing domain exists", code="LEDGER_NOT_READY"
        )
    return Domain(chain_id=int(row.chain_id), verifying_contract=str(row.contract))


def anchored_ids(session: Session, record_ids: Sequence[int]) -> set[int]:
    """The ids among ``record_ids`` whose ledger record is anchored."""
    if not record_ids:
        return set()
    rows = session.execute(
        select(LedgerRecord.id).where(
            LedgerRecord.id.in_(list(record_ids)), LedgerRecord.status == RecordStatus.ANCHORED
        )
    ).scalars()
    return {int(i) for i in rows}


def commitments_of(session: Session, record_ids: Sequence[int]) -> dict[int, str]:
    """``{ledger record id: commitment}`` for ``record_ids`` (one query)."""
    if not record_ids:
        return {}
    rows = session.execute(
        select(LedgerRecord.id, LedgerRecord.commitment).where(LedgerRecord.id.in_(list(record_ids)))
    ).tuples()
    return {int(i): str(c) for i, c in rows}


def record_id_by_commitment(session: Session, commitment: str) -> int | None:
    """The ledger record with ``commitment`` (``0x`` + 64 lowercase hex), if any."""
    found = session.scalar(select(LedgerRecord.id).where(LedgerRecord.commitment == commitment.lower()))
    return int(found) if found is not None else None
