"""No leaks through text: what a role may not select never reaches it inside a string it may select.

The data has every risk-ish value: a flagged duplicate, a risky claim (a partner's shared
risk flag) investigated and decided with an adjuster's note, a claim rejected with a
staff-typed reason, payments under idempotency keys, and a hospital's direct bill that
overlaps another claim of the insured.

The test introspects the live schema. For each walked role (a customer, a hospital) it
builds queries selecting every field the role may select (``declared_roles``), from
every root field it may call, depth-limited, with every id there is for by-id roots, and
collects every string it gets back (JSON leaves included), in Chinese and in English. As
an admin it collects the values the role must not learn: values of fields the role may
not select (risk score, level, hints, rule version, event actors, idempotency keys, …) or
only reachable through such fields, the identifying values of every row (claim numbers,
ids, names, …), and the staff-typed notes. Values the role itself receives whole from a
field it may select are its own to know; everything else must not appear inside any
string the role receives (floats in their printed forms, short words as whole words).

Each query also runs twice, so the compiled plan (schema.fastexec) answers it too; the
plan's answer in the other language must equal normal execution's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from graphql.pyutils import Undefined

from core.auth import Principal, Role
from core.clock import business_today
from core.db import transaction
from core.settings import Settings
from ledger.commitments import TenantKey, install_tenant_key
from partners import risk
from partners.models import AssignmentKind, PartnerKind
from resolvers.claims import documents, payments, service
from resolvers.claims.models import ClaimState
from resolvers.policies.models import Customer
from schema.permissions import declared_roles
from schema.relay import decode_global_id
from tests.claim_factories import (
    ADJUSTER,
    add_invoice,
    customer_principal,
    make_approved_claim,
    make_claim_policy,
    report,
    small_items,
)
from tests.partner_factories import (
    DOMAIN,
    bill_message,
    make_assignment,
    make_key,
    make_partner,
    partner_principal,
    sign,
)
from tests.payment_factories import add_account, bank_round

NOW = dt.datetime.now(dt.UTC)
TODAY = business_today()
HOSPITAL_NAME = "杭州市第一人民医院"
#: Free text typed by staff: never for customers or hospitals.
NOTES = ("SIU file 4471: staged accident ring suspected", "informant says the bill was inflated",
         "fraud ring member per SIU file 42")
DEPTH = 6
LOCALES = ("zh-CN", "en")
SCALAR_TEXT = frozenset({"String", "ID", "JSON", "Date", "DateTime", "Decimal", "Money", "Rate", "Float"})
IDENTIFYING = frozenset({"id", "number", "caseReference", "name", "idNumber", "phone", "email", "subject",
                         "billNumber", "idempotencyKey", "actor", "storageKey", "blindedId"})


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    """Limits wide enough for whole-schema selections; the signing domain of the test partners."""
    return Settings(data_dir=data_dir, database_url=database_url, ledger_mode="off", anchoring_in_process=False,
                    max_query_tokens=200_000, max_query_depth=40, max_aliases=10**6, max_query_cost=10**9,
                    max_document_bytes=2_000_000, max_body_bytes=4_000_000,
                    extra={"partners.chain_id": str(DOMAIN.chain_id),
                           "partners.verifying_contract": DOMAIN.verifying_contract})


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(TenantKey.generate())
    yield
    install_tenant_key(None)


# --- the data ------------------------------------------------------------------------------------


@dataclass
class World:
    customer_id: int
    hospital_id: int
    blinded: list[str] = field(default_factory=list)


def _customer_claims(s: Any, key: risk.ConsortiumKey) -> int:
    """A fast-paid claim, a flagged duplicate of it, a risky claim decided with a note, a rejected one."""
    policy = make_claim_policy(s, code="LEAK-C1")
    fast = report(s, policy, days_ago=20)
    add_invoice(s, fast)
    service.submit_claim(s, principal=ADJUSTER, claim_id=fast.id, expected_version=None, today=TODAY, now=NOW)
    doc = add_invoice(s, fast)
    documents.record_original(s, principal=ADJUSTER, document_id=doc.id, received_on=TODAY, tracking="SF123",
                              today=TODAY)
    duplicate = report(s, policy, days_ago=19)  # overlaps the fast claim: same insured, hospital, dates
    add_invoice(s, duplicate)
    service.submit_claim(s, principal=customer_principal(policy.customer_id), claim_id=duplicate.id,
                         expected_version=None, today=TODAY, now=NOW)
    # a partner insurer shared a risk flag on this person: the next claim is high risk
    insurer = make_partner(s, kind=PartnerKind.INSURER)
    id_number = s.get_one(Customer, policy.customer_id).id_number
    risk.publish_flag(s, principal=partner_principal(insurer), blinded_id=key.blind(id_number),
                      flag_code="STAGED_ACCIDENT", level="high", now=NOW)
    risky = report(s, policy, days_ago=3, hospital="浙江省人民医院")
    add_invoice(s, risky)
    risky = service.submit_claim(s, principal=ADJUSTER, claim_id=risky.id, expected_version=None, today=TODAY,
                                 now=NOW, consortium=key)
    assert risky.state is ClaimState.INVESTIGATING and risky.risk_score is not None
    service.adjudicate_claim(s, principal=ADJUSTER, claim_id=risky.id, expected_version=None, now=NOW,
                             note=NOTES[0])
    payments.pay_claim(s, principal=ADJUSTER, claim_id=risky.id, idempotency_key="risky-payout-0001", now=NOW)
    bank_round(s, at=NOW)  # the bank settles both payouts: PAID reasons name their keys to staff only
    rejected = report(s, policy, days_ago=40, hospital="上海市第六人民医院", items=[])
    service.submit_claim(s, principal=ADJUSTER, claim_id=rejected.id, expected_version=None, today=TODAY, now=NOW)
    service.transition_claim(s, principal=ADJUSTER, claim_id=rejected.id, to=ClaimState.REJECTED, reason=NOTES[2],
                             expected_version=None, now=NOW)
    return policy.customer_id


def _direct_bill(gql: Any, s_factory: Any) -> int:
    """A hospital bills a policy whose insured reported the same stay in the app: a duplicate it cannot read."""
    with transaction(s_factory) as s:
        policy = make_claim_policy(s, code="LEAK-C3")
        report(s, policy, days_ago=4, hospital=HOSPITAL_NAME)
        hospital = make_partner(s, kind=PartnerKind.HOSPITAL, name=HOSPITAL_NAME)
        _key, account = make_key(s, hospital)
        assignment = make_assignment(s, hospital, kind=AssignmentKind.HOSPITAL_BILL, case_reference=policy.number)
        add_account(s, partner_id=hospital.id)
        hospital_id = hospital.id
    items = small_items()
    msg = bill_message(assignment, account.address, amountFen=80000, itemsCommitment=service.items_commitment(items))
    typed, signature = sign(account, "HospitalBill", msg)
    day = TODAY - dt.timedelta(days=4)
    out = gql(Role.PARTNER, partner_id=hospital_id)(
        "mutation($input: DirectBillInput!) { submitDirectBill(input: $input) { claim { id state duplicateSuspected }"
        " errors { code message } } }",
        {"input": {"typedData": typed, "signature": signature,
                   "admissionDate": day.isoformat(), "dischargeDate": (day + dt.timedelta(days=3)).isoformat(),
                   "diagnosisCode": "J18.9",
                   "items": [{"itemCode": i.item_code, "category": i.category, "amount": str(i.amount),
                              "quantity": i.quantity} for i in items]}})["submitDirectBill"]
    assert out["errors"] == [] and out["claim"]["duplicateSuspected"] is True, out
    claim_id = decode_global_id(out["claim"]["id"], "Claim")
    with transaction(s_factory) as s:
        service.adjudicate_claim(s, principal=ADJUSTER, claim_id=claim_id, expected_version=None, now=NOW,
                                 note=NOTES[1])
        payments.pay_claim(s, principal=Principal(subject="adjuster-payouts", role=Role.ADJUSTER),
                           claim_id=claim_id, idempotency_key="hospital-payout-77", now=NOW)
        bank_round(s, at=NOW)
    return hospital_id


@pytest.fixture
def world(gql: Any, session_factory: Any, settings: Settings) -> World:
    key = risk.consortium_key(settings.keys_dir)
    with transaction(session_factory) as s:
        customer_id = _customer_claims(s, key)
        other = make_claim_policy(s, code="LEAK-C2")  # another customer's claims: numbers C1 may not learn
        make_approved_claim(s, policy=other, note="another customer's note")
        blinded = [key.blind(c.id_number) for c in s.query(Customer).all()]
    hospital_id = _direct_bill(gql, session_factory)
    return World(customer_id=customer_id, hospital_id=hospital_id, blinded=blinded)


# --- selections built from the live schema ----------------------------------------------------------


def _may(role: str, parent: GraphQLNamedType, name: str) -> bool:
    roles = declared_roles(parent, name)
    return roles is not None and ("*" in roles or role in roles)


def _required_args(f: GraphQLField) -> list[str]:
    return [n for n, a in f.args.items() if isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined]


def selection(schema: GraphQLSchema, type_: GraphQLOutputType, role: str, depth: int, *,
              prefix: str = "") -> str | None:
    """Every field ``role`` may select below ``type_`` ('' for a leaf, None when nothing is selectable).

    Fields inside the fragments of an abstract type are aliased ``Type__field`` (same-named
    fields of two types may not share a response key).
    """
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if depth == 0:
        return None
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        parts = ["__typename"]
        for concrete in schema.get_possible_types(named):
            inner = selection(schema, concrete, role, depth, prefix=f"{concrete.name}__")
            if inner:
                parts.append(f"... on {concrete.name} {{ {inner} }}")
        return " ".join(parts)
    assert isinstance(named, GraphQLObjectType)
    parts = ["__typename"]
    for name, f in named.fields.items():
        if not _may(role, named, name) or _required_args(f):
            continue
        args = "(first: 100)" if "first" in f.args else ""
        inner = selection(schema, f.type, role, depth - 1)
        if inner is None:
            continue
        key = f"{prefix}{name}: {name}" if prefix else name
        parts.append(f"{key}{args} {{ {inner} }}" if inner else f"{key}{args}")
    return " ".join(parts) if len(parts) > 1 else None


def _id_type(arg: str, field_type: GraphQLOutputType) -> str | None:
    if arg == "id":
        named = get_named_type(field_type)
        return None if isinstance(named, GraphQLInterfaceType) else named.name
    if arg.endswith("Id"):
        return arg[:-2][0].upper() + arg[:-2][1:]
    return None


def root_calls(schema: GraphQLSchema, role: str, ids: dict[str, set[str]], blinded: list[str]) -> list[str]:
    """Aliased root-field calls (``alias: field(args) { ... }``) covering everything ``role`` may call."""
    query = schema.query_type
    assert query is not None
    calls: list[str] = []
    for name, f in query.fields.items():
        if not _may(role, query, name):
            continue
        inner = selection(schema, f.type, role, DEPTH)
        if inner is None:
            continue
        body = f" {{ {inner} }}" if inner else ""
        required = _required_args(f)
        if not required:
            calls.append(f"{name}{'(first: 100)' if 'first' in f.args else ''}{body}")
            continue
        if required == ["blindedId"]:
            calls += [f'{name}(blindedId: "{b}"){body}' for b in blinded]
            continue
        if len(required) != 1 or str(get_named_type(f.args[required[0]].type)) != "ID":
            continue  # e.g. verifyDisclosure(commitment, body, salt): echoes its input, nothing stored
        arg = required[0]
        wanted = _id_type(arg, f.type)
        pool = sorted(set().union(*ids.values())) if wanted is None else sorted(ids.get(wanted, ()))
        calls += [f'{name}({arg}: "{gid}"){body}' for gid in pool]
    return calls


# --- walking answers along their types --------------------------------------------------------------


@dataclass
class Seen:
    strings: list[str] = field(default_factory=list)  # every string received (JSON leaves too)
    whole: set[str] = field(default_factory=set)  # whole values of text and enum fields
    forbidden: set[str] = field(default_factory=set)  # admin walk: what ``role`` must not learn
    visible: set[str] = field(default_factory=set)  # admin walk: values in positions ``role`` may select
    ids: dict[str, set[str]] = field(default_factory=dict)


def _texts(value: Any, *, keys: bool = True) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if keys:
                yield str(k)
            yield from _texts(v, keys=keys)
    elif isinstance(value, list):
        for v in value:
            yield from _texts(v, keys=keys)
    elif isinstance(value, str):
        yield value
    elif isinstance(value, float):
        yield repr(value)


def _float_forms(x: float) -> set[str]:
    if x in (0.0, 1.0) or abs(x) >= 1000:
        return set()
    return {repr(x), str(x), f"{x:.4f}", f"{x:.3f}"} - {"0.000", "0.0000", "1.000", "1.0000"}


def _distinctive(text: str) -> bool:
    """A value that identifies something (not a status word like 'pending' that any row may carry)."""
    return not text.isdigit() and (any(c.isdigit() for c in text) or len(text) >= 10 or not text.isascii())


def walk(schema: GraphQLSchema, value: Any, type_: GraphQLOutputType, seen: Seen, *, role: str,
         as_admin: bool, hidden: bool = False, field_name: str = "", parent: Any = None) -> None:
    """Collect strings (role walk) or forbidden values (admin walk) of one answer, typed by the schema."""
    if value is None:
        return
    if isinstance(type_, GraphQLNonNull):
        walk(schema, value, type_.of_type, seen, role=role, as_admin=as_admin, hidden=hidden, field_name=field_name,
             parent=parent)
        return
    if isinstance(type_, GraphQLList):
        for v in value:
            walk(schema, v, type_.of_type, seen, role=role, as_admin=as_admin, hidden=hidden, field_name=field_name,
                 parent=parent)
        return
    named = get_named_type(type_)
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        named = schema.get_type(value["__typename"])  # type: ignore[assignment]
    if isinstance(named, GraphQLObjectType):
        if "id" in value and isinstance(value["id"], str):
            seen.ids.setdefault(named.name, set()).add(value["id"])
        for key, v in value.items():
            if key == "__typename":
                continue
            name = key.split("__", 1)[1] if "__" in key else key
            walk(schema, v, named.fields[name].type, seen, role=role, as_admin=as_admin, field_name=name,
                 hidden=hidden or not _may(role, named, name), parent=named)
        return
    texts = list(_texts(value, keys=not as_admin))
    if not as_admin:
        if isinstance(value, str) and named.name != "JSON":
            seen.whole.add(value)
        if not isinstance(named, GraphQLEnumType):  # a closed vocabulary carries no text
            seen.strings += texts
        return
    if not hidden and field_name not in IDENTIFYING and not isinstance(value, float):
        seen.visible |= set(texts)  # e.g. a record kind, a proof format name: vocabulary, not a secret
    if isinstance(named, GraphQLEnumType):
        if not _may(role, parent, field_name):  # e.g. RiskLevel: the words themselves are the secret
            seen.forbidden |= set(texts)
    elif hidden or field_name in IDENTIFYING:
        if isinstance(value, float):
            seen.forbidden |= _float_forms(value)
        elif named.name in SCALAR_TEXT:
            seen.forbidden |= {t for t in texts if _distinctive(t)}


def _alias(calls: list[str]) -> Iterator[tuple[str, list[str]]]:
    for start in range(0, len(calls), 40):
        batch = calls[start:start + 40]
        yield "{ " + " ".join(f"q{i}: {call}" for i, call in enumerate(batch)) + " }", batch


def _field_of(schema: GraphQLSchema, call: str) -> GraphQLField:
    name = re.match(r"\w+", call)
    assert schema.query_type is not None and name is not None
    found: GraphQLField = schema.query_type.fields[name[0]]
    return found


def _post(client: Any, doc: str, locale: str, other_locale: str | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The answer in ``locale`` (normal, then again by the compiled plan), and in ``other_locale`` if asked."""
    first = client.post(doc, None, **{"accept-language": locale})
    again = client.post(doc, None, **{"accept-language": locale})
    assert first.status_code == 200, first.text[:2000]
    assert again.content == first.content, "the compiled plan answered differently"
    other = None
    if other_locale is not None:  # the plan compiled above, answering another language
        planned = client.post(doc, None, **{"accept-language": other_locale})
        normal = client.post(doc + "\n", None, **{"accept-language": other_locale})
        assert planned.content == normal.content, "the plan answered another language differently"
        other = normal.json()
    return first.json(), other


