"""Demo of knowledge and agent assist: a few real-looking articles, the coverage graph of the demo's 百万医疗险,
a search and coverage answers.

* Articles are written by an agent and approved by QA (four eyes), each with reply templates; one
  has a second version waiting in review while its first stays served.
* The graph: ``MEDI-BASIC`` covers its benefits (住院医疗, 特殊门诊, 院外特药), which cover ICD-10 blocks and
  categories (malignant neoplasms, ischaemic heart disease, pneumonia ...); four exclusions apply
  to it (dental, maternity, cosmetic, alcohol); articles explain benefits and exclusions.
* The summary shows a Chinese search, agent assist on a consultation's text, and coverage
  answers (covered / excluded / unknown) with their source article, read live from the store.

Each action leaves the audit entry of the mutation a client would have called.
"""

# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from opsure.demo.actors import MAKER, audit
from opsure.demo.clock import DemoClock
from resolvers.knowledge import graph, search, service
from resolvers.knowledge.models import ArticleState, EdgeKind, KnowledgeArticle, KnowledgeEdge, NodeKind
from schema.relay import encode_global_id

__all__ = ["ARTICLES", "knowledge_summary", "load_knowledge"]

#: Approves articles and keeps the graph (QA: never their own drafts).
APPROVER = Principal(subject="demo:qa-liu", role=Role.QA)
PRODUCT = "MEDI-BASIC"

#: key -> (title, body, reply templates, what the article explains)
ARTICLES: dict[str, tuple[str, str, list[str], tuple[NodeKind, str]]] = {
    "inpatient": ("百万医疗险的住院医疗保障范围",
                  "住院医疗保险金：被保险人因疾病或意外伤害住院治疗，发生的床位费、检查费、治疗费、手术费、药品费等"
                  "合理且必要的医疗费用，扣除1万元免赔额后按100%赔付（经社保结算）。恶性肿瘤、急性心肌梗死、"
                  "脑中风、肺炎、阑尾炎等住院治疗均在保障范围内。等待期30天，意外伤害无等待期。",
                  ["您好，您的百万医疗险保障住院医疗费用，扣除1万元免赔额后按100%报销，请保留住院发票和出院小结。",
                   "您好，住院前请确认医院为二级及以上公立医院普通部，以免影响理赔。"],
                  (NodeKind.COVERAGE_ITEM, "INPATIENT")),
    "drugs": ("恶性肿瘤院外特药怎么报销？",
              "院外特药保险金：确诊恶性肿瘤后，在保单约定的特药清单内、于指定药房购买的靶向药、免疫治疗药物，"
              "按100%报销，年度限额100万元。需提供处方、病理报告和购药发票。",
              ["您好，确诊恶性肿瘤后在指定药房购买的清单内特药可按100%报销，年度限额100万元。"],
              (NodeKind.COVERAGE_ITEM, "DRUGS")),
    "dental": ("牙科治疗在保障范围内吗？",
               "<p>洗牙、补牙、拔牙、种植牙、牙齿矫正等<b>口腔及牙科治疗</b>属于责任免除，不予赔付。</p>"
               "<p>因意外伤害导致的牙齿损伤住院治疗除外。</p>",
               ["您好，常规牙科治疗（洗牙、补牙、种植牙等）属于责任免除，本产品不予赔付。"],
               (NodeKind.EXCLUSION, "DENTAL")),
    "maternity": ("怀孕和分娩的费用能报销吗？",
                  "妊娠、流产、分娩（含剖宫产）、避孕及绝育手术的医疗费用属于责任免除，但因妊娠并发症住院的除外。",
                  ["您好，生育相关费用属于责任免除；如需生育保障，可了解我们的母婴保障计划。"],
                  (NodeKind.EXCLUSION, "MATERNITY")),
    "alcohol": ("醉酒或酒驾受伤能理赔吗？",
                "被保险人醉酒、酒后驾驶、无有效驾驶证驾驶时发生的意外伤害及其导致的医疗费用，属于责任免除，不予赔付。",
                ["您好，醉酒或酒后驾驶导致的伤害属于责任免除，相关费用不能赔付。"],
                (NodeKind.EXCLUSION, "ALCOHOL")),
    "waiting": ("什么是等待期？",
                "等待期是合同生效后的一段时间（本产品为30天），等待期内因疾病首次就诊或确诊的，不承担保险责任；"
                "续保无等待期，意外伤害无等待期。",
                ["您好，等待期为合同生效后30天，等待期内确诊的疾病不予赔付；意外伤害不受等待期限制。"],
                (NodeKind.PRODUCT, PRODUCT)),
}
#: benefit -> ICD-10 codes and blocks it covers
COVERS = {"INPATIENT": ["C00-C97", "I20-I25", "I60-I69", "J18", "K35", "S72"],
          "SPECIAL_OUTPATIENT": ["C00-C97", "N18"],
          "DRUGS": ["C00-C97"]}
#: exclusion -> (wording, ICD-10 codes and blocks it excludes)
EXCLUSIONS = {"DENTAL": ("口腔及牙科治疗", ["K00-K14"]),
              "MATERNITY": ("妊娠、分娩及生育相关", ["XV", "Z30"]),
              "COSMETIC": ("整容、美容及非治疗目的的手术", ["Z41"]),
              "ALCOHOL": ("醉酒及酒精中毒", ["T51"])}
