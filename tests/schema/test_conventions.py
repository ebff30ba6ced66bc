"""Issue 9's API conventions, one test each, over the SDL and the live API (docs/API.md says them in prose).

Every test lists its offenders grouped by domain (the package of ``schema/`` a type or root
field comes from; ``shared`` for ``schema/relay.py``, ``schema/errors.py`` …), so a domain
sees its own list. An exception goes in the allow-list of its convention, with the reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    get_named_type,
    parse,
)

from core.auth import Role
from core.settings import Settings
from schema import NODES, build_schema
from schema.errors import COMMON_CODES

SCHEMA = build_schema(Settings())
GQL: GraphQLSchema = SCHEMA._schema
SDL: str = SCHEMA.as_str()
AST: DocumentNode = parse(SDL)
DOMAINS = ("policies", "claims", "partners", "ledger", "audit")
ROOTS = {"Query", "Mutation", "Subscription"}

# --- allow-lists: (type, field) -> why the convention does not apply -----------------------------

#: Convention 2: plain lists of objects that stay lists (small, bounded by their owner).
PLAIN_LISTS: dict[tuple[str, str], str] = {
    ("Product", "coverageItems"): "a product's benefits: a handful, fixed when the product is defined",
    ("Product", "premiumBands"): "a product's age bands: a handful, fixed when the product is defined",
    ("Quote", "reasons"): "the underwriting reasons of one quote: a few",
    ("ClassScheme", "classes"): "a scheme's ordered classes: at most 20, read in order (first match)",
    ("CustomerTagging", "tags"): "the tags one customer holds: at most one per defined tag",
    ("CustomerTagging", "classes"): "one class per classification scheme: a handful",
    ("Query", "classSchemes"): "classification schemes: a handful, defined by managers",
    ("Campaign", "offers"): "a campaign's offers: at most 20, set when it is created",
    ("Query", "healthQuestions"): "the health questionnaire: five fixed questions",
    ("SigningDomain", "types"): "the EIP-712 types of the signed record kinds: fixed by the API version",
    ("SigningDomain", "domainFields"): "the EIP-712 domain's fields: fixed by the standard",
    ("Eip712Type", "fields"): "one EIP-712 type's fields: fixed by the API version",
    ("Claim", "riskHints"): "the rules and features that fired for one claim: a handful",
    ("Claim", "lineItems"): "one claim's invoice lines, entered at once and capped by the input's limit",
    ("ExplanationOfBenefits", "lines"): "one line per line item of the claim it explains",
    ("SubmitSignedRecordsPayload", "results"): "one result per record of the submitted batch (capped)",
    ("ClaimRuleVersion", "rules"): "the rows of one version's decision table (at most 500), read whole for review",
    ("ClaimRule", "conditions"): "one rule's conditions: one per fact column of its table (ten facts)",
    ("CustomerRiskProfile", "sharedFlags"): "the flags shared on one person: at most 100 (the partners' look-up cap)",
    ("CustomerRiskProfile", "hints"): "what deserves attention in one profile: at most seven hint kinds",
    ("Quote", "referralFlags"): "the flags on one person that referred one quote: at most 100 (the look-up cap)",
    ("Query", "claimFlowTemplates"): "a product's flow templates: one per claim type at most (two)",
    ("Query", "claimProgressSummary"): "one row per waiting claim state: seven, fixed by the state machine",
    ("ClaimRuleTestReport", "results"): "one result per tested claim, capped by the test's `last` (at most 200)",
    ("Advance", "installments"): "one advance's repayment schedule: a few instalments, fixed when it is paid",
    ("Experiment", "variants"): "an experiment's variants: two per flow today, at most 8 (the input's cap)",
    ("ExperimentResults", "variants"): "one result per variant of the experiment (at most 8)",
    ("IngestBehaviourEventsPayload", "rejected"): "one entry per refused event of the batch (at most 500)",
    ("KnowledgeSearchHit", "highlights"): "the matched ranges of one 80-character snippet",
    ("CoverageAnswer", "path"): "the two edges that decided one coverage answer",
    ("CoverageAnswer", "evidence"): "the articles explaining one answer's path: at most 5",
    ("AgentAssist", "articles"): "the top articles for one consultation's text: at most 10 (the argument's cap)",
    ("AgentAssist", "suggestedReplies"): "the reply templates of the top articles: at most 5",
    ("Query", "analyticsMetrics"): "the metric catalogue: fixed by the code (17 metrics)",
    ("AnalyticsSeries", "points"): "one value per bucket and group, capped at 20,000 (TOO_MANY_POINTS)",
    ("AnalyticsPoint", "group"): "one value per requested dimension: at most three",
    ("AnalyticsForecast", "points"): "one per forecast day: at most 90 (the horizon's cap)",
    ("ReportTable", "columns"): "bucket start, at most two dimensions and ten metrics",
    ("ReportTable", "rows"): "one run of a report, capped at 20,000 values (TOO_MANY_POINTS)",
    ("WatchEntry", "reasons"): "the strongest reasons of one score: at most four",
}
#: Convention 3: String fields whose names look like a closed set but whose values are open.
OPEN_STRINGS: dict[tuple[str, str], str] = {
    ("Product", "code"): "a product's own identifier, chosen when the product is defined",
    ("CreateProductInput", "code"): "a product's own identifier, chosen when the product is defined",
    ("CoverageItem", "code"): "a benefit's identifier, defined per product",
    ("CustomerTagInput", "reasonCode"): "staff's own reason codes for manual tags (checked as A-Z, 0-9, _)",
    ("TagHistoryEntry", "reasonCode"): "staff's own reason codes for manual tags (checked as A-Z, 0-9, _)",
    ("CampaignOffer", "code"): "a campaign offer's own identifier, chosen when the campaign is created",
    ("CampaignOfferInput", "code"): "a campaign offer's own identifier, chosen when the campaign is created",
    ("CampaignOffer", "productCode"): "a product's own identifier (Product.code), defined per product",
    ("CampaignOfferInput", "productCode"): "a product's own identifier (Product.code), defined per product",
    ("CoverageItemInput", "code"): "a benefit's identifier, defined per product",
    ("CoverageItem", "category"): "a product's own grouping of its benefits, free text chosen per product",
    ("CoverageItemInput", "category"): "a product's own grouping of its benefits, free text chosen per product",
    ("HealthQuestion", "code"): "the questionnaire is data a client renders as served: questions may be added "
                                "without a schema change (DeclarationAnswerInput.question takes the code back)",
    ("Partner", "code"): "a partner's own identifier, chosen at registration",
    ("RegisterPartnerInput", "code"): "a partner's own identifier, chosen at registration",
    ("Claim", "diagnosisCode"): "an ICD-10 code: tens of thousands, validated, not an API enum",
    ("ReportClaimInput", "diagnosisCode"): "an ICD-10 code: tens of thousands, validated, not an API enum",
    ("DirectBillInput", "diagnosisCode"): "an ICD-10 code: tens of thousands, validated, not an API enum",
    ("ClaimLineItem", "itemCode"): "a hospital's billing item code: open",
    ("LineItemInput", "itemCode"): "a hospital's billing item code: open",
    ("ExplanationOfBenefitsLine", "itemCode"): "a hospital's billing item code: open",
    ("RiskHint", "code"): "a rule or feature of the versioned decision table and model: changes with them",
    ("RiskProfileHint", "code"): "a profile hint's code: the description lists today's; more may come with the profile",
    ("ClaimRule", "code"): "a rule of a versioned decision table: risk managers coin codes as they draft versions",
    ("Eip712Field", "type"): "a Solidity type name of EIP-712 (uint256, string, bytes32 …): open",
    ("RiskFlag", "flagCode"): "what an insurer flags: a vocabulary the consortium's insurers coin, not the API's",
    ("PublishRiskFlagInput", "flagCode"): "what an insurer flags: a vocabulary the consortium's insurers coin",
    ("FlagMatchedData", "flagCode"): "what an insurer flags: a vocabulary the consortium's insurers coin",
    ("RiskFlagPublisher", "code"): "a partner's own identifier, chosen at registration (Partner.code)",
    ("ClaimDocument", "contentType"): "a MIME type sniffed from the upload",
    ("ClaimLineItem", "category"): "a coverage category: each product defines its own (CoverageItem.category)",
    ("LineItemInput", "category"): "a coverage category: each product defines its own (CoverageItem.category)",
    ("ExplanationOfBenefitsLine", "category"): "a coverage category: each product defines its own",
    ("PaymentInstruction", "returnCode"): "a bank's return reason (ISO 20022 style, AC04 …): the bank's vocabulary",
    ("PayeeAccount", "bankCode"): "a bank's own code: open",
    ("RegisterPayeeAccountInput", "bankCode"): "a bank's own code: open",
    ("Advance", "diagnosisCode"): "an ICD-10 code: tens of thousands, validated, not an API enum",
    ("ApplyAdvanceInput", "diagnosisCode"): "an ICD-10 code: tens of thousands, validated, not an API enum",
}
#: Convention 3: fields whose names look like money but are not amounts.
NOT_MONEY: dict[tuple[str, str], str] = {}
#: Convention 4: JSON fields, input fields and arguments (owner "Type.field") that are free-form by nature
#: (their description must say "free-form").
FREE_FORM_JSON: dict[tuple[str, str], str] = {
    ("SignedRecordInput", "typedData"): "EIP-712 typed data exactly as signed: hashed as given, checked after",
    ("BehaviourEventInput", "properties"): "each event name has its own properties (checked by the name's schema, "
                                           "which frontends extend); one input type serves every name",
    ("DirectBillInput", "typedData"): "the hospital's EIP-712 bill exactly as signed: hashed as given, checked after",
    ("RecordDisclosure", "body"): "a committed record's body: must travel byte-faithful to recompute the commitment",
    ("Query.verifyDisclosure", "body"): "the disclosed record body exactly as received, hashed as given",
    ("ClaimRuleVersion", "document"): "a zen-engine JDM decision table exactly as drafted (editor layout included)",
    ("DraftClaimRuleVersionInput", "document"): "a zen-engine JDM decision table as authored; checked whole on draft",
    ("Tag", "rule"): "a recursive condition of the tag rule language (all/any/not nest); checked whole, every problem with its path",
    ("DefineTagInput", "rule"): "a recursive condition of the tag rule language (all/any/not nest); checked whole, every problem with its path",
    ("Segment", "expression"): "a recursive condition of the tag rule language (all/any/not nest); checked whole, every problem with its path",
    ("DefineSegmentInput", "expression"): "a recursive condition of the tag rule language (all/any/not nest); checked whole, every problem with its path",
    ("ClassRuleView", "when"): "a recursive condition of the tag rule language (all/any/not nest); checked whole, every problem with its path",
    ("ClassRuleInput", "when"): "a recursive condition of the tag rule language (all/any/not nest); checked whole, every problem with its path",
}

# --- where things come from ----------------------------------------------------------------------


def _module_domain(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "schema" and parts[1] in DOMAINS else "shared"


def _mutation_domains() -> dict[str, str]:
    """Each mutation's domain by its name with a capital first letter (as error types are named)."""
    out = {}
    for name, field in GQL.mutation_type.fields.items() if GQL.mutation_type else ():
        out[name[:1].upper() + name[1:]] = _field_origin_domain(field)
    return out


