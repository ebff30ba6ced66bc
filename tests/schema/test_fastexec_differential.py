"""Differential test: compiled plans answer exactly what normal execution answers.

Hypothesis builds query documents from the live schema (whatever fields it has today):
selections over every root query field, nested a few levels, with aliases, inline and
named fragments, ``__typename``, arguments with small valid values (and some invalid
ones), variables and ``@skip``/``@include``, mostly from the fields the calling role may
select and sometimes from those it may not. Every role runs them, anonymous included,
over a database filled by the factories (policies, claims, partners).

Each document is sent three times over HTTP: once with plans switched off, then twice
with plans on (the first run compiles a plan, the second runs it). The three responses
must be byte-identical, status code and body: same data, same errors, same refusals.

``OPSURE_DIFFERENTIAL_EXAMPLES`` sets the number of examples (default 120, derandomized
so ``make test`` is reproducible); ``OPSURE_DIFFERENTIAL_RANDOM=1`` draws new ones.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    get_nullable_type,
    is_required_argument,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from partners.models import AssignmentKind, PartnerKind
from resolvers.claims import service as claims_service
from resolvers.claims.models import ClaimDocument, DocumentKind
from schema import fastexec
from schema.permissions import declared_roles
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, make_claim_policy, report
from tests.factories import make_customer, make_policy, make_product
from tests.partner_factories import make_assignment, make_partner

EXAMPLES = int(os.environ.get("OPSURE_DIFFERENTIAL_EXAMPLES", "120"))
MAX_DEPTH = 4
TODAY = dt.date(2026, 6, 1)


@dataclass
class World:
    """What the factories made: global ids per type, and the ids roles are scoped to."""

    ids: dict[str, list[str]]
    customer_id: int
    partner_id: int


@pytest.fixture
def world(session_factory: Any) -> World:
    ids: dict[str, list[str]] = {}

    def note(type_name: str, pk: int) -> None:
        ids.setdefault(type_name, []).append(encode_global_id(type_name, pk))

    with transaction(session_factory) as s:
        products = [make_product(s), make_product(s)]
        customers = [make_customer(s, email=None if i % 2 else "li.wei@example.cn") for i in range(3)]
        for i, c in enumerate(customers):
            note("Policy", make_policy(s, today=TODAY, customer=c, product=products[i % 2]).id)
            note("Customer", c.id)
        for p in products:
            note("Product", p.id)
        for i in range(3):
            policy = make_claim_policy(s, code=f"DIFF{i}")
            claim = report(s, policy, amount=Decimal("8000.00") if i else Decimal("800.00"),
                           items=[claims_service.LineItemSpec("SURG-1", "inpatient", Decimal("8000.00"), 1)]
                           if i else None)
            if i:
                s.add(ClaimDocument(claim_id=claim.id, kind=DocumentKind.INVOICE, filename=f"i{i}.pdf",
                                    content_type="application/pdf", size=100, sha256=f"{i:064x}",
                                    storage_key=f"diff/{i}", uploaded_by="test"))
                s.flush()
                claims_service.submit_claim(s, principal=ADJUSTER, claim_id=claim.id, expected_version=None,
                                            today=business_today(), now=dt.datetime.now(dt.UTC))
            note("Claim", claim.id)
            note("Policy", policy.id)
            note("Customer", policy.customer_id)
            customer_id = policy.customer_id  # the customer role: a policy and a submitted claim
        partner = make_partner(s, kind=PartnerKind.ASSESSOR_FIRM)
        hospital = make_partner(s, kind=PartnerKind.HOSPITAL)
        for firm in (partner, hospital):
            note("Partner", firm.id)
        note("Assignment", make_assignment(s, partner).id)
        note("Assignment", make_assignment(s, hospital, kind=AssignmentKind.HOSPITAL_BILL).id)
    return World(ids=ids, customer_id=customer_id, partner_id=partner.id)


# --- documents from the schema ----------------------------------------------------------------


@dataclass
class _Doc:
    """A document being drawn: its fragments, variables and a counter for unique names."""

    schema: GraphQLSchema
    role: str | None
    world: World
    draw: Any
    messy: bool  # also fields the role may not select, invalid values, directives
    fragments: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    var_defs: list[str] = field(default_factory=list)
    names: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]

    def may_select(self, parent: GraphQLObjectType | GraphQLInterfaceType, name: str) -> bool:
        roles = declared_roles(parent, name) if isinstance(parent, GraphQLObjectType) else frozenset({"*"})
        return roles is not None and ("*" in roles or (self.role is not None and self.role in roles))

    # values -----------------------------------------------------------------------------------

    def value(self, type_: GraphQLInputType, arg: str, owner: str) -> str | None:
        """A GraphQL literal for ``type_`` or None when this test cannot make one."""
        nullable = get_nullable_type(type_)
        if isinstance(nullable, GraphQLList):
            items = [self.value(nullable.of_type, arg, owner) for _ in range(self.draw(st.integers(0, 2)))]
            return None if any(i is None for i in items) else "[" + ", ".join(i for i in items if i) + "]"
        if isinstance(nullable, GraphQLEnumType):
            return str(self.draw(st.sampled_from(sorted(nullable.values))))
        if isinstance(nullable, GraphQLInputObjectType):
            parts = []
            for name, f in nullable.fields.items():
                required = isinstance(f.type, GraphQLNonNull)
                if required or self.draw(st.booleans()):
                    v = self.value(f.type, name, nullable.name)
                    if v is None:
                        if required:
                            return None
                        continue
                    parts.append(f"{name}: {v}")
            return "{" + ", ".join(parts) + "}"
        assert isinstance(nullable, GraphQLScalarType)
        return self.scalar(nullable.name, arg, owner)

    def scalar(self, scalar: str, arg: str, owner: str) -> str | None:
        draw = self.draw
        if scalar == "ID":
            wanted = owner if arg == "id" else (arg[:-2][:1].upper() + arg[1:-2] if arg.endswith("Id") else "")
            pool = self.world.ids.get(wanted) or [i for ids in self.world.ids.values() for i in ids]
            junk = ["bm9wZTox", "%%%", ""] if self.messy else []
            return json.dumps(draw(st.sampled_from(pool + junk)))
        if scalar == "Int":
            if arg in ("first", "last") and draw(st.integers(0, 4)) == 0:
                name = f"v{next(self.names)}"
                self.var_defs.append(f"${name}: Int")
                self.variables[name] = draw(st.integers(0, 4))
                return f"${name}"
            low = -1 if self.messy else 1
            return str(draw(st.integers(low, 4) if arg in ("first", "last") else st.integers(0, 3)))
        if scalar == "Boolean":
            return "true" if draw(st.booleans()) else "false"
        if scalar == "String":
            if arg in ("after", "before") and not self.messy:
                return None  # a cursor: only a real one is valid
            return json.dumps(draw(st.sampled_from(["", "a", "ACTIVE", "claim.paid", "%%%", "110101199003077777"])))
        if scalar == "Date":
            return json.dumps(draw(st.sampled_from(["2026-06-01", "2025-01-01"] + ["not a date"] * self.messy)))
        if scalar == "DateTime":
            return json.dumps("2026-06-01T08:00:00+00:00")
        if scalar == "Decimal":
            return json.dumps(draw(st.sampled_from(["0", "1000.50"])))
        return None  # JSON and unknown scalars: fields needing them are left out

    def arguments(self, f: GraphQLField, owner: str) -> str | None:
        """``(a: 1, b: "x")`` for the field (required ones always), "" when none, None if impossible."""
        parts = []
        for name, arg in f.args.items():
            required = is_required_argument(arg)
            if not required and self.draw(st.integers(0, 2)) != 0:
                continue
            v = self.value(arg.type, name, owner)
            if v is None:
                if required:
                    return None
                continue
            parts.append(f"{name}: {v}")
        return f"({', '.join(parts)})" if parts else ""

    # selections -------------------------------------------------------------------------------

    def selection(self, parent: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType, depth: int) -> str:
        """``{ ... }`` over ``parent`` with 1-4 entries."""
        entries: list[str] = []
        keys: set[str] = set()
        for _ in range(self.draw(st.integers(1, 4 if depth >= MAX_DEPTH - 1 else 3))):
            entry = self.entry(parent, depth, keys)
            if entry:
                entries.append(entry)
        if not entries:
            entries.append("__typename")
        return "{ " + " ".join(entries) + " }"

    def entry(self, parent: Any, depth: int, keys: set[str]) -> str | None:
        draw = self.draw
        kinds = ["field"] * 6 + ["typename"] + (["inline", "spread"] if len(self.fragments) < 4 else ["inline"])
        kind = draw(st.sampled_from(kinds))
        if kind == "typename" or (isinstance(parent, GraphQLUnionType) and kind == "field"):
            return self.directives(self.alias(keys, "__typename") + "__typename")
        if kind in ("inline", "spread"):
            targets = (list(self.schema.get_possible_types(parent))
                       if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType) else [parent])
            if not targets:
                return None
            target = draw(st.sampled_from(sorted(targets, key=lambda t: t.name)))
            body = self.selection(target, depth)
            if kind == "inline":
                return self.directives(f"... on {target.name} ") + body
            name = f"F{next(self.names)}"
            self.fragments.append(f"fragment {name} on {target.name} {body}")
            return self.directives(f"...{name}")
        fields = [(n, f) for n, f in parent.fields.items()
                  if depth > 0 or not isinstance(get_named_type(f.type), GraphQLObjectType | GraphQLInterfaceType
                                                 | GraphQLUnionType)]
        if not fields:
            return None
        allowed = [nf for nf in fields if self.may_select(parent, nf[0])]
        pool = allowed if allowed and (not self.messy or draw(st.integers(0, 9))) else fields
        if not pool:
            return None
        name, f = draw(st.sampled_from(pool))
        args = self.arguments(f, get_named_type(f.type).name)
        if args is None:
            return None
        head = self.alias(keys, name, force=name in keys) + name + args
        keys.add(name)
        named = get_named_type(f.type)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return self.directives(head) + " " + self.selection(named, depth - 1)
        return self.directives(head)

    def alias(self, keys: set[str], name: str, *, force: bool = False) -> str:
        if force or self.draw(st.integers(0, 5)) == 0:
            alias = f"a{next(self.names)}"
            keys.add(alias)
            return f"{alias}: "
        return ""

    def directives(self, head: str) -> str:
        if not self.messy:
            return head
        choice = self.draw(st.integers(0, 6))
        if choice == 0:
            return head + (" @skip(if: true)" if self.draw(st.booleans()) else " @skip(if: false)")
        if choice == 1:
            return head + (" @include(if: true)" if self.draw(st.booleans()) else " @include(if: false)")
        return head


def _document(schema: GraphQLSchema, role: str | None, world: World, draw: Any) -> tuple[str, dict[str, Any]]:
    doc = _Doc(schema, role, world, draw, messy=draw(st.integers(0, 3)) == 0)
    query_type = schema.query_type
    assert query_type is not None
    body = doc.selection(query_type, MAX_DEPTH)
    if doc.var_defs:
        head = f"query Q({', '.join(doc.var_defs)}) "
    else:
        head = "query Q " if draw(st.booleans()) else ""
    return " ".join([head + body, *doc.fragments]), doc.variables


# --- the property ----------------------------------------------------------------------------

ROLES: list[Role | None] = [None, *Role]


def test_plans_answer_byte_for_byte_like_normal_execution(gql: Any, http: Any, world: World) -> None:
    schema = http.app.state.schema
    plans = fastexec._plans_of(schema)
    clients = {
        role: gql(role, **({"customer_id": world.customer_id} if role is Role.CUSTOMER else
                           {"partner_id": world.partner_id} if role is Role.PARTNER else {}))
        for role in ROLES
    }
    answered_by_plan: set[Role | None] = set()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              derandomize=os.environ.get("OPSURE_DIFFERENTIAL_RANDOM") != "1",
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(data=st.data())
    def check(data: Any) -> None:
        role = data.draw(st.sampled_from(ROLES))
        query, variables = _document(schema._schema, role.value if role else None, world, data.draw)
        client = clients[role]
        plans.enabled = False
        try:
            normal = client.post(query, variables)
        finally:
            plans.enabled = True
        fast_before = plans.stats["fast"]
        compiling = client.post(query, variables)
        planned = client.post(query, variables)
        if plans.stats["fast"] > fast_before:
            answered_by_plan.add(role)
        for other in (compiling, planned):
            assert (other.status_code, other.content) == (normal.status_code, normal.content), (
                f"role {role}, document:\n{query}\nvariables {variables}\n"
                f"normal:  {normal.status_code} {normal.text[:2000]}\n"
                f"plan:    {other.status_code} {other.text[:2000]}")
        assert normal.status_code < 500, normal.text

    check()
    print("plan stats", plans.stats, "roles answered by plans", sorted(str(r) for r in answered_by_plan))
    # The property is only worth something if plans answered, often and for several roles.
    assert plans.stats["fast"] >= EXAMPLES // 5, plans.stats
    assert len(answered_by_plan) >= 4, answered_by_plan
