"""Knowledge articles and the coverage graph, through their services: versions and approval (four eyes),
bad input refused with typed errors, coverage answered by traversal with its evidence."""

# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.db import read_only_session, transaction
from core.errors import DomainError, each_error
from core.event_stream import head_id, read_events
from resolvers.knowledge import graph, search, service
from resolvers.knowledge.models import ArticleState, EdgeKind, NodeKind, VersionState
from tests.factories import make_policy, make_product
from tests.knowledge_factories import APPROVER, EDITOR, NOW, THYROID, WARD, covered_and_excluded, published

CUSTOMER_ROLE = Role.CUSTOMER


@pytest.fixture
def session(session_factory: Any) -> Iterator[Session]:
    with transaction(session_factory) as s:
        yield s


def _codes(exc: pytest.ExceptionInfo[DomainError]) -> set[str]:
    return {e.code for e in each_error(exc.value)}


# --- versions and approval ----------------------------------------------------------------------


def test_an_article_is_served_only_once_another_person_approves_it(session: Session) -> None:
    article = service.create_article(session, principal=EDITOR, title=THYROID[0], body=THYROID[1],
                                     reply_templates=THYROID[2], now=NOW)
    assert article.state is ArticleState.DRAFT and service.served_version(session, article) is None
    service.submit_article(session, principal=EDITOR, article_id=article.id, expected_version=None, now=NOW)
    with pytest.raises(DomainError) as own:
        service.review_article(session, principal=Principal("agent-wang", Role.MANAGER), article_id=article.id,
                               approve=True, reason=None, expected_version=None, now=NOW)
    assert _codes(own) == {"OWN_VERSION"}  # the author, even as a manager
    service.review_article(session, principal=APPROVER, article_id=article.id, approve=True, reason=None,
                           expected_version=None, now=NOW)
    served = service.served_version(session, article)
    assert article.state is ArticleState.PUBLISHED and served is not None and served.number == 1
    assert served.body == THYROID[1]  # markup kept verbatim
    assert [h.article_id for h in search.search(session, query="甲状腺癌 等待期", first=3)] == [article.id]


def test_editing_a_published_article_starts_a_new_draft_while_the_old_version_stays_served(session: Session) -> None:
    article = published(session, *THYROID)
    service.edit_article(session, principal=EDITOR, article_id=article.id, title="甲状腺癌的等待期规则（新）",
                         body=None, reply_templates=None, expected_version=None, now=NOW)
    latest = service.latest_version(session, article)
    assert (latest.number, latest.state, latest.body) == (2, VersionState.DRAFT, THYROID[1])
    assert service.served_version(session, article).number == 1  # type: ignore[union-attr]
    assert search.search(session, query="甲状腺癌", first=1)[0].title == THYROID[0]
    service.submit_article(session, principal=EDITOR, article_id=article.id, expected_version=None, now=NOW)
    with pytest.raises(DomainError) as in_review:
        service.edit_article(session, principal=EDITOR, article_id=article.id, title="x", body=None,
                             reply_templates=None, expected_version=None, now=NOW)
    assert _codes(in_review) == {"IN_REVIEW"}
    service.review_article(session, principal=APPROVER, article_id=article.id, approve=True, reason=None,
                           expected_version=None, now=NOW)
    versions = service.versions_of(session, article_ids=[article.id])[article.id]
    assert [(v.number, v.state) for v in versions] == [(2, VersionState.PUBLISHED), (1, VersionState.SUPERSEDED)]
    assert search.search(session, query="甲状腺癌", first=1)[0].title == "甲状腺癌的等待期规则（新）"


def test_a_rejection_names_its_reason_and_sends_the_version_back_to_draft(session: Session) -> None:
    article = service.create_article(session, principal=EDITOR, title=WARD[0], body=WARD[1], reply_templates=[],
                                     now=NOW)
    service.submit_article(session, principal=EDITOR, article_id=article.id, expected_version=None, now=NOW)
    with pytest.raises(DomainError) as no_reason:
        service.review_article(session, principal=APPROVER, article_id=article.id, approve=False, reason=None,
                               expected_version=None, now=NOW)
    assert _codes(no_reason) == {"REASON_REQUIRED"}
    service.review_article(session, principal=APPROVER, article_id=article.id, approve=False, reason="INCOMPLETE",
                           expected_version=None, now=NOW)
    latest = service.latest_version(session, article)
    assert (latest.state, latest.rejection_reason) == (VersionState.DRAFT, "INCOMPLETE")
    with pytest.raises(DomainError) as not_in_review:
        service.review_article(session, principal=APPROVER, article_id=article.id, approve=True, reason=None,
                               expected_version=None, now=NOW)
    assert _codes(not_in_review) == {"INVALID_TRANSITION"}