def _field_origin_domain(field: GraphQLField) -> str:
    sfield = (field.extensions or {}).get("strawberry-definition")
    origin = getattr(sfield, "origin", None)
    return _module_domain(getattr(origin, "__module__", "") or "")


@cache
def domain_of(type_name: str) -> str:
    """The schema package a type comes from (its node's, for connections and edges; its mutation's, for errors)."""
    for suffix in ("Connection", "Edge"):
        if type_name.endswith(suffix) and type_name[:-len(suffix)] in GQL.type_map:
            return domain_of(type_name[:-len(suffix)])
    named = GQL.type_map.get(type_name)
    definition = (named.extensions or {}).get("strawberry-definition") if named is not None else None
    origin = getattr(definition, "origin", None) or getattr(definition, "wrapped_cls", None)
    module = getattr(origin, "__module__", "") or ""
    domain = _module_domain(module)
    if domain == "shared" and module == "schema.errors":
        base = re.sub(r"Error(Code)?$", "", type_name)
        return _mutation_domains().get(base, "shared")
    return domain


def field_domain(type_name: str, field: GraphQLField | None = None) -> str:
    """A field's domain: its type's, or for root fields the domain that declares it."""
    if type_name in ROOTS and field is not None:
        return _field_origin_domain(field)
    return domain_of(type_name)


