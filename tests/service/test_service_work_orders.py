"""Work orders: opening with links checked through their domains, text kept verbatim and bounded, the explicit
state machine (no skipping, nothing changes once closed), comments' visibility, merging, a customer's scope."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import text

from core.db import transaction
from core.errors import DomainError, DomainErrors
from resolvers.service import service
from resolvers.service.models import WorkOrderState, WorkOrderType
from resolvers.service.states import TRANSITIONS
from tests.claim_factories import customer_principal, report
from tests.service_factories import AGENT, T0, open_order, policy_holder

S = WorkOrderState
HOSTILE = ["<script>alert('x')</script>", "'; DROP TABLE work_order; --", "Robert'); DELETE FROM customer;--",
           "<b>粗体</b> & \"引号\" \\ 😀", "{{7*7}} ${jndi:ldap://x}"]


def _codes(exc: DomainError) -> list[str]:
    return sorted(e.code for e in (exc.errors if isinstance(exc, DomainErrors) else [exc]))


def test_an_order_links_its_customers_things_and_keeps_hostile_text_verbatim(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        claim = report(s, policy, today=T0.date())
    for body in HOSTILE:
        with transaction(session_factory) as s:
            order = open_order(s, policy, subject=body[:200], description=body, claim_id=claim.id)
            service.add_comment(s, principal=customer_principal(policy.customer_id), work_order_id=order.id,
                                body=body, internal=False, now=T0)
            pk = order.id
        with transaction(session_factory) as s:
            got = service.get_work_order(s, principal=AGENT, work_order_id=pk)
            assert (got.subject, got.description) == (body[:200], body)
            assert got.customer_id == policy.customer_id and got.claim_id == claim.id
            assert s.execute(text("SELECT count(*) FROM work_order")).scalar_one() >= 1  # the table is still there
            stored = s.execute(text("SELECT description FROM work_order WHERE id = :i"), {"i": pk}).scalar_one()
            assert body not in stored  # sealed at rest


def test_empty_oversized_text_and_foreign_links_are_refused_all_at_once(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        mine, theirs = policy_holder(s), policy_holder(s)
    with pytest.raises(DomainErrors) as caught, transaction(session_factory) as s:
        service.open_work_order(s, principal=customer_principal(mine.customer_id), type=WorkOrderType.INTERNAL,
                                subject="   ", description="x" * 4001, now=T0,
                                links=service.Links(policy_id=theirs.id))
    assert _codes(caught.value) == ["EMPTY_TEXT", "NOT_ALLOWED_FOR_CUSTOMER", "NOT_FOUND", "TEXT_TOO_LONG"]
    with pytest.raises(DomainError) as mismatch, transaction(session_factory) as s:
        service.open_work_order(s, principal=AGENT, type=WorkOrderType.CONSULTATION, subject="x", description=None,
                                now=T0, links=service.Links(customer_id=mine.customer_id, policy_id=theirs.id))
    assert _codes(mismatch.value) == ["LINK_MISMATCH"]
    with transaction(session_factory) as s:
        assert s.execute(text("SELECT count(*) FROM work_order")).scalar_one() == 0  # nothing half-made


def _drive(s: Any, order_id: int, path: list[WorkOrderState]) -> None:
    for state in path:
        service.transition(s, principal=AGENT, work_order_id=order_id, to_state=state, now=T0)


#: A way into each state from NEW.
PATHS = {S.NEW: [], S.OPEN: [S.OPEN], S.PENDING_CUSTOMER: [S.OPEN, S.PENDING_CUSTOMER],
         S.PENDING_INTERNAL: [S.OPEN, S.PENDING_INTERNAL], S.RESOLVED: [S.OPEN, S.RESOLVED],
         S.CLOSED: [S.OPEN, S.RESOLVED, S.CLOSED]}


@pytest.mark.parametrize(("start", "target"), [
    (a, b) for a, b in itertools.product(PATHS, [s for s in S if s is not S.MERGED]) if a is not b])
def test_every_move_follows_the_table_and_closed_orders_refuse_every_move(session_factory: Any, start: Any,
                                                                          target: Any) -> None:
    with transaction(session_factory) as s:
        order = open_order(s, policy_holder(s))
        _drive(s, order.id, PATHS[start])
    try:
        with transaction(session_factory) as s:
            moved = service.transition(s, principal=AGENT, work_order_id=order.id, to_state=target, now=T0)
    except DomainError as exc:
        assert target not in TRANSITIONS[start]
        assert exc.code == ("ORDER_CLOSED" if start is S.CLOSED else "INVALID_TRANSITION")
        with transaction(session_factory) as s:
            assert service.get_work_order(s, principal=AGENT, work_order_id=order.id).state is start
    else:
        assert target in TRANSITIONS[start] and moved.state is target


def test_a_closed_order_refuses_comments_and_a_merged_one_everything(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        done, dup, keep = (open_order(s, policy) for _ in range(3))
        _drive(s, done.id, PATHS[S.CLOSED])
        survivor = service.merge_work_orders(s, principal=AGENT, work_order_id=dup.id, into_id=keep.id, now=T0)
        assert survivor.id == keep.id
    for pk in (done.id, dup.id):
        with pytest.raises(DomainError) as caught, transaction(session_factory) as s:
            service.add_comment(s, principal=AGENT, work_order_id=pk, body="again?", internal=False, now=T0)
        assert _codes(caught.value) == ["ORDER_CLOSED"]
    with transaction(session_factory) as s:
        merged = service.get_work_order(s, principal=AGENT, work_order_id=dup.id)
        assert merged.state is S.MERGED and merged.merged_into_id == keep.id


def test_a_customer_sees_only_their_own_orders_and_public_comments(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        mine, theirs = policy_holder(s), policy_holder(s)
        order, other = open_order(s, mine), open_order(s, theirs)
        service.add_comment(s, principal=AGENT, work_order_id=order.id, body="note to self", internal=True, now=T0)
        public = service.add_comment(s, principal=AGENT, work_order_id=order.id, body="您好", internal=False, now=T0)
    me = customer_principal(mine.customer_id)
    with transaction(session_factory) as s:
        assert [o.id for o in s.scalars(service.work_orders_query(me))] == [order.id]
        with pytest.raises(DomainError):
            service.get_work_order(s, principal=me, work_order_id=other.id)
        with pytest.raises(DomainError):
            service.add_comment(s, principal=me, work_order_id=other.id, body="hi", internal=False, now=T0)
        assert service.get_comment(s, principal=me, comment_id=public.id).body == "您好"
        got = service.get_work_order(s, principal=me, work_order_id=order.id)
        assert got.state is S.OPEN and got.first_response_at == T0  # the public reply was the first response


def test_a_customer_may_only_close_a_resolved_order(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        order = open_order(s, policy)
    me = customer_principal(policy.customer_id)
    with pytest.raises(DomainError) as caught, transaction(session_factory) as s:
        service.transition(s, principal=me, work_order_id=order.id, to_state=S.OPEN, now=T0)
    assert caught.value.code == "NOT_ALLOWED_FOR_CUSTOMER"
    with transaction(session_factory) as s:
        _drive(s, order.id, [S.OPEN, S.RESOLVED])
        assert service.transition(s, principal=me, work_order_id=order.id, to_state=S.CLOSED,
                                  now=T0).state is S.CLOSED