def test_a_retired_article_is_no_longer_served_searched_or_shown_to_customers(session: Session) -> None:
    article = published(session, *THYROID)
    customer = Principal("customer-1", Role.CUSTOMER, customer_id=1)
    assert service.get_article(session, principal=customer, article_id=article.id).id == article.id
    service.retire_article(session, principal=APPROVER, article_id=article.id, expected_version=None, now=NOW)
    assert search.search(session, query="甲状腺癌", first=3) == []
    with pytest.raises(DomainError) as hidden:
        service.get_article(session, principal=customer, article_id=article.id)
    assert _codes(hidden) == {"NOT_FOUND"}
    with pytest.raises(DomainError) as again:
        service.retire_article(session, principal=APPROVER, article_id=article.id, expected_version=None, now=NOW)
    assert _codes(again) == {"INVALID_TRANSITION"}


def test_bad_text_is_refused_all_at_once_and_markup_and_sql_are_kept_verbatim(session: Session) -> None:
    with pytest.raises(DomainError) as bad:
        service.create_article(session, principal=EDITOR, title="  ", body="x" * (service.MAX_BODY + 1),
                               reply_templates=["ok"] * 11, now=NOW)
    assert {(e.field, e.code) for e in each_error(bad.value)} == {
        ("title", "EMPTY_TEXT"), ("body", "TEXT_TOO_LONG"), ("replyTemplates", "TOO_MANY_TEMPLATES")}
    nasty = "<script>alert('x')</script>'; DROP TABLE knowledge_article; -- 住院"
    article = published(session, nasty, nasty, [nasty])
    served = service.served_version(session, article)
    assert served is not None and (served.title, served.body, served.reply_templates) == (nasty, nasty, [nasty])


def test_each_step_appends_its_event(session_factory: Any) -> None:
    with read_only_session(session_factory) as s:
        head = head_id(s)
    with transaction(session_factory) as s:
        article = published(s, *WARD)
        service.retire_article(s, principal=APPROVER, article_id=article.id, expected_version=None, now=NOW)
    with read_only_session(session_factory) as s:
        names = [e.type for e in read_events(s, after=head, limit=100)]
    assert names == ["knowledge.version_drafted", "knowledge.submitted", "knowledge.published", "knowledge.retired"]


# --- the coverage graph --------------------------------------------------------------------------


def test_coverage_is_answered_by_traversal_with_the_path_and_served_articles_as_evidence(session: Session) -> None:
    product = make_product(session, code="MED-KG")
    cover = published(session, *WARD)
    exclusion = published(session, *THYROID)
    covered_and_excluded(session, "MED-KG", cover_article=cover.id, exclusion_article=exclusion.id)
    staff = APPROVER

    lung = graph.coverage(session, principal=staff, product_code=product.code, icd10="c34.1")
    assert lung.verdict is graph.Verdict.COVERED and lung.icd10 == "C34.1" and lung.matched_code == "C00-C97"
    assert [(s.source.key, s.edge, s.target.key) for s in lung.path] == [
        ("MED-KG", EdgeKind.COVERS, "INPATIENT"), ("INPATIENT", EdgeKind.COVERS, "C00-C97")]
    assert lung.evidence_article_ids == [cover.id]

    thyroid = graph.coverage(session, principal=staff, product_code="MED-KG", icd10="C73")
    assert thyroid.verdict is graph.Verdict.EXCLUDED and thyroid.icd10_label == "甲状腺恶性肿瘤"
    assert [(s.source.key, s.edge, s.target.key) for s in thyroid.path] == [
        ("WAITING_PERIOD_C73", EdgeKind.APPLIES_TO, "MED-KG"), ("WAITING_PERIOD_C73", EdgeKind.EXCLUDES, "C73")]
    assert thyroid.evidence_article_ids == [exclusion.id]

    unknown = graph.coverage(session, principal=staff, product_code="MED-KG", icd10="I10")
    assert (unknown.verdict, unknown.path, unknown.evidence_article_ids) == (graph.Verdict.UNKNOWN, [], [])

    service.retire_article(session, principal=APPROVER, article_id=exclusion.id, expected_version=None, now=NOW)
    assert graph.coverage(session, principal=staff, product_code="MED-KG", icd10="C73").evidence_article_ids == []


def test_unknown_products_and_codes_and_other_customers_products_are_typed_refusals(session: Session) -> None:
    mine = make_policy(session, today=dt.date(2026, 11, 1))
    other = make_product(session)
    with pytest.raises(DomainError) as unknown:
        graph.coverage(session, principal=APPROVER, product_code="NO-SUCH", icd10="XX99")
    assert {(e.field, e.code) for e in each_error(unknown.value)} == {("product", "UNKNOWN_PRODUCT"),
                                                                       ("diagnosis", "BAD_ICD10")}
    customer = Principal("c", Role.CUSTOMER, customer_id=mine.customer_id)
    assert graph.coverage(session, principal=customer, product_code=mine_code(session, mine), icd10="J18").verdict \
        is graph.Verdict.UNKNOWN
    with pytest.raises(DomainError) as not_mine:
        graph.coverage(session, principal=customer, product_code=other.code, icd10="J18")
    assert _codes(not_mine) == {"NOT_YOUR_PRODUCT"}


