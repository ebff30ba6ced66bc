"""Knowledge search over 10,000 generated Chinese articles: BM25 (jieba + bm25s, ``resolvers.knowledge.search``)
against a full scan of the same corpus, in the same run; top-3 accuracy on a labelled query set.

The corpus is synthetic (fixed seed): 25 products x 40 diagnoses x 10 topics (waiting period, claim
documents, reimbursement rate, pre-existing conditions, renewal, direct billing, special drugs,
outpatient, exclusions, sums insured) = 10,000 articles, each a title and a body of templated
sentences naming its product, diagnosis and topic, with filler sentences shared by all. Each
labelled query is generated from one article with held-out phrasing: the diagnosis by a synonym
(甲状腺恶性肿瘤 for 甲状腺癌, 心梗 for 急性心肌梗死 ...) and the topic by a customer's paraphrase
that shares at most one word with the article (刚投保不久就确诊了 for the waiting period); the
product by its name. The label is that article. The figures are synthetic: they compare the two
methods on one corpus, they do not predict accuracy on real questions.

Measured in one process:

(a) building the index: segmenting 10,000 articles (jieba, once) and the BM25 matrix (bm25s);
(b) per query p50/p95: BM25 through the service (``search.search`` on a SQLite database holding
    the articles: the generation check, ranking, snippets) and BM25 in memory (``KnowledgeIndex.rank``),
    against the full scan: the same query terms counted (``str.count``) in every article's title
    and body, the best 3 kept;
(c) top-3 accuracy of each on the labelled queries;
(d) one more article published through the service: the next search's catch-up (incremental).

Nothing asserts on time. Run::

    .venv/bin/python bench/bench_knowledge.py                 # 10,000 articles, 1,000 queries
    .venv/bin/python bench/bench_knowledge.py --queries 300
"""

# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
from __future__ import annotations

import argparse
import datetime as dt
import heapq
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from bench.common import percentile
from core.auth import Principal, Role
from core.db import Base
from opsure import models as _models  # noqa: F401  (every table)
from resolvers.knowledge import search, service
from resolvers.knowledge.models import (
    ArticleState,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeIndexState,
    VersionState,
)

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
PRODUCTS = [a + b for a in ("安心", "守护", "康宁", "福佑", "尊享") for b in ("医疗险", "重疾险", "百万医疗", "防癌险", "惠民保")]
#: (name in articles, synonym used in queries)
DIAGNOSES = [
    ("甲状腺癌", "甲状腺恶性肿瘤"), ("乳腺癌", "乳房恶性肿瘤"), ("肺癌", "肺部恶性肿瘤"), ("胃癌", "胃部恶性肿瘤"),
    ("肝癌", "肝脏恶性肿瘤"), ("结肠癌", "结肠恶性肿瘤"), ("宫颈癌", "子宫颈恶性肿瘤"), ("前列腺癌", "前列腺恶性肿瘤"),
    ("白血病", "血癌"), ("急性心肌梗死", "心梗"), ("脑梗死", "脑梗"), ("脑出血", "脑溢血"), ("高血压", "血压高"),
    ("糖尿病", "血糖高"), ("肺炎", "肺部感染"), ("哮喘", "支气管哮喘"), ("阑尾炎", "急性阑尾炎"), ("胆结石", "胆囊结石"),
    ("肾结石", "尿路结石"), ("骨折", "骨头断了"), ("椎间盘突出", "腰椎间盘突出症"), ("慢性肾病", "肾功能不全"),
    ("抑郁症", "抑郁"), ("癫痫", "羊癫疯"), ("痛风", "尿酸高"), ("白内障", "晶状体混浊"), ("青光眼", "眼压高"),
    ("过敏性鼻炎", "鼻炎"), ("胃溃疡", "消化性溃疡"), ("乙肝", "乙型肝炎"), ("帕金森病", "帕金森"),
    ("阿尔茨海默病", "老年痴呆"), ("类风湿关节炎", "类风湿"), ("红斑狼疮", "系统性红斑狼疮"), ("冠心病", "冠状动脉疾病"),
    ("心律失常", "心跳不齐"), ("甲亢", "甲状腺功能亢进"), ("贫血", "血红蛋白低"), ("带状疱疹", "缠腰龙"),
    ("手足口病", "手足口"),
]
#: (title phrase, body sentences with {p} product and {d} diagnosis, customers' paraphrases for queries)
TOPICS = [
    ("等待期", ["{p}合同生效后设有90天等待期，等待期内首次确诊{d}的，不承担保险责任。",
             "等待期满后确诊{d}，按{p}条款约定赔付。"], ["刚投保不久就确诊了，还在等待期吗", "合同生效后多久确诊才赔"]),
    ("理赔材料", ["申请{p}{d}理赔，需提交病历、费用发票、诊断证明和身份证明。", "理赔材料齐全后10个工作日内审核完毕。"],
     ["申请赔付要交什么单据", "理赔需要带哪些东西"]),
    ("报销比例", ["{p}对{d}的住院费用，扣除免赔额后按约定比例报销。", "经社保结算后的报销比例更高。"],
     ["费用能报销多少", "扣掉免赔额后赔几成"]),
    ("既往症", ["投保{p}前已经患有{d}的，属于既往症，相关费用不予赔付。", "健康告知时如实告知{d}病史很重要。"],
     ["投保前就有这个病能赔吗", "以前得过的病算不算既往症"]),
    ("续保", ["{p}保障期满后可申请续保，因{d}理赔过不影响续保。", "续保时无需重新健康告知。"],
     ["明年还能续保吗", "保障期满了能接着保吗"]),
    ("住院垫付", ["因{d}住院时，{p}可提供住院费用垫付服务。", "垫付额度根据病情评估确定。"],
     ["住院押金能不能先垫付", "住院的钱保险公司能先出吗"]),
    ("特药", ["{p}涵盖治疗{d}的特定药品费用，需在指定药房购买。", "特药清单每年更新。"],
     ["靶向药能报销吗", "指定药房买的药管不管"]),
    ("门诊", ["{p}对{d}的门诊费用有单独的报销范围和限额。", "门诊急诊费用需提供挂号凭证。"],
     ["看门诊的钱报不报", "门诊急诊能不能赔"]),
    ("责任免除", ["以下情形导致的{d}属于{p}的责任免除：酒驾、醉酒、故意伤害。", "责任免除条款请仔细阅读。"],
     ["哪些情况不赔", "喝醉了出事赔不赔"]),
    ("保险金额", ["{p}对{d}的最高赔付金额以保险金额为限。", "保险金额可在投保时选择。"],
     ["最多能赔多少钱", "最高赔付额是多少"]),
]
FILLER = ["如有疑问请拨打客服热线咨询。", "本说明仅供参考，以保险合同条款为准。", "客户可通过官方应用查询保单状态。",
          "理赔进度可在线查看。", "请妥善保管相关凭证。", "保险公司将依法保护客户个人信息。",
          "保单生效日以合同约定为准。", "如需变更联系方式，请联系客服。"]
