"""Document caches (parsed documents, validation passes, compiled plans) stay bounded.

Before, strawberry's ParserCache and ValidationCache and the plan cache kept up to 1,024 /
1,024 / 512 raw documents whatever their size (200 comment-padded documents grew a
process by 515 MiB). Now every cache is keyed by a SHA-256 and bounded in entries and in
estimated bytes, and the estimates are checked here against what tracemalloc measures.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest
from graphql import parse, specified_rules

from core.auth import Role
from core.settings import Settings
from schema import build_schema, fastexec
from schema.cache import BoundedCache
from schema.documents import DocumentStore, document_digest, parsed_cost
from tests.claims.test_claims_fastexec import FULL, QUEUE
from tests.schema.test_fastexec import CUSTOMER_PAGE, FRAGMENTS, PAGE


def test_bounded_cache_evicts_the_least_recently_used_by_entries_and_by_bytes() -> None:
    cache: BoundedCache[str, int] = BoundedCache("t", max_entries=3, max_bytes=100)
    for key in "abc":
        cache.put(key, 1, cost=10)
    assert cache.get("a") == 1  # now the most recent
    cache.put("d", 1, cost=10)
    assert cache.get("b") is None and len(cache) == 3  # entries bound: b went
    cache.put("e", 1, cost=75)
    stats = cache.stats()
    assert stats.bytes <= 100 and cache.get("e") == 1 and cache.get("c") is None
    cache.put("huge", 1, cost=101)  # dearer than the whole cache: not kept, nothing evicted for it
    assert cache.get("huge") is None and cache.get("e") == 1
    cache.put("e", 2, cost=5)  # replacing re-charges
    assert cache.stats().bytes == 25 and cache.stats().entries == 3 and cache.stats().evictions == 2


def _retained(fn: Any) -> tuple[Any, int]:
    """``fn()`` and the bytes it left allocated (after a collection)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        value = fn()
        gc.collect()
        return value, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def build_schema_for_test() -> Any:
    return build_schema(Settings())


SHAPES = {
    "one long comment": "{ __typename }\n#" + "x" * 60_000,
    "many comments": "{ __typename }\n" + "# c\n" * 3_900,
    "dense fields": "{ " + " ".join(f"a{i}: __typename" for i in range(1_300)) + " }",
    "long string": '{ a(x: "' + "y" * 60_000 + '") }',
    "unicode comment": "{ __typename }\n#" + "中" * 20_000,
    "small": "{ __typename }",
}


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_parsed_cost_is_an_upper_bound_of_what_an_ast_keeps(text: str) -> None:
    document, allocated = _retained(lambda: parse(text, max_tokens=4_000))
    kept = allocated + len(text.encode())  # the AST's Source keeps the text itself too
    assert kept <= parsed_cost(text, document)


@pytest.mark.parametrize("query", [PAGE, FRAGMENTS, CUSTOMER_PAGE, FULL, QUEUE])
def test_plan_cost_is_an_upper_bound_of_what_a_plan_keeps(query: str) -> None:
    schema = build_schema_for_test()
    assert fastexec.compile_plan(schema, query, None, 4_000) is not None  # warms schema-wide caches
    plan, allocated = _retained(lambda: fastexec.compile_plan(schema, query, None, 4_000))
    assert plan is not None and allocated <= plan.cost


def test_the_store_keys_by_digest_and_remembers_only_passes() -> None:
    schema = build_schema_for_test()
    store: DocumentStore = schema.documents
    text = "{ __typename } # a comment"
    document, digest = store.parse(text)
    assert digest == document_digest(text) and len(digest) == 32
    assert store.parse(text)[0] is document and store.parsed.stats().hits == 1
    rules = tuple(specified_rules)
    assert store.validate(schema._schema, document, rules, digest=digest) == []
    bad, bad_digest = store.parse("{ nope }")
    assert store.validate(schema._schema, bad, rules, digest=bad_digest)
    assert store.validated.stats().entries == 1  # refusals are not kept


def _distinct(i: int, size: int) -> str:
    head = f"query Q{i} {{ __typename }}\n#"
    return head + "x" * (size - len(head))


def test_caches_stay_bounded_over_many_distinct_padded_documents(gql: Any, http: Any) -> None:
    schema = http.app.state.schema
    store: DocumentStore = schema.documents
    # The production bounds (32 MiB, 1,024 / 4,096 / 512 entries), scaled down to run fast.
    store.parsed = BoundedCache("parsed documents", max_entries=1024, max_bytes=1 << 20)
    fastexec._plans_of(schema).plans = BoundedCache("compiled plans", max_entries=100, max_bytes=1 << 20)
    clients = [gql(None), gql(Role.ADMIN)]
    for i in range(80):  # 80 x 8 KB, each charged ~22 KB parsed: more than the 1 MiB allowed
        doc = _distinct(i, 8_000)
        for client in clients:
            for _ in range(2):  # the second runs the plan
                resp = client.post(doc)
                assert resp.status_code == 200 and resp.json() == {"data": {"__typename": "Query"}}
    plans = fastexec.plan_cache_stats(schema)
    stats = [*store.stats(), plans]
    for s in stats:
        assert s.entries <= s.max_entries and s.bytes <= s.max_bytes, s
    parsed, validated, _ = stats
    assert parsed.evictions > 0 and parsed.bytes > parsed.max_bytes // 2  # the byte bound bit
    assert validated.entries == 160 and plans.entries == 100 and plans.evictions == 60
    assert fastexec.plan_stats(schema)["fast"] == 160
    # No cache keeps the client's text as a key: digests only.
    for cache in (store.parsed, store.validated, fastexec._plans_of(schema).plans):
        for key in list(cache._items):
            digest = key[0] if isinstance(key, tuple) else key
            assert isinstance(digest, bytes) and len(digest) == 32
