"""Every domain's events: registered with a payload schema, readable by their fields' readers, appended
by each service that changes state in its own transaction (a failed one leaves none)."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy.orm import Session

from core.clock import moved_clock
from core.db import read_only_session, transaction
from core.event_stream import (
    Actor,
    Aggregate,
    EventPayload,
    EventTypeError,
    StoredEvent,
    append,
    head_id,
    read_events,
    registered_event_types,
)
from core.roles import INTERNAL
from core.settings import Settings
from opsure.event_stream_host import EVENT_MODULES, load_event_modules
from partners import keys, review, risk, signed_records
from partners.events import PartnerStatusChanged
from resolvers.claims import service as claims
from resolvers.claims.events import ClaimMoved
from resolvers.operations import behaviour
from resolvers.policies import service as policies
from resolvers.policies.events import PolicyEnded, PolicyFact
from schema import build_schema
from schema.permissions import declared_roles
from tests.claim_factories import ADJUSTER, add_invoice, make_claim_policy, report
from tests.factories import ADMIN, make_policy
from tests.partner_factories import (
    CHECKER,
    DOMAIN,
    NOW,
    make_assignment,
    make_key,
    make_partner,
    partner_principal,
    sign,
    survey_message,
)
from tests.service_factories import SERVICE_EVENT_ROWS

ROOT = Path(__file__).resolve().parents[2]
#: Aggregates with no schema type (so no field permissions to follow), each with its reason.
NO_SCHEMA_TYPE = {
    "PaymentInstruction": "the rail's instructions are read through the claims and advances that own them",
    "RiskWatch": "the robot's watch list is read through riskWatchList (risk staff): a customer never learns of it",
}
#: Where services live: every EventPayload class here must be registered (or be a base of registered ones).
SERVICE_PACKAGES = ("resolvers", "partners", "ledger")


def _schema() -> Any:
    return build_schema(Settings())._schema


def _payload_classes() -> set[type[EventPayload]]:
    found: set[type[EventPayload]] = set()
    todo = list(EventPayload.__subclasses__())
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return {c for c in found if c.__module__.split(".")[0] in SERVICE_PACKAGES}


def test_every_domain_registers_its_types_from_a_module_in_event_modules() -> None:
    load_event_modules()
    names = {t.name for t in registered_event_types()}
    for prefix in ("policy.", "claim.", "partner."):
        assert any(n.startswith(prefix) for n in names), prefix
    assert not any(n.startswith("legacy.") for n in names)  # the emit() shim is gone
    for event_type in registered_event_types():
        if event_type.name.startswith("test."):
            continue
        assert event_type.payload.__module__ in EVENT_MODULES, event_type.name


def test_every_payload_class_of_a_service_is_registered_or_a_base_of_registered_ones() -> None:
    load_event_modules()
    for module in ("resolvers", "partners", "ledger"):
        for path in (ROOT / module).rglob("*.py"):
            importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"))
    registered = {t.payload for t in registered_event_types()}
    for cls in _payload_classes():
        if cls.__subclasses__():
            assert all(sub in registered or sub.__subclasses__() for sub in cls.__subclasses__()), cls
            continue
        assert cls in registered, f"{cls.__module__}.{cls.__name__} is appended nowhere registered"


def test_no_service_appends_through_a_side_door() -> None:
    """Services append typed payloads only (no emit(), no core.events, no raw inserts into domain_event)."""
    for package in (*SERVICE_PACKAGES, "schema", "opsure"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    assert node.module != "core.events", path
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    assert node.func.id != "emit", f"{path}:{node.lineno}"


def test_each_type_is_visible_to_its_aggregates_readers_and_each_field_to_its_sources() -> None:
    """The roles that may see an event follow the permissions of the schema fields it carries."""
    load_event_modules()
    schema = _schema()
    for event_type in registered_event_types():
        if event_type.name.startswith("test."):
            continue
        if event_type.aggregate in NO_SCHEMA_TYPE:  # no type to follow: internal readers only
            assert event_type.readers <= INTERNAL, event_type.name
            continue
        assert event_type.aggregate in schema.type_map, f"{event_type.name}: {event_type.aggregate} is no schema type"
        node = schema.type_map[event_type.aggregate]
        assert event_type.readers == declared_roles(node, "id"), event_type.name
        for field, declared in event_type.field_readers:
            assert declared.source is not None, f"{event_type.name}.{field} names the schema field it mirrors"
            type_name, field_name = declared.source.split(".")
            assert declared.roles == declared_roles(schema.type_map[type_name], field_name), declared.source


def test_a_risk_assessment_never_reaches_a_customer_while_the_claims_moves_do() -> None:
    load_event_modules()
    by_name = {t.name: t for t in registered_event_types()}
    assessed = by_name["claim.risk_assessed"].payload.model_validate_json(
        '{"claimId": 1, "customerId": 2, "riskLevel": "high", "riskScore": 0.93}')
    roles = by_name["claim.risk_assessed"].visible_to(assessed)
    assert "customer" not in roles and "partner" not in roles and "adjuster" in roles
    submitted = by_name["claim.submitted"].payload.model_validate_json(
        '{"claimId": 1, "customerId": 2, "fromState": "draft", "toState": "submitted", "reasonCode": "SUBMITTED",'
        ' "claimedAmount": "800.00"}')
    assert "customer" in by_name["claim.submitted"].visible_to(submitted)


@pytest.mark.parametrize("base", [PolicyFact, PolicyEnded, ClaimMoved, PartnerStatusChanged])
def test_an_unregistered_payload_is_refused_at_append(session_factory: Any, base: type[EventPayload]) -> None:
    """A base class (or any class never registered) is a programming error in the service that appends it."""
    fields = {name: _sample(info.annotation) for name, info in base.model_fields.items() if info.is_required()}
    with transaction(session_factory) as s, pytest.raises(EventTypeError, match="not a registered"):
        append(s, base(**fields), aggregate=Aggregate("Policy", 1), actor=Actor("tester"))
    with read_only_session(session_factory) as s:
        assert head_id(s) == 0


def _sample(annotation: Any) -> Any:
    import enum

    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation))
    return {int: 1, Decimal: Decimal(1), dt.date: dt.date(2026, 1, 1)}.get(annotation, 1)


# --- each service appends its event in its own transaction -------------------------------------------------------

TODAY = dt.date(2026, 6, 1)
AT = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)

Setup = Callable[[Session], Any]
Act = Callable[[Session, Any], Any]


def _policy(s: Session) -> Any:
    return make_policy(s, today=TODAY)


def _old_policy(s: Session) -> Any:
    return make_policy(s, today=TODAY - dt.timedelta(days=400))


def _quote(s: Session) -> Any:
    from tests.factories import make_customer, make_product, make_quote

    return make_quote(s, customer=make_customer(s), product=make_product(s), today=TODAY)


def _draft(s: Session) -> Any:
    claim = report(s, make_claim_policy(s, today=TODAY), today=TODAY, amount=Decimal("8000.00"),
                   items=[claims.LineItemSpec("SURG-1", "inpatient", Decimal("8000.00"), 1)])
    add_invoice(s, claim)
    return claim.id


def _in_review(s: Session) -> Any:
    claim_id = _draft(s)
    claims.submit_claim(s, principal=ADJUSTER, claim_id=claim_id, expected_version=None, today=TODAY, now=AT)
    return claim_id


def _partner(s: Session) -> Any:
    return make_partner(s)


def _keyed(s: Session) -> Any:
    partner = make_partner(s)
    return make_key(s, partner)[0].id


def _assigned(s: Session) -> Any:
    partner = make_partner(s)
    account = Account.create()
    make_key(s, partner, account=account)
    return make_assignment(s, partner), account


def _insurers(s: Session) -> Any:
    from partners.models import PartnerKind

    return make_partner(s, kind=PartnerKind.INSURER), make_partner(s, kind=PartnerKind.INSURER)


def _define_tag(s: Session, customer_id: int) -> None:
    from resolvers.operations.tags import service as tags

    tags.define_tag(s, principal=ADMIN, key="holder", kind=tags.TagKind.RULE, now=AT,
                    rule={"op": "age", "min": 0, "max": 150})


def _publish_two(s: Session, insurers: Any) -> None:
    blinded = "ab" * 32
    for insurer in insurers:
        risk.publish_flag(s, principal=partner_principal(insurer), blinded_id=blinded, flag_code="STAGED",
                          level="high", now=NOW)


def _submit_survey(s: Session, ctx: Any) -> None:
    assignment, account = ctx
    typed, signature = sign(account, "SurveyReport", survey_message(assignment, account.address))
    signed_records.submit_signed_record(s, principal=partner_principal(assignment.partner_id), domain=DOMAIN,
                                        typed_data=typed, signature=signature, now=NOW)


def _knowledge_in_review(s: Session) -> Any:
    from resolvers.knowledge import service as knowledge
    from tests.knowledge_factories import EDITOR, THYROID

    article = knowledge.create_article(s, principal=EDITOR, title=THYROID[0], body=THYROID[1], reply_templates=[],
                                       now=AT)
    return knowledge.submit_article(s, principal=EDITOR, article_id=article.id, expected_version=None, now=AT).id


def _approve_knowledge(s: Session, article_id: Any) -> Any:
    from resolvers.knowledge import service as knowledge
    from tests.knowledge_factories import APPROVER

    return knowledge.review_article(s, principal=APPROVER, article_id=article_id, approve=True, reason=None,
                                    expected_version=None, now=AT)


def _alert_rule(s: Session) -> Any:
    from resolvers.analytics import service as analytics

    make_policy(s, today=TODAY)  # rolled up when the rule is evaluated: the live rollups read it
    analytics.rebuild(s)
    rule, _ = analytics.create_rule(s, principal=ADMIN, spec=analytics.AlertRuleSpec(
        key="any-sale", metric="policies_issued", window_days=30, operator=analytics.AlertOperator.GTE,
        threshold=Decimal(1)), now=AT)
    return rule.id


def _evaluate_alerts(s: Session, _rule: Any) -> Any:
    from resolvers.analytics import service as analytics

    return analytics.evaluate_rules(s, now=AT)


def _robot_scan(s: Session, customer_id: Any) -> Any:
    from resolvers.analytics.robot.watch import scan

    return scan(s, customer_ids=[customer_id], today=TODAY, now=AT, flags={customer_id: 6})  # six shared flags


SERVICES: dict[str, tuple[Setup, Act, list[str]]] = {
    "evaluate_alert_rules": (_alert_rule, _evaluate_alerts, ["analytics.alert_changed"]),
    "robot_scan": (lambda s: make_policy(s, today=TODAY).customer_id, _robot_scan, ["analytics.watch_changed"]),
    "issue_policy": (_quote, lambda s, q: policies.issue_policy(s, principal=ADMIN, quote_id=q.id, today=TODAY,
                                                                now=AT), ["policy.issued"]),
    "cancel_in_cooling_off": (_policy, lambda s, p: policies.cancel_in_cooling_off(
        s, principal=ADMIN, policy_id=p.id, expected_version=None, today=TODAY), ["policy.cancelled"]),
    "surrender_policy": (_policy, lambda s, p: policies.surrender_policy(
        s, principal=ADMIN, policy_id=p.id, expected_version=None, today=TODAY, reason="moving"),
        ["policy.surrendered"]),
    "lapse_policy": (_policy, lambda s, p: policies.lapse_policy(
        s, principal=ADMIN, policy_id=p.id, expected_version=None, today=TODAY, reason="unpaid"), ["policy.lapsed"]),
    "renew_policy": (_old_policy, lambda s, p: policies.renew_policy(
        s, principal=ADMIN, policy_id=p.id, expected_version=None, today=p.period_end, now=AT), ["policy.renewed"]),
    "expire_due_policies": (_old_policy, lambda s, p: policies.expire_due_policies(s, today=TODAY),
                            ["policy.expired"]),
    "endorse_contact": (_policy, lambda s, p: policies.endorse_contact(
        s, principal=ADMIN, policy_id=p.id, expected_version=None, phone=None, email="new@example.com",
        today=TODAY), ["policy.endorsed"]),
    "report_claim": (lambda s: make_claim_policy(s, today=TODAY), lambda s, p: report(s, p, today=TODAY),
                     ["claim.reported"]),
    "submit_claim": (_draft, lambda s, c: claims.submit_claim(
        s, principal=ADJUSTER, claim_id=c, expected_version=None, today=TODAY, now=AT),
        ["claim.submitted", "claim.risk_assessed", "claim.state_changed"]),
    "adjudicate_claim": (_in_review, lambda s, c: claims.adjudicate_claim(
        s, principal=ADJUSTER, claim_id=c, expected_version=None, now=AT), ["claim.adjudicated"]),
    "approve_partner": (lambda s: make_partner(s, approved=False), lambda s, p: (
        review.start_review(s, principal=CHECKER, partner_id=p.id, now=NOW),
        review.approve(s, principal=CHECKER, partner_id=p.id, now=NOW)), ["partner.reviewed", "partner.approved"]),
    "suspend_partner": (_partner, lambda s, p: review.suspend(s, principal=CHECKER, partner_id=p.id, reason="audit",
                                                               now=NOW), ["partner.suspended"]),
    "register_key": (_partner, lambda s, p: make_key(s, p), ["partner.key_registered"]),
    "rotate_key": (_keyed, lambda s, k: keys.rotate_key(s, principal=CHECKER, key_id=k,
                                                         new_address=Account.create().address, now=NOW),
                   ["partner.key_rotated"]),
    "revoke_key": (_keyed, lambda s, k: keys.revoke_key(s, principal=CHECKER, key_id=k, reason="lost", now=NOW),
                   ["partner.key_revoked"]),
    "create_assignment": (_partner, lambda s, p: make_assignment(s, p), ["partner.assignment_created"]),
    "submit_signed_record": (_assigned, _submit_survey, ["partner.signed_record_accepted"]),
    "publish_flag": (_insurers, _publish_two, ["partner.risk_flag_published"] * 2),
    "create_quote": (lambda s: None, lambda s, _: _quote(s), ["quote.requested"]),
    "identify_visitor": (lambda s: make_policy(s, today=TODAY).customer_id, lambda s, c: behaviour.identify(
        s, principal=ADMIN, anonymous_id=f"visitor-{c:06d}", customer_id=c, now=AT), ["visitor.identified"]),
    "define_tag": (lambda s: make_policy(s, today=TODAY).customer_id, _define_tag,
                   ["operations.tag_defined", "operations.tag_members_changed"]),
    "approve_knowledge_article": (_knowledge_in_review, _approve_knowledge, ["knowledge.published"]),
    **SERVICE_EVENT_ROWS,  # one row per state-changing function of the service domain (tests/service_factories.py)
}


@pytest.fixture(autouse=True)
def at_business_time() -> Iterator[None]:
    with moved_clock(NOW):
        yield


def _new_events(session_factory: Any, after: int) -> list[StoredEvent]:
    with read_only_session(session_factory) as s:
        return list(read_events(s, after=after, limit=1000))


def _head(session_factory: Any) -> int:
    with read_only_session(session_factory) as s:
        return head_id(s)


class Boom(Exception):
    """Fails the business transaction after the service ran."""


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_appends_its_events_in_its_own_transaction(session_factory: Any, name: str) -> None:
    setup, act, expected = SERVICES[name]
    with transaction(session_factory) as s:
        ctx = setup(s)
    before = _head(session_factory)
    with pytest.raises(Boom), transaction(session_factory) as s:
        act(s, ctx)
        raise Boom  # the change is rolled back: so are its events
    assert _head(session_factory) == before
    with transaction(session_factory) as s:
        act(s, ctx)
    made = _new_events(session_factory, before)
    assert sorted(ev.type for ev in made) == sorted(expected)
    for ev in made:
        assert ev.aggregate.type == ev.event_type.aggregate and ev.aggregate.id > 0
        assert ev.aggregate.version is None or ev.aggregate.version >= 1
        assert ev.payload == ev.event_type.payload.model_validate_json(ev.payload_json)  # reads back, typed
        assert ev.business_date == dt.date(2026, 6, 1)  # 16:00 in Beijing on NOW
        assert ev.actor.subject


def test_an_event_carries_the_version_its_aggregate_committed(session_factory: Any) -> None:
    """Two changes of one policy in one transaction: both events carry the version committed with them."""
    with transaction(session_factory) as s:
        policy = _policy(s)
    start = _head(session_factory)
    with transaction(session_factory) as s:
        for email in ("a@example.com", "b@example.com"):
            policies.endorse_contact(s, principal=ADMIN, policy_id=policy.id, expected_version=None, phone=None,
                                     email=email, today=TODAY)
        committed = policies.get_policy(s, principal=ADMIN, policy_id=policy.id).version
    made = _new_events(session_factory, start)
    assert [ev.type for ev in made] == ["policy.endorsed"] * 2
    assert {ev.aggregate for ev in made} == {Aggregate("Policy", policy.id, committed)}
    assert committed > policy.version  # the endorsements moved it on
