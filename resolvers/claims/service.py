"""Claim services: report, enter invoice data, submit (risk + routing + fast-claim),
adjudicate, move through the state machine, direct billing. The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import rfc8785
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.calendar import BusinessCalendar, CalendarUnknown, default_calendar
from core.clock import business_date
from core.errors import (
    ConflictError,
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
    collect_errors,
)
from partners import assignments
from partners import loaders as partner_loaders
from partners.assignments import AssignmentKind
from partners.errors import RecordRejected, RejectCode
from resolvers.claims import adjudication, documents, events, payments
from resolvers.claims.eob import rejected_after_review
from resolvers.claims.fastclaim import FastClaimConfig, ineligibility
from resolvers.claims.models import (
    Claim,
    ClaimChannel,
    ClaimDocument,
    ClaimEvent,
    ClaimEventKind,
    ClaimLineItem,
    ClaimState,
    DocumentKind,
    DocumentRequest,
    LineItemSource,
    Payment,
    RiskHintSource,
    RiskLevel,
)
from resolvers.claims.ops import templates as flow_templates
from resolvers.claims.reasons import Reason, ReasonCode
from resolvers.claims.risk.profile import risk_profile
from resolvers.claims.risk.rules_service import live_library
from resolvers.claims.risk.scoring import ClaimFacts, RiskThresholds, assess_risk
from resolvers.claims.scoping import claim_visible
from resolvers.claims.states import record_event, transition
from resolvers.operations import service as operations
from resolvers.policies import service as policy_service
from resolvers.policies.underwriting import validate_icd10

# ClaimState is part of this service's API (investigations read and move claims through it).
__all__ = [
    "SYSTEM",
    "ClaimState",
    "LineItemSpec",
    "VerifiedBill",
    "adjudicate_claim",
    "bill_from_message",
    "direct_bill",
    "get_claim",
    "get_part",
    "items_commitment",
    "report_claim",
    "resume_after_investigation",
    "set_line_items",
    "sla_due_at",
    "submit_claim",
    "timeline",
    "transition_claim",
    "verified_bill",
]

#: The actor of automatic decisions (fast-claim, routing).
SYSTEM = Principal(subject="system:fast-claim", role=Role.ADMIN)
MAX_AMOUNT = Decimal("10000000")
MAX_ITEMS = 200
DOCUMENT_DUE_DAYS = 14
#: Service level of each waiting state in business days (Chinese public holidays and adjusted workdays,
#: ``core.calendar``): due at the close of business of the N-th business day after the claim got there.
SLA_DAYS = {ClaimState.UNDER_REVIEW: 5, ClaimState.INVESTIGATING: 20, ClaimState.DOCUMENTS_PENDING: 14}
_SLA_CALENDAR: list[BusinessCalendar] = []


def sla_due_at(state: ClaimState, at: dt.datetime, calendar: BusinessCalendar | None = None) -> dt.datetime | None:
    """When a claim that reached ``state`` at ``at`` is past its service level (None: the state has none).

    Counted in business days on ``calendar`` (the default business calendar). For a year the
    calendar cannot answer yet (holidays not published) it counts calendar days rather than refuse
    to route a claim.
    """
    days = SLA_DAYS.get(state)
    if not days:
        return None
    if calendar is None:
        if not _SLA_CALENDAR:
            _SLA_CALENDAR.append(default_calendar())
        calendar = _SLA_CALENDAR[0]
    try:
        return calendar.add_business_days_at(at, days)
    except CalendarUnknown:
        return at + dt.timedelta(days=days)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
#: The rows that belong to one claim and are addressable by id (``get_part``).
Part = TypeVar("Part", ClaimDocument, DocumentRequest, Payment)
_OPEN_FOR_DUPLICATES = tuple(s for s in ClaimState if s not in (ClaimState.CLOSED, ClaimState.REJECTED))


@dataclass(frozen=True)
class LineItemSpec:
    """One structured invoice line as entered by the hospital or the customer's app."""

    item_code: str
    category: str
    amount: Decimal
    quantity: int = 1
    description: str = ""


