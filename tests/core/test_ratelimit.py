"""Shared rate limits: limits' sliding-window counter over the database table and over Redis."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator

import pytest
from limits.storage import RedisStorage, Storage
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.db import make_engine
from core.ratelimit import (
    Limiter,
    RateLimitCounter,
    RateLimitUnavailable,
    SQLStorage,
    parse_rule,
    shared_limiter,
    shared_storage,
)
from core.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture(params=["sql", "redis"])
def storages(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[Storage, Storage]]:
    """Two storages as two workers hold them: two engines on one database, or two Redis clients."""
    if request.param == "sql":
        engines = [make_engine(settings.resolved_database_url) for _ in range(2)]
        yield SQLStorage(engines[0]), SQLStorage(engines[1])
        for e in engines:
            e.dispose()
    else:
        prefix = "test-" + secrets.token_hex(6)  # a namespace of this test's own in the shared server
        pair = tuple(RedisStorage(REDIS_URL, key_prefix=prefix) for _ in range(2))
        yield pair  # type: ignore[misc]
        pair[0].reset()


def test_two_workers_share_the_counts(storages: tuple[Storage, Storage]) -> None:
    first, second = Limiter(storages[0]), Limiter(storages[1])
    rule = parse_rule("3/day")
    assert [first.hit(rule, "login", "a").allowed for _ in range(2)] == [True, True]
    assert second.hit(rule, "login", "a").allowed
    refused = second.hit(rule, "login", "a")
    assert not refused.allowed and refused.retry_after > 0 and int(refused.retry_after_header) >= 1
    assert not first.test(rule, "login", "a").allowed
    assert first.test(rule, "login", "b").allowed  # another key is untouched
    second.clear(rule, "login", "a")
    assert first.hit(rule, "login", "a").allowed


def test_concurrent_hits_never_pass_the_limit(storages: tuple[Storage, Storage]) -> None:
    limiters = [Limiter(s) for s in storages]
    rule = parse_rule("10/day")
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        ok = limiters[i % 2].hit(rule, "burst").allowed
        with lock:
            allowed.append(ok)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 10 and len(allowed) == 24


def test_sql_windows_expire_and_old_rows_are_pruned(engine: Engine) -> None:
    storage = SQLStorage(engine, prune_every=0)
    # Windows of a second or so: a loaded CI machine took over 50 ms between two statements.
    assert storage.incr("k", 1.0) == 1 and storage.incr("k", 1.0) == 2
    assert storage.get("k") == 2 and storage.get_expiry("k") > time.time()
    time.sleep(1.1)
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1  # an expired counter starts again from the hit
    storage.incr("other", 0.2)
    time.sleep(0.25)
    storage.incr("third", 60)  # prunes what expired
    with engine.connect() as conn:
        keys = set(conn.execute(select(RateLimitCounter.key)).scalars())
    assert keys == {"k", "third"}
    assert storage.decr("k", 5) == 0 and storage.check()
    assert storage.reset() == 2


def test_long_or_slashed_identifiers_are_hashed_to_fit(engine: Engine) -> None:
    limiter = Limiter(SQLStorage(engine))
    rule = parse_rule("1/day")
    assert limiter.hit(rule, "x" * 5000, "a/b").allowed
    assert not limiter.hit(rule, "x" * 5000, "a/b").allowed
    assert limiter.hit(rule, "x" * 4999, "a/b").allowed
    with engine.connect() as conn:
        assert conn.execute(select(func.max(func.length(RateLimitCounter.key)))).scalar_one() < 200


def test_settings_choose_the_store(settings: Settings, engine: Engine) -> None:
    assert isinstance(shared_storage(settings, engine), SQLStorage)
    redis = shared_storage(settings.with_(redis_url=REDIS_URL), engine)
    assert isinstance(redis, RedisStorage) and redis.check()


def test_a_store_that_does_not_answer_is_reported(settings: Settings, engine: Engine) -> None:
    limiter = shared_limiter(settings.with_(redis_url="redis://127.0.0.1:1/0"), engine)  # nobody listens there
    with pytest.raises(RateLimitUnavailable):
        limiter.hit(parse_rule("1/day"), "k")
