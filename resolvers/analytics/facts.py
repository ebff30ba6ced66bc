"""Facts: what one policy or claim contributes to the rollups, derived from its current state.

One pure function per source kind turns a row's view into fact rows. The incremental
consumer and the offline rebuild both call them, so both give the same rollups by
construction (``rollups.py`` applies only the difference when a row changes).

Fact kinds (``Fact``):

* flow facts, dated by the instant or business date they happened: a policy issued (new
  business) or renewed, with its premium; cancelled, surrendered, lapsed (on their end date);
  a renewal due (the period ended, on its last day) and kept (it was renewed); a claim
  reported; a claim paid (when it first became paid, with the amount paid) and, when it was a
  fast claim, also ``claim_paid_fast``; and ``claim_cycle_hours`` (its amount: the hours from
  report to first paid); an advance paid out (on its payout date, with the amount), the same
  advance again as ``advance_went_overdue`` once it went overdue (a cohort: dated by payout), and
  ``advance_defaulted`` on its default date with the amount written off;
* level facts, stored as deltas on the day a level changes: ``in_force`` (+1 on the first
  covered day, -1 the day after the last) and ``premium_rate`` (the premium per covered day):
  a cancelled policy (void from the start) contributes neither; a surrendered or lapsed one
  stops on its end date.

Example::

    rows = policy_facts(view)   # [FactRow(fact=Fact.POLICY_ISSUED, day=..., count=1, amount=premium), ...]
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.clock import business_zone
from resolvers.advances.facts import AdvanceView
from resolvers.claims.facts import ClaimView
from resolvers.policies.facts import PolicyView
from resolvers.policies.service import PolicyStatus
from resolvers.service.facts import ComplaintView

__all__ = [
    "AGE_BANDS",
    "LEVEL_FACTS",
    "UNKNOWN_REGION",
    "Fact",
    "FactKey",
    "FactRow",
    "advance_facts",
    "age_band",
    "claim_facts",
    "policy_facts",
    "summed",
]

#: Age bands (inclusive lower bounds); the insured's age when the policy started.
AGE_BANDS: tuple[tuple[str, int], ...] = (("0-17", 0), ("18-24", 18), ("25-34", 25), ("35-44", 35), ("45-54", 45),
                                          ("55-64", 55), ("65+", 65))
UNKNOWN_REGION = "unknown"
_RATE_PLACES = Decimal("0.00000001")
_HOURS = Decimal("0.0001")


class Fact(enum.StrEnum):
    """A kind of fact in the rollups (see module docstring)."""

    POLICY_ISSUED = "policy_issued"
    POLICY_RENEWED = "policy_renewed"
    POLICY_CANCELLED = "policy_cancelled"
    POLICY_SURRENDERED = "policy_surrendered"
    POLICY_LAPSED = "policy_lapsed"
    RENEWAL_DUE = "renewal_due"
    RENEWAL_KEPT = "renewal_kept"
    IN_FORCE = "in_force"
    PREMIUM_RATE = "premium_rate"
    CLAIM_REPORTED = "claim_reported"
    CLAIM_PAID = "claim_paid"
    CLAIM_PAID_FAST = "claim_paid_fast"
    CLAIM_CYCLE_HOURS = "claim_cycle_hours"  # one per paid claim: hours from report to first paid
    ADVANCE_PAID = "advance_paid"  # on its payout date, with the amount advanced
    ADVANCE_WENT_OVERDUE = "advance_went_overdue"  # on its payout date: this advance went overdue since
    ADVANCE_DEFAULTED = "advance_defaulted"  # on its default date, with the amount written off
    COMPLAINT_RECEIVED = "complaint_received"  # when received, grouped by the policy it names (if any)
    COMPLAINT_LATE = "complaint_late"  # the same complaint, once decided after the regulator's deadline


#: Facts stored as deltas of a level (summed up to a day, they give the level on that day).
LEVEL_FACTS = frozenset({Fact.IN_FORCE, Fact.PREMIUM_RATE})

#: Where a fact row is summed: fact, business date, business hour, product, age band, region.
FactKey = tuple[str, dt.date, int, int, str, str]


@dataclass(frozen=True, slots=True)
class FactRow:
    """One fact of a source row: where it is summed and what it adds."""

    fact: Fact
    day: dt.date
    hour: int
    product_id: int
    age_band: str
    region: str
    count: int
    amount: Decimal

    @property
    def key(self) -> FactKey:
        """Where this row is summed in the rollups."""
        return (self.fact.value, self.day, self.hour, self.product_id, self.age_band, self.region)


def age_band(age: int) -> str:
    """The band of an age (``AGE_BANDS``)."""
    band = AGE_BANDS[0][0]
    for name, lower in AGE_BANDS:
        if age >= lower:
            band = name
    return band


def _local(at: dt.datetime) -> tuple[dt.date, int]:
    local = at.astimezone(business_zone())
    return local.date(), local.hour


def _dims(view: PolicyView) -> tuple[int, str, str]:
    return view.product_id, age_band(view.insured_age), (view.city or "").strip() or UNKNOWN_REGION


def policy_facts(view: PolicyView) -> list[FactRow]:
    """The facts one policy contributes, from its current state."""
    product, band, region = _dims(view)

    def row(fact: Fact, day: dt.date, hour: int = 0, count: int = 1, amount: Decimal = Decimal(0)) -> FactRow:
        return FactRow(fact, day, hour, product, band, region, count, amount)

    day, hour = _local(view.issued_at)
    issued = Fact.POLICY_RENEWED if view.renewed_from_id is not None else Fact.POLICY_ISSUED
    rows = [row(issued, day, hour, amount=view.premium)]
    ended = {PolicyStatus.CANCELLED: Fact.POLICY_CANCELLED, PolicyStatus.SURRENDERED: Fact.POLICY_SURRENDERED,
             PolicyStatus.LAPSED: Fact.POLICY_LAPSED}.get(view.status)
    if ended is not None and view.ended_on is not None:
        rows.append(row(ended, view.ended_on))
    if view.status is PolicyStatus.EXPIRED or view.renewed_by_id is not None:
        rows.append(row(Fact.RENEWAL_DUE, view.period_end))
        if view.renewed_by_id is not None:
            rows.append(row(Fact.RENEWAL_KEPT, view.period_end))
    if view.status is not PolicyStatus.CANCELLED:
        last = view.period_end
        if view.status in (PolicyStatus.SURRENDERED, PolicyStatus.LAPSED) and view.ended_on is not None:
            last = min(max(view.ended_on, view.period_start), view.period_end)
        days = (view.period_end - view.period_start).days + 1
        rate = (view.premium / Decimal(days)).quantize(_RATE_PLACES)
        after = last + dt.timedelta(days=1)
        rows += [row(Fact.IN_FORCE, view.period_start), row(Fact.IN_FORCE, after, count=-1),
                 row(Fact.PREMIUM_RATE, view.period_start, count=0, amount=rate),
                 row(Fact.PREMIUM_RATE, after, count=0, amount=-rate)]
    return rows


def claim_facts(view: ClaimView, policy: PolicyView | None) -> list[FactRow]:
    """The facts one claim contributes (grouped by its policy's dimensions), from its current state."""
    if policy is None:
        return []
    product, band, region = _dims(policy)
    day, hour = _local(view.reported_at)
    rows = [FactRow(Fact.CLAIM_REPORTED, day, hour, product, band, region, 1, Decimal(0))]
    if view.paid_at is not None:
        day, hour = _local(view.paid_at)
        rows.append(FactRow(Fact.CLAIM_PAID, day, hour, product, band, region, 1, view.paid_amount))
        if view.fast_track:
            rows.append(FactRow(Fact.CLAIM_PAID_FAST, day, hour, product, band, region, 1, view.paid_amount))
        hours = Decimal(max(0.0, (view.paid_at - view.reported_at).total_seconds()) / 3600).quantize(_HOURS)
        rows.append(FactRow(Fact.CLAIM_CYCLE_HOURS, day, hour, product, band, region, 1, hours))
    return rows


def advance_facts(view: AdvanceView, policy: PolicyView | None) -> list[FactRow]:
    """The facts one advance contributes (grouped by its policy's dimensions), from its current state."""
    if policy is None or view.paid_on is None:
        return []
    product, band, region = _dims(policy)
    rows = [FactRow(Fact.ADVANCE_PAID, view.paid_on, 0, product, band, region, 1, view.advanced)]
    if view.went_overdue:
        rows.append(FactRow(Fact.ADVANCE_WENT_OVERDUE, view.paid_on, 0, product, band, region, 1, view.advanced))
    if view.defaulted_on is not None:
        rows.append(FactRow(Fact.ADVANCE_DEFAULTED, view.defaulted_on, 0, product, band, region, 1, view.written_off))
    return rows


def complaint_facts(view: ComplaintView, policy: PolicyView | None) -> list[FactRow]:
    """The facts one complaint contributes (its policy's dimensions; none named: product 0, unknown band/region)."""
    product, band, region = _dims(policy) if policy is not None else (0, "unknown", UNKNOWN_REGION)
    day, hour = _local(view.received_at)
    rows = [FactRow(Fact.COMPLAINT_RECEIVED, day, hour, product, band, region, 1, Decimal(0))]
    if view.late:
        rows.append(FactRow(Fact.COMPLAINT_LATE, day, hour, product, band, region, 1, Decimal(0)))
    return rows


def summed(rows: Iterable[FactRow], sign: int = 1) -> dict[FactKey, tuple[int, Decimal]]:
    """Rows summed by key (``sign`` -1 subtracts them)."""
    out: dict[FactKey, tuple[int, Decimal]] = {}
    for r in rows:
        c, a = out.get(r.key, (0, Decimal(0)))
        out[r.key] = (c + sign * r.count, a + sign * r.amount)
    return out