def run_walk(schema: GraphQLSchema, client: Any, calls: list[str], seen: Seen, *, role: str, as_admin: bool,
             locale: str = "zh-CN", other_locale: str | None = None) -> None:
    """Post the calls, batched under aliases (one by one where a batch fails as a whole), and walk the answers."""
    for doc, batch in _alias(calls):
        answers = _post(client, doc, locale, other_locale)
        if answers[0].get("data") is None and len(batch) > 1:
            for call in batch:
                run_walk(schema, client, [call], seen, role=role, as_admin=as_admin, locale=locale,
                         other_locale=other_locale)
            continue
        for body in answers:
            if body is None:
                continue
            if not as_admin:  # refusals are text the caller reads too
                seen.strings += [e.get("message", "") for e in body.get("errors", ())]
            for alias, v in (body.get("data") or {}).items():
                walk(schema, v, _field_of(schema, batch[int(alias[1:])]).type, seen, role=role, as_admin=as_admin)


# --- matching -------------------------------------------------------------------------------------


def _pattern(value: str) -> re.Pattern[str]:
    if len(value) >= 6:
        return re.compile(re.escape(value))
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", re.IGNORECASE)


def leaks(received: Seen, forbidden: set[str]) -> list[tuple[str, str]]:
    """(forbidden value, string containing it) pairs; staff notes count even when received whole."""
    secret = {v for v in forbidden - received.whole if len(v) >= 3} | set(NOTES)
    patterns = [(v, _pattern(v)) for v in sorted(secret)]
    return sorted({(v, text) for text in set(received.strings) for v, p in patterns if p.search(text)})