def mine_code(session: Session, policy: Any) -> str:
    from resolvers.policies import service as policies

    return policies.get_product(session, product_id=policy.product_id).code


def test_edges_join_only_the_kinds_they_are_for_and_name_real_things(session: Session) -> None:
    make_product(session, code="MED-E")

    def link(a: tuple[NodeKind, str], kind: EdgeKind, b: tuple[NodeKind, str]) -> set[tuple[str | None, str]]:
        try:
            graph.link(session, principal=APPROVER, source=graph.NodeRef(*a), kind=kind, target=graph.NodeRef(*b),
                       now=NOW)
        except DomainError as exc:
            return {(e.field, e.code) for e in each_error(exc)}
        return set()

    assert link((NodeKind.ICD10, "C73"), EdgeKind.COVERS, (NodeKind.PRODUCT, "MED-E")) == {("kind", "BAD_EDGE")}
    assert link((NodeKind.PRODUCT, "MED-E"), EdgeKind.COVERS, (NodeKind.COVERAGE_ITEM, "DENTAL")) == {
        ("target.key", "NOT_A_BENEFIT")}
    assert link((NodeKind.PRODUCT, "NOPE"), EdgeKind.COVERS, (NodeKind.COVERAGE_ITEM, "INPATIENT")) == {
        ("source.key", "UNKNOWN_PRODUCT")}
    assert link((NodeKind.COVERAGE_ITEM, "INPATIENT"), EdgeKind.COVERS, (NodeKind.ICD10, "Q99.9X")) == {
        ("target.key", "UNKNOWN_ICD10")}
    assert link((NodeKind.EXCLUSION, "bad code!"), EdgeKind.EXCLUDES, (NodeKind.ICD10, "C73")) == {
        ("source.key", "BAD_CODE")}
    assert link((NodeKind.PRODUCT, "MED-E"), EdgeKind.COVERS, (NodeKind.COVERAGE_ITEM, "INPATIENT")) == set()
    assert link((NodeKind.PRODUCT, "MED-E"), EdgeKind.COVERS, (NodeKind.COVERAGE_ITEM, "INPATIENT")) == {
        ("kind", "EDGE_EXISTS")}


def test_a_chapter_excludes_every_code_in_it_and_a_subcategory_takes_its_category_label(session: Session) -> None:
    make_product(session, code="MED-X")
    graph.link(session, principal=APPROVER, source=graph.NodeRef(NodeKind.EXCLUSION, "MATERNITY", "妊娠及分娩"),
               kind=EdgeKind.APPLIES_TO, target=graph.NodeRef(NodeKind.PRODUCT, "MED-X"), now=NOW)
    graph.link(session, principal=APPROVER, source=graph.NodeRef(NodeKind.EXCLUSION, "MATERNITY"),
               kind=EdgeKind.EXCLUDES, target=graph.NodeRef(NodeKind.ICD10, "xv"), now=NOW)
    birth = graph.coverage(session, principal=APPROVER, product_code="MED-X", icd10="O80")
    assert (birth.verdict, birth.matched_code, birth.icd10_label) == (graph.Verdict.EXCLUDED, "XV", "单胎顺产")
    assert birth.path[0].source.label == "妊娠及分娩"
    assert graph.icd10_label("C34.1") == "支气管和肺恶性肿瘤"


def test_diagnoses_are_spotted_in_a_consultations_text_by_code_or_plain_name() -> None:
    text = "客户上个月确诊肺癌（C34.1），有高血压和心肌梗死病史，问心梗能不能赔；备注 Q99.9X 不是编码"
    assert graph.diagnoses_in(text) == ["C34.1", "I10", "I21"]
    assert graph.diagnoses_in("没有诊断") == []


def test_nul_characters_are_refused_and_any_coverage_question_is_answered_or_refused_typed(session: Session) -> None:
    with pytest.raises(DomainError) as nul:
        service.create_article(session, principal=EDITOR, title="a\x00b", body="ok", reply_templates=["x\x00"],
                               now=NOW)
    assert {(e.field, e.code) for e in each_error(nul.value)} == {("title", "BAD_TEXT"),
                                                                   ("replyTemplates[0]", "BAD_TEXT")}
    make_product(session, code="MED-H")

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(product=st.one_of(st.just("MED-H"), st.text(max_size=60)), diagnosis=st.text(max_size=12))
    def ask(product: str, diagnosis: str) -> None:
        try:
            answer = graph.coverage(session, principal=APPROVER, product_code=product, icd10=diagnosis)
        except DomainError as exc:
            assert {e.code for e in each_error(exc)} <= {"UNKNOWN_PRODUCT", "BAD_ICD10"}
        else:
            assert answer.verdict is graph.Verdict.UNKNOWN and answer.product_code == "MED-H"

    ask()
