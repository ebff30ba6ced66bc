"""Customer tags: rules over behaviour in windows and attributes, manual tags, history, time passing, classes;
the incremental path agrees with a full rebuild."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.db import transaction
from core.errors import DomainError, DomainErrors
from resolvers.operations.tags import rules
from resolvers.operations.tags import service as tags
from resolvers.operations.tags.models import TagChange, TagHistory, TagKind
from tests.factories import make_customer, make_policy, make_product
from tests.tag_factories import AGENT, DAY, MANAGER, T0, events, held, keys, manual_tag, rule_tag, wipe


def _codes(exc: BaseException) -> set[tuple[str | None, str]]:
    errors = exc.errors if isinstance(exc, DomainErrors) else [exc]
    return {(e.field, e.code) for e in errors}  # type: ignore[union-attr]


def test_a_rule_that_does_not_parse_is_refused_with_every_problem(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        manual_tag(s, "vip")
        with pytest.raises((DomainError, DomainErrors)) as caught:
            rule_tag(s, "bad", {"op": "all", "of": [
                {"op": "did", "event": "no.such.event", "atLeast": 0, "withinDays": 0},
                {"op": "tag", "tag": "ghost"}, {"op": "tag", "tag": "bad"}, {"op": "age", "min": 40, "max": 30}]})
        assert _codes(caught.value) >= {("rule.of[0].event", "UNKNOWN_EVENT"), ("rule.of[0].withinDays", "BAD_WINDOW"),
                                        ("rule.of[0].atLeast", "BAD_COUNT"), ("rule.of[1].tag", "UNKNOWN_TAG"),
                                        ("rule.of[3]", "BAD_AGE_BAND")}


def test_a_tag_referring_to_itself_or_through_a_cycle_is_refused(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        with pytest.raises((DomainError, DomainErrors)) as caught:
            rule_tag(s, "selfish", {"op": "not", "of": {"op": "tag", "tag": "selfish"}})
        assert ("rule", "SELF_REFERENCE") in _codes(caught.value)
    # a -> b exists; defining b to read a closes a cycle (b is checked through a's rule)
    deps = {"a": {"b"}, "b": set()}
    with pytest.raises(rules.RuleProblems) as problems:
        rules.parse({"op": "tag", "tag": "a"}, tags={"a", "b"}, self_key="b", depends=lambda k: deps[k])
    assert [p.code for p in problems.value.problems] == ["TAG_CYCLE"]


def test_did_at_least_n_times_in_the_last_days_holds_until_the_window_closes(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c = make_customer(s)
        events(s, c.id, "quote.viewed", T0 - 10 * DAY, T0 - 5 * DAY, T0 - DAY)
        rule_tag(s, "browser", {"op": "did", "event": "quote.viewed", "atLeast": 3, "withinDays": 30})
        assert held(s) == {(c.id, "browser")}
        tags.expire(s, now=T0 + 19 * DAY)  # the oldest view is 29 days old: still in
        assert held(s) == {(c.id, "browser")}
        tags.expire(s, now=T0 + 20 * DAY)  # 30 days: out of the window, two views left
        assert held(s) == set()
        history = list(s.scalars(select(TagHistory).order_by(TagHistory.id)))
        assert [(h.gained, h.cause, h.at) for h in history] == [
            (True, TagChange.REDEFINED, T0), (False, TagChange.RULE, T0 + 20 * DAY)]


def test_never_first_time_and_stopped(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        buyer, browser, idle = make_customer(s), make_customer(s), make_customer(s)
        events(s, buyer.id, "purchase", T0 - 2 * DAY, productCode="MED-1", premium="100.00")
        events(s, browser.id, "page.viewed", T0 - 100 * DAY, path="/")
        events(s, idle.id, "page.viewed", T0 - DAY, path="/")
        rule_tag(s, "never-bought", {"op": "never", "event": "purchase"})
        rule_tag(s, "new-buyer", {"op": "firstTime", "event": "purchase", "withinDays": 7})
        rule_tag(s, "lapsed-visitor", {"op": "stopped", "event": "page.viewed", "withinDays": 90})
        assert held(s) == {(browser.id, "never-bought"), (idle.id, "never-bought"), (buyer.id, "new-buyer"),
                           (browser.id, "lapsed-visitor")}
        tags.expire(s, now=T0 + 89 * DAY)  # idle's last visit 90 days ago; buyer's first purchase 91 days
        assert held(s) == {(browser.id, "never-bought"), (idle.id, "never-bought"), (browser.id, "lapsed-visitor"),
                           (idle.id, "lapsed-visitor")}


def test_new_events_reach_tags_incrementally(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c = make_customer(s)
        rule_tag(s, "engaged", {"op": "did", "event": "consultation.opened", "atLeast": 2, "withinDays": 7})
        tags.apply_new_events(s, now=T0)
        events(s, c.id, "consultation.opened", T0 - DAY)
        tags.apply_new_events(s, now=T0)
        assert held(s) == set()
        events(s, c.id, "consultation.opened", T0)
        assert tags.apply_new_events(s, now=T0) == 1
        assert held(s) == {(c.id, "engaged")}
        assert tags.apply_new_events(s, now=T0) == 0  # nothing new: nothing re-read


def test_attributes_age_city_and_products_held(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        product = make_product(s, code="MED-9")
        young = make_customer(s, birth=dt.date(1998, 5, 1), city="杭州")
        old = make_customer(s, birth=dt.date(1970, 5, 1), city="上海")
        rule_tag(s, "young-hz", {"op": "all", "of": [{"op": "age", "min": 18, "max": 30},
                                                      {"op": "city", "in": ["杭州"]}]})
        rule_tag(s, "med9", {"op": "holdsProduct", "in": ["MED-9"]})
        assert held(s) == {(young.id, "young-hz")}
        make_policy(s, today=T0.date(), customer=old, product=product)
        tags.rebuild(s, now=T0)
        assert held(s) == {(young.id, "young-hz"), (old.id, "med9")}
        # a new business year ages everyone: 2027 - 1998 = 29 still young; the state says when to look again
        tags.expire(s, now=dt.datetime(2034, 12, 31, 16, 0, tzinfo=dt.UTC))  # 2035-01-01 in Beijing: 37
        assert held(s) == {(old.id, "med9")}


def test_manual_tags_need_a_reason_code_and_rules_reading_them_follow(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c = make_customer(s)
        vip = manual_tag(s, "vip")
        rule_tag(s, "vip-in-hz", {"op": "all", "of": [{"op": "tag", "tag": "vip"}, {"op": "city", "in": ["杭州"]}]})
        with pytest.raises((DomainError, DomainErrors)) as caught:
            tags.add_manual_tag(s, principal=AGENT, tag_id=vip.id, customer_id=c.id, reason_code="because", now=T0)
        assert _codes(caught.value) == {("reasonCode", "BAD_REASON_CODE")}
        assert tags.add_manual_tag(s, principal=AGENT, tag_id=vip.id, customer_id=c.id, reason_code="BIG_CLIENT",
                                   now=T0)
        assert not tags.add_manual_tag(s, principal=AGENT, tag_id=vip.id, customer_id=c.id,
                                       reason_code="BIG_CLIENT", now=T0)  # held already: nothing happens
        assert keys(tags.customer_tags(s, customer_id=c.id)) == ["vip", "vip-in-hz"]
        engaged = tags.tag_by_key(s, key="vip-in-hz")
        assert engaged is not None
        with pytest.raises((DomainError, DomainErrors)) as caught:
            tags.add_manual_tag(s, principal=AGENT, tag_id=engaged.id, customer_id=c.id, reason_code="X_Y", now=T0)
        assert _codes(caught.value) == {("tagId", "NOT_MANUAL")}
        assert tags.remove_manual_tag(s, principal=AGENT, tag_id=vip.id, customer_id=c.id, reason_code="DOWNGRADED",
                                      now=T0 + DAY)
        assert keys(tags.customer_tags(s, customer_id=c.id)) == []
        history = [(h.gained, h.cause, h.reason_code) for h in s.scalars(
            tags.history_query(customer_id=c.id).order_by(TagHistory.id))]
        assert history == [(True, TagChange.MANUAL, "BIG_CLIENT"), (True, TagChange.RULE, None),
                           (False, TagChange.MANUAL, "DOWNGRADED"), (False, TagChange.RULE, None)]
        with pytest.raises(DomainError) as in_use:
            tags.retire_tag(s, principal=MANAGER, tag_id=vip.id, now=T0)
        assert in_use.value.code == "TAG_IN_USE"


def test_classes_take_the_first_matching_rule(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        gold, silver, other = make_customer(s), make_customer(s), make_customer(s)
        events(s, gold.id, "purchase", T0 - DAY, T0 - 2 * DAY, productCode="MED-1", premium="900.00")
        events(s, silver.id, "purchase", T0 - DAY, productCode="MED-1", premium="90.00")
        rule_tag(s, "repeat-buyer", {"op": "did", "event": "purchase", "atLeast": 2, "withinDays": 365})
        rule_tag(s, "buyer", {"op": "did", "event": "purchase", "atLeast": 1, "withinDays": 365})
        tags.set_class_scheme(s, principal=MANAGER, key="value_tier", classes=[
            ("gold", {"op": "tag", "tag": "repeat-buyer"}), ("silver", {"op": "tag", "tag": "buyer"})])
        assert tags.classify(s, customer_ids=[gold.id, silver.id, other.id], now=T0) == {
            gold.id: {"value_tier": "gold"}, silver.id: {"value_tier": "silver"}, other.id: {"value_tier": None}}
        with pytest.raises((DomainError, DomainErrors)) as caught:
            tags.set_class_scheme(s, principal=MANAGER, key="bad", classes=[
                ("x1", {"op": "did", "event": "purchase", "atLeast": 1, "withinDays": 3})])
        assert _codes(caught.value) == {("classes[0].when", "BEHAVIOUR_NOT_ALLOWED")}


# --- incremental == rebuild ------------------------------------------------------------------------

NAMES = ["quote.viewed", "consultation.opened", "claim.reported"]
RULES = {
    "r-did": {"op": "did", "event": "quote.viewed", "atLeast": 2, "withinDays": 3},
    "r-never": {"op": "never", "event": "claim.reported"},
    "r-first": {"op": "firstTime", "event": "consultation.opened", "withinDays": 2},
    "r-stopped": {"op": "stopped", "event": "quote.viewed", "withinDays": 4},
    "r-combo": {"op": "all", "of": [{"op": "tag", "tag": "r-did"}, {"op": "not", "of": {"op": "tag", "tag": "mm"}}]},
}
step = st.tuples(st.integers(0, 2), st.sampled_from(NAMES), st.integers(-72 * 60, 5))  # customer, name, minutes
rounds = st.lists(st.tuples(st.lists(step, max_size=5), st.integers(0, 60), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=rounds)
def test_incremental_updates_equal_a_full_rebuild(session_factory: Any, plan: list[Any]) -> None:
    """Rounds of new events, time passing (hours) and manual changes: consumer + expiry == rebuild, every round."""
    with transaction(session_factory) as s:
        wipe(s)
        customers = _customers(s)
        manual = manual_tag(s, "mm")
        for key, rule in RULES.items():
            rule_tag(s, key, rule)
        tags.apply_new_events(s, now=T0)
    now = T0
    for new_events, hours, toggle in plan:
        now += dt.timedelta(hours=hours)
        with transaction(session_factory) as s:
            for who, name, offset in new_events:
                events(s, customers[who], name, now + dt.timedelta(minutes=offset))
            if toggle and not tags.add_manual_tag(s, principal=AGENT, tag_id=manual.id, customer_id=customers[0],
                                                  reason_code="QA_TOGGLE", now=now):
                tags.remove_manual_tag(s, principal=AGENT, tag_id=manual.id, customer_id=customers[0],
                                       reason_code="QA_TOGGLE", now=now)
            tags.apply_new_events(s, now=now)
            tags.expire(s, now=now)
            incremental = held(s)
            tags.rebuild(s, now=now)
            assert held(s) == incremental
            assert not list(s.scalars(tags.history_query().where(TagHistory.cause == TagChange.REBUILD)))


def _customers(s: Any) -> list[int]:
    """Three customers, made once per database (examples share it)."""
    from resolvers.operations.tags import reads

    known = [i for ids, _ in reads.customer_ids(s) for i in ids]
    while len(known) < 3:
        known.append(make_customer(s).id)
    return known[:3]


def test_a_manual_tag_kind_has_no_rule(session_factory: Any) -> None:
    with transaction(session_factory) as s, pytest.raises((DomainError, DomainErrors)) as caught:
        tags.define_tag(s, principal=MANAGER, key="m2", kind=TagKind.MANUAL, rule={"op": "never", "event": "purchase"},
                        now=T0)
    assert _codes(caught.value) == {("rule", "RULE_NOT_ALLOWED")}


def test_a_visitor_identified_later_brings_their_anonymous_events_to_the_customer_tags(session_factory: Any) -> None:
    from resolvers.operations import behaviour
    from resolvers.operations.models import BehaviourEvent

    with transaction(session_factory) as s:
        c = make_customer(s)
        rule_tag(s, "browser", {"op": "did", "event": "quote.viewed", "atLeast": 2, "withinDays": 30})
        tags.apply_new_events(s, now=T0)
        s.execute(BehaviourEvent.__table__.insert(), [  # type: ignore[attr-defined]
            {"event_id": f"anon-evt-{i:04d}", "name": "quote.viewed", "customer_id": None, "anonymous_id": "visitor-0001",
             "occurred_at": T0 - i * DAY, "received_at": T0, "properties": {"productCode": "MED-1"}, "source": "web"}
            for i in (1, 2)])
        tags.apply_new_events(s, now=T0)
        assert held(s) == set()  # nobody to count them for yet
        behaviour.identify(s, principal=AGENT, anonymous_id="visitor-0001", customer_id=c.id, now=T0)
        assert tags.apply_new_events(s, now=T0) == 1
        assert held(s) == {(c.id, "browser")}
        tags.rebuild(s, now=T0)
        assert held(s) == {(c.id, "browser")}


def test_many_customers_read_every_event_once_with_the_same_answers(session_factory: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Above STREAM_ABOVE customers an evaluation streams all events instead of a query per customer: same tags."""
    with transaction(session_factory) as s:
        ids = [make_customer(s).id for _ in range(4)]
        for i, c in enumerate(ids):
            events(s, c, "quote.viewed", *[T0 - (k + 1) * DAY for k in range(i + 1)], productCode="MED-1")
        rule_tag(s, "browser", {"op": "did", "event": "quote.viewed", "atLeast": 2, "withinDays": 3})
        expected = {(ids[1], "browser"), (ids[2], "browser"), (ids[3], "browser")}
        assert held(s) == expected  # a query per customer (fewer than STREAM_ABOVE)
        tags.reset_states(s)
        monkeypatch.setattr(tags, "STREAM_ABOVE", 0)
        tags.evaluate_customers(s, ids, now=T0 + DAY / 2, cause=TagChange.RULE)
        assert held(s) == expected  # the same from one pass over every event
        tags.evaluate_customers(s, ids, now=T0 + DAY, cause=TagChange.RULE)
        assert held(s) == set()  # T0 - 2 days left the window


def test_a_policy_issued_reaches_tags_through_the_event_stream(session_factory: Any) -> None:
    from core.clock import moved_clock
    from core.event_stream import drain
    from resolvers.operations.tags.events import TAG_CONSUMER

    with transaction(session_factory) as s:
        product = make_product(s, code="MED-7")
        c = make_customer(s)
        rule_tag(s, "med7", {"op": "holdsProduct", "in": ["MED-7"]})
        tags.apply_new_events(s, now=T0)
        make_policy(s, today=T0.date(), customer=c, product=product)  # appends policy.issued
    with moved_clock(T0):
        drain(session_factory, TAG_CONSUMER)
    with transaction(session_factory) as s:
        assert held(s) == {(c.id, "med7")}
        history = list(s.scalars(tags.history_query(customer_id=c.id)))
        assert [(h.gained, h.cause, h.actor) for h in history] == [(True, TagChange.RULE, "system:operations.tags")]
