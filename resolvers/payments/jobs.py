"""Rail jobs: export pending instructions to a bank batch; import the bank's returns files.

Both are idempotent. A batch is recorded in the database first and its file written after
the commit, then marked written; a crash in between leaves it unwritten and the next round
writes the same bytes again. A returns file applies once (its digest is unique).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.jobs import job
from core.settings import get_settings
from resolvers.payments import service
from resolvers.payments.adapter import FileRailAdapter, RailAdapter

__all__ = ["ImportSummary", "export_batches", "import_returns", "install_adapter", "rail_adapter", "retry_held"]

log = logging.getLogger("opsure.payments")
_adapter: RailAdapter | None = None


def install_adapter(adapter: RailAdapter | None) -> None:
    """Use ``adapter`` for the bank exchange (None: the built-in file adapter under the data directory)."""
    global _adapter
    _adapter = adapter


def rail_adapter() -> RailAdapter:
    """The installed adapter, else the file adapter in ``<data_dir>/payments``."""
    return _adapter if _adapter is not None else FileRailAdapter(get_settings().data_dir / "payments")


def export_batches(sessions: sessionmaker[Session], at: dt.datetime, adapter: RailAdapter | None = None) -> int:
    """Batch every pending instruction and hand every unwritten batch to the bank; returns instructions sent."""
    adapter = adapter or rail_adapter()
    with transaction(sessions) as session:
        service.export_batch(session, now=at, adapter=adapter.name)
    sent = 0
    with transaction(sessions) as session:
        for batch in service.unwritten_batches(session):
            adapter.deliver_batch(batch.reference, service.batch_text(session, batch))
            batch.written_at = at
            sent += batch.count
    return sent


@dataclass(frozen=True)
class ImportSummary:
    """What a round of returns did."""

    files: int
    settled: int
    returned: int
    rejected_lines: int
    refused_files: int
    held_lines: int = 0


def import_returns(sessions: sessionmaker[Session], at: dt.datetime,
                   adapter: RailAdapter | None = None) -> ImportSummary:
    """Apply every returns file waiting; each file in its own transaction."""
    adapter = adapter or rail_adapter()
    files = settled = returned = rejected = refused = held = 0
    for document in list(adapter.pending_returns()):
        with transaction(sessions) as session:
            outcome = service.import_returns(session, name=document.name, text=document.text,
                                             sha256=document.sha256, at=at)
        if outcome.error is not None:
            log.warning("returns file refused", extra={"file": document.name, "error": outcome.error})
            refused += 1
            adapter.done(document, ok=False)
            continue
        files += 1
        if outcome.file is not None and not outcome.duplicate:
            settled += outcome.file.settled
            returned += outcome.file.returned
            rejected += len(outcome.file.rejected)
            held += outcome.held
        adapter.done(document, ok=True)
    return ImportSummary(files, settled, returned, rejected, refused, held)


@job("payments.export", "write pending payment instructions to a bank batch file")
def export_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """The periodic export round."""
    return export_batches(sessions, at)


@job("payments.import_returns", "apply the bank's returns files from <data_dir>/payments/returns")
def import_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """The periodic returns round; returns the instructions settled or returned."""
    summary = import_returns(sessions, at)
    return summary.settled + summary.returned


def retry_held(sessions: sessionmaker[Session], at: dt.datetime) -> service.RetryOutcome:
    """Retry the held returns lines that are due (one transaction)."""
    with transaction(sessions) as session:
        return service.retry_held_returns(session, at=at)


@job("payments.retry_held_returns", "retry returns lines whose owner's handler failed; dead-letter after the last try")
def retry_held_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """The periodic retry round of held returns lines; returns the lines applied."""
    return retry_held(sessions, at).applied