def report(title: str, offenders: Iterable[tuple[str, str]]) -> str:
    """The failure message: offenders grouped by domain, one per line."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for domain, line in offenders:
        grouped[domain].append(line)
    lines = [title]
    for domain in sorted(grouped):
        lines.append(f"  {domain} ({len(grouped[domain])}):")
        lines += [f"    {line}" for line in sorted(grouped[domain])]
    return "\n".join(lines)


def object_fields(*, roots: bool = True) -> Iterator[tuple[GraphQLObjectType, str, GraphQLField]]:
    """Every field of every object type of the schema (introspection types aside)."""
    for t in GQL.type_map.values():
        if isinstance(t, GraphQLObjectType) and not t.name.startswith("__") and (roots or t.name not in ROOTS):
            for name, field in t.fields.items():
                yield t, name, field


def input_values() -> Iterator[tuple[str, str, Any, str]]:
    """(owner, name, type, domain) of every argument and input field."""
    for t, name, field in object_fields():
        for arg_name, arg in field.args.items():
            yield f"{t.name}.{name}", arg_name, arg.type, field_domain(t.name, field)
    for input_type in GQL.type_map.values():
        if isinstance(input_type, GraphQLInputObjectType) and not input_type.name.startswith("__"):
            for name, input_field in input_type.fields.items():
                yield input_type.name, name, input_field.type, domain_of(input_type.name)


def _list_of(type_: GraphQLOutputType) -> GraphQLNamedType | None:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return get_named_type(type_) if isinstance(type_, GraphQLList) else None


# --- 1. identity ---------------------------------------------------------------------------------


def test_1_every_addressable_entity_is_a_node_fetched_by_node_id() -> None:
    node = GQL.type_map["Node"]
    assert isinstance(node, GraphQLInterfaceType)
    node_types = {t.name for t in GQL.get_possible_types(node)}
    offenders = []
    for t in GQL.type_map.values():
        if not isinstance(t, GraphQLObjectType) or t.name.startswith("__") or "id" not in t.fields:
            continue
        if t.name not in node_types:
            offenders.append((domain_of(t.name), f"{t.name}: has an id but does not implement Node"))
        elif str(t.fields["id"].type) != "ID!":
            offenders.append((domain_of(t.name), f"{t.name}.id: {t.fields['id'].type}, not a global ID!"))
    offenders += [(domain_of(n), f"{n}: implements Node but node(id:) cannot fetch it (add it to its NODES)")
                  for n in node_types - set(NODES)]
    offenders += [(domain_of(n), f"{n}: registered in NODES but not a Node type of the schema")
                  for n in set(NODES) - node_types]
    assert not offenders, report("Convention 1 (identity): entities are Nodes with global ids", offenders)


# --- 2. lists ------------------------------------------------------------------------------------


def test_2_every_list_of_entities_is_a_connection_paged_both_ways() -> None:
    offenders = []
    for t, name, field in object_fields():
        domain = field_domain(t.name, field)
        item = _list_of(field.type)
        if item is not None and isinstance(item, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            edges = name == "edges" and t.name.endswith("Connection")
            errors = name == "errors" and item.name.endswith("Error")
            if not (edges or errors or (t.name, name) in PLAIN_LISTS):
                offenders.append((domain, f"{t.name}.{name}: [{item.name}] is a plain list (make it a connection, "
                                          "or allow-list it with a reason)"))
        target = get_named_type(field.type)
        if target.name.endswith("Connection") and isinstance(target, GraphQLObjectType):
            args = {a: str(field.args[a].type) for a in field.args}
            want = {"first": "Int", "after": "String", "last": "Int", "before": "String"}
            if any(args.get(a) != ty for a, ty in want.items()):
                offenders.append((domain, f"{t.name}.{name}: pages with {sorted(args)}, not first/after/last/before"))
            shape = {f: str(target.fields[f].type) for f in ("edges", "pageInfo", "totalCount") if f in target.fields}
            if shape.get("totalCount") != "Int!" or "edges" not in shape or shape.get("pageInfo") != "PageInfo!":
                offenders.append((domain, f"{target.name}: needs edges, pageInfo: PageInfo! and totalCount: Int!"))
    assert not offenders, report("Convention 2 (lists): Relay connections with totalCount, paged both ways",
                                 set(offenders))


def test_2_every_root_connection_pages_backward_live(gql: Any) -> None:
    admin = gql(Role.ADMIN)
    offenders = []
    assert GQL.query_type is not None
    for name, field in GQL.query_type.fields.items():
        target = get_named_type(field.type)
        required = [a for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)]
        if not target.name.endswith("Connection") or required or not set(("last", "before")) <= set(field.args):
            continue  # reached through an argument it needs, or already an offender of the SDL test above
        body = admin.post(f"{{ {name}(last: 2) {{ totalCount pageInfo {{ hasPreviousPage hasNextPage }} "
                          "edges { cursor } } }").json()
        # A list may refuse for its own reasons (an argument an admin must give); never for paging backward.
        for error in body.get("errors", []):
            code = error.get("extensions", {}).get("code")
            if code in (None, "PAGE_SIZE", "BAD_CURSOR") or error["message"] == "Internal error":
                offenders.append((field_domain("Query", field), f"Query.{name}(last: 2): {error['message']}"))
        both = admin.post(f"{{ {name}(first: 1, last: 1) {{ totalCount }} }}").json()
        if not both.get("errors"):
            offenders.append((field_domain("Query", field), f"Query.{name}: first and last together not refused"))
    assert not offenders, report("Convention 2 (lists): backward pages through the live API", offenders)


# --- 3. values -----------------------------------------------------------------------------------

CLOSED_SET = re.compile(r"(^|[a-z])(Status|State|Kind|Level|Code|Type|Category|Outcome|Role|Gender|Channel|Mode|"
                        r"Method|Relationship|Severity|Currency)$|^(status|state|kind|level|code|type|category|"
                        r"outcome|role|gender|channel|mode|method|relationship|severity|currency)$")
MONEY = re.compile(r"(amount|premium|limit|deductible|refund|price|fee|payout|balance)$", re.IGNORECASE)
ENUM_VALUE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


def test_3_values_closed_sets_are_enums_money_is_money_instants_have_zones() -> None:
    offenders = []
    values = [(t.name, name, field.type, field_domain(t.name, field)) for t, name, field in object_fields()]
    for owner, name, type_, domain in [*values, *input_values()]:
        named = get_named_type(type_).name
        key = (owner, name)  # owner: a type, or "Type.field" for an argument
        if named == "Decimal":
            offenders.append((domain, f"{owner}.{name}: Decimal (use Money for amounts, Rate for fractions)"))
        elif MONEY.search(name) and named != "Money" and key not in NOT_MONEY:
            offenders.append((domain, f"{owner}.{name}: {named}, an amount of money is Money"))
        if named == "String" and CLOSED_SET.search(name) and key not in OPEN_STRINGS:
            offenders.append((domain, f"{owner}.{name}: String, a closed set of values is an enum "
                                      "(or allow-list it as open, with the reason)"))
        if re.search(r"[a-z]At$", name) and named != "DateTime":
            offenders.append((domain, f"{owner}.{name}: {named}, an instant is a DateTime (ISO 8601 with its zone)"))
        if re.search(r"([a-z]On|Date)$", name) and named not in ("Date", "DateTime"):
            offenders.append((domain, f"{owner}.{name}: {named}, a calendar date is a Date (YYYY-MM-DD)"))
    for t in GQL.type_map.values():
        if isinstance(t, GraphQLEnumType) and not t.name.startswith("__"):
            offenders += [(domain_of(t.name), f"{t.name}.{v}: enum values are UPPER_SNAKE_CASE")
                          for v in t.values if not ENUM_VALUE.match(v)]
    assert not offenders, report("Convention 3 (values): enums, Money, DateTime/Date", set(offenders))


def test_3_the_value_scalars_say_their_format() -> None:
    for name, words in (("Money", "exactly two decimals"), ("DateTime", "explicit offset"), ("Date", "YYYY-MM-DD")):
        scalar = GQL.type_map.get(name)
        assert isinstance(scalar, GraphQLScalarType) and words in (scalar.description or ""), name


# --- 4. no untyped JSON --------------------------------------------------------------------------


def test_4_no_untyped_json_for_domain_data() -> None:
    offenders = []
    described = {(t.name, name): field.description for t, name, field in object_fields()}
    described |= {(t.name, name): f.description for t in GQL.type_map.values()
                  if isinstance(t, GraphQLInputObjectType) for name, f in t.fields.items()}
    described |= {(f"{t.name}.{field_name}", name): arg.description for t, field_name, field in object_fields()
                  for name, arg in field.args.items()}
    values = [(t.name, name, field.type, field_domain(t.name, field)) for t, name, field in object_fields()]
    for owner, name, type_, domain in [*values, *input_values()]:
        if get_named_type(type_).name != "JSON":
            continue
        key = (owner, name)  # owner: a type, or "Type.field" for an argument
        if key not in FREE_FORM_JSON:
            offenders.append((domain, f"{owner}.{name}: JSON (give the data a type)"))
        elif "free-form" not in (described.get(key) or ""):
            offenders.append((domain, f"{owner}.{name}: allowed as free-form JSON, but its description must say so"))
    assert not offenders, report("Convention 4 (no untyped JSON)", offenders)


# --- 5. errors -----------------------------------------------------------------------------------


def test_5_every_mutation_payload_lists_typed_errors_with_an_enum_of_codes() -> None:
    offenders = []
    assert GQL.mutation_type is not None
    for name, field in GQL.mutation_type.fields.items():
        domain = field_domain("Mutation", field)
        payload = get_named_type(field.type)
        errors = payload.fields.get("errors") if isinstance(payload, GraphQLObjectType) else None
        item = _list_of(errors.type) if errors is not None else None
        if errors is None or item is None or not str(errors.type).endswith("!]!"):
            offenders.append((domain, f"{name}: payload {payload.name} has no errors: [<{name}>Error!]!"))
            continue
        assert isinstance(item, GraphQLObjectType)
        code = item.fields.get("code")
        code_type = get_named_type(code.type) if code is not None else None
        shape = {f: str(item.fields[f].type) for f in ("field", "message") if f in item.fields}
        if not isinstance(code_type, GraphQLEnumType) or not isinstance(code.type, GraphQLNonNull):  # type: ignore[union-attr]
            offenders.append((domain, f"{name}: {item.name}.code is not a non-null enum of the mutation's codes "
                                      "(schema.errors.mutation_errors)"))
        elif missing := set(COMMON_CODES) - set(code_type.values):
            offenders.append((domain, f"{name}: {code_type.name} lacks the common codes {sorted(missing)}"))
        if shape != {"field": "String", "message": "String!"}:
            offenders.append((domain, f"{name}: {item.name} is not {{ field: String, code, message: String! }}"))
    assert not offenders, report("Convention 5 (errors): one shape, codes an enum per mutation", offenders)


def test_5_validation_and_execution_refusals_follow_graphql_over_http(gql: Any) -> None:
    client = gql(Role.ADMIN)
    invalid = "{ policies(first: 1) { totalCont } }"
    refused_in_execution = "{ policies(first: 1000) { totalCount } }"  # PAGE_SIZE: a field error
    for media, status_invalid in (("application/graphql-response+json", 400), ("application/json", 200)):
        resp = client.post(invalid, accept=media)
        assert resp.status_code == status_invalid and resp.headers["content-type"].startswith(media)
        assert "data" not in resp.json() and len(resp.json()["errors"]) == 1
        resp = client.post(refused_in_execution, accept=media)
        body = resp.json()
        assert resp.status_code == 200 and "data" in body, (media, resp.status_code, body)  # it ran: data, maybe null
        assert body["errors"][0]["extensions"]["code"] == "PAGE_SIZE" and body["errors"][0]["path"] == ["policies"]


# --- 6. permissions visible ----------------------------------------------------------------------


def _definitions() -> Iterator[TypeDefinitionNode]:
    for definition in AST.definitions:
        if isinstance(definition, TypeDefinitionNode):
            yield definition


def test_6_every_field_shows_its_roles_in_the_sdl() -> None:
    offenders = []
    for definition in _definitions():
        if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for f in definition.fields or ():
                if not any(d.name.value == "allow" for d in f.directives or ()):
                    offenders.append((domain_of(definition.name.value),
                                      f"{definition.name.value}.{f.name.value}: no @allow (undeclared: closed)"))
    assert not offenders, report("Convention 6 (permissions visible): @allow on every field", offenders)


# --- 7. documentation ----------------------------------------------------------------------------


def _missing_descriptions() -> Iterator[tuple[str, str]]:
    for d in _definitions():
        type_name = d.name.value
        domain = domain_of(type_name)
        if d.description is None:
            yield domain, f"type {type_name}"
        if isinstance(d, EnumTypeDefinitionNode):
            yield from ((domain, f"enum value {type_name}.{v.name.value}") for v in d.values or () if not v.description)
        if isinstance(d, InputObjectTypeDefinitionNode):
            yield from ((domain, f"input field {type_name}.{f.name.value}") for f in d.fields or ()
                        if not f.description)
        if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for f in d.fields or ():
                owner = _root_field_domain(type_name, f) if type_name in ROOTS else domain
                if not f.description:
                    yield owner, f"field {type_name}.{f.name.value}"
                yield from ((owner, f"argument {type_name}.{f.name.value}({a.name.value})")
                            for a in f.arguments or () if not a.description)
        if isinstance(d, ScalarTypeDefinitionNode | UnionTypeDefinitionNode):
            continue


def _root_field_domain(type_name: str, node: FieldDefinitionNode) -> str:
    root = GQL.type_map[type_name]
    assert isinstance(root, GraphQLObjectType)
    return field_domain(type_name, root.fields[node.name.value])


def test_7_every_type_field_argument_input_field_and_enum_value_is_described() -> None:
    offenders = list(_missing_descriptions())
    assert not offenders, report("Convention 7 (documentation): descriptions everywhere", offenders)


def test_domains_are_attributed() -> None:
    """The offender lists name real domains: a type of each domain package is found where it is."""
    assert domain_of("Policy") == "policies" and domain_of("Claim") == "claims"
    assert domain_of("PageInfo") == "shared" and domain_of("PolicyConnection") == "policies"
