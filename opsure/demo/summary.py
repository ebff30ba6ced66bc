"""What is in the data directory after the demo: counts read back from the store, as a table.

Counts are taken from the database, not from what the loaders think they wrote, so the
table is also the coverage check a newcomer (and the test) reads: every claim state, every
partner kind and status, signed records by type, documents, risk flags, the audit chain
and the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry, verify_chain
from core.clock import business_today
from core.clock import now as clock_now
from core.event_stream.outbox import EVENTS
from ledger import service as ledger
from ledger.models import RecordStatus
from opsure.demo.analytics import analytics_summary
from opsure.demo.knowledge import knowledge_summary
from opsure.demo.operations import behaviour_summary, experiments_summary
from opsure.demo.tags import tags_summary
from partners.models import Partner, PartnerClient, RiskFlag, SignedRecord, SignerKey
from resolvers.advances.models import Advance
from resolvers.claims.models import (
    Claim,
    ClaimChannel,
    ClaimDocument,
    ClaimEvent,
    ClaimState,
    DocumentRequest,
    Payment,
)
from resolvers.claims.ops.models import FlowTemplate, QaSample, QaStatus
from resolvers.claims.risk.rule_models import ClaimRuleVersion, RuleVersionStatus
from resolvers.investigations.models import Investigation, InvestigationEscalation, InvestigationEvent
from resolvers.payments.models import PaymentBatch, PaymentInstruction, ReturnsFile
from resolvers.policies.models import Customer, Policy
from resolvers.service.models import Complaint, ServiceAgent, WorkOrder, WorkOrderBreach

__all__ = ["DemoSummary", "collect_summary", "render_summary"]


@dataclass
class DemoSummary:
    """Counts by section and row, in display order."""

    sections: dict[str, dict[str, int | str]] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def count(self, section: str, row: str) -> int | str:
        """One cell (0 when absent)."""
        return self.sections.get(section, {}).get(row, 0)


def _grouped(session: Session, column: object) -> dict[str, int | str]:
    stmt = select(column, func.count()).group_by(column)  # type: ignore[call-overload]
    return {str(getattr(k, "value", k)): int(n) for k, n in session.execute(stmt).all()}


def _count(session: Session, entity: object, *where: object) -> int:
    stmt = select(func.count()).select_from(entity)  # type: ignore[arg-type]
    if where:
        stmt = stmt.where(*where)  # type: ignore[arg-type]
    return int(session.scalar(stmt) or 0)


def _events_by_domain(session: Session) -> dict[str, int | str]:
    """Domain events in the outbox by domain (the part of the type before the dot), and how many types."""
    by_type = session.execute(select(EVENTS.c.type, func.count()).group_by(EVENTS.c.type)).tuples().all()
    domains: dict[str, int | str] = {}
    for event_type, n in by_type:
        row = f"{event_type.split('.')[0]} events"
        domains[row] = int(domains.get(row, 0)) + int(n)
    return {**dict(sorted(domains.items())), "event types": len(by_type)}


def collect_summary(session: Session) -> DemoSummary:
    """Read every count of the table from the store."""
    s = DemoSummary()
    by_state = _grouped(session, Claim.state)
    states = {st.value: by_state.get(st.value, 0) for st in ClaimState}
    if not states[ClaimState.SUBMITTED.value]:  # submission routes a claim on at once
        passed = _count(session, ClaimEvent, ClaimEvent.to_state == ClaimState.SUBMITTED.value)
        states[ClaimState.SUBMITTED.value] = f"0 (a passing state: {passed} claims went through it)"
    s.sections["claims by state"] = states
    s.sections["claims"] = {
        "total": sum(int(n) for n in by_state.values()),
        "decided by fast claim": _count(session, Claim, Claim.fast_track.is_(True)),
        "direct-billed by a hospital": _count(session, Claim, Claim.channel == ClaimChannel.DIRECT_BILLING),
        "payments": _count(session, Payment),
        "documents": _count(session, ClaimDocument),
        "medical documents on the ledger": _count(session, ClaimDocument, ClaimDocument.ledger_record_id.is_not(None)),
    }
    kinds = session.execute(select(Partner.kind, Partner.status, func.count()).group_by(Partner.kind, Partner.status))
    s.sections["partners"] = {f"{k.value} {st.value}": int(n) for k, st, n in sorted(kinds.all())}
    s.sections["partners"].update({
        "signer keys": _count(session, SignerKey), "client credentials": _count(session, PartnerClient)})
    s.sections["signed records"] = _grouped(session, SignedRecord.primary_type)
    s.sections["investigations"] = {**_grouped(session, Investigation.state),
                                    "trail events on the ledger": _count(session, InvestigationEvent),
                                    "missed SLAs escalated": _count(session, InvestigationEscalation)}
    s.sections["payments"] = {**{f"instructions {k}": v for k, v in _grouped(session, PaymentInstruction.state).items()},
                              "bank batch files": _count(session, PaymentBatch),
                              "returns files read": _count(session, ReturnsFile)}
    s.sections["advances"] = _grouped(session, Advance.state)
    s.sections["shared risk flags"] = {"published": _count(session, RiskFlag)}
    versions = _grouped(session, ClaimRuleVersion.status)
    s.sections["claims operations"] = {
        "rule versions published": versions.get(RuleVersionStatus.PUBLISHED.value, 0),
        "rule versions in drafts": versions.get(RuleVersionStatus.DRAFT.value, 0),
        **{f"claims judged by {label}": int(n) for label, n in session.execute(
            select(Claim.rules_version, func.count()).where(Claim.rules_version.is_not(None))
            .group_by(Claim.rules_version).order_by(Claim.rules_version)).all()},
        "QA samples": _count(session, QaSample),
        "QA samples reviewed": _count(session, QaSample, QaSample.status == QaStatus.REVIEWED),
        "flow templates": _count(session, FlowTemplate),
        "claims assigned in the queue": _count(session, Claim, Claim.assignee.is_not(None)),
        "document requests reminded": _count(session, DocumentRequest, DocumentRequest.reminder_count > 0),
    }
    s.sections["experiments"] = experiments_summary(session)
    s.sections["behaviour events"] = behaviour_summary(session)
    s.sections["tags, segments, campaigns"] = tags_summary(session, now=clock_now())
    s.sections["knowledge"] = knowledge_summary(session)
    s.sections["customer service"] = {
        **{f"work orders {k}": v for k, v in _grouped(session, WorkOrder.state).items()},
        **{f"complaints {k}": v for k, v in _grouped(session, Complaint.state).items()},
        "missed SLAs escalated": _count(session, WorkOrderBreach), "agents": _count(session, ServiceAgent)}
    s.sections["policies"] = {"customers": _count(session, Customer), **_grouped(session, Policy.status)}
    chain_break = verify_chain(session)
    s.sections["audit log"] = {"entries": _count(session, AuditEntry),
                               "hash chain": "intact" if chain_break is None else f"broken at {chain_break.seq}"}
    s.sections["event stream"] = _events_by_domain(session)
    s.sections["analytics (KPI tiles)"] = analytics_summary(session, today=business_today())
    status = ledger.ledger_status(session)
    s.sections["ledger"] = {"records anchored": status.records[RecordStatus.ANCHORED],
                            "records pending": status.records[RecordStatus.PENDING],
                            "anchor batches": sum(status.batches.values())}
    return s


def render_summary(summary: DemoSummary) -> str:
    """The summary as a two-column text table, then the time taken and any notes."""
    width = max(len(row) for rows in summary.sections.values() for row in rows) + 2
    lines: list[str] = []
    for title, rows in summary.sections.items():
        lines.append(title)
        lines.extend(f"  {row:<{width}}{value}" for row, value in rows.items())
    lines.append(f"time taken: {summary.seconds:.1f} s")
    lines.extend(summary.notes)
    return "\n".join(lines)