def _money(value: Decimal, field: str) -> Decimal:
    try:
        q = Decimal(value).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError("not an amount", field=field) from exc
    if q != value:
        raise ValidationError("amounts have at most two decimals", field=field)
    return q


def _check_version(claim: Claim, expected: int | None) -> None:
    if expected is not None and claim.version != expected:
        raise StaleVersionError(f"claim changed: version {claim.version}, you sent {expected}",
                                field="expectedVersion")


def get_claim(session: Session, *, principal: Principal, claim_id: int, lock: bool = False) -> Claim:
    """A claim visible to ``principal``, else NotFoundError."""
    stmt = select(Claim).where(Claim.id == claim_id, claim_visible(principal))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None:
        raise NotFoundError("claim not found", field="claimId")
    return row


def get_part(session: Session, *, principal: Principal, model: type[Part], part_id: int) -> Part:
    """A document, document request or payment of a claim ``principal`` may see, else NotFoundError."""
    row = session.scalar(select(model).join(Claim, Claim.id == model.claim_id)
                         .where(model.id == part_id, claim_visible(principal)))
    if row is None:
        raise NotFoundError("not found", field="id")
    return row


def _claimed(value: Decimal) -> Decimal:
    claimed = _money(value, "claimedAmount")
    if claimed <= 0 or claimed > MAX_AMOUNT:
        raise ValidationError(f"claimed amount must be in (0, {MAX_AMOUNT}]", field="claimedAmount")
    return claimed


def _validate_items(items: Sequence[LineItemSpec], claimed: Decimal | None) -> list[LineItemSpec]:
    """The clean lines; every refusal of every line at once, then whether they add up to ``claimed``."""
    if not items:
        raise ValidationError("at least one line item", field="items")
    if len(items) > MAX_ITEMS:
        raise ValidationError(f"at most {MAX_ITEMS} line items", field="items")
    out = []
    with collect_errors() as errors:
        for i, it in enumerate(items):
            f = f"items.{i}"
            if not _CODE.match(it.item_code):
                errors.add(ValidationError("item code: 1-40 of letters, digits, . _ -", field=f"{f}.itemCode"))
            if not _CODE.match(it.category):
                errors.add(ValidationError("category: 1-40 of letters, digits, . _ -", field=f"{f}.category"))
            amount = None
            with errors.check():
                amount = _money(it.amount, f"{f}.amount")
                if amount <= 0 or amount > MAX_AMOUNT:
                    raise ValidationError("line amount must be positive", field=f"{f}.amount")
            if not 1 <= it.quantity <= 10_000:
                errors.add(ValidationError("quantity must be 1..10000", field=f"{f}.quantity"))
            if amount is not None:
                out.append(LineItemSpec(it.item_code, it.category.lower(), amount, it.quantity, it.description[:200]))
        total = sum((it.amount for it in out), Decimal(0))
        if not errors and claimed is not None and total != claimed:
            errors.add(ValidationError(f"line items add up to {total}, the claim says {claimed}", field="items",
                                       code="AMOUNTS_DO_NOT_ADD_UP"))
    return out


def _find_duplicate(session: Session, *, customer_id: int, hospital: str, start: dt.date, end: dt.date,
                    event_date: dt.date) -> Claim | None:
    return session.scalar(
        select(Claim).where(
            Claim.customer_id == customer_id, func.lower(Claim.hospital) == hospital.lower(),
            Claim.state.in_(_OPEN_FOR_DUPLICATES),
            ((Claim.admission_date <= end) & (Claim.discharge_date >= start)) | (Claim.event_date == event_date),
        ).order_by(Claim.id).limit(1)
    )


