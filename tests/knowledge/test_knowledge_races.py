"""Racing writers (threads on PostgreSQL; serialised on SQLite): two approvers deciding one version, two
articles published at once (each gets its own index generation and both are found)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from core.auth import Principal, Role
from core.db import read_only_session, transaction
from core.errors import DomainError
from resolvers.knowledge import search, service
from resolvers.knowledge.models import KnowledgeArticle
from tests.knowledge_factories import APPROVER, EDITOR, NOW, THYROID, WARD

OTHER_APPROVER = Principal(subject="manager-zhao", role=Role.MANAGER)


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except DomainError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _in_review(session_factory: Any, text: tuple[str, str, list[str]]) -> int:
    with transaction(session_factory) as s:
        article = service.create_article(s, principal=EDITOR, title=text[0], body=text[1], reply_templates=text[2],
                                         now=NOW)
        service.submit_article(s, principal=EDITOR, article_id=article.id, expected_version=None, now=NOW)
        return article.id


def _review(session_factory: Any, principal: Principal, article_id: int, approve: bool) -> str:
    with transaction(session_factory) as s:
        service.review_article(s, principal=principal, article_id=article_id, approve=approve,
                               reason=None if approve else "UNCLEAR", expected_version=None, now=NOW)
    return "ok"


def test_two_approvers_deciding_one_version_at_once_decide_it_once(session_factory: Any) -> None:
    article_id = _in_review(session_factory, THYROID)
    results = _at_once([lambda: _review(session_factory, APPROVER, article_id, True),
                        lambda: _review(session_factory, OTHER_APPROVER, article_id, False)])
    outcomes = Counter(r if isinstance(r, str) else r.code for r in results)
    assert outcomes["ok"] == 1 and sum(outcomes.values()) == 2
    assert set(outcomes) - {"ok"} <= {"INVALID_TRANSITION", "STALE_VERSION"}


def test_two_articles_published_at_once_get_their_own_generation_and_are_both_found(session_factory: Any) -> None:
    first, second = _in_review(session_factory, THYROID), _in_review(session_factory, WARD)
    results = _at_once([lambda: _review(session_factory, APPROVER, first, True),
                        lambda: _review(session_factory, APPROVER, second, True)])
    assert results == ["ok", "ok"]
    with read_only_session(session_factory) as s:
        stamps = {s.get(KnowledgeArticle, a).index_stamp for a in (first, second)}  # type: ignore[union-attr]
        assert len(stamps) == 2
        assert search.search(s, query="甲状腺癌", first=1)[0].article_id == first
        assert search.search(s, query="住院费用报销", first=1)[0].article_id == second
