"""SQL statements per GraphQL request are pinned and do not grow with the page size.

Each document is sent several times: the first request of a (document, role) runs through
normal execution, later ones through its compiled plan (schema.fastexec); both must send
the same statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.auth import Role
from resolvers.policies import service
from schema import fastexec
from tests.factories import ADMIN, make_customer, make_policy, make_product

TODAY = dt.date(2026, 6, 1)

PAGE = """
query Page($first: Int!) {
  policies(first: $first) {
    edges {
      node {
        id number status periodStart periodEnd issuedAt premium insuredAge exclusions
        endedOn endReason refund beneficiaryRelationship version inForce
        contactPhone contactEmail beneficiaryName
        customer { name idNumber phone }
        product { code name annualLimit coverageItems { code } }
        endorsements { edges { node { kind effectiveOn changedFields } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CUSTOMERS = """
query Customers($first: Int!) {
  customers(first: $first) { edges { node { policies { edges { node { product { code } } } } } } }
}
"""


class Statements:
    """Counts SQL statements sent through an engine (transaction control excluded)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.count += 1


@pytest.fixture
def statements(engine: Engine) -> Iterator[Statements]:
    counter = Statements()
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def book(session_factory: Any) -> dict[str, Any]:
    """45 customers on two products; the first has three policies; some endorsements."""
    with session_factory() as s:
        products = [make_product(s), make_product(s)]
        customers = [make_customer(s) for _ in range(45)]
        policies = []
        for i, customer in enumerate(customers):
            for _ in range(3 if i == 0 else 1):
                policies.append(make_policy(s, today=TODAY, customer=customer, product=products[i % 2]))
        for p in policies[::4]:
            service.endorse_contact(s, principal=ADMIN, policy_id=p.id, expected_version=None,
                                    phone="13912345678", email=None, today=TODAY)
        s.commit()
        return {"customer_id": customers[0].id, "policies": len(policies)}


def _counts(gql: Any, statements: Statements, query: str, firsts: tuple[int, ...], repeat: int = 2,
            **client: Any) -> list[int]:
    """Statements per request for each page size, each sent ``repeat`` times."""
    role = client.pop("role")
    c = gql(role, **client)
    c("{ __typename }")  # what the app does once, on its first request, is no request's cost
    out = []
    for first in firsts:
        for _ in range(repeat):
            statements.count = 0
            data = c(query, {"first": first})
            out.append(statements.count)
            assert data
    return out


def _fast_used(http: Any) -> int:
    return fastexec.plan_stats(http.app.state.schema)["fast"]


def test_policy_page_statements_do_not_grow(gql: Any, http: Any, statements: Statements,
                                            book: dict[str, Any]) -> None:
    counts = _counts(gql, statements, PAGE, (5, 40), role=Role.ADMIN)
    # policies page, customers, products, coverage items, endorsements
    assert counts == [5, 5, 5, 5]
    assert _fast_used(http) == 3


def test_policy_page_statements_for_a_customer(gql: Any, http: Any, statements: Statements,
                                               book: dict[str, Any]) -> None:
    counts = _counts(gql, statements, PAGE, (5, 40), role=Role.CUSTOMER,
                     customer_id=book["customer_id"])
    assert counts == [5, 5, 5, 5]
    data = gql(Role.CUSTOMER, customer_id=book["customer_id"])(PAGE, {"first": 40})
    assert len(data["policies"]["edges"]) == 3  # row scoping: only their own


def test_customers_with_policies_statements_do_not_grow(gql: Any, http: Any, statements: Statements,
                                                        book: dict[str, Any]) -> None:
    counts = _counts(gql, statements, CUSTOMERS, (5, 40), role=Role.ADMIN)
    # customers page, their policies, the policies' products
    assert counts == [3, 3, 3, 3]
    assert _fast_used(http) == 3


def test_empty_page_statements(gql: Any, statements: Statements) -> None:
    counts = _counts(gql, statements, PAGE, (5, 40), role=Role.ADMIN)
    assert counts == [1, 1, 1, 1]


CLAIMS = """
query Claims($first: Int!) {
  claims(first: $first, sort: NEWEST) {
    edges {
      node {
        id number state claimedAmount decisionReason riskHints { code level }
        customer { name } policy { number }
        lineItems { itemCode amount reasonCode }
        documents { edges { node { id kind sha256 } } pageInfo { hasNextPage } }
        timeline(last: 5) { edges { node { kind toState reasonCode reason } } pageInfo { hasPreviousPage } }
        payments { edges { node { amount status } } }
        documentRequests { edges { node { kind dueOn } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture
def claims_book(session_factory: Any) -> None:
    """45 claims, each with a document and a timeline; a third decided and paid."""
    from tests.claim_factories import add_invoice, make_approved_claim, make_claim_policy, report

    with session_factory() as s:
        for i in range(45):
            if i % 3 == 0:
                make_approved_claim(s)
            else:
                add_invoice(s, report(s, make_claim_policy(s, code=f"QC{i}"), hospital=f"Hospital {i}"))
        s.commit()


def test_claim_page_with_documents_and_timeline_statements_do_not_grow(
        gql: Any, http: Any, statements: Statements, claims_book: None) -> None:
    counts = _counts(gql, statements, CLAIMS, (5, 40), role=Role.ADJUSTER)
    # claims page, customers, policies, line items, documents, timeline, payments, document requests
    assert counts == [8, 8, 8, 8]
    assert _fast_used(http) == 3