def report_claim(
    session: Session, *, principal: Principal, policy_id: int, event_date: dt.date, admission_date: dt.date,
    discharge_date: dt.date, hospital: str, diagnosis_code: str, claimed_amount: Decimal, channel: ClaimChannel,
    items: Sequence[LineItemSpec] = (), today: dt.date, now: dt.datetime, partner_id: int | None = None,
) -> Claim:
    """First notice of loss: a draft claim against a visible, in-force policy; duplicates are flagged.

    Every input is checked before refusing, and every refusal is reported (``DomainErrors``);
    whether the policy was in force is checked only once it is visible to ``principal``.
    """
    policy = None
    with collect_errors() as errors:
        with errors.check():
            policy = policy_service.get_policy(session, principal=principal, policy_id=policy_id)
        if event_date > today:
            errors.add(ValidationError("the event date is in the future", field="eventDate", code="DATE_IN_FUTURE"))
        if discharge_date > today:
            errors.add(ValidationError("the discharge date is in the future", field="dischargeDate",
                                       code="DATE_IN_FUTURE"))
        if not admission_date <= discharge_date:
            errors.add(ValidationError("admission must not be after discharge", field="admissionDate"))
        if event_date > discharge_date:
            errors.add(ValidationError("the event must not be after the discharge", field="eventDate"))
        if event_date < today - dt.timedelta(days=3 * 365):
            errors.add(ValidationError("claims must be reported within 3 years of the event", field="eventDate",
                                       code="TIME_BARRED"))
        if policy is not None and event_date <= today and not policy_service.covered_on(policy, event_date):
            errors.add(InvalidTransitionError(f"the policy was not in force on {event_date.isoformat()}",
                                              field="policyId", code="POLICY_NOT_IN_FORCE"))
        hospital = hospital.strip()
        if not 2 <= len(hospital) <= 200:
            errors.add(ValidationError("hospital: 2 to 200 characters", field="hospital"))
        diagnosis = diagnosis_code
        with errors.check():
            diagnosis = validate_icd10(diagnosis_code, field="diagnosisCode")
        claimed: Decimal | None = None
        with errors.check():
            claimed = _claimed(claimed_amount)
        clean_items: list[LineItemSpec] = []
        if items:
            with errors.check():
                clean_items = _validate_items(items, claimed)
            with errors.check():
                source = _source_for(principal, channel)
        if channel is ClaimChannel.DIRECT_BILLING and partner_id is None:
            errors.add(ValidationError("direct billing claims come from a hospital's signed bill", field="channel"))
    assert policy is not None and claimed is not None  # else collect_errors raised
    duplicate = _find_duplicate(session, customer_id=policy.customer_id, hospital=hospital, start=admission_date,
                                end=discharge_date, event_date=event_date)
    claim = Claim(
        number=f"CLM{today:%Y%m%d}{secrets.token_hex(4).upper()}", policy_id=policy.id,
        customer_id=policy.customer_id, channel=channel, state=ClaimState.DRAFT, event_date=event_date,
        admission_date=admission_date, discharge_date=discharge_date, hospital=hospital, diagnosis_code=diagnosis,
        claimed_amount=claimed, reported_by=principal.subject, duplicate_of_id=duplicate.id if duplicate else None,
        partner_id=partner_id, risk_hints=[], deductible_applied=Decimal(0), paid_amount=Decimal(0),
    )
    session.add(claim)
    session.flush()
    record_event(session, claim, actor=principal, kind=ClaimEventKind.REPORTED, to_state=ClaimState.DRAFT, at=now,
                 reason=Reason(ReasonCode.REPORTED, {"channel": channel}))
    if duplicate is not None:
        record_event(session, claim, actor=principal, kind=ClaimEventKind.DUPLICATE_SUSPECTED, at=now,
                     reason=Reason(ReasonCode.POSSIBLE_DUPLICATE, {"duplicateOf": duplicate.number}))
    if clean_items:
        _store_items(session, claim, clean_items, source)
    session.flush()
    events.reported(session, claim, actor=principal)
    return claim


def _source_for(principal: Principal, channel: ClaimChannel) -> LineItemSource:
    if channel is ClaimChannel.DIRECT_BILLING:
        return LineItemSource.HOSPITAL_BILL
    if principal.role is Role.PARTNER:
        return LineItemSource.HOSPITAL_EINVOICE
    if principal.role is Role.CUSTOMER:
        return LineItemSource.CUSTOMER_APP
    raise ForbiddenError("invoice data comes from the hospital or the customer's app, never retyped by staff",
                         field="items", code="NOT_A_DATA_HOLDER")


def _store_items(session: Session, claim: Claim, items: Sequence[LineItemSpec], source: LineItemSource) -> None:
    session.add_all(
        ClaimLineItem(claim_id=claim.id, position=i, item_code=it.item_code, category=it.category,
                      description=it.description, quantity=it.quantity, amount=it.amount, source=source)
        for i, it in enumerate(items)
    )


