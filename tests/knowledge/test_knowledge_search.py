"""Chinese search over served articles: segmentation, ranking, snippets, the in-memory index kept up to date
incrementally across processes, agent assist, and bad queries refused with typed errors."""

# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from core.db import read_only_session, transaction
from core.errors import ValidationError
from resolvers.knowledge import search, service
from resolvers.knowledge.models import KnowledgeIndexState
from tests.knowledge_factories import APPROVER, NOW, THYROID, WARD, published

DENTAL = ("洗牙和补牙能报销吗？", "门诊牙科治疗（洗牙、补牙、拔牙）不在住院医疗保险责任内，可选购齿科附加险。",
          ["您好，牙科门诊不在本产品保障范围，可了解齿科附加险。"])
DRUNK = ("醉酒受伤住院可以理赔吗？", "因醉酒、酒驾导致的意外伤害属于责任免除，相关住院医疗费用不予赔付。", [])


@pytest.fixture
def session(session_factory: Any) -> Iterator[Session]:
    with transaction(session_factory) as s:
        yield s


@pytest.fixture
def library(session: Session) -> dict[str, int]:
    return {name: published(session, *text).id
            for name, text in (("thyroid", THYROID), ("ward", WARD), ("dental", DENTAL), ("drunk", DRUNK))}


@pytest.mark.parametrize(("query", "expected"), [
    ("甲状腺癌等待期内确诊", "thyroid"),
    ("住院费用报销要什么材料", "ward"),
    ("补牙", "dental"),
    ("喝醉了摔伤住院", "drunk"),
])
def test_a_chinese_query_finds_the_right_article_first(session: Session, library: dict[str, int], query: str,
                                                       expected: str) -> None:
    hits = search.search(session, query=query, first=3)
    assert hits and hits[0].article_id == library[expected]
    assert all(a.score >= b.score > 0 for a, b in itertools.pairwise(hits))


def test_snippets_highlight_the_matched_terms(session: Session, library: dict[str, int]) -> None:
    hit = search.search(session, query="甲状腺癌 等待期", first=1)[0]
    assert len(hit.snippet) <= search.SNIPPET and hit.highlights
    marked = {hit.snippet[a:a + n] for a, n in hit.highlights}
    assert {"甲状腺癌", "等待期"} <= marked
    assert "<b>" in hit.snippet  # markup as written, never interpreted


def test_agent_assist_gives_the_top_articles_and_their_reply_templates(session: Session,
                                                                       library: dict[str, int]) -> None:
    text = "客户来电：去年投保，上个月体检查出甲状腺癌，还在等待期内，问能不能赔，情绪比较激动。"
    result = search.assist(session, text=text, first=2)
    assert result.hits[0].article_id == library["thyroid"]
    assert result.replies[0] == (THYROID[2][0], result.hits[0])
    assert "甲状腺癌" in result.keywords
    assert result.diagnoses == ["C73"]


@pytest.mark.parametrize(("query", "code"), [("", "EMPTY_QUERY"), ("  \n ", "EMPTY_QUERY"),
                                             ("保" * (search.MAX_QUERY + 1), "QUERY_TOO_LONG")])
def test_empty_and_oversized_queries_are_typed_refusals(session: Session, query: str, code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        search.search(session, query=query)
    assert (refused.value.field, refused.value.code) == ("query", code)
    with pytest.raises(ValidationError) as too_long:
        search.assist(session, text="险" * (search.MAX_TEXT + 1))
    assert (too_long.value.field, too_long.value.code) == ("text", "QUERY_TOO_LONG")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=search.MAX_QUERY + 5))
def test_any_query_is_answered_or_refused_with_a_typed_error(session: Session, library: dict[str, int],
                                                             query: str) -> None:
    try:
        hits = search.search(session, query=query, first=5)
    except ValidationError as exc:
        assert exc.code in {"EMPTY_QUERY", "QUERY_TOO_LONG"}
        return
    assert all(h.article_id in library.values() and h.score > 0 for h in hits)
    for h in hits:
        assert all(a >= 0 and a + n <= len(h.snippet) for a, n in h.highlights)


def test_each_process_index_catches_up_incrementally_with_what_others_published(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        first = published(s, *WARD).id
    other_process = search.KnowledgeIndex("other")
    with read_only_session(session_factory) as s:
        stamp = s.get(KnowledgeIndexState, 1).stamp  # type: ignore[union-attr]
        other_process.refresh(s, stamp)
    assert set(other_process.docs) == {first}
    tokens_before = other_process.docs[first].tokens
    with transaction(session_factory) as s:
        second = published(s, *DENTAL).id
        service.retire_article(s, principal=APPROVER, article_id=first, expected_version=None, now=NOW)
    with read_only_session(session_factory) as s:
        stamp = s.get(KnowledgeIndexState, 1).stamp  # type: ignore[union-attr]
        other_process.refresh(s, stamp)
        assert set(other_process.docs) == {second}
        assert [d.article_id for d, _ in other_process.rank(search.terms("补牙"), 3)] == [second]
        assert search.rebuild(s) == 1  # this process's own index, built again from the database
    assert tokens_before  # the retired article's tokens were computed once and dropped, not recomputed


def test_the_segmenter_loads_once_even_when_threads_race_for_it() -> None:
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(search.tokenizer())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(t) for t in seen}) == 1
    assert "甲状腺癌" in search.terms("甲状腺癌的等待期")  # the bundled insurance terms stay whole
