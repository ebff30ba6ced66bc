"""Declared permissions: every object type and field says which roles may select it.

Declarations live on the schema, not in resolver bodies. They are enforced once per
(document, role) by a validation rule, before anything executes, so a forbidden field
never runs and costs nothing per row; the result is cached with the document.

Example::

    @strawberry.type(directives=[])
    @access(ADJUSTERS)                              # default for every field of the type
    class Claim:
        amount: Decimal
        notes: str = strawberry.field(metadata=allow(Role.MANAGER))   # narrower

``PUBLIC`` marks a field anyone (even anonymous) may select; the named role sets
(``AUTHENTICATED``, ``STAFF``, ``CLAIM_READERS`` ...) are defined once in ``core.roles``.

The declarations are visible in the SDL: ``build_schema`` prints them on every field as the
schema directive ``@allow(roles: [ADJUSTER, ADMIN])`` (:func:`show_permissions`); a field
anyone may select, even without a token, reads ``@allow(roles: [], public: true)``.

HTTP routes are declared here too, method by method (``ROUTE_ACCESS``): a role set, or
``PUBLIC`` with a note saying why the route is open. ``opsure.route_guard`` wraps every route
in one check and refuses to build an app with an undeclared route.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import strawberry
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    ValidationContext,
    ValidationRule,
    get_named_type,
)
from strawberry.schema_directive import Location

from core.auth import Role
from core.roles import ANALYTICS_READERS, DOCUMENT_READERS, DOCUMENT_UPLOADERS, VISITOR_IDENTIFIERS

__all__ = [
    "PUBLIC",
    "ROUTE_ACCESS",
    "Allow",
    "RoleName",
    "RouteAccess",
    "access",
    "access_rule_for",
    "allow",
    "declared_roles",
    "route_access",
    "route_refusal",
    "show_permissions",
]

T = TypeVar("T")

#: Anyone, even anonymous: the wildcard, not a set of roles (the named role sets are in ``core.roles``).
PUBLIC: frozenset[str] = frozenset({"*"})
_META_KEY = "opsure_roles"
_TYPE_ATTR = "__opsure_roles__"


def _roles(items: Iterable[Role | str | frozenset[str]]) -> frozenset[str]:
    out: set[str] = set()
    for item in items:
        if isinstance(item, frozenset):
            out |= item
        else:
            out.add(item.value if isinstance(item, Role) else item)
    return frozenset(out)


def allow(*roles: Role | str | frozenset[str]) -> dict[str, Any]:
    """Field metadata declaring the roles that may select the field."""
    return {_META_KEY: _roles(roles)}


def access(*roles: Role | str | frozenset[str]) -> Any:
    """Class decorator: the default roles for every field of an object type."""

    def decorate(cls: type[T]) -> type[T]:
        setattr(cls, _TYPE_ATTR, _roles(roles))
        return cls

    return decorate


def declared_roles(parent: GraphQLNamedType, field_name: str) -> frozenset[str] | None:
    """The roles declared for ``parent.field_name``, or None when nothing is declared."""
    if field_name.startswith("__") or parent.name.startswith("__"):
        return PUBLIC  # introspection (switched off as a whole by settings, not per role)
    if not isinstance(parent, GraphQLObjectType):
        return PUBLIC  # interfaces/unions: checked on the concrete types' fields
    field = parent.fields.get(field_name)
    if field is None:
        return None
    sfield = (field.extensions or {}).get("strawberry-definition")
    meta = getattr(sfield, "metadata", None) or {}
    if _META_KEY in meta:
        return frozenset(meta[_META_KEY])
    type_def = (parent.extensions or {}).get("strawberry-definition")
    origin = getattr(type_def, "origin", None)
    declared = getattr(origin, _TYPE_ATTR, None)
    return frozenset(declared) if declared is not None else None


@cache
def access_rule_for(role: str | None) -> type[ValidationRule]:
    """A validation rule class refusing fields ``role`` may not select (one class per role)."""

    class FieldAccessRule(ValidationRule):
        unauthenticated_reported = False

        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            ctx: ValidationContext = self.context
            parent = ctx.get_parent_type()
            if parent is None:
                return
            named = get_named_type(parent)
            name = node.name.value
            if isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and name not in named.fields \
                    and not name.startswith("__"):
                return  # no such field: FieldsOnCorrectTypeRule reports it, once
            roles = declared_roles(named, name)
            if roles is None:
                self.report_error(
                    GraphQLError(
                        f"Field '{named.name}.{name}' declares no permission and is closed.",
                        node,
                        extensions={"code": "FORBIDDEN"},
                    )
                )
            elif "*" in roles:
                return
            elif role is None:
                if self.unauthenticated_reported:
                    return
                self.unauthenticated_reported = True
                self.report_error(
                    GraphQLError(
                        f"Authentication required to select '{named.name}.{name}'.",
                        node,
                        extensions={"code": "UNAUTHENTICATED"},
                    )
                )
            elif role not in roles:
                self.report_error(
                    GraphQLError(
                        f"Role '{role}' may not select '{named.name}.{name}'.",
                        node,
                        extensions={"code": "FORBIDDEN"},
                    )
                )

    FieldAccessRule.__name__ = f"FieldAccessRule_{role or 'anonymous'}"
    return FieldAccessRule


# --- the declarations in the SDL -------------------------------------------------------------

_ROLE_DOCS: dict[Role, str] = {
    Role.CUSTOMER: "An insured person, scoped to their own customer record, policies and claims.",
    Role.AGENT: "Front-office staff: onboarding, quotes, policy service.",
    Role.ADJUSTER: "Claims staff who decide claims.",
    Role.QA: "Quality assurance staff (reviews, maker-checker).",
    Role.ANALYST: "Analytics staff: reads with personal fields masked.",
    Role.MANAGER: "A manager: configures the business and decides claims.",
    Role.ADMIN: "An administrator: every staff permission.",
    Role.PARTNER: "A partner institution's user (insurer, assessor, hospital, credit provider), scoped to its partner.",
    Role.AUDITOR: "An external or internal auditor: reads the ledger, proofs and audit log.",
}

#: The roles as a GraphQL enum (``Role``): the names used by ``@allow``.
_ROLE_ENUM: Any = enum.Enum("Role", {r.name: strawberry.enum_value(r.value, description=_ROLE_DOCS[r])  # type: ignore[misc]
                                     for r in Role})
RoleName: Any = strawberry.enum(_ROLE_ENUM, name="Role",
                                description="Who a caller is to Opsure: the role named by the caller's token.")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION], name="allow",
    description="Who may select this field: `roles` lists the roles that may; `public: true` (with no roles) "
    "means anyone, even without a token. Enforced before execution: a document selecting a field the caller's "
    "role may not select is refused whole (FORBIDDEN, or UNAUTHENTICATED without a token).")
class Allow:
    roles: list[RoleName] = strawberry.field(  # type: ignore[valid-type]
        description="The roles that may select the field (empty when public).")
    public: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True when anyone may select the field, even without a token.")


def allow_directive(roles: frozenset[str]) -> Allow:
    """The ``@allow`` application showing ``roles`` (``PUBLIC``: no roles, public)."""
    if "*" in roles:
        return Allow(roles=[], public=True)
    return Allow(roles=[RoleName[r.name] for r in Role if r.value in roles])


def show_permissions(schema: Any) -> None:
    """Print each field's declared roles as ``@allow`` in the SDL of a built strawberry ``schema``.

    The declarations stay the single source (:func:`declared_roles`); this only shows them.
    A field object shared by several types (an interface's ``id``) gets a copy per type, so
    each type shows its own roles. Undeclared fields show nothing (they are closed).
    """
    owners: dict[int, str] = {}
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType) or gql_type.name.startswith("__"):
            continue
        for name, gql_field in gql_type.fields.items():
            sfield = (gql_field.extensions or {}).get("strawberry-definition")
            if sfield is None:
                continue
            if owners.setdefault(id(sfield), gql_type.name) != gql_type.name:
                sfield = copy.copy(sfield)
                gql_field.extensions = {**gql_field.extensions, "strawberry-definition": sfield}
            others = [d for d in sfield.directives if not isinstance(d, Allow)]
            roles = declared_roles(gql_type, name)
            sfield.directives = others if roles is None else [*others, allow_directive(roles)]


# --- HTTP routes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteAccess:
    """Who may call one HTTP route; an open (PUBLIC) route carries a note saying why."""

    roles: frozenset[str]
    note: str = ""


_GRAPHQL = RouteAccess(PUBLIC, "GraphQL over HTTP: every field declares its roles (FieldAccessRule)")
_RPC = RouteAccess(PUBLIC, "Ethereum JSON-RPC of the ledger: auditors verify without a login; reads are bounded")

#: Every route of ``opsure.app``: (method, path template) -> access. HEAD follows GET.
ROUTE_ACCESS: dict[tuple[str, str], RouteAccess] = {
    **{(method, "/graphql"): _GRAPHQL for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")},
    ("WEBSOCKET", "/graphql"): RouteAccess(
        PUBLIC, "graphql-transport-ws: connection_init must authenticate; subscription fields are declared"),
    ("GET", "/rpc"): _RPC,
    ("POST", "/rpc"): _RPC,
    ("POST", "/oauth/token"): RouteAccess(PUBLIC, "the login itself (OAuth2 client credentials of partners)"),
    ("GET", "/healthz"): RouteAccess(PUBLIC, "health for load balancers: a status, nothing else"),
    ("GET", "/metrics"): RouteAccess(
        PUBLIC, "Prometheus scrape without a token: answered only to the networks in OPSURE_METRICS_ALLOW"),
    ("POST", "/events"): RouteAccess(
        PUBLIC, "behaviour events from frontends, anonymous visitors included: bounded per source address, body "
                "and batch capped; a caller with a token needs a role of BEHAVIOUR_EVENT_SENDERS (opsure/behaviour_http.py)"),
    ("POST", "/events/identify"): RouteAccess(VISITOR_IDENTIFIERS),  # a customer: their own id only
    ("POST", "/claims/{claim_id}/documents"): RouteAccess(DOCUMENT_UPLOADERS),
    ("GET", "/claims/{claim_id}/documents/{document_id}"): RouteAccess(DOCUMENT_READERS),
    ("GET", "/analytics/reports/{report_id}/table.csv"): RouteAccess(ANALYTICS_READERS),
    ("GET", "/analytics/reports/{report_id}/chart.svg"): RouteAccess(ANALYTICS_READERS),
    ("GET", "/graphiql/static/{asset}"): RouteAccess(
        PUBLIC, "GraphiQL's script and style files (public npm builds, vendored); only with OPSURE_GRAPHIQL on"),
}


def route_access(method: str, path: str) -> RouteAccess | None:
    """The declaration of ``method path`` (a path template), None when undeclared (closed)."""
    return ROUTE_ACCESS.get(("GET" if method == "HEAD" else method, path))


def route_refusal(access: RouteAccess, role: str | None) -> str | None:
    """None when ``role`` may call the route, else the refusal code: UNAUTHENTICATED or FORBIDDEN."""
    if "*" in access.roles:
        return None
    if role is None:
        return "UNAUTHENTICATED"
    return None if role in access.roles else "FORBIDDEN"
