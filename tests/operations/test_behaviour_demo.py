"""The demo's visitors: one signs in and is aliased on their phone; the platform's events come from the consumer."""

from __future__ import annotations

import random
from typing import Any

from core.db import transaction
from core.event_stream import drain
from opsure.demo.clock import DemoClock
from opsure.demo.operations import behaviour_summary, load_visitors
from resolvers.operations import behaviour
from resolvers.operations.platform_events import BEHAVIOUR_CONSUMER
from tests.experiment_factories import T0
from tests.factories import make_policy


def test_demo_visitors_and_platform_events(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_policy(s, today=T0.date())
        demo = load_visitors(s, random.Random(5), DemoClock(T0))
        assert demo.customer_id == policy.customer_id and demo.anonymous_events >= 6
    drain(session_factory, BEHAVIOUR_CONSUMER)
    with transaction(session_factory) as s:
        rows = behaviour_summary(s)
        assert rows["platform: purchase"] == 1 and rows["visitors identified"] == 2
        mine = behaviour.events_for_customer(s, demo.customer_id)
        # the visits before signing in; the quote shown, underwritten, declared; the purchase
        assert len(mine) == demo.anonymous_events + 3 + 1
        assert rows[f"customer {demo.customer_id}: events"] == f"{len(mine)} ({demo.anonymous_events} sent before signing in)"
        assert rows["sent by frontends"] > demo.anonymous_events  # the third visitor stays anonymous