def _admin_walk(schema: GraphQLSchema, gql: Any, role: str, world: World) -> Seen:
    admin = Seen()
    calls = root_calls(schema, "admin", {}, world.blinded)
    run_walk(schema, gql(Role.ADMIN), calls, admin, role=role, as_admin=True)
    admin.forbidden -= admin.visible
    admin.forbidden |= set(NOTES)
    return admin


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER])
def test_no_value_a_role_may_not_select_reaches_it_inside_text(gql: Any, http: Any, world: World,
                                                               role: Role) -> None:
    schema: GraphQLSchema = http.app.state.schema._schema
    admin = _admin_walk(schema, gql, role.value, world)
    client = (gql(Role.CUSTOMER, customer_id=world.customer_id) if role is Role.CUSTOMER
              else gql(Role.PARTNER, partner_id=world.hospital_id))
    received = Seen()
    calls = root_calls(schema, role.value, admin.ids, world.blinded)
    run_walk(schema, client, calls, received, role=role.value, as_admin=False, locale="zh-CN", other_locale="en")
    assert any("CLM" in t for t in received.strings), "the walk reached no claim"
    found = leaks(received, admin.forbidden)
    assert found == [], "\n".join(f"{v!r} inside {t!r}" for v, t in found[:40])
    assert any(t.startswith("已支付") for t in received.strings) and \
        any(t.startswith("Paid") for t in received.strings), "both languages were walked"


