"""Convention 8: each mutation's payload shows the rows as that mutation left them, also the second of a document."""

from __future__ import annotations

from typing import Any

from core.auth import Role
from schema.relay import encode_global_id
from tests.factories import make_policy

TWICE = """mutation($p: ID!) {
  first: endorseContact(input: {policyId: $p, email: "first@example.cn"}) {
    policy { version contactEmail } errors { code } }
  second: endorseContact(input: {policyId: $p, email: "second@example.cn"}) {
    policy { version contactEmail } errors { code } }
}"""


def test_two_mutations_on_one_policy_in_one_document_each_show_their_own_result(
        gql: Any, session_factory: Any) -> None:
    from core.clock import business_today

    with session_factory() as s:
        policy = make_policy(s, today=business_today())
        s.commit()
        issued = policy.version
    data = gql(Role.ADMIN)(TWICE, {"p": encode_global_id("Policy", policy.id)})
    first, second = data["first"], data["second"]
    assert first["errors"] == [] and second["errors"] == []
    assert first["policy"] == {"version": issued + 1, "contactEmail": "first@example.cn"}
    assert second["policy"] == {"version": issued + 2, "contactEmail": "second@example.cn"}


def test_the_second_mutation_sees_the_first_ones_version(gql: Any, session_factory: Any) -> None:
    from core.clock import business_today

    with session_factory() as s:
        policy = make_policy(s, today=business_today())
        s.commit()
        issued = policy.version
    doc = """mutation($p: ID!, $v: Int!) {
      a: endorseContact(input: {policyId: $p, email: "a@example.cn"}) { policy { version } errors { code } }
      b: endorseContact(input: {policyId: $p, expectedVersion: $v, email: "b@example.cn"}) {
        policy { version contactEmail } errors { code } }
    }"""
    data = gql(Role.ADMIN)(doc, {"p": encode_global_id("Policy", policy.id), "v": issued + 1})
    assert data["b"] == {"policy": {"version": issued + 2, "contactEmail": "b@example.cn"}, "errors": []}