def set_line_items(
    session: Session, *, principal: Principal, claim_id: int, items: Sequence[LineItemSpec],
    expected_version: int | None, now: dt.datetime,
) -> Claim:
    """Enter a claim's structured invoice data once (hospital e-invoice or customer app).

    Every refusal at once: the lines' own faults, and, once the claim is visible to
    ``principal``, its version, state, whether data was entered already and whether the
    lines add up to the claimed amount.
    """
    claim = None
    with collect_errors() as errors:
        with errors.check():
            claim = get_claim(session, principal=principal, claim_id=claim_id)
        if claim is None:
            with errors.check():
                _validate_items(items, None)
        else:
            with errors.check():
                _check_version(claim, expected_version)
            if claim.state not in (ClaimState.DRAFT, ClaimState.DOCUMENTS_PENDING):
                errors.add(InvalidTransitionError(f"a {claim.state.value} claim takes no invoice data",
                                                  field="claimId"))
            with errors.check():
                source = _source_for(principal, claim.channel)
            if session.scalar(select(func.count(ClaimLineItem.id)).where(ClaimLineItem.claim_id == claim.id)):
                errors.add(ConflictError("invoice data was entered already", field="items",
                                         code="ITEMS_ALREADY_ENTERED"))
            with errors.check():
                clean = _validate_items(items, claim.claimed_amount)
    assert claim is not None  # else collect_errors raised
    _store_items(session, claim, clean, source)
    record_event(session, claim, actor=principal, kind=ClaimEventKind.INVOICE_DATA, at=now,
                 reason=Reason(ReasonCode.LINE_ITEMS_ENTERED, {"count": len(items), "source": source}))
    claim.updated_at = now
    session.flush()
    return claim


def _items(session: Session, claim_id: int) -> list[ClaimLineItem]:
    return list(session.scalars(select(ClaimLineItem).where(ClaimLineItem.claim_id == claim_id)
                                .order_by(ClaimLineItem.position)))


def _has_invoice(session: Session, claim_id: int) -> bool:
    return session.scalar(select(ClaimDocument.id).where(
        ClaimDocument.claim_id == claim_id, ClaimDocument.kind == DocumentKind.INVOICE).limit(1)) is not None


def _shared_flags(session: Session, customer_id: int, consortium: Any) -> list[Any]:
    """Risk flags partners published on the insured's blinded id (none without a consortium key)."""
    if consortium is None:
        return []
    from partners import risk as shared  # the partners domain's public look-up

    id_number = policy_service.customer_id_number(session, customer_id=customer_id)
    if not id_number:
        return []
    try:
        blinded = consortium.blind(id_number)
    except ValidationError:  # not an ID number the consortium can blind
        return []
    return shared.find_flags(session, principal=SYSTEM, blinded_id=blinded)


def _assess_risk(session: Session, claim: Claim, items: Sequence[ClaimLineItem], policy_start: dt.date,
                 today: dt.date, extra: dict[str, str], consortium: Any = None) -> None:
    flags = _shared_flags(session, claim.customer_id, consortium)
    profile = risk_profile(session, customer_id=claim.customer_id, today=today, exclude_claim_id=claim.id,
                           shared_flags=len(flags))
    facts = ClaimFacts(
        amount=claim.claimed_amount, line_amounts=tuple(i.amount for i in items) or (claim.claimed_amount,),
        diagnosis=claim.diagnosis_code, event_date=claim.event_date, admission_date=claim.admission_date,
        reported_on=today, policy_start=policy_start, duplicate=claim.duplicate_of_id is not None,
    )
    library = live_library(session, override=extra.get("claims.rules_version"))
    result = assess_risk(facts, profile, RiskThresholds.from_extra(extra), library=library)
    hints = list(result.hints)
    for f in flags:
        hints.append({"source": RiskHintSource.SHARED.value, "code": f.flag_code, "level": f.level, "score": 0,
                      "message": f"a partner insurer shared risk flag {f.flag_code} ({f.level}) on this person "
                                 f"on {business_date(f.published_at).isoformat()}"})
    claim.risk_score = result.score
    claim.risk_level = result.level
    claim.risk_hints = hints
    claim.rules_version = result.rules_version


