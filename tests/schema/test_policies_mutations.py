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


# --- every input error at once ------------------------------------------------------------------


def test_register_customer_reports_every_bad_field_at_once(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    bad = gql(Role.AGENT)(REGISTER, {"input": {"name": " ", "idNumber": "123", "phone": "12", "email": "no"}})
    errors = bad["registerCustomer"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("name", "INVALID"), ("idNumber", "BAD_ID_NUMBER"), ("phone", "BAD_PHONE"), ("email", "BAD_EMAIL")]
    from resolvers.policies.models import Customer

    with session_factory() as s:
        assert s.scalars(select(Customer)).all() == []
        refused = s.scalars(select(AuditEntry)).one()
        assert refused.outcome == "refused:INVALID,BAD_ID_NUMBER,BAD"[:32]


CREATE_PRODUCT = """mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { code copayRate annualLimit } errors { field code } } }"""


def _product_input(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "code": "GOLD-1", "name": "Gold", "annualLimit": "100000", "deductible": "500.00", "copayRate": "0.1",
        "waitingPeriodDays": 30,
        "coverageItems": [{"code": "INPATIENT", "name": "Inpatient", "category": "inpatient", "sublimit": 5000}],
        "premiumBands": [{"minAge": 0, "maxAge": 40, "annualPremium": "300"},
                         {"minAge": 41, "maxAge": 65, "annualPremium": "800.5"}],
    }
    return {**base, **over}


def test_create_product_takes_money_and_rates_and_reports_every_error(gql) -> None:  # type: ignore[no-untyped-def]
    manager = gql(Role.MANAGER)
    made = manager(CREATE_PRODUCT, {"input": _product_input()})["createProduct"]
    assert made["errors"] == [] and made["product"] == {"code": "GOLD-1", "copayRate": "0.1000",
                                                        "annualLimit": "100000.00"}
    bad = manager(CREATE_PRODUCT, {"input": _product_input(
        code="x", deductible="200000", termMonths=5,
        coverageItems=[{"code": "A", "name": "A", "category": "a"}, {"code": "A", "name": "", "category": "a"}],
        premiumBands=[{"minAge": 0, "maxAge": 30, "annualPremium": "300"},
                      {"minAge": 40, "maxAge": 65, "annualPremium": "0"}],
    )})["createProduct"]
    assert bad["product"] is None
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [
        ("code", "INVALID"), ("deductible", "INVALID"), ("termMonths", "INVALID"),
        ("coverageItems[1].code", "DUPLICATE"), ("coverageItems[1].name", "INVALID"),
        ("premiumBands[1].annualPremium", "INVALID"), ("premiumBands", "BANDS_NOT_CONTIGUOUS")]
    again = manager(CREATE_PRODUCT, {"input": _product_input()})["createProduct"]
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("code", "DUPLICATE")]
    three_decimals = manager.post(CREATE_PRODUCT, {"input": _product_input(annualLimit="1.005")})
    assert three_decimals.status_code == 400 and "at most 2 decimals" in three_decimals.text


