"""End to end over HTTP: an agent writes articles, a QA approver publishes them (never their own), approvers
link the coverage graph; a customer searches in Chinese and gets the right article with a safe highlighted
snippet, and asks whether a diagnosis is covered by their product: answered with its source article."""

# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
from __future__ import annotations

import datetime as dt
from typing import Any

from core.auth import Role
from core.db import transaction
from schema.relay import encode_global_id
from tests.claim_factories import nodes
from tests.factories import make_policy
from tests.knowledge_factories import THYROID, WARD

CREATE = """mutation($input: CreateKnowledgeArticleInput!) { createKnowledgeArticle(input: $input) {
  article { id state version latest { number state title body } } errors { field code } } }"""
SUBMIT = """mutation($id: ID!) { submitKnowledgeArticle(input: {articleId: $id}) {
  article { latest { state } } errors { code } } }"""
REVIEW = """mutation($id: ID!) { reviewKnowledgeArticle(input: {articleId: $id, decision: APPROVE}) {
  article { state served { number state title } } errors { field code message } } }"""
EDIT = """mutation($id: ID!) { editKnowledgeArticle(input: {articleId: $id, title: "新版本"}) {
  article { served { number title } latest { number state title } } errors { code } } }"""
VERSIONS = """query($id: ID!) { knowledgeArticle(id: $id) { served { number }
  versions(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { number state } } } } }"""
VERSIONS_AFTER = """query($id: ID!, $after: String) { knowledgeArticle(id: $id) {
  versions(first: 5, after: $after) { edges { node { number state } } } } }"""
LINK = """mutation($input: LinkKnowledgeInput!) { linkKnowledge(input: $input) {
  edge { id kind source { kind key } target { kind key label } } errors { field code } } }"""
SEARCH = """query($q: String!) { searchKnowledge(query: $q, first: 3) { totalCount edges { node {
  score title snippet snippetHtml highlights { start length } article { id served { title body } } } } } }"""
COVERAGE = """query($p: String!, $d: String!) { coverageAnswer(product: $p, diagnosis: $d) {
  verdict product diagnosis diagnosisLabel matchedDiagnosis
  path { source { kind key } edge target { kind key label } }
  evidence { id served { title } } } }"""
ASSIST = """query($t: String!) { agentAssist(text: $t, first: 2) { keywords diagnoses
  articles { title article { id } } suggestedReplies { text article { id } } } }"""


def _publish(author: Any, approver: Any, title: str, body: str, templates: list[str]) -> str:
    made = author(CREATE, {"input": {"title": title, "body": body, "replyTemplates": templates}})
    article = made["createKnowledgeArticle"]["article"]
    assert article["latest"] == {"number": 1, "state": "DRAFT", "title": title, "body": body}
    assert author(SUBMIT, {"id": article["id"]})["submitKnowledgeArticle"]["article"]["latest"]["state"] == "IN_REVIEW"
    reviewed = approver(REVIEW, {"id": article["id"]})["reviewKnowledgeArticle"]
    assert reviewed["errors"] == [] and reviewed["article"]["served"]["state"] == "PUBLISHED"
    return str(article["id"])


def _link(approver: Any, source: tuple[str, str], kind: str, target: tuple[str, str]) -> None:
    out = approver(LINK, {"input": {"source": {"kind": source[0], "key": source[1]}, "kind": kind,
                                    "target": {"kind": target[0], "key": target[1]}}})["linkKnowledge"]
    assert out["errors"] == [], out


