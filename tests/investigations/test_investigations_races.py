"""Racing writers (threads on PostgreSQL; serialised on SQLite): accepting twice, assigning at once, full firms."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import moved_clock
from core.db import transaction
from core.errors import DomainError
from resolvers.investigations import firms, service
from resolvers.investigations.models import InvestigationAssignment, InvestigationState
from tests.claim_factories import ADJUSTER
from tests.investigation_factories import T0, firm_principal, make_firm, request, review_claim


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with moved_clock(T0):
        yield


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` on threads released together; each result is its return value or its DomainError."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except DomainError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _outcome(r: Any) -> str:
    return r.code if isinstance(r, DomainError) else "ok"


def _offers(session_factory: Any, inv_id: int) -> list[InvestigationAssignment]:
    with transaction(session_factory) as s:
        return list(s.scalars(select(InvestigationAssignment).where(InvestigationAssignment.investigation_id == inv_id)))


def test_accepting_twice_at_once_accepts_once(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm, _ = make_firm(s)
        inv = request(s, review_claim(s))
        service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=None, expected_version=None, now=T0)
        inv_id, offer_id = inv.id, inv.current_assignment_id
    assert offer_id is not None

    def accept() -> str:
        with transaction(session_factory) as s:
            return service.accept_offer(s, principal=firm_principal(firm), assignment_id=offer_id, now=T0).state.value

    outcomes = Counter(_outcome(r) for r in _at_once([accept] * 6))
    assert outcomes == {"ok": 1, "ALREADY_ACCEPTED": 5}
    with transaction(session_factory) as s:
        assert service.get_investigation(s, principal=ADJUSTER, investigation_id=inv_id).state is \
            InvestigationState.IN_PROGRESS


def test_assigning_one_investigation_at_once_offers_it_once(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        make_firm(s, capacity=10)
        make_firm(s, capacity=10)
        inv_id = request(s, review_claim(s)).id

    def auto() -> None:
        with transaction(session_factory) as s:
            service.assign(s, principal=ADJUSTER, investigation_id=inv_id, partner_id=None, expected_version=None,
                           now=T0)

    outcomes = Counter(_outcome(r) for r in _at_once([auto] * 5))
    assert outcomes == {"ok": 1, "ALREADY_ASSIGNED": 4}
    assert len(_offers(session_factory, inv_id)) == 1


def test_a_full_firm_never_takes_more_than_its_capacity_under_racing_assignments(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm, _ = make_firm(s, capacity=2)
        ids = [request(s, review_claim(s)).id for _ in range(6)]

    def to_firm(inv_id: int) -> Callable[[], None]:
        def go() -> None:
            with transaction(session_factory) as s:
                service.assign(s, principal=ADJUSTER, investigation_id=inv_id, partner_id=firm.id,
                               expected_version=None, now=T0)
        return go

    outcomes = Counter(_outcome(r) for r in _at_once([to_firm(i) for i in ids]))
    assert outcomes == {"ok": 2, "FIRM_FULL": 4}
    with transaction(session_factory) as s:
        assert firms.loads(s) == {firm.id: 2}
        assert s.scalar(select(func.count()).select_from(InvestigationAssignment)) == 2
