"""Policy mutations through HTTP: typed errors, audit rows, the whole customer journey."""

from __future__ import annotations

from sqlalchemy import select

from core.audit import AuditEntry, verify_chain
from core.auth import Role
from core.clock import business_today
from schema.relay import encode_global_id
from tests.factories import make_product, resident_id

REGISTER = """mutation($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) { customer { id name birthYear } errors { field code message } } }"""
QUOTE = """mutation($input: RequestQuoteInput!) {
  requestQuote(input: $input) { quote { id outcome premium exclusions } errors { field code message } } }"""
ISSUE = """mutation($q: ID!) { issuePolicy(quoteId: $q) { policy { id number status version } errors { code } } }"""
SURRENDER = """mutation($input: PolicyChangeInput!) {
  surrenderPolicy(input: $input) { policy { status refund version } errors { field code message } } }"""
ANSWERS = [
    {"question": q, "answer": q == "chronic", "diagnoses": ["I10"] if q == "chronic" else []}
    for q in ("cancer", "chronic", "hospitalized_2y", "pending_investigation", "smoker")
]


def test_customer_journey_register_quote_issue_surrender(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    with session_factory() as s:
        product = make_product(s)
        s.commit()
    agent = gql(Role.AGENT)
    reg = agent(
        REGISTER,
        {"input": {"name": "周杰", "idNumber": resident_id(dt.date(1991, 2, 3)), "phone": "13800001111"}},
    )["registerCustomer"]
    assert reg["errors"] == [] and reg["customer"]["birthYear"] == 1991
    customer_gid = reg["customer"]["id"]
    customer_pk = int(__import__("base64").b64decode(customer_gid).decode().split(":")[1])
    me = gql(Role.CUSTOMER, customer_id=customer_pk)
    start = business_today().isoformat()
    q = me(
        QUOTE,
        {
            "input": {
                "customerId": customer_gid,
                "productId": encode_global_id("Product", product.id),
                "startDate": start,
                "answers": ANSWERS,
            }
        },
    )["requestQuote"]
    assert (
        q["errors"] == []
        and q["quote"]["outcome"] == "ACCEPT_WITH_EXCLUSIONS"
        and q["quote"]["exclusions"] == ["I10"]
    )
    issued = me(ISSUE, {"q": q["quote"]["id"]})["issuePolicy"]
    assert issued["errors"] == [] and issued["policy"]["status"] == "ACTIVE"
    again = me(ISSUE, {"q": q["quote"]["id"]})["issuePolicy"]
    assert again["policy"] is None and again["errors"][0]["code"] == "ALREADY_BOUND"
    stale = me(SURRENDER, {"input": {"policyId": issued["policy"]["id"], "expectedVersion": 99}})[
        "surrenderPolicy"
    ]
    assert stale["errors"][0]["code"] == "STALE_VERSION"
    done = me(
        SURRENDER,
        {"input": {"policyId": issued["policy"]["id"], "expectedVersion": issued["policy"]["version"]}},
    )["surrenderPolicy"]
    assert done["errors"] == [] and done["policy"]["status"] == "SURRENDERED"
    with session_factory() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert [(r.action, r.outcome) for r in rows] == [
            ("registerCustomer", "ok"),
            ("requestQuote", "ok"),
            ("issuePolicy", "ok"),
            ("issuePolicy", "refused:ALREADY_BOUND"),
            ("surrenderPolicy", "refused:STALE_VERSION"),
            ("surrenderPolicy", "ok"),
        ]
        assert verify_chain(s) is None


def test_bad_input_gets_typed_errors_and_writes_nothing(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    agent = gql(Role.AGENT)
    bad = agent(REGISTER, {"input": {"name": "X", "idNumber": "123", "phone": "13800001111"}})[
        "registerCustomer"
    ]
    assert bad["customer"] is None and bad["errors"][0] == {
        "field": "idNumber",
        "code": "BAD_ID_NUMBER",
        "message": bad["errors"][0]["message"],
    }
    from resolvers.policies.models import Customer

    with session_factory() as s:
        assert s.scalars(select(Customer)).all() == []


def test_customer_cannot_quote_for_someone_else(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_customer

    with session_factory() as s:
        product, other = make_product(s), make_customer(s)
        s.commit()
    me = gql(Role.CUSTOMER, customer_id=other.id + 1000)
    r = me(
        QUOTE,
        {
            "input": {
                "customerId": encode_global_id("Customer", other.id),
                "productId": encode_global_id("Product", product.id),
                "startDate": business_today().isoformat(),
                "answers": ANSWERS,
            }
        },
    )["requestQuote"]
    assert r["quote"] is None and r["errors"][0]["code"] == "NOT_FOUND"


def test_roles_without_the_mutation_are_refused_before_execution(gql) -> None:  # type: ignore[no-untyped-def]
    resp = gql(Role.ANALYST).post(REGISTER, {"input": {"name": "X", "idNumber": "1", "phone": "1"}})
    assert resp.status_code == 400 and resp.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
