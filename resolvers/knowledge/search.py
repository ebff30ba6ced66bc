"""Chinese search over the served articles: jieba segmentation, BM25 ranking (bm25s), highlighted snippets,
and agent assist (top articles and suggested replies for a consultation's text).

* **Segmentation** — one jieba ``Tokenizer`` per process, loaded lazily on first use under a lock
  (its dictionary takes about half a second), with the insurance terms of ``terms.json`` added.
  Text is lower-cased and cut in jieba's search mode (long words and their parts: 甲状腺癌 →
  甲状腺, 甲状腺癌); punctuation, spaces and a few function words are dropped, and an article's
  markup tags are not indexed (its text is stored and served verbatim, tags included).
* **Index** — in memory, per process and database: each served article's tokens (title twice,
  then body) and a bm25s index over them. ``refresh`` reads one counter
  (``knowledge_index_state``): each publish or retirement bumps it and stamps its article, so a
  process loads only the articles changed since the generation it holds (incremental: only
  those are segmented again; the BM25 matrix is rebuilt from the cached tokens on the next
  query, 0.15 s for 10,000 articles). ``rebuild`` starts over from the database.
* **Search** — the query's terms that the corpus knows, BM25 scores (k1 1.5, b 0.75), the best
  ``first`` with a score above zero; each hit with a snippet of the body around the densest run
  of matched terms and the matched ranges (character offsets in the snippet).

Example::

    hits = search(session, query="甲状腺癌 等待期", first=3)
    hits[0].article_id, hits[0].score, hits[0].snippet, hits[0].highlights
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import bm25s
import jieba
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ValidationError
from resolvers.knowledge.models import (
    ArticleState,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeIndexState,
)

__all__ = [
    "MAX_FIRST",
    "MAX_QUERY",
    "MAX_TEXT",
    "Assist",
    "Hit",
    "KnowledgeIndex",
    "assist",
    "check_query",
    "rebuild",
    "search",
    "terms",
    "tokenizer",
]

MAX_QUERY = 200
MAX_TEXT = 4_000
MAX_FIRST = 50
SNIPPET = 80
_KEEP = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_STOP = frozenset(["的", "了", "和", "与", "及", "或", "是", "在", "吗", "呢", "吧", "啊", "我", "你", "他", "她", "它", "我们", "你们", "请问", "怎么", "怎么办", "什么", "哪些", "一下", "可以", "能", "会", "要", "有", "没有", "这个", "那个", "这", "那", "就", "都", "也", "还", "被", "把", "对", "为", "以", "之", "其", "a", "an", "the", "of", "to", "and", "or", "is", "are"])

_lock = threading.Lock()
_tokenizer: Any = None


def tokenizer() -> Any:
    """The process's jieba tokenizer, loaded on first use (thread-safe; later calls cost nothing)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                data = json.loads(resources.files("resolvers.knowledge").joinpath("terms.json").read_text("utf-8"))
                for word in data["terms"]:
                    tk.add_word(word, freq=200_000)
                _tokenizer = tk
    return _tokenizer


def terms(text: str) -> list[str]:
    """The search terms of ``text`` in order (repeats kept: BM25 counts them)."""
    out = []
    for token in tokenizer().lcut_for_search(text.lower()):
        token = token.strip()
        if token and token not in _STOP and _KEEP.search(token):
            out.append(token)
    return out


def check_query(query: str, *, limit: int = MAX_QUERY, field_name: str = "query") -> str:
    """The query stripped, else EMPTY_QUERY / QUERY_TOO_LONG (typed, with the argument's name)."""
    text = query.strip()
    if not text:
        raise ValidationError("the query is empty", field=field_name, code="EMPTY_QUERY")
    if len(text) > limit:
        raise ValidationError(f"the query has more than {limit} characters", field=field_name,
                              code="QUERY_TOO_LONG")
    return text


@dataclass
class Doc:
    """One served article as the index holds it."""

    article_id: int
    version_id: int
    version_number: int
    title: str
    body: str
    reply_templates: list[str]
    tokens: list[str]