#: What the summary asks.
SEARCH = "洗牙补牙能报销吗"
CONSULTATION = "客户来电：上个月确诊肺癌，医生开了靶向药，问院外买的药能不能报，要准备什么材料。"
QUESTIONS = [(PRODUCT, "C34.1"), (PRODUCT, "K02.1"), (PRODUCT, "I10")]


def _link(session: Session, clock: DemoClock, source: graph.NodeRef, kind: EdgeKind, target: graph.NodeRef) -> None:
    edge = graph.link(session, principal=APPROVER, source=source, kind=kind, target=target, now=clock.now)
    audit(session, APPROVER, "linkKnowledge", {"kind": kind.value, "source": source.key, "target": target.key},
          target=encode_global_id("KnowledgeEdge", edge.id))


def load_knowledge(session: Session, clock: DemoClock) -> dict[str, int]:
    """Write, approve and link the articles; returns article ids by key."""
    now = clock.now
    ids: dict[str, int] = {}
    for key, (title, body, templates, _) in ARTICLES.items():
        article = service.create_article(session, principal=MAKER, title=title, body=body,
                                         reply_templates=templates, now=now)
        gid = encode_global_id("KnowledgeArticle", article.id)
        audit(session, MAKER, "createKnowledgeArticle", {"title": title}, target=gid)
        service.submit_article(session, principal=MAKER, article_id=article.id, expected_version=None, now=now)
        audit(session, MAKER, "submitKnowledgeArticle", {"articleId": gid}, target=gid)
        service.review_article(session, principal=APPROVER, article_id=article.id, approve=True, reason=None,
                               expected_version=None, now=now)
        audit(session, APPROVER, "reviewKnowledgeArticle", {"articleId": gid, "decision": "APPROVE"}, target=gid)
        ids[key] = article.id
    # a second version of the waiting-period article waits in review; the first stays served
    waiting = ids["waiting"]
    service.edit_article(session, principal=MAKER, article_id=waiting, title=None, reply_templates=None,
                         body=ARTICLES["waiting"][1] + "等待期内确诊的，可申请解除合同并退还已交保费。",
                         expected_version=None, now=now)
    service.submit_article(session, principal=MAKER, article_id=waiting, expected_version=None, now=now)
    audit(session, MAKER, "editKnowledgeArticle", {"articleId": encode_global_id("KnowledgeArticle", waiting)})

    product = graph.NodeRef(NodeKind.PRODUCT, PRODUCT)
    for item, codes in COVERS.items():
        _link(session, clock, product, EdgeKind.COVERS, graph.NodeRef(NodeKind.COVERAGE_ITEM, item))
        for code in codes:
            _link(session, clock, graph.NodeRef(NodeKind.COVERAGE_ITEM, item), EdgeKind.COVERS,
                  graph.NodeRef(NodeKind.ICD10, code))
    for code, (wording, excluded) in EXCLUSIONS.items():
        exclusion = graph.NodeRef(NodeKind.EXCLUSION, code, wording)
        _link(session, clock, exclusion, EdgeKind.APPLIES_TO, product)
        for icd in excluded:
            _link(session, clock, exclusion, EdgeKind.EXCLUDES, graph.NodeRef(NodeKind.ICD10, icd))
    for key, (*_, (kind, node_key)) in ARTICLES.items():
        _link(session, clock, graph.NodeRef(NodeKind.ARTICLE, str(ids[key])), EdgeKind.EXPLAINS,
              graph.NodeRef(kind, node_key))
    return ids


def knowledge_summary(session: Session) -> dict[str, int | str]:
    """The summary rows: articles by state, graph edges, and a search, agent assist and coverage answers, live."""
    by_state = dict(session.execute(select(KnowledgeArticle.state, func.count()).group_by(KnowledgeArticle.state))
                    .tuples().all())
    rows: dict[str, int | str] = {f"articles {s.value}": int(by_state.get(s, 0)) for s in ArticleState}
    rows["graph edges"] = int(session.scalar(select(func.count()).select_from(KnowledgeEdge)) or 0)
    if not rows["articles published"]:
        return rows
    hits = search.search(session, query=SEARCH, first=1)
    rows[f"search {SEARCH!r}"] = hits[0].title if hits else "(nothing)"
    assist = search.assist(session, text=CONSULTATION, first=2)
    rows["agent assist, consultation about 肺癌 特药"] = " / ".join(h.title for h in assist.hits) or "(nothing)"
    for product, code in QUESTIONS:
        answer = graph.coverage(session, principal=APPROVER, product_code=product, icd10=code)
        source = ""
        evidence = session.get(KnowledgeArticle, answer.evidence_article_ids[0]) if answer.evidence_article_ids else None
        served = service.served_version(session, evidence) if evidence is not None else None
        if served is not None:
            source = f", source: {served.title}"
        via = f" via {answer.matched_code}" if answer.matched_code and answer.matched_code != code else ""
        rows[f"{product} covers {code} ({answer.icd10_label})?"] = f"{answer.verdict.value}{via}{source}"
    return rows
