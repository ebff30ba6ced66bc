"""Benefit calculation: coverage check and line-by-line payable amounts with reason codes.

Pure functions over plain data (no Session), so the same code runs for adjusters, the
fast-claim path and the benchmark. ``coverage_context`` gathers the data from the store.

Order per claim: policy in force on the event date -> waiting period -> excluded
diagnosis; then per line: covered category -> category sublimit; then the deductible
still open this policy year, the co-pay, and the annual limit still open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resolvers.claims.eob import REJECTING, BenefitCode, EobLine, ExplanationOfBenefits
from resolvers.claims.models import Claim, ClaimLineItem, ClaimState
from resolvers.policies import loaders as policy_loaders
from resolvers.policies.service import PolicyStatus

__all__ = ["Assessment", "CoverageContext", "LineResult", "annual_limit_used", "assess", "coverage_context"]

CENT = Decimal("0.01")
ZERO = Decimal(0)

#: States whose approved amounts count against limits and deductibles.
_USING = (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED, ClaimState.PAID, ClaimState.CLOSED)


def _money(v: Decimal) -> Decimal:
    return v.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CoverageContext:
    """What the benefit calculation needs of the policy, product and the year's earlier claims."""

    policy_status: PolicyStatus
    period_start: dt.date
    period_end: dt.date
    ended_on: dt.date | None
    renewed: bool
    exclusions: tuple[str, ...]
    waiting_period_days: int
    annual_limit: Decimal
    deductible: Decimal
    copay_rate: Decimal
    sublimits: dict[str, Decimal | None]  # covered category -> sublimit (None: no sublimit)
    used_total: Decimal = ZERO
    used_deductible: Decimal = ZERO
    used_by_category: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class LineIn:
    """A line item to assess."""

    item_code: str
    category: str
    amount: Decimal
    quantity: int


@dataclass
class LineResult:
    """The decision on one line."""

    item_code: str
    category: str
    claimed: Decimal
    covered: Decimal = ZERO
    deductible: Decimal = ZERO
    copay: Decimal = ZERO
    payable: Decimal = ZERO
    codes: list[BenefitCode] = field(default_factory=list)

    @property
    def rejection(self) -> BenefitCode | None:
        """The code that rejected (part of) the line, if any."""
        return next((c for c in self.codes if c in REJECTING), None)


@dataclass
class Assessment:
    """The outcome: state to move to, payable total, lines, and the explanation of benefits."""

    state: ClaimState
    payable: Decimal
    deductible: Decimal
    lines: list[LineResult]
    claim_codes: list[BenefitCode]
    annual_limit: Decimal | None = None
    annual_limit_used: Decimal | None = None  # this policy year, this claim's payable included

    def eob(self) -> ExplanationOfBenefits:
        """The explanation of benefits (``reasons.eob_summary`` words its codes per locale)."""
        return ExplanationOfBenefits(
            outcome=self.state, claimed=sum((ln.claimed for ln in self.lines), ZERO), payable=self.payable,
            deductible=self.deductible, copay=sum((ln.copay for ln in self.lines), ZERO),
            annual_limit=self.annual_limit, annual_limit_used=self.annual_limit_used,
            claim_codes=tuple(self.claim_codes),
            lines=tuple(EobLine(item_code=ln.item_code, category=ln.category, claimed=ln.claimed, covered=ln.covered,
                                deductible=ln.deductible, copay=ln.copay, payable=ln.payable, codes=tuple(ln.codes))
                        for ln in self.lines),
        )


