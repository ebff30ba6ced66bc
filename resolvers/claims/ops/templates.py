"""Claim flow templates: per product and claim type, the documents a claim needs and the amount above which
it is investigated whatever risk control says. Submission consults them (``flow_decision``).

Example::

    set_template(session, principal=manager, product_id=p, claim_type=ClaimType.INPATIENT,
                 required_documents=[DocumentKind.INVOICE, DocumentKind.DISCHARGE_SUMMARY],
                 investigate_above=Decimal("50000"))
    flow_decision(session, claim=claim, product_id=p)   # FlowDecision(investigate=..., missing=(...))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import StaleVersionError, ValidationError, collect_errors
from resolvers.claims.models import Claim, ClaimDocument, DocumentKind
from resolvers.claims.ops.models import ClaimType, FlowTemplate
from resolvers.policies import service as policy_service

__all__ = ["FlowDecision", "claim_type_of", "flow_decision", "set_template", "templates_of"]


@dataclass(frozen=True)
class FlowDecision:
    """What a claim's template asks of it at submission."""

    investigate: bool
    missing: tuple[DocumentKind, ...]


def claim_type_of(claim: Claim) -> ClaimType:
    """INPATIENT for a stay (discharged after the admission day), else OUTPATIENT."""
    return ClaimType.INPATIENT if claim.discharge_date > claim.admission_date else ClaimType.OUTPATIENT


def templates_of(session: Session, *, product_id: int) -> list[FlowTemplate]:
    """A product's templates (at most one per claim type)."""
    return list(session.scalars(select(FlowTemplate).where(FlowTemplate.product_id == product_id)
                                .order_by(FlowTemplate.claim_type)))


def flow_decision(session: Session, *, claim: Claim, product_id: int) -> FlowDecision | None:
    """The template's demands on ``claim`` (None: no template for its product and type)."""
    template = session.scalar(select(FlowTemplate).where(FlowTemplate.product_id == product_id,
                                                         FlowTemplate.claim_type == claim_type_of(claim)))
    if template is None:
        return None
    present = set(session.scalars(select(ClaimDocument.kind).where(ClaimDocument.claim_id == claim.id)))
    missing = tuple(DocumentKind(k) for k in template.required_documents if DocumentKind(k) not in present)
    above = template.investigate_above
    return FlowDecision(investigate=above is not None and claim.claimed_amount > above, missing=missing)


def set_template(session: Session, *, principal: Principal, product_id: int, claim_type: ClaimType,
                 required_documents: Sequence[DocumentKind], investigate_above: Decimal | None,
                 expected_version: int | None = None) -> FlowTemplate:
    """Create or replace the template of (product, type); every refusal at once."""
    row = session.scalar(select(FlowTemplate).where(FlowTemplate.product_id == product_id,
                                                    FlowTemplate.claim_type == claim_type).with_for_update())
    with collect_errors() as errors:
        with errors.check():
            policy_service.get_product(session, product_id=product_id)
        if investigate_above is not None and investigate_above < 0:
            errors.add(ValidationError("investigateAbove: not negative", field="investigateAbove"))
        if len(set(required_documents)) != len(required_documents):
            errors.add(ValidationError("a document kind is listed twice", field="requiredDocuments"))
        if expected_version is not None and (row is None or row.version != expected_version):
            errors.add(StaleVersionError("the template changed meanwhile", field="expectedVersion"))
    if row is None:
        row = FlowTemplate(product_id=product_id, claim_type=claim_type, updated_by=principal.subject)
        session.add(row)
    row.required_documents = [k.value for k in required_documents]
    row.investigate_above = investigate_above
    row.updated_by = principal.subject
    session.flush()
    return row
