"""Convention 6: the roles of every field are printed as @allow, and they are exactly what is enforced.

Also: a misspelt field is one error (graphql-core's), not a second "declares no permission".
"""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    parse,
    validate,
)

from core.auth import Role
from core.settings import Settings
from schema import build_schema
from schema.permissions import Allow, access_rule_for, declared_roles

SCHEMA = build_schema(Settings())
GQL: GraphQLSchema = SCHEMA._schema
ROLES: list[str | None] = [None, *(r.value for r in Role)]


def _shown(field: GraphQLField) -> frozenset[str] | None:
    """The roles the SDL shows on ``field`` (``{"*"}`` for public), None without @allow."""
    sfield = (field.extensions or {}).get("strawberry-definition")
    shown = [d for d in getattr(sfield, "directives", []) if isinstance(d, Allow)]
    if len(shown) != 1:
        return None
    if shown[0].public is True:
        return frozenset({"*"})
    return frozenset(Role[r.name].value for r in shown[0].roles)


def _object_fields() -> list[tuple[GraphQLObjectType, str, GraphQLField]]:
    return [(t, name, f) for t in GQL.type_map.values()
            if isinstance(t, GraphQLObjectType) and not t.name.startswith("__") for name, f in t.fields.items()]


def test_every_field_shows_exactly_its_declared_roles() -> None:
    wrong = [f"{t.name}.{name}: shown {sorted(_shown(f) or [])}, declared {sorted(declared_roles(t, name) or [])}"
             for t, name, f in _object_fields() if _shown(f) != declared_roles(t, name)]
    assert wrong == [], "\n".join(wrong)


def test_the_sdl_prints_allow_with_role_names_and_public() -> None:
    sdl = SCHEMA.as_str()
    assert "directive @allow(roles: [Role!]!, public: Boolean) on FIELD_DEFINITION" in sdl
    assert "enum Role {" in sdl and "@allow(roles: [], public: true)" in sdl
    assert "@allow(roles: [AUDITOR, ADMIN])" in sdl or "@allow(roles: [ADMIN, AUDITOR])" in sdl
    policy = sdl[sdl.index("type Query {"):]
    assert "node(" in policy and "@allow(roles: [CUSTOMER, AGENT, ADJUSTER, QA, ANALYST, MANAGER, ADMIN, PARTNER, " \
        "AUDITOR])" in policy


def _paths() -> dict[str, list[tuple[GraphQLNamedType, str]]]:
    """A shortest selection path from a root type to every object type: [(parent, field), ...]."""
    roots: list[GraphQLObjectType] = [t for t in (GQL.query_type, GQL.mutation_type, GQL.subscription_type) if t]
    paths: dict[str, list[tuple[GraphQLNamedType, str]]] = {t.name: [] for t in roots}
    queue = deque(roots)
    while queue:
        parent = queue.popleft()
        fields = parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        for name, field in fields.items():
            target = get_named_type(field.type)
            targets = GQL.get_possible_types(target) if isinstance(target, GraphQLInterfaceType | GraphQLUnionType) \
                else [target]
            for concrete in targets:
                if isinstance(concrete, GraphQLObjectType) and concrete.name not in paths:
                    paths[concrete.name] = [*paths[parent.name], (parent, name)]
                    queue.append(concrete)
    return paths


def _document(path: list[tuple[GraphQLNamedType, str]], target: GraphQLObjectType, field: str) -> str:
    root = path[0][0] if path else target
    op = {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}[root.name]
    body = field
    owner: GraphQLNamedType = target
    for parent, name in reversed(path):
        returned = getattr(get_named_type(parent.fields[name].type), "name", "")  # type: ignore[attr-defined]
        inner = body if returned == owner.name else f"... on {owner.name} {{ {body} }}"
        body = f"{name} {{ {inner} }}"
        owner = parent
    return f"{op} {{ {body} }}"


def _refused(role: str | None, doc: str, label: str) -> bool | None:
    """Whether the access rule of ``role`` refuses ``label`` in ``doc`` (None: another field hid it)."""
    errors = validate(GQL, parse(doc), [access_rule_for(role)])
    if any(f"'{label}'" in e.message for e in errors):
        return True
    if errors and role is None:
        return None  # anonymous: the first unauthenticated field on the path is the one reported
    return False


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_what_the_sdl_shows_is_what_the_access_rule_enforces(role: str | None) -> None:
    paths = _paths()
    mismatches = []
    for t, name, f in _object_fields():
        if t.name not in paths:
            continue  # not reachable from a root: nothing can select it
        shown = _shown(f) or frozenset()
        allowed = "*" in shown or (role is not None and role in shown)
        refused = _refused(role, _document(paths[t.name], t, name), f"{t.name}.{name}")
        if refused is not None and refused == allowed:
            mismatches.append(f"{t.name}.{name}: shown {sorted(shown)}, {'refused' if refused else 'allowed'}")
    assert mismatches == [], "\n".join(mismatches)


def test_a_misspelt_field_is_one_error(gql: Any) -> None:
    for doc, name in (("{ policiez { totalCount } }", "policiez"), ("{ policies { totalCont } }", "totalCont"),
                      ("{ node(id: \"x\") { ... on Policy { numbr } } }", "numbr")):
        body = gql(Role.ADMIN).post(doc).json()
        assert [e["message"].split("'")[1] for e in body["errors"]] == [name], body
        assert "declares no permission" not in str(body)