def test_staff_still_read_the_detail(gql: Any, world: World) -> None:
    """The detail moved, it did not vanish: adjusters read scores, rules, actors, notes and keys."""
    seen = gql(Role.ADJUSTER)("{ claims(first: 100) { edges { node { decisionReason riskScore "
                              "timeline(first: 100) { edges { node { reasonCode reason actor } } } } } } }"
                              )["claims"]["edges"]
    timelines = [[e["node"] for e in n["node"]["timeline"]["edges"]] for n in seen]
    texts = [e["reason"] for t in timelines for e in t] + [n["node"]["decisionReason"] or "" for n in seen]
    joined = "\n".join(texts)
    score = next(n["node"]["riskScore"] for n, t in zip(seen, timelines, strict=True) if any(
        e["reasonCode"] == "ROUTED_TO_INVESTIGATION" for e in t))
    assert f"score {score}" in joined and "SHARED_RISK_FLAG" in joined
    assert all(note in joined for note in NOTES)
    assert "key risky-payout-0001" in joined and "by adjuster-claims" in joined
    assert re.search(r"possible duplicate of claim CLM\w+", joined)


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER])
def test_the_walk_sees_what_it_must_not_leak(gql: Any, http: Any, world: World, role: Role) -> None:
    """The forbidden set holds the risk score, actors, keys and the other claims' numbers.

    A risk level's word is the customer's secret; hospitals read it as the level of the risk
    flags partners publish (``RiskFlag.level``, the same ``RiskLevel`` enum), so not theirs.
    """
    schema: GraphQLSchema = http.app.state.schema._schema
    admin = _admin_walk(schema, gql, role.value, world)
    assert {"adjuster-claims", "hospital-payout-77", "risky-payout-0001"} <= admin.forbidden
    assert ("HIGH" in admin.forbidden) is (role is Role.CUSTOMER)
    assert any(v.startswith("CLM") for v in admin.forbidden)
    assert any(re.fullmatch(r"0\.\d{3,4}", v) for v in admin.forbidden)