@dataclass
class Hit:
    """A ranked article: its score, a snippet of its body and the matched ranges (offsets in the snippet)."""

    article_id: int
    version_id: int
    title: str
    score: float
    snippet: str
    highlights: list[tuple[int, int]]  # (start, length) in characters of ``snippet``
    reply_templates: list[str]


@dataclass
class Assist:
    """Agent assist for one consultation's text: the keywords used, the top articles, suggested replies."""

    keywords: list[str]
    hits: list[Hit]
    replies: list[tuple[str, Hit]] = field(default_factory=list)
    #: ICD-10 codes the text names (``graph.diagnoses_in``): ask ``graph.coverage`` about the customer's product.
    diagnoses: list[str] = field(default_factory=list)


_TAG = re.compile(r"<[^<>]{0,200}>")


def doc_tokens(title: str, body: str) -> list[str]:
    """What an article is indexed as: the title twice, then the body; markup tags are not words (the text is
    still stored and returned with them)."""
    title_terms = terms(_TAG.sub(" ", title))
    return title_terms + title_terms + terms(_TAG.sub(" ", body))


class KnowledgeIndex:
    """The served articles of one database, tokenized, with a BM25 index built when a query needs it."""

    def __init__(self, index_id: str = "") -> None:
        self.index_id = index_id
        self.stamp = 0
        self.docs: dict[int, Doc] = {}
        self._lock = threading.RLock()
        self._order: list[int] = []
        self._bm25: Any = None
        self._vocab: set[str] = set()
        self._dirty = True

    def __len__(self) -> int:
        return len(self.docs)

    def upsert(self, doc: Doc) -> None:
        """Add or replace one article."""
        with self._lock:
            self.docs[doc.article_id] = doc
            self._dirty = True

    def remove(self, article_id: int) -> None:
        """Drop one article (retired)."""
        with self._lock:
            if self.docs.pop(article_id, None) is not None:
                self._dirty = True

    def _built(self) -> tuple[Any, list[int], set[str]]:
        with self._lock:
            if self._dirty:
                self._order = [a for a, d in self.docs.items() if d.tokens]
                if self._order:
                    retriever = bm25s.BM25(k1=1.5, b=0.75)
                    retriever.index([self.docs[a].tokens for a in self._order], show_progress=False)
                    self._bm25 = retriever
                    self._vocab = set(retriever.vocab_dict)
                else:
                    self._bm25, self._vocab = None, set()
                self._dirty = False
            return self._bm25, self._order, self._vocab

    def rank(self, query_terms: Sequence[str], k: int) -> list[tuple[Doc, float]]:
        """The best ``k`` articles for ``query_terms`` with their BM25 scores (score > 0 only)."""
        bm25, order, vocab = self._built()
        known = [t for t in query_terms if t in vocab]
        if bm25 is None or not known or k <= 0:
            return []
        scores = np.asarray(bm25.get_scores(known), dtype=float)
        k = min(k, len(order))
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(((float(scores[i]), order[i]) for i in top), key=lambda p: (-p[0], p[1]))
        return [(self.docs[a], s) for s, a in ranked if s > 0]

    def refresh(self, session: Session, stamp: int) -> None:
        """Load the articles published or retired since this index's generation, up to ``stamp``."""
        with self._lock:
            if stamp <= self.stamp:
                return
            rows = session.execute(select(KnowledgeArticle.id, KnowledgeArticle.state, KnowledgeArticle.served_version_id)
                                   .where(KnowledgeArticle.index_stamp > self.stamp,
                                          KnowledgeArticle.index_stamp <= stamp)).all()
            served = [v for _, s, v in rows if s is ArticleState.PUBLISHED and v is not None]
            versions = {v.id: v for v in session.scalars(select(KnowledgeArticleVersion).where(
                KnowledgeArticleVersion.id.in_(served)))} if served else {}
            for article_id, state, version_id in rows:
                version = versions.get(version_id) if version_id is not None else None
                if state is ArticleState.PUBLISHED and version is not None:
                    old = self.docs.get(article_id)
                    if old is None or old.version_id != version.id:
                        self.upsert(Doc(article_id, version.id, version.number, version.title, version.body,
                                        list(version.reply_templates), doc_tokens(version.title, version.body)))
                else:
                    self.remove(article_id)
            self.stamp = stamp


