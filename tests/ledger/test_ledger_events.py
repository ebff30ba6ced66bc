"""The ledger's one fact of its own: a batch anchored on chain, appended with the confirmation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import read_only_session
from core.event_stream import Aggregate, read_events
from ledger.contract import RecordKind
from ledger.events import ANCHORING, BatchAnchored
from ledger.models import AnchorBatch, BatchStatus


def test_each_confirmed_batch_appends_one_event_with_no_record_body(anchored: Any, session_factory: Any) -> None:
    with read_only_session(session_factory) as s:
        batches = s.execute(select(AnchorBatch).order_by(AnchorBatch.id)).scalars().all()
        events = [ev for ev in read_events(s, after=0, limit=1000) if ev.type == "ledger.batch_anchored"]
    assert [b.status for b in batches] == [BatchStatus.CONFIRMED] * 2  # the pending credit record has none
    assert [ev.aggregate for ev in events] == [Aggregate("AnchorBatch", b.id, b.version) for b in batches]
    for ev, batch in zip(events, batches, strict=True):
        payload = ev.payload
        assert isinstance(payload, BatchAnchored) and ev.actor == ANCHORING
        assert (payload.root, payload.count, payload.tx_hash, payload.block_number) == (
            batch.root, batch.count, batch.tx_hash, batch.block_number)
        assert "assessor" not in ev.payload_json and "provider" not in ev.payload_json  # no record body
        assert ev.readers == frozenset({"auditor", "manager", "admin"})
    assert {p.kind for p in (ev.payload for ev in events) if isinstance(p, BatchAnchored)} == {
        int(RecordKind.SURVEY), int(RecordKind.MEDICAL)}
