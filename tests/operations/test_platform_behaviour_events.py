"""The platform's own flows become behaviour events: one per domain event, none more after a replay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core.clock import moved_clock
from core.db import transaction
from core.event_stream import drain, replay
from resolvers.operations import behaviour
from resolvers.operations.models import BehaviourEvent
from resolvers.operations.platform_events import BEHAVIOUR_CONSUMER, PLATFORM_EVENTS
from resolvers.policies import service as policies
from tests.claim_factories import make_claim_policy, report
from tests.factories import ADMIN, make_policy

TODAY = dt.date(2026, 6, 1)
AT = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)


def _platform_rows(session_factory: Any) -> list[tuple[str, int | None, str]]:
    with transaction(session_factory) as s:
        return [tuple(r) for r in s.execute(select(BehaviourEvent.name, BehaviourEvent.customer_id,
                                                   BehaviourEvent.source).order_by(BehaviourEvent.id))]


def test_policies_and_claims_make_one_behaviour_event_each_also_after_a_replay(session_factory: Any) -> None:
    with moved_clock(AT), transaction(session_factory) as s:
        issued = make_policy(s, today=TODAY)
        surrendered = make_policy(s, today=TODAY)
        policies.surrender_policy(s, principal=ADMIN, policy_id=surrendered.id, expected_version=None, today=TODAY,
                                  reason="moving")
        old = make_policy(s, today=TODAY - dt.timedelta(days=400))
        renewed = policies.renew_policy(s, principal=ADMIN, policy_id=old.id, expected_version=None,
                                        today=old.period_end, now=AT)
        claim = report(s, make_claim_policy(s, today=TODAY), today=TODAY)
        product_code = policies.get_product(s, product_id=issued.product_id).code
        premium = issued.premium
    customers = [issued.customer_id, surrendered.customer_id, old.customer_id, claim.customer_id]
    quoted = [(name, c, "platform") for c in customers  # each policy's quote: shown, underwritten, declared
              for name in ("quote.viewed", "underwriting.step", "health_declaration.completed")]
    expected = sorted([
        *quoted,
        ("purchase", issued.customer_id, "platform"),
        ("purchase", surrendered.customer_id, "platform"),
        ("policy.surrendered", surrendered.customer_id, "platform"),
        ("purchase", old.customer_id, "platform"),
        ("policy.renewed", renewed.customer_id, "platform"),
        ("purchase", claim.customer_id, "platform"),  # the claim's policy was issued too
        ("claim.reported", claim.customer_id, "platform"),
    ], key=str)
    assert drain(session_factory, BEHAVIOUR_CONSUMER) == 4 + 4 + 1 + 1 + 1  # quotes, issues, surrender, renewal, claim
    assert sorted(_platform_rows(session_factory), key=str) == expected
    with transaction(session_factory) as s:
        replay(s, BEHAVIOUR_CONSUMER.name, from_id=1)
    drain(session_factory, BEHAVIOUR_CONSUMER)
    drain(session_factory, BEHAVIOUR_CONSUMER)
    assert sorted(_platform_rows(session_factory), key=str) == expected
    with transaction(session_factory) as s:
        (purchase,) = [e for e in behaviour.events_for_customer(s, issued.customer_id) if e.name == "purchase"]
        assert purchase.properties == {"productCode": product_code, "premium": str(premium.quantize(Decimal("0.01")))}
        assert purchase.event_id.startswith("platform:") and purchase.source == behaviour.PLATFORM_SOURCE
        assert behaviour.event_counts(s, "policy.renewed") == {renewed.customer_id: 1}


def test_platform_events_fit_their_registered_schemas() -> None:
    assert set(PLATFORM_EVENTS) == {"quote.requested", "quote.decided", "policy.issued", "policy.renewed",
                                    "policy.surrendered", "claim.reported"}
    for name in ("consultation.opened", "callback.answered", "underwriting.step", "health_declaration.started",
                 "health_declaration.completed", "health_declaration.failed", "quote.viewed", "purchase"):
        assert name in behaviour.EVENT_SCHEMAS


def test_no_sender_can_take_a_platform_event_id_first(session_factory: Any) -> None:
    from core.auth import Principal, Role
    from resolvers.operations.platform_events import platform_event_id

    with transaction(session_factory) as s:
        r = behaviour.ingest(s, principal=Principal(subject="agent", role=Role.AGENT), source="agent", now=AT, events=[
            behaviour.EventIn(event_id=platform_event_id(1), name="claim.reported", timestamp=AT, customer_id=1)])
        assert [x.code for x in r.rejected] == ["BAD_EVENT_ID"] and r.accepted == 0


def test_a_declined_declaration_is_a_failed_one(session_factory: Any) -> None:
    from tests.factories import healthy_answers, make_customer, make_product, make_quote

    with moved_clock(AT), transaction(session_factory) as s:
        customer = make_customer(s)
        make_quote(s, customer=customer, product=make_product(s), today=TODAY,
                   answers=healthy_answers(cancer=("C50.9",)))
    drain(session_factory, BEHAVIOUR_CONSUMER)
    with transaction(session_factory) as s:
        got = {(e.name, str(e.properties)) for e in behaviour.events_for_customer(s, customer.id)}
        assert ("health_declaration.failed", "{'reason': 'DECLINED'}") in got
        assert ("underwriting.step", "{'step': 'auto:decline'}") in got