_indexes: OrderedDict[str, KnowledgeIndex] = OrderedDict()
_KEEP_INDEXES = 4  # databases a process serves at once (tests open many; a deployment one)


def _index_for(session: Session) -> KnowledgeIndex:
    row = session.execute(select(KnowledgeIndexState.index_id, KnowledgeIndexState.stamp)
                          .where(KnowledgeIndexState.id == 1)).first()
    if row is None:
        return KnowledgeIndex()  # nothing was ever published
    index_id, stamp = row
    with _lock:
        index = _indexes.get(index_id)
        if index is None:
            index = _indexes[index_id] = KnowledgeIndex(index_id)
            while len(_indexes) > _KEEP_INDEXES:
                _indexes.popitem(last=False)
        _indexes.move_to_end(index_id)
    index.refresh(session, int(stamp))
    return index


def rebuild(session: Session) -> int:
    """Forget this process's index of the database and build it again; the number of served articles."""
    row = session.execute(select(KnowledgeIndexState.index_id).where(KnowledgeIndexState.id == 1)).first()
    if row is not None:
        with _lock:
            _indexes.pop(row[0], None)
    return len(_index_for(session))


def _snippet(body: str, query_terms: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """A window of the body around the densest run of matched terms, and the matched ranges in it."""
    low = body.lower()
    found: list[tuple[int, int]] = []
    for t in set(query_terms):
        start = low.find(t)
        while start >= 0 and len(found) < 500:
            found.append((start, start + len(t)))
            start = low.find(t, start + len(t))
    if not found:
        return body[:SNIPPET], []
    found.sort()
    best, best_count = 0, -1
    for s, _ in found:
        count = sum(1 for a, b in found if s <= a and b <= s + SNIPPET)
        if count > best_count:
            best, best_count = s, count
    start = max(0, min(best - 10, len(body) - SNIPPET))
    end = start + SNIPPET
    merged: list[tuple[int, int]] = []
    for a, b in found:
        if a < start or b > end:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return body[start:end], [(a - start, b - a) for a, b in merged]


def _hits(ranked: list[tuple[Doc, float]], query_terms: Sequence[str]) -> list[Hit]:
    out = []
    for doc, score in ranked:
        snippet, ranges = _snippet(doc.body, query_terms)
        out.append(Hit(doc.article_id, doc.version_id, doc.title, round(score, 6), snippet, ranges,
                       doc.reply_templates))
    return out


def search(session: Session, *, query: str, first: int = 5) -> list[Hit]:
    """The served articles best matching ``query`` (1-200 characters), best first (at most ``first``, ≤ 50)."""
    text = check_query(query)
    if not 0 <= first <= MAX_FIRST:
        raise ValidationError(f"first must be between 0 and {MAX_FIRST}", field="first", code="PAGE_SIZE")
    query_terms = terms(text)
    return _hits(_index_for(session).rank(query_terms, first), query_terms)


def assist(session: Session, *, text: str, first: int = 3, replies: int = 5) -> Assist:
    """For a consultation's text (1-4,000 characters): the top articles and suggested replies (their reply
    templates, best article first). Nothing of the text is stored."""
    body = check_query(text, limit=MAX_TEXT, field_name="text")
    if not 0 <= first <= 10:
        raise ValidationError("first must be between 0 and 10", field="first", code="PAGE_SIZE")
    query_terms = terms(body)
    index = _index_for(session)
    hits = _hits(index.rank(query_terms, first), query_terms)
    matched = [t for t in dict.fromkeys(query_terms) if any(t in h.title.lower() or t in h.snippet.lower()
                                                            for h in hits)]
    suggested = [(template, h) for h in hits for template in h.reply_templates][:replies]
    from resolvers.knowledge.graph import diagnoses_in

    return Assist(keywords=matched[:10], hits=hits, replies=suggested, diagnoses=diagnoses_in(body))