def _decide(claim: Claim, reason: Reason, now: dt.datetime) -> None:
    claim.decided_at = now
    claim.decision_reason_code = reason.code.value
    claim.decision_reason_params = reason.stored_params()


def _apply(session: Session, claim: Claim, items: Sequence[ClaimLineItem],
           result: adjudication.Assessment, *, actor: Principal, reason: Reason, now: dt.datetime) -> None:
    for item, line in zip(items, result.lines, strict=True):
        item.approved_amount = line.payable
        code = line.rejection or (line.codes[0] if line.codes else None)
        item.reason_code = code.value if code else None
    claim.approved_amount = result.payable
    claim.deductible_applied = result.deductible
    claim.eob = result.eob().stored()
    _decide(claim, reason, now)
    transition(session, claim, result.state, actor=actor, reason=reason, at=now)


def _route(session: Session, claim: Claim, target: ClaimState, reason: Reason, now: dt.datetime) -> None:
    claim.sla_due_at = sla_due_at(target, now)
    transition(session, claim, target, actor=SYSTEM, reason=reason, at=now)
    session.flush()


def _follow_flow_template(session: Session, claim: Claim, product_id: int, today: dt.date,
                          now: dt.datetime) -> bool:
    """Route by the claim's flow template (ops.templates): investigation above its amount, its documents."""
    decision = flow_templates.flow_decision(session, claim=claim, product_id=product_id)
    if decision is None:
        return False
    if decision.investigate:
        _route(session, claim, ClaimState.INVESTIGATING,
               Reason(ReasonCode.ROUTED_TO_INVESTIGATION, {"rules": ["FLOW_TEMPLATE_AMOUNT"]}), now)
        return True
    if not decision.missing or claim.channel is ClaimChannel.DIRECT_BILLING:
        return False
    for kind in decision.missing:
        documents.request_document(session, principal=SYSTEM, claim_id=claim.id, kind=kind,
                                   due_on=today + dt.timedelta(days=DOCUMENT_DUE_DAYS),
                                   note="required for this product and claim type", today=today)
    _route(session, claim, ClaimState.DOCUMENTS_PENDING,
           Reason(ReasonCode.ROUTED_TO_DOCUMENTS, {"kind": decision.missing[0]}), now)
    return True