EDITOR = Principal(subject="bench-editor", role=Role.AGENT)
APPROVER = Principal(subject="bench-approver", role=Role.QA)


def corpus(rng: random.Random) -> list[tuple[str, str, tuple[int, int, int]]]:
    """10,000 (title, body, (product, diagnosis, topic)) in a fixed order."""
    out = []
    for pi, p in enumerate(PRODUCTS):
        for di, (d, _) in enumerate(DIAGNOSES):
            for ti, (topic, sentences, _) in enumerate(TOPICS):
                body = "".join(s.format(p=p, d=d) for s in sentences) + "".join(rng.sample(FILLER, 3))
                out.append((f"{p}：{d}的{topic}说明", body, (pi, di, ti)))
    return out


def queries(docs: list[tuple[str, str, tuple[int, int, int]]], n: int, rng: random.Random,
            held_out: bool = True) -> list[tuple[str, int]]:
    """``n`` labelled queries and the index of the article each is about: in held-out phrasing (synonym,
    paraphrase), or in the article's own words (its product, diagnosis and topic)."""
    out = []
    for i in rng.sample(range(len(docs)), n):
        pi, di, ti = docs[i][2]
        parts = ([PRODUCTS[pi], DIAGNOSES[di][1], rng.choice(TOPICS[ti][2])] if held_out
                 else [PRODUCTS[pi], DIAGNOSES[di][0], TOPICS[ti][0]])
        if rng.random() < 0.5:
            parts[1], parts[2] = parts[2], parts[1]
        out.append(("".join(parts) if rng.random() < 0.5 else " ".join(parts), i))
    return out


def full_scan(texts: list[str], query: str, k: int = 3) -> list[int]:
    """The baseline: the query's terms counted in every article (title + body), the best ``k``."""
    terms = search.terms(query)
    scored = ((sum(text.count(t) for t in terms), i) for i, text in enumerate(texts))
    return [i for s, i in heapq.nlargest(k, scored) if s > 0]


