"""Segments: boolean expressions over tags and attributes; size, membership, pages, export; experiment targets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db import transaction
from core.errors import DomainError, DomainErrors
from resolvers.operations import segments
from resolvers.operations.experiments import variant
from resolvers.operations.models import Flow
from resolvers.operations.outcomes import claim_subject
from resolvers.operations.tags import rules
from resolvers.operations.tags import service as tags
from tests.experiment_factories import make_experiment
from tests.factories import make_customer
from tests.tag_factories import AGENT, DAY, MANAGER, T0, events, manual_tag, rule_tag, wipe


def _setup(s: Any) -> tuple[list[int], Any]:
    born = [dt.date(1990, 1, 1), dt.date(2000, 1, 1), dt.date(1980, 1, 1), dt.date(1995, 6, 1)]
    cities = ["杭州", "上海", "杭州", "北京"]
    ids = [make_customer(s, birth=b, city=c).id for b, c in zip(born, cities, strict=True)]
    events(s, ids[0], "quote.viewed", T0 - DAY, T0 - 2 * DAY, productCode="MED-1")
    events(s, ids[1], "quote.viewed", T0 - DAY, T0 - 3 * DAY, productCode="MED-1")
    browser = rule_tag(s, "browser", {"op": "did", "event": "quote.viewed", "atLeast": 2, "withinDays": 30})
    vip = manual_tag(s, "vip")
    tags.add_manual_tag(s, principal=AGENT, tag_id=vip.id, customer_id=ids[2], reason_code="BIG_CLIENT", now=T0)
    return ids, browser


def test_size_membership_pages_and_export(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        ids, _ = _setup(s)
        seg = segments.define_segment(s, principal=MANAGER, key="hz-or-vip", expression={"op": "any", "of": [
            {"op": "all", "of": [{"op": "tag", "tag": "browser"}, {"op": "city", "in": ["杭州"]}]},
            {"op": "tag", "tag": "vip"}]})
        assert segments.size(s, segment_id=seg.id, now=T0) == 2
        assert [segments.is_member(s, segment_id=seg.id, customer_id=c, now=T0) for c in ids] == [
            True, False, True, False]
        young = segments.define_segment(s, principal=MANAGER, key="young", expression={"op": "all", "of": [
            {"op": "age", "min": 18, "max": 36}, {"op": "not", "of": {"op": "tag", "tag": "vip"}}]})
        assert list(segments.member_ids(s, segment_id=young.id, now=T0)) == [[ids[0], ids[1], ids[3]]]
        text = "".join(segments.export_csv(s, segment_id=seg.id, now=T0, encode_id=lambda pk: f"C{pk}"))
        assert text.splitlines() == ["customerId", f"C{ids[0]}", f"C{ids[2]}"]


def test_a_segment_reads_tags_not_behaviour_and_names_only_known_tags(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        _setup(s)
        with pytest.raises((DomainError, DomainErrors)) as caught:
            segments.define_segment(s, principal=MANAGER, key="bad", expression={"op": "all", "of": [
                {"op": "did", "event": "purchase", "atLeast": 1, "withinDays": 3}, {"op": "tag", "tag": "ghost"}]})
        errors = caught.value.errors if isinstance(caught.value, DomainErrors) else [caught.value]
        assert {(e.field, e.code) for e in errors} == {("expression.of[0]", "BEHAVIOUR_NOT_ALLOWED"),
                                                       ("expression.of[1].tag", "UNKNOWN_TAG")}
        vip = tags.tag_by_key(s, key="vip")
        assert vip is not None
        segments.define_segment(s, principal=MANAGER, key="vips", expression={"op": "tag", "tag": "vip"})
        with pytest.raises(DomainError) as in_use:
            tags.retire_tag(s, principal=MANAGER, tag_id=vip.id, now=T0)
        assert in_use.value.code == "TAG_IN_USE"


atoms = st.sampled_from([{"op": "tag", "tag": "browser"}, {"op": "tag", "tag": "vip"},
                         {"op": "age", "min": 20, "max": 40}, {"op": "city", "in": ["杭州"]},
                         {"op": "gender", "in": ["male"]}, {"op": "holdsProduct", "in": ["MED-1"]}])
expressions = st.recursive(atoms, lambda inner: st.one_of(
    st.builds(lambda xs: {"op": "all", "of": xs}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda xs: {"op": "any", "of": xs}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda x: {"op": "not", "of": x}, inner)), max_leaves=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=expressions)
def test_the_sql_of_an_expression_answers_as_the_rule_evaluator(session_factory: Any, expression: Any) -> None:
    """Segments compile to SQL; classes and rules evaluate in Python: both read the same facts alike."""
    with transaction(session_factory) as s:
        if tags.tag_by_key(s, key="vip") is None:
            wipe(s)
            _setup(s)
        cond = rules.parse(expression, tags={"browser", "vip"}, behaviour=False)
        ids = [i for batch in tags.reads.customer_ids(s) for i in batch[0]]
        attrs = tags.reads.attributes(s, ids)
        held = tags.tags_of(s, ids)
        expected = sorted(c for c in ids if rules.evaluate(cond, rules.Facts(
            birth_year=attrs[c].birth_year, city=attrs[c].city, gender=attrs[c].gender, products=attrs[c].products,
            tags=held[c]), T0))
        from sqlalchemy import select

        from resolvers.operations.tags.models import CustomerProfile

        got = sorted(s.scalars(select(CustomerProfile.customer_id).where(segments.condition(s, cond, now=T0))))
        assert got == expected


def test_an_experiment_on_a_segment_assigns_only_its_members(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        ids, _ = _setup(s)
        seg = segments.define_segment(s, principal=MANAGER, key="browsers", expression={"op": "tag", "tag": "browser"})
        exp = make_experiment(s, "claim-browsers", segment_id=seg.id)
        assert segments.segment_of_experiment(s, experiment_id=exp.id) == seg.id
        got = {c: variant(s, flow=Flow.CLAIM, subject=claim_subject(c), now=T0) for c in ids}
        assert {c for c, a in got.items() if a.in_experiment} == {ids[0], ids[1]}
        assert not variant(s, flow=Flow.CLAIM, subject="anonymous:abc", now=T0).in_experiment
        # a member who leaves the segment keeps the variant already given (sticky)
        tags.expire(s, now=T0 + 40 * DAY)
        assert not segments.is_member(s, segment_id=seg.id, customer_id=ids[0], now=T0 + 40 * DAY)
        again = variant(s, flow=Flow.CLAIM, subject=claim_subject(ids[0]), now=T0 + 40 * DAY)
        assert again.variant == got[ids[0]].variant and again.in_experiment