def test_knowledge_search_and_coverage_answers_over_http(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_policy(s, today=dt.date(2026, 11, 1))
        customer_id = policy.customer_id
        from resolvers.policies import service as policies

        product = policies.get_product(s, product_id=policy.product_id).code
    agent, qa, manager = gql(Role.AGENT), gql(Role.QA), gql(Role.MANAGER)
    customer = gql(Role.CUSTOMER, customer_id=customer_id)

    thyroid = _publish(agent, qa, *THYROID[:2], THYROID[2])
    ward = _publish(agent, qa, *WARD[:2], WARD[2])

    # four eyes: a manager may write, but not approve their own draft
    own = manager(CREATE, {"input": {"title": "自己写自己批", "body": "不允许", "replyTemplates": []}})
    own_id = own["createKnowledgeArticle"]["article"]["id"]
    manager(SUBMIT, {"id": own_id})
    refused = manager(REVIEW, {"id": own_id})["reviewKnowledgeArticle"]
    assert refused["article"] is None and [e["code"] for e in refused["errors"]] == ["OWN_VERSION"]

    # the graph: INPATIENT covers every malignant neoplasm; the waiting-period exclusion excludes C73
    _link(qa, ("PRODUCT", product), "COVERS", ("COVERAGE_ITEM", "INPATIENT"))
    _link(qa, ("COVERAGE_ITEM", "INPATIENT"), "COVERS", ("ICD10", "C00-C97"))
    _link(qa, ("EXCLUSION", "WAITING_PERIOD_C73"), "APPLIES_TO", ("PRODUCT", product))
    _link(qa, ("EXCLUSION", "WAITING_PERIOD_C73"), "EXCLUDES", ("ICD10", "C73"))
    _link(qa, ("ARTICLE", thyroid), "EXPLAINS", ("EXCLUSION", "WAITING_PERIOD_C73"))
    _link(qa, ("ARTICLE", ward), "EXPLAINS", ("COVERAGE_ITEM", "INPATIENT"))

    # a customer searches in Chinese: the right article first, markup verbatim, the HTML snippet escaped
    found = nodes(customer(SEARCH, {"q": "甲状腺癌在等待期内确诊"})["searchKnowledge"])
    top = found[0]
    assert top["article"]["id"] == thyroid and top["title"] == THYROID[0]
    assert top["article"]["served"]["body"] == THYROID[1]
    assert "&lt;b&gt;" in top["snippetHtml"] and "甲状腺癌</mark>" in top["snippetHtml"]
    assert any("甲状腺癌" in top["snippet"][h["start"]:h["start"] + h["length"]] for h in top["highlights"])

    # ... and asks whether thyroid cancer is covered by their product: excluded, with its source
    answer = customer(COVERAGE, {"p": product, "d": "C73"})["coverageAnswer"]
    assert (answer["verdict"], answer["diagnosisLabel"], answer["matchedDiagnosis"]) == (
        "EXCLUDED", "甲状腺恶性肿瘤", "C73")
    assert [s["edge"] for s in answer["path"]] == ["APPLIES_TO", "EXCLUDES"]
    assert answer["evidence"] == [{"id": thyroid, "served": {"title": THYROID[0]}}]
    lung = customer(COVERAGE, {"p": product, "d": "C34.1"})["coverageAnswer"]
    assert (lung["verdict"], lung["matchedDiagnosis"], lung["evidence"][0]["id"]) == ("COVERED", "C00-C97", ward)

    # bad input: typed errors, nothing else
    for variables, code in (({"p": "NO-SUCH", "d": "C73"}, "UNKNOWN_PRODUCT"), ({"p": product, "d": "ZZ"}, "BAD_ICD10")):
        body = customer.post(COVERAGE, variables).json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == code
    empty = customer.post(SEARCH, {"q": "   "}).json()
    assert empty["errors"][0]["extensions"] == {"code": "EMPTY_QUERY", "field": "query"}

    # a new version of a published article: a draft beside the served one, paged oldest first; customers see
    # only the served version
    edited = agent(EDIT, {"id": ward})["editKnowledgeArticle"]["article"]
    assert edited["served"]["number"] == 1 and edited["latest"] == {"number": 2, "state": "DRAFT", "title": "新版本"}
    page = qa(VERSIONS, {"id": ward})["knowledgeArticle"]
    assert page["versions"]["totalCount"] == 2 and nodes(page["versions"]) == [{"number": 1, "state": "PUBLISHED"}]
    rest = qa(VERSIONS_AFTER, {"id": ward, "after": page["versions"]["pageInfo"]["endCursor"]})["knowledgeArticle"]
    assert nodes(rest["versions"]) == [{"number": 2, "state": "DRAFT"}]
    assert customer.post(VERSIONS, {"id": ward}).json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # agent assist on a consultation's text
    assist = agent(ASSIST, {"t": "客户说刚买的保险，等待期里查出甲状腺癌，问能不能赔"})["agentAssist"]
    assert assist["articles"][0]["article"]["id"] == thyroid and assist["diagnoses"] == ["C73"]
    assert assist["suggestedReplies"][0] == {"text": THYROID[2][0], "article": {"id": thyroid}}
    # customers get answers, not the agent console's assist
    assert customer.post(ASSIST, {"t": "甲状腺癌"}).json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert encode_global_id("KnowledgeArticle", 1) in (thyroid, ward, own_id)