def seed_database(url: str, docs: list[tuple[str, str, tuple[int, int, int]]]) -> Session:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(KnowledgeArticle), [
            {"id": i + 1, "state": ArticleState.PUBLISHED, "served_version_id": i + 1, "latest_number": 1,
             "created_by": EDITOR.subject, "index_stamp": 1, "version": 1} for i in range(len(docs))])
        conn.execute(insert(KnowledgeArticleVersion), [
            {"id": i + 1, "article_id": i + 1, "number": 1, "state": VersionState.PUBLISHED, "title": t, "body": b,
             "reply_templates": [], "author": EDITOR.subject, "created_at": NOW, "submitted_by": EDITOR.subject,
             "reviewed_by": APPROVER.subject, "published_at": NOW} for i, (t, b, _) in enumerate(docs)])
        conn.execute(insert(KnowledgeIndexState), [{"id": 1, "index_id": "bench", "stamp": 1}])
    return Session(engine)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=1000)
    args = ap.parse_args()
    rng = random.Random(20261128)
    docs = corpus(rng)
    labelled = queries(docs, args.queries, rng)
    own_words = queries(docs, args.queries, rng, held_out=False)
    texts = [f"{t}\n{b}".lower() for t, b, _ in docs]
    print(f"synthetic corpus: {len(docs):,} articles ({statistics.mean(len(t) for t in texts):.0f} characters on "
          f"average), {len(labelled):,} labelled queries with held-out phrasing (fixed seed)")

    t0 = time.perf_counter()
    search.tokenizer()
    t_dict = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = search.KnowledgeIndex("bench-memory")
    for i, (title, body, _) in enumerate(docs):
        index.upsert(search.Doc(i + 1, i + 1, 1, title, body, [], search.doc_tokens(title, body)))
    t_seg = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.rank(["保险"], 1)
    t_bm25 = time.perf_counter() - t0
    print(f"(a) jieba dictionary {t_dict:.2f} s once per process; segmenting {len(docs):,} articles {t_seg:.1f} s; "
          f"BM25 matrix {t_bm25:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        session = seed_database(f"sqlite:///{tmp}/knowledge.db", docs)
        t0 = time.perf_counter()
        search.search(session, query="保险", first=3)
        print(f"    first search on the database (loads and segments every served article): "
              f"{time.perf_counter() - t0:.1f} s")

        timings: dict[str, list[float]] = {"service": [], "memory": [], "scan": []}
        hits: dict[str, int] = {"service": 0, "memory": 0, "scan": 0}
        for query, label in labelled:
            t0 = time.perf_counter()
            found = [h.article_id - 1 for h in search.search(session, query=query, first=3)]
            timings["service"].append(time.perf_counter() - t0)
            hits["service"] += label in found
            t0 = time.perf_counter()
            ranked = [d.article_id - 1 for d, _ in index.rank(search.terms(query), 3)]
            timings["memory"].append(time.perf_counter() - t0)
            hits["memory"] += label in ranked
            t0 = time.perf_counter()
            scanned = full_scan(texts, query)
            timings["scan"].append(time.perf_counter() - t0)
            hits["scan"] += label in scanned

        def ms(name: str, q: float) -> float:
            return percentile(timings[name], q / 100) * 1000

        print("(b) per query        p50 ms   p95 ms   (c) top-3 accuracy")
        for name, label in (("service", "BM25 via search.search (SQLite, snippets)"),
                            ("memory", "BM25 in memory (terms + rank)"),
                            ("scan", "full scan (term counts, same terms)")):
            print(f"    {label:42s} {ms(name, 50):7.2f} {ms(name, 95):8.2f}   {hits[name] / len(labelled):6.1%}")
        own = {"memory": 0, "scan": 0}
        for query, label in own_words:
            own["memory"] += label in [d.article_id - 1 for d, _ in index.rank(search.terms(query), 3)]
            own["scan"] += label in full_scan(texts, query)
        print(f"    top-3 accuracy with the articles' own words (product, diagnosis, topic): BM25 "
              f"{own['memory'] / len(own_words):.1%}, full scan {own['scan'] / len(own_words):.1%}")
        print(f"    p50 ratio full scan / BM25 via the service: {ms('scan', 50) / ms('service', 50):.1f}x; "
              f"/ BM25 in memory: {ms('scan', 50) / ms('memory', 50):.1f}x")

        article = service.create_article(session, principal=EDITOR, title="尊享惠民保：新增质子重离子治疗说明",
                                         body="尊享惠民保新增质子重离子治疗费用保障，限指定医院。", reply_templates=[],
                                         now=NOW)
        service.submit_article(session, principal=EDITOR, article_id=article.id, expected_version=None, now=NOW)
        service.review_article(session, principal=APPROVER, article_id=article.id, approve=True, reason=None,
                               expected_version=None, now=NOW)
        session.commit()
        t0 = time.perf_counter()
        found = search.search(session, query="质子重离子", first=1)
        catch_up = time.perf_counter() - t0
        t0 = time.perf_counter()
        search.search(session, query="质子重离子", first=1)
        print(f"(d) after one more article is published: next search {catch_up * 1000:.0f} ms (segments 1 article, "
              f"rebuilds the BM25 matrix), the one after {(time.perf_counter() - t0) * 1000:.1f} ms; "
              f"found it: {bool(found) and found[0].article_id == article.id}")
    print("Figures are from a synthetic corpus and query set (see the module docstring).")


if __name__ == "__main__":
    main()
