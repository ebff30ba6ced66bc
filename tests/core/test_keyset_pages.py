"""Keyset pages forward and backward: every row once, in order; Relay's page flags; bad cursors typed."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.pagination import KeyColumn, Page, PageRequest, encode_cursor, keyset_page

META = MetaData()
ITEMS = Table("pagination_probe", META, Column("id", Integer, primary_key=True),
              Column("amount", Numeric(14, 2), nullable=False), Column("tag", String(8), nullable=False))
BY_ID = [KeyColumn(ITEMS.c.id)]
BY_AMOUNT_DESC = [KeyColumn(ITEMS.c.amount, descending=True), KeyColumn(ITEMS.c.id)]
MEMORY = create_engine("sqlite://")
META.create_all(MEMORY)


def fill(engine: Engine, amounts: list[int]) -> None:
    with engine.begin() as conn:
        conn.execute(delete(ITEMS))
        if amounts:
            conn.execute(insert(ITEMS), [{"id": i + 1, "amount": Decimal(a) / 4, "tag": "t"}
                                          for i, a in enumerate(amounts)])


def expected(amounts: list[int], keys: list[KeyColumn]) -> list[int]:
    ids = list(range(1, len(amounts) + 1))
    if keys is BY_ID:
        return ids
    return sorted(ids, key=lambda i: (-amounts[i - 1], i))


def walk(session: Session, keys: list[KeyColumn], size: int, *, backward: bool) -> list[list[Any]]:
    """Every page of the list, following cursors forward from the start or backward from the end."""
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        if backward:
            page = keyset_page(session, select(ITEMS), keys, last=size, before=cursor, plain=True)
        else:
            page = keyset_page(session, select(ITEMS), keys, first=size, after=cursor, plain=True)
        pages.append([row.id for row in page.items])
        more = page.has_previous if backward else page.has_next
        assert page.items or not more, "an empty page claims more rows"
        if not more:
            return pages
        cursor = page.start_cursor if backward else page.end_cursor
        assert len(pages) <= 200


@settings(max_examples=60, deadline=None)
@given(amounts=st.lists(st.integers(0, 6), max_size=23), size=st.integers(1, 5), by_amount=st.booleans())
def test_forward_then_backward_visits_every_row_once_in_order(amounts: list[int], size: int, by_amount: bool) -> None:
    fill(MEMORY, amounts)
    keys = BY_AMOUNT_DESC if by_amount else BY_ID
    want = expected(amounts, keys)
    with Session(MEMORY) as session:
        forward = walk(session, keys, size, backward=False)
        backward = walk(session, keys, size, backward=True)
    assert [i for page in forward for i in page] == want
    assert [i for page in reversed(backward) for i in page] == want
    assert all(len(p) == size for p in forward[:-1]) and all(len(p) == size for p in backward[:-1])


@settings(max_examples=40, deadline=None)
@given(amounts=st.lists(st.integers(0, 3), min_size=1, max_size=15), size=st.integers(1, 4),
       start=st.integers(0, 14), by_amount=st.booleans())
def test_from_any_edge_back_and_forth_returns_the_neighbouring_rows(
        amounts: list[int], size: int, start: int, by_amount: bool) -> None:
    fill(MEMORY, amounts)
    keys = BY_AMOUNT_DESC if by_amount else BY_ID
    want = expected(amounts, keys)
    start %= len(want)
    with Session(MEMORY) as session:
        everything = keyset_page(session, select(ITEMS), keys, first=100, plain=True)
        cursor = everything.cursors[start]
        after = keyset_page(session, select(ITEMS), keys, first=size, after=cursor, plain=True)
        before = keyset_page(session, select(ITEMS), keys, last=size, before=cursor, plain=True)
        assert [r.id for r in after.items] == want[start + 1:start + 1 + size]
        assert [r.id for r in before.items] == want[max(0, start - size):start]
        # Relay: forward, hasNext is exact and hasPrevious says whether rows exist up to `after`;
        # backward, hasPrevious is exact and hasNext says whether rows exist from `before` on.
        assert after.has_next == (start + 1 + size < len(want)) and after.has_previous is True
        assert before.has_previous == (start - size > 0) and before.has_next is True


def test_first_page_has_no_previous_and_last_page_no_next() -> None:
    fill(MEMORY, [1, 2, 3])
    with Session(MEMORY) as session:
        head = keyset_page(session, select(ITEMS), BY_ID, first=2, plain=True)
        tail = keyset_page(session, select(ITEMS), BY_ID, last=2, plain=True)
    assert (head.has_previous, head.has_next) == (False, True)
    assert (tail.has_previous, tail.has_next) == (True, False)
    assert [r.id for r in tail.items] == [2, 3]


def test_a_deleted_cursor_row_still_pages_and_previous_is_exact() -> None:
    fill(MEMORY, [1, 2, 3, 4])
    with Session(MEMORY) as session:
        cursor = keyset_page(session, select(ITEMS), BY_ID, first=1, plain=True).end_cursor
        session.execute(delete(ITEMS).where(ITEMS.c.id == 1))
        page = keyset_page(session, select(ITEMS), BY_ID, first=2, after=cursor, plain=True)
        assert [r.id for r in page.items] == [2, 3] and page.has_previous is False and page.has_next is True


def test_flags_beyond_a_cursor_cost_a_query_only_when_read() -> None:
    fill(MEMORY, [1, 2, 3, 4])
    statements: list[str] = []
    from sqlalchemy import event

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(MEMORY, "before_cursor_execute", count)
    try:
        with Session(MEMORY) as session:
            page = keyset_page(session, select(ITEMS), BY_ID, first=1, after=encode_cursor(2), plain=True)
            assert len(statements) == 1
            assert page.has_next is True and len(statements) == 1
            assert page.has_previous is True and len(statements) == 2
            assert page.has_previous is True and len(statements) == 2  # asked once
    finally:
        event.remove(MEMORY, "before_cursor_execute", count)


@pytest.mark.parametrize("cursor", ["%%%", encode_cursor("x"), encode_cursor(1, 2), encode_cursor(True),
                                    encode_cursor(2.5), "W10=", encode_cursor({"a": 1})])
def test_a_malformed_cursor_is_a_typed_error_naming_its_argument(cursor: str) -> None:
    with Session(MEMORY) as session:
        for kwargs, field in (({"first": 2, "after": cursor}, "after"), ({"last": 2, "before": cursor}, "before")):
            with pytest.raises(ValidationError) as err:
                keyset_page(session, select(ITEMS), BY_ID, plain=True, **kwargs)  # type: ignore[arg-type]
            assert (err.value.code, err.value.field) == ("BAD_CURSOR", field)


def test_a_malformed_decimal_cursor_is_a_typed_error() -> None:
    with Session(MEMORY) as session, pytest.raises(ValidationError) as err:
        keyset_page(session, select(ITEMS), BY_AMOUNT_DESC, first=1, after=encode_cursor("abc", 1), plain=True)
    assert err.value.code == "BAD_CURSOR"


def test_page_request_checks_sizes_and_refuses_first_with_last() -> None:
    assert PageRequest().checked(default_size=20, max_size=100) == PageRequest(first=20)
    assert PageRequest(last=5, before="c").checked(default_size=20, max_size=100).backward
    for bad, field in ((PageRequest(first=1, last=1), "last"), (PageRequest(first=101), "first"),
                       (PageRequest(last=-1), "last")):
        with pytest.raises(ValidationError) as err:
            bad.checked(default_size=20, max_size=100)
        assert (err.value.code, err.value.field) == ("PAGE_SIZE", field)


def test_orm_entities_and_default_cursors() -> None:
    page: Page[Any] = Page([], has_next=False, start_cursor=None, end_cursor=None)
    assert page.cursors == [] and page.has_previous is False


@pytest.fixture
def probe_table(engine: Engine) -> Iterator[Engine]:
    META.create_all(engine)
    yield engine
    META.drop_all(engine)


def test_both_ways_on_the_project_database(probe_table: Engine) -> None:
    amounts = [3, 1, 3, 0, 2, 3, 1]
    fill(probe_table, amounts)
    with Session(probe_table) as session:
        for keys in (BY_ID, BY_AMOUNT_DESC):
            forward = walk(session, keys, 3, backward=False)
            backward = walk(session, keys, 3, backward=True)
            want = expected(amounts, keys)
            assert [i for p in forward for i in p] == want == [i for p in reversed(backward) for i in p]