def submit_claim(
    session: Session, *, principal: Principal, claim_id: int, expected_version: int | None, today: dt.date,
    now: dt.datetime, extra: dict[str, str] | None = None, consortium: Any = None,
) -> Claim:
    """Submit a draft: risk control, then fast-claim (adjudicate, approve, pay) or a human queue.

    ``consortium`` (a ``partners.risk.ConsortiumKey``): blind the insured's ID number with
    it and count the risk flags partners shared on them into the risk profile (each flag
    also becomes a hint); without it no shared data is looked up.
    """
    extra = extra or {}
    claim = get_claim(session, principal=principal, claim_id=claim_id, lock=True)
    _check_version(claim, expected_version)
    transition(session, claim, ClaimState.SUBMITTED, actor=principal, reason=Reason(ReasonCode.SUBMITTED), at=now)
    claim.submitted_at = now
    items = _items(session, claim.id)
    policy = policy_service.get_policy(session, principal=SYSTEM, policy_id=claim.policy_id)
    _assess_risk(session, claim, items, policy.period_start, today, extra, consortium)
    fired = [h["code"] for h in claim.risk_hints if h["source"] == RiskHintSource.RULE]
    record_event(session, claim, actor=SYSTEM, kind=ClaimEventKind.RISK, at=now, reason=Reason(ReasonCode.RISK_ASSESSED, {
        "level": claim.risk_level, "score": claim.risk_score, "rules": fired, "rulesVersion": claim.rules_version}))
    events.risk_assessed(session, claim, actor=SYSTEM)
    if claim.risk_level is RiskLevel.HIGH:
        _route(session, claim, ClaimState.INVESTIGATING,
               Reason(ReasonCode.ROUTED_TO_INVESTIGATION, {"rules": fired or ["MODEL_SCORE"]}), now)
        return claim
    if _follow_flow_template(session, claim, policy.product_id, today, now):
        return claim
    has_invoice = _has_invoice(session, claim.id)
    if not has_invoice and claim.channel is not ClaimChannel.DIRECT_BILLING:
        documents.request_document(session, principal=SYSTEM, claim_id=claim.id, kind=DocumentKind.INVOICE,
                                   due_on=today + dt.timedelta(days=DOCUMENT_DUE_DAYS),
                                   note="please upload the hospital invoice", today=today)
        _route(session, claim, ClaimState.DOCUMENTS_PENDING,
               Reason(ReasonCode.ROUTED_TO_DOCUMENTS, {"kind": DocumentKind.INVOICE}), now)
        return claim
    why = ineligibility(claim, config=FastClaimConfig.from_extra(extra), item_count=len(items),
                        items_total=sum((i.amount for i in items), Decimal(0)), has_invoice=has_invoice)
    arm = None
    if not why:  # the fast/standard switch of the claim flow: an experiment may send eligible claims to a human
        arm = operations.variant(session, flow=operations.Flow.CLAIM,
                                 subject=operations.claim_subject(claim.customer_id), now=now)
        if arm.variant == "standard":
            why = ["EXPERIMENT_STANDARD"]
    experiment = f"{arm.experiment_key}:{arm.variant}" if arm is not None and arm.in_experiment else None
    if why:
        claim.fast_track = False
        _route(session, claim, ClaimState.UNDER_REVIEW,
               Reason(ReasonCode.ROUTED_TO_REVIEW, {"blockers": why, "experiment": experiment}), now)
        return claim
    result = adjudication.assess(adjudication.coverage_context(session, claim=claim), event_date=claim.event_date,
                                 diagnosis=claim.diagnosis_code, lines=adjudication.lines_of(items))
    if result.state is not ClaimState.APPROVED:
        _route(session, claim, ClaimState.UNDER_REVIEW,
               Reason(ReasonCode.ROUTED_TO_REVIEW, {"blockers": [f"CALCULATED_{result.state.name}"]}), now)
        return claim
    claim.fast_track = True
    _apply(session, claim, items, result, actor=SYSTEM, now=now,
           reason=Reason(ReasonCode.FAST_CLAIM_APPROVED, {"payable": result.payable, "experiment": experiment}))
    if result.payable > 0:
        payments.pay_claim_if_payee_known(session, principal=SYSTEM, claim_id=claim.id,
                                          idempotency_key=f"fast-{claim.number}", now=now)
    else:  # covered, but the deductible still open this year absorbs all of it
        transition(session, claim, ClaimState.CLOSED, actor=SYSTEM, at=now, reason=Reason(ReasonCode.NOTHING_PAYABLE))
    session.flush()
    return claim


def adjudicate_claim(
    session: Session, *, principal: Principal, claim_id: int, expected_version: int | None, now: dt.datetime,
    note: str = "",
) -> Claim:
    """An adjuster runs the benefit calculation and decides (approve, partly approve or reject)."""
    claim = get_claim(session, principal=principal, claim_id=claim_id, lock=True)
    _check_version(claim, expected_version)
    if claim.state not in (ClaimState.SUBMITTED, ClaimState.UNDER_REVIEW, ClaimState.INVESTIGATING):
        raise InvalidTransitionError(f"a {claim.state.value} claim is not awaiting a decision", field="claimId")
    items = _items(session, claim.id)
    if not items:
        raise ValidationError("the claim has no invoice data to assess", field="claimId", code="NO_ITEMS")
    result = adjudication.assess(adjudication.coverage_context(session, claim=claim), event_date=claim.event_date,
                                 diagnosis=claim.diagnosis_code, lines=adjudication.lines_of(items))
    reason = Reason(ReasonCode.ADJUDICATED, {"actor": principal.subject, "outcome": result.state,
                                             "payable": result.payable, "note": note.strip()[:500] or None})
    _apply(session, claim, items, result, actor=principal, reason=reason, now=now)
    session.flush()
    return claim