def test_request_quote_reports_every_bad_input_at_once(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from tests.factories import make_customer

    with session_factory() as s:
        product, customer = make_product(s), make_customer(s)
        s.commit()
    agent = gql(Role.AGENT)
    answers = [{"question": "cancer", "answer": False}, {"question": "chronic", "answer": True},
               {"question": "smoker", "answer": False, "diagnoses": ["I10"]},
               {"question": "hospitalized_2y", "answer": True, "diagnoses": ["I10", "XX"]},
               {"question": "pending_investigation", "answer": False}, {"question": "smoker", "answer": True}]
    late = (business_today() + dt.timedelta(days=91)).isoformat()
    quote_input = {"customerId": encode_global_id("Customer", customer.id),
                   "productId": encode_global_id("Product", product.id), "startDate": late, "answers": answers}
    bad = agent(QUOTE, {"input": quote_input})["requestQuote"]
    expected = [("startDate", "BAD_START_DATE"), ("answers[1].diagnoses", "INCOMPLETE"),
                ("answers[2].diagnoses", "INCONSISTENT"), ("answers[3].diagnoses[1]", "BAD_ICD10"),
                ("answers[5].question", "DUPLICATE_ANSWER")]
    assert bad["quote"] is None and [(e["field"], e["code"]) for e in bad["errors"]] == expected
    # with a malformed id nothing is looked up, and the input's own errors still come along
    bad_id = agent(QUOTE, {"input": {**quote_input, "productId": encode_global_id("Policy", 1)}})["requestQuote"]
    assert [(e["field"], e["code"]) for e in bad_id["errors"]] == [("productId", "BAD_ID"), *expected]


# --- values: codes with rendered text, enums, money ---------------------------------------------


QUOTE_REASONS = """mutation($input: RequestQuoteInput!) {
  requestQuote(input: $input) { quote { outcome exclusions premium reasons { code text } } errors { code } } }"""


def test_quote_reasons_are_codes_with_text_that_never_names_the_diagnoses(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_customer

    with session_factory() as s:
        product, customer = make_product(s), make_customer(s)
        s.commit()
    answers = [{"question": q, "answer": q in ("chronic", "smoker"), "diagnoses": ["E11.9"] if q == "chronic" else []}
               for q in ("cancer", "chronic", "hospitalized_2y", "pending_investigation", "smoker")]
    quote_input = {"customerId": encode_global_id("Customer", customer.id),
                   "productId": encode_global_id("Product", product.id),
                   "startDate": business_today().isoformat(), "answers": answers}
    me = gql(Role.CUSTOMER, customer_id=customer.id)
    resp = me.post(QUOTE_REASONS, {"input": quote_input}, **{"accept-language": "en"})
    quote = resp.json()["data"]["requestQuote"]["quote"]
    assert quote["outcome"] == "ACCEPT_WITH_EXCLUSIONS" and quote["exclusions"] == ["E11"]
    assert [r["code"] for r in quote["reasons"]] == ["CONDITIONS_EXCLUDED", "SMOKER_LOADING"]
    texts = " ".join(r["text"] for r in quote["reasons"])
    assert "E11" in texts and "E11.9" not in texts and "chronic" not in texts and "x1.20" in texts
    zh = me.post(QUOTE_REASONS, {"input": quote_input}).json()["data"]["requestQuote"]["quote"]  # zh-CN by default
    assert zh["reasons"][0]["text"].startswith("除外承保")


ENDED = """query($id: ID!) { policy(id: $id) { status endedOn endReasonCode endReason refund } }"""


def test_an_ended_policy_says_why_by_code_text_and_staff_note(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_policy

    with session_factory() as s:
        policy = make_policy(s, today=business_today())
        s.commit()
    pid = encode_global_id("Policy", policy.id)
    active = gql(Role.ADMIN)(ENDED, {"id": pid})["policy"]
    assert active["endReasonCode"] is None and active["endReason"] is None
    done = gql(Role.AGENT)(SURRENDER, {"input": {"policyId": pid, "reason": "moving abroad"}})["surrenderPolicy"]
    assert done["errors"] == [] and done["policy"]["status"] == "SURRENDERED"
    staff = gql(Role.ADMIN)("""query($id: ID!) { policy(id: $id) { endReasonCode endReason endNote refund } }""",
                            {"id": pid})["policy"]
    assert staff["endReasonCode"] == "SURRENDER" and staff["endNote"] == "moving abroad"
    assert staff["endReason"].startswith("Surrendered") and staff["refund"].count(".") == 1
    assert len(staff["refund"].split(".")[1]) == 2  # Money: exactly two decimals
    mine = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    assert mine(ENDED, {"id": pid})["policy"]["endReason"].startswith("已退保")
    refused = mine.post("""query($id: ID!) { policy(id: $id) { endNote } }""", {"id": pid})
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # staff only


BENEFICIARY = """mutation($input: BeneficiaryEndorsementInput!) {
  endorseBeneficiary(input: $input) {
    endorsement { id kind changedFields } policy { version beneficiaryRelationship beneficiaryName }
    errors { field code } } }"""


def test_endorsements_are_nodes_with_typed_changed_fields(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_policy

    with session_factory() as s:
        policy = make_policy(s, today=business_today())
        s.commit()
    pid = encode_global_id("Policy", policy.id)
    me = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    done = me(BENEFICIARY, {"input": {"policyId": pid, "name": "王芳", "relationship": "SPOUSE"}})["endorseBeneficiary"]
    assert done["errors"] == [] and done["endorsement"]["changedFields"] == ["BENEFICIARY_NAME",
                                                                            "BENEFICIARY_RELATIONSHIP"]
    assert done["policy"] == {"version": policy.version + 1, "beneficiaryRelationship": "SPOUSE",
                              "beneficiaryName": "王芳"}
    node = "query($id: ID!) { node(id: $id) { id ... on Endorsement { kind changedFields } } }"
    eid = done["endorsement"]["id"]
    assert me(node, {"id": eid})["node"] == {"id": eid, "kind": "BENEFICIARY",
                                             "changedFields": ["BENEFICIARY_NAME", "BENEFICIARY_RELATIONSHIP"]}
    assert gql(Role.CUSTOMER, customer_id=policy.customer_id + 999)(node, {"id": eid})["node"] is None
    contact = """mutation($input: ContactEndorsementInput!) {
      endorseContact(input: $input) { policy { version } errors { field code } } }"""
    bad = me(contact, {"input": {"policyId": pid, "phone": "123", "email": "nope"}})["endorseContact"]
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("phone", "BAD_PHONE"), ("email", "BAD_EMAIL")]


def test_every_refusal_code_of_the_lifecycle_is_in_its_enum(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_policy

    with session_factory() as s:
        policy = make_policy(s, today=business_today())
        s.commit()
    pid = encode_global_id("Policy", policy.id)
    admin = gql(Role.ADMIN)
    lapse = """mutation($input: PolicyChangeInput!) { lapsePolicy(input: $input) { policy { status } errors { code } } }"""
    cancel = """mutation($input: PolicyChangeInput!) {
      cancelPolicyInCoolingOff(input: $input) { policy { status } errors { code } } }"""
    renew = """mutation($input: PolicyChangeInput!) { renewPolicy(input: $input) { policy { id } errors { code } } }"""
    assert admin(renew, {"input": {"policyId": pid}})["renewPolicy"]["errors"] == [{"code": "NOT_RENEWABLE_NOW"}]
    assert admin(lapse, {"input": {"policyId": pid}})["lapsePolicy"]["policy"]["status"] == "LAPSED"
    for doc, name in ((lapse, "lapsePolicy"), (cancel, "cancelPolicyInCoolingOff"), (SURRENDER, "surrenderPolicy"),
                      (renew, "renewPolicy")):
        assert [e["code"] for e in admin(doc, {"input": {"policyId": pid}})[name]["errors"]] == ["POLICY_NOT_ACTIVE"]
    bad_id = admin(lapse, {"input": {"policyId": "nope"}})["lapsePolicy"]["errors"]
    assert bad_id == [{"code": "BAD_ID"}]


# --- identity and lists ---------------------------------------------------------------------------


def test_node_fetches_quotes_as_their_customer_may_see_them(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_policy

    with session_factory() as s:
        policy = make_policy(s, today=business_today())
        s.commit()
    qid = encode_global_id("Quote", policy.quote_id)  # type: ignore[arg-type]
    node = "query($id: ID!) { node(id: $id) { id ... on Quote { status outcome } } }"
    assert gql(Role.CUSTOMER, customer_id=policy.customer_id)(node, {"id": qid})["node"] == {
        "id": qid, "status": "BOUND", "outcome": "ACCEPT"}
    assert gql(Role.CUSTOMER, customer_id=policy.customer_id + 1)(node, {"id": qid})["node"] is None
    assert gql(Role.ANALYST)(node, {"id": qid})["node"]["status"] == "BOUND"
    assert gql(Role.PARTNER, partner_id=1)("query($id: ID!) { node(id: $id) { id } }", {"id": qid})["node"] is None


MY_POLICIES = """query($first: Int, $after: String, $last: Int, $before: String) {
  me { policies(first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor node { number } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""


def test_a_customers_policies_page_both_ways(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_customer, make_policy

    with session_factory() as s:
        customer, product = make_customer(s), make_product(s)
        numbers = [make_policy(s, today=business_today(), customer=customer, product=product).number
                   for _ in range(5)]
        make_policy(s, today=business_today())  # someone else's
        s.commit()
    me = gql(Role.CUSTOMER, customer_id=customer.id)

    def page(**args: object) -> dict[str, object]:
        return me(MY_POLICIES, args)["me"]["policies"]  # type: ignore[no-any-return]

    first = page(first=2)
    assert first["totalCount"] == 5 and [e["node"]["number"] for e in first["edges"]] == numbers[:2]
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    nxt = page(first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["number"] for e in nxt["edges"]] == numbers[2:4] and nxt["pageInfo"]["hasPreviousPage"]
    last = page(last=2)
    assert [e["node"]["number"] for e in last["edges"]] == numbers[3:]
    assert last["pageInfo"]["hasPreviousPage"] and not last["pageInfo"]["hasNextPage"]
    back = page(last=2, before=last["pageInfo"]["startCursor"])
    assert [e["node"]["number"] for e in back["edges"]] == numbers[1:3]
    assert back["pageInfo"]["hasPreviousPage"] and back["pageInfo"]["hasNextPage"]
    refused = me.post(MY_POLICIES, {"first": 1, "last": 1})
    assert refused.json()["errors"][0]["extensions"]["code"] == "PAGE_SIZE"
    bad = me.post(MY_POLICIES, {"first": 1, "after": "bm9wZQ=="})
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_CURSOR"


PRODUCTS = """query($last: Int, $before: String, $all: Boolean!) {
  products(last: $last, before: $before, includeInactive: $all) {
    totalCount edges { node { code } } pageInfo { hasPreviousPage startCursor } } }"""


def test_products_are_a_connection_by_code(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        for code in ("P-C", "P-A", "P-B"):
            make_product(s, code=code)
        s.commit()
    anyone = gql()
    last = anyone(PRODUCTS, {"last": 2, "all": False})["products"]
    assert last["totalCount"] == 3 and [e["node"]["code"] for e in last["edges"]] == ["P-B", "P-C"]
    assert last["pageInfo"]["hasPreviousPage"]
    rest = anyone(PRODUCTS, {"last": 2, "before": last["pageInfo"]["startCursor"], "all": True})["products"]
    assert [e["node"]["code"] for e in rest["edges"]] == ["P-A"] and not rest["pageInfo"]["hasPreviousPage"]