def assess(ctx: CoverageContext, *, event_date: dt.date, diagnosis: str, lines: Sequence[LineIn]) -> Assessment:
    """Line-by-line benefit calculation; never touches the store."""
    results = [LineResult(ln.item_code, ln.category, _money(ln.amount)) for ln in lines]
    claim_codes: list[BenefitCode] = []
    last_day = ctx.ended_on - dt.timedelta(days=1) if ctx.ended_on else ctx.period_end
    in_force = (ctx.policy_status in (PolicyStatus.ACTIVE, PolicyStatus.EXPIRED, PolicyStatus.LAPSED,
                                      PolicyStatus.SURRENDERED)
                and ctx.period_start <= event_date <= min(ctx.period_end, last_day))
    if ctx.policy_status is PolicyStatus.CANCELLED or not in_force:
        claim_codes.append(BenefitCode.POLICY_NOT_IN_FORCE)
    elif not ctx.renewed and event_date < ctx.period_start + dt.timedelta(days=ctx.waiting_period_days):
        claim_codes.append(BenefitCode.WAITING_PERIOD)
    elif any(diagnosis.upper().startswith(x.upper()) for x in ctx.exclusions):
        claim_codes.append(BenefitCode.EXCLUDED_CONDITION)
    if claim_codes:
        for r in results:
            r.codes.append(claim_codes[0])
        return Assessment(ClaimState.REJECTED, ZERO, ZERO, results, claim_codes, ctx.annual_limit,
                          min(ctx.used_total, ctx.annual_limit))

    used_cat = dict(ctx.used_by_category)
    deductible_left = max(ctx.deductible - ctx.used_deductible, ZERO)
    limit_left = max(ctx.annual_limit - ctx.used_total, ZERO)
    partial = False
    deductible_total = ZERO
    for r in results:
        if r.category not in ctx.sublimits:
            r.codes.append(BenefitCode.NOT_COVERED)
            partial = True
            continue
        covered = r.claimed
        sub = ctx.sublimits[r.category]
        if sub is not None:
            room = max(sub - used_cat.get(r.category, ZERO), ZERO)
            if covered > room:
                covered = room
                r.codes.append(BenefitCode.SUBLIMIT_REACHED)
                partial = True
            used_cat[r.category] = used_cat.get(r.category, ZERO) + covered
        r.covered = covered
        ded = min(deductible_left, covered)
        if ded > 0:
            r.deductible = ded
            deductible_left -= ded
            deductible_total += ded
            r.codes.append(BenefitCode.DEDUCTIBLE)
        base = covered - ded
        r.copay = _money(base * ctx.copay_rate)
        if r.copay > 0:
            r.codes.append(BenefitCode.COPAY)
        pay = base - r.copay
        if pay > limit_left:
            pay = limit_left
            r.codes.append(BenefitCode.ANNUAL_LIMIT_REACHED)
            partial = True
        limit_left -= pay
        r.payable = _money(pay)
    payable = sum((r.payable for r in results), ZERO)
    covered_any = any(r.covered > 0 for r in results)
    if not covered_any:
        state = ClaimState.REJECTED
    elif partial:
        state = ClaimState.PARTIALLY_APPROVED
    else:
        state = ClaimState.APPROVED
    return Assessment(state, payable, deductible_total, results, claim_codes, ctx.annual_limit,
                      min(ctx.used_total + payable, ctx.annual_limit))


def coverage_context(session: Session, *, claim: Claim) -> CoverageContext:
    """Gather policy, product and this policy year's earlier approvals for ``claim`` (4 queries)."""
    policy = policy_loaders.policies_by_id(session, [claim.policy_id])[claim.policy_id]
    product = policy_loaders.products_by_id(session, [policy.product_id])[policy.product_id]
    items = policy_loaders.coverage_items_by_product(session, [product.id])[product.id]
    others = (Claim.policy_id == policy.id, Claim.id != claim.id, Claim.state.in_(_USING))
    used_total, used_ded = session.execute(
        select(func.coalesce(func.sum(Claim.approved_amount), 0), func.coalesce(func.sum(Claim.deductible_applied), 0))
        .where(*others)
    ).one()
    by_cat = {
        str(cat): Decimal(str(total))
        for cat, total in session.execute(
            select(ClaimLineItem.category, func.sum(ClaimLineItem.approved_amount))
            .join(Claim, Claim.id == ClaimLineItem.claim_id)
            .where(*others)
            .group_by(ClaimLineItem.category)
        )
        if total is not None
    }
    return CoverageContext(
        policy_status=policy.status, period_start=policy.period_start, period_end=policy.period_end,
        ended_on=policy.ended_on if policy.status is not PolicyStatus.EXPIRED else None,
        renewed=policy.renewed_from_id is not None, exclusions=tuple(policy.exclusions or ()),
        waiting_period_days=product.waiting_period_days, annual_limit=product.annual_limit,
        deductible=product.deductible, copay_rate=product.copay_rate,
        sublimits={c.category: c.sublimit for c in items},
        used_total=Decimal(str(used_total)), used_deductible=Decimal(str(used_ded)), used_by_category=by_cat,
    )


def lines_of(items: Sequence[ClaimLineItem]) -> list[LineIn]:
    """Line inputs from stored line items."""
    return [LineIn(i.item_code, i.category, i.amount, i.quantity) for i in items]


def annual_limit_used(session: Session, *, policy_id: int) -> Decimal:
    """What the policy's decided claims have used of its annual limit (advances read it through here)."""
    used = session.scalar(select(func.coalesce(func.sum(Claim.approved_amount), 0))
                          .where(Claim.policy_id == policy_id, Claim.state.in_(_USING)))
    return Decimal(str(used))
