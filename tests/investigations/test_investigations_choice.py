"""Auto-assignment's choice as a property: over any firms and any stream of investigations, greedy choices
never exceed a capacity, only pick approved assessor firms covering the region, and refuse only when none has room."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.investigations.firms import FirmSlot, by_region, choose, unfit_reason

REGIONS = ["110100", "310100", "330100", "440300"]

slots_strategy = st.lists(st.builds(
    FirmSlot,
    partner_id=st.integers(min_value=1, max_value=10_000),
    regions=st.frozensets(st.sampled_from(REGIONS), min_size=1),
    capacity=st.integers(min_value=1, max_value=6),
    quality=st.decimals(min_value=0, max_value=100, places=2),
    load=st.integers(min_value=0, max_value=3),
    approved=st.booleans(),
    assessor=st.booleans(),
), min_size=0, max_size=12, unique_by=lambda s: s.partner_id)


@settings(max_examples=300, deadline=None)
@given(slots=slots_strategy, wanted=st.lists(st.sampled_from([*REGIONS, None]), max_size=40))
def test_greedy_choices_never_exceed_capacity_and_refuse_only_when_full(
        slots: list[FirmSlot], wanted: list[str | None]) -> None:
    start = {s.partner_id: s.load for s in slots}
    grouped = by_region(slots)
    for n, region in enumerate(wanted):
        chosen = choose(grouped.get(region, ()), region=region, investigation_id=n)
        fit = [s for s in slots if unfit_reason(s, region) is None]
        if chosen is None:
            assert not fit  # nobody qualified had room
            continue
        assert chosen in fit and chosen.covers(region) and chosen.approved and chosen.assessor
        # the documented rule: quality 0.6 and free room 0.4, then the lower load, then the lower id
        assert chosen is min(fit, key=lambda s: (-(float(s.quality) / 100 * 0.6 + s.room / s.capacity * 0.4),
                                                s.load, s.partner_id))
        chosen.load += 1
    for s in slots:
        assert s.load <= max(s.capacity, start[s.partner_id])  # what it held before, or at most its capacity


@given(slot=st.builds(FirmSlot, partner_id=st.just(1), regions=st.just(frozenset({"330100"})),
                      capacity=st.integers(1, 5), quality=st.just(Decimal(50)), load=st.integers(0, 5)))
def test_a_firm_that_declined_is_not_asked_again(slot: FirmSlot) -> None:
    slot.declined.add(7)
    assert choose([slot], region="330100", investigation_id=7) is None
    assert (choose([slot], region="330100", investigation_id=8) is None) == (slot.room <= 0)