def resume_after_investigation(
    session: Session, *, principal: Principal, claim_id: int, investigation_reference: str, report_outcome: str,
    now: dt.datetime,
) -> Claim:
    """An investigating claim goes back to review once its investigation concluded (report accepted or rejected).

    The timeline keeps a reason code with the investigation's reference and the report's review
    outcome (shown to staff and partners; customers read that the checks are complete), never prose.
    A claim no longer INVESTIGATING is left as it is.
    """
    claim = get_claim(session, principal=principal, claim_id=claim_id, lock=True)
    if claim.state is not ClaimState.INVESTIGATING:
        return claim
    why = Reason(ReasonCode.INVESTIGATION_CONCLUDED, {"investigation": investigation_reference,
                                                      "reportOutcome": report_outcome})
    claim.sla_due_at = sla_due_at(ClaimState.UNDER_REVIEW, now) or claim.sla_due_at
    transition(session, claim, ClaimState.UNDER_REVIEW, actor=principal, reason=why, at=now)
    session.flush()
    return claim


def transition_claim(
    session: Session, *, principal: Principal, claim_id: int, to: ClaimState, reason: str,
    expected_version: int | None, now: dt.datetime,
) -> Claim:
    """A manual move (review, investigate, close, reopen); decisions go through adjudicate_claim."""
    if to in (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED, ClaimState.PAID, ClaimState.SUBMITTED):
        raise InvalidTransitionError(f"{to.value} is reached by its own action, not set by hand", field="to")
    note = reason.strip()[:2000]
    if not note:
        raise ValidationError("every transition needs a reason", field="reason", code="REASON_REQUIRED")
    claim = get_claim(session, principal=principal, claim_id=claim_id, lock=True)
    _check_version(claim, expected_version)
    why = Reason(ReasonCode.MOVED_BY_STAFF, {"to": to, "note": note})  # the typed reason is for staff only
    if to is ClaimState.REJECTED:
        claim.approved_amount = Decimal(0)
        _decide(claim, why, now)
        claim.eob = rejected_after_review(claim.claimed_amount).stored()
    claim.sla_due_at = sla_due_at(to, now) or claim.sla_due_at
    transition(session, claim, to, actor=principal, reason=why, at=now)
    session.flush()
    return claim


def timeline(session: Session, *, claim_id: int) -> list[ClaimEvent]:
    """Every event of a claim, oldest first."""
    return list(session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id).order_by(ClaimEvent.id)))


# --- direct billing ----------------------------------------------------------------------------


def items_commitment(items: Sequence[LineItemSpec]) -> str:
    """The ``itemsCommitment`` a hospital signs: SHA-256 of the RFC 8785 JSON of its line items."""
    canonical = rfc8785.dumps([
        {"itemCode": i.item_code, "category": i.category.lower(), "amount": str(_money(i.amount, "items")),
         "quantity": i.quantity}
        for i in items
    ])
    return "0x" + hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class VerifiedBill:
    """A hospital bill whose EIP-712 signature the partners domain verified and stored."""

    signed_record_id: int
    partner_id: int
    case_reference: str
    bill_number: str
    amount_fen: int
    items_commitment: str
    issued_on: dt.date


def verified_bill(record: Any) -> VerifiedBill:
    """Read a stored ``partners.models.SignedRecord`` of type HospitalBill."""
    if record.primary_type != "HospitalBill":
        raise ValidationError("direct billing needs a HospitalBill record", field="typedData")
    msg = json.loads(record.message)
    return VerifiedBill(
        signed_record_id=int(record.id), partner_id=int(record.partner_id), case_reference=str(msg["caseReference"]),
        bill_number=str(msg["billNumber"]), amount_fen=int(msg["amountFen"]),
        items_commitment=str(msg["itemsCommitment"]).lower(), issued_on=dt.date.fromisoformat(msg["issuedOn"]),
    )


