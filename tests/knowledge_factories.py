"""Factories of the knowledge domain: principals, published articles and a small coverage graph."""

# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from core.auth import Principal, Role
from resolvers.knowledge import graph, service
from resolvers.knowledge.models import EdgeKind, KnowledgeArticle, NodeKind

__all__ = ["APPROVER", "EDITOR", "NOW", "THYROID", "WARD", "covered_and_excluded", "published"]

EDITOR = Principal(subject="agent-wang", role=Role.AGENT)
APPROVER = Principal(subject="qa-chen", role=Role.QA)
NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)

THYROID = ("甲状腺癌在等待期内确诊能赔吗？",
           "<p>被保险人在<b>等待期</b>（合同生效后90天）内确诊甲状腺癌的，属于责任免除，不予赔付，退还已交保费。</p>"
           "<p>等待期后首次确诊的甲状腺恶性肿瘤，按合同约定赔付。</p>",
           ["您好，甲状腺癌若在等待期内确诊属于责任免除；等待期后确诊可按合同赔付。"])
WARD = ("住院医疗费用怎么报销？",
        "住院医疗费用先经社保报销，剩余合理且必要的费用扣除免赔额后按100%报销，请保留发票和出院小结。",
        ["您好，住院费用扣除免赔额后可全额报销，请准备发票原件和出院小结。"])


def published(session: Session, title: str, body: str, templates: Sequence[str] = (), *,
              editor: Principal = EDITOR, approver: Principal = APPROVER,
              now: dt.datetime = NOW) -> KnowledgeArticle:
    """An article written by ``editor``, submitted and approved by ``approver``: served."""
    article = service.create_article(session, principal=editor, title=title, body=body,
                                     reply_templates=list(templates), now=now)
    service.submit_article(session, principal=editor, article_id=article.id, expected_version=None, now=now)
    return service.review_article(session, principal=approver, article_id=article.id, approve=True, reason=None,
                                  expected_version=None, now=now)


def _link(session: Session, a: tuple[NodeKind, str], kind: EdgeKind, b: tuple[NodeKind, str],
          label: str | None = None) -> None:
    graph.link(session, principal=APPROVER, source=graph.NodeRef(a[0], a[1], label if a[0] is NodeKind.EXCLUSION
                                                                   else None),
               kind=kind, target=graph.NodeRef(b[0], b[1]), now=NOW)


def covered_and_excluded(session: Session, product_code: str, *, cover_article: int | None = None,
                         exclusion_article: int | None = None) -> None:
    """The product's INPATIENT benefit covers every malignant neoplasm (C00-C97) and pneumonia (J18); the
    waiting-period exclusion applies to it and excludes thyroid cancer (C73); articles explain them."""
    product = (NodeKind.PRODUCT, product_code)
    item = (NodeKind.COVERAGE_ITEM, "INPATIENT")
    exclusion = (NodeKind.EXCLUSION, "WAITING_PERIOD_C73")
    _link(session, product, EdgeKind.COVERS, item)
    _link(session, item, EdgeKind.COVERS, (NodeKind.ICD10, "C00-C97"))
    _link(session, item, EdgeKind.COVERS, (NodeKind.ICD10, "J18"))
    _link(session, exclusion, EdgeKind.APPLIES_TO, product, label="等待期内确诊的甲状腺癌")
    _link(session, exclusion, EdgeKind.EXCLUDES, (NodeKind.ICD10, "C73"))
    if cover_article is not None:
        _link(session, (NodeKind.ARTICLE, str(cover_article)), EdgeKind.EXPLAINS, item)
    if exclusion_article is not None:
        _link(session, (NodeKind.ARTICLE, str(exclusion_article)), EdgeKind.EXPLAINS, exclusion)