def bill_from_message(message: Any) -> VerifiedBill:
    """The bill fields of a HospitalBill message *before* verification (for pre-checks only)."""
    try:
        return VerifiedBill(signed_record_id=0, partner_id=0, case_reference=str(message["caseReference"]),
                            bill_number=str(message["billNumber"]), amount_fen=int(message["amountFen"]),
                            items_commitment=str(message["itemsCommitment"]).lower(),
                            issued_on=dt.date.fromisoformat(str(message["issuedOn"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError("not a HospitalBill message", field="typedData.message", code="MALFORMED") from exc


def _not_authorised() -> RecordRejected:
    return RecordRejected(RejectCode.NOT_ASSIGNED, "no direct-billing authorisation covers this case reference "
                          "on the admission date", field="typedData.message.caseReference")


def direct_bill(
    session: Session, *, principal: Principal, message: Any, verify: Callable[[], Any], admission_date: dt.date,
    discharge_date: dt.date, diagnosis_code: str, items: Sequence[LineItemSpec],
    today: dt.date, now: dt.datetime, extra: dict[str, str] | None = None, consortium: Any = None,
) -> Claim:
    """Create, assess and settle a claim from a hospital's signed bill; the payee is the hospital.

    The bill's case reference is the policy number the insurer authorised the hospital for
    (a HOSPITAL_BILL assignment). Claim-side checks run first, on the not yet verified
    message, so a refusal stores nothing; then ``verify()`` (the partners domain's
    signed-record verification) stores the signed record, and its verified fields must
    equal the pre-checked ones.

    The authorisation is checked before anything about the policy, and "not assigned",
    "no such policy" and "not in force on the admission date" are one refusal
    (NOT_ASSIGNED, same field and message): a hospital learns nothing about policies it
    holds no assignment for.
    """
    if principal.role is not Role.PARTNER or principal.partner_id is None:
        raise ForbiddenError("only the billing hospital submits its bill", code="FORBIDDEN")
    pre = bill_from_message(message)
    if not assignments.is_assigned(session, partner_id=principal.partner_id, kind=AssignmentKind.HOSPITAL_BILL,
                                   case_reference=pre.case_reference):
        raise _not_authorised()
    policy = policy_service.policy_by_number(session, number=pre.case_reference)
    if policy is None:
        raise _not_authorised()
    if items_commitment(items) != pre.items_commitment:
        raise ValidationError("line items do not match the signed itemsCommitment", field="items",
                              code="ITEMS_MISMATCH")
    claimed = Decimal(pre.amount_fen) / 100
    _validate_items(items, claimed)
    validate_icd10(diagnosis_code, field="diagnosisCode")
    if discharge_date > today or admission_date > discharge_date:
        raise ValidationError("admission/discharge dates are not plausible", field="dischargeDate",
                              code="DATE_IN_FUTURE" if discharge_date > today else "INVALID")
    if not policy_service.covered_on(policy, admission_date):
        raise _not_authorised()
    bill = verified_bill(verify())
    if bill.partner_id != principal.partner_id or bill.items_commitment != pre.items_commitment \
            or bill.amount_fen != pre.amount_fen or bill.case_reference != pre.case_reference:
        raise ValidationError("the verified bill differs from the submitted one", field="typedData",
                              code="MALFORMED")
    # The claim names the hospital as registered, never a name the caller chose: duplicate
    # detection matches on it, so a free name would let a hospital probe other hospitals' claims.
    hospital_name = partner_loaders.partners_by_id(session, [bill.partner_id])[bill.partner_id].name
    system = Principal(subject=principal.subject, role=Role.ADMIN)  # the hospital may not read policies itself
    claim = report_claim(
        session, principal=system, policy_id=policy.id, event_date=admission_date, admission_date=admission_date,
        discharge_date=discharge_date, hospital=hospital_name, diagnosis_code=diagnosis_code, claimed_amount=claimed,
        channel=ClaimChannel.DIRECT_BILLING, items=items, today=today, now=now, partner_id=bill.partner_id,
    )
    claim.signed_record_id = bill.signed_record_id
    record_event(session, claim, actor=principal, kind=ClaimEventKind.SIGNED_BILL, at=now,
                 reason=Reason(ReasonCode.SIGNED_BILL_VERIFIED, {"billNumber": bill.bill_number, "amount": claimed}))
    session.flush()
    return submit_claim(session, principal=principal, claim_id=claim.id, expected_version=None, today=today,
                        now=now, extra=extra, consortium=consortium)
