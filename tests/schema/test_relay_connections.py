"""The generic Connection: names in the SDL, both directions through GraphQL, a lazy totalCount, page caps."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import Column, Integer, MetaData, Numeric, Table, create_engine, event, insert, select
from sqlalchemy.orm import Session
from strawberry.types import Info

from core.settings import Settings
from schema.relay import PAGING, Connection, KeyColumn, keyset_connection

META = MetaData()
ROWS = Table("relay_probe", META, Column("id", Integer, primary_key=True), Column("amount", Numeric(14, 2)))
ENGINE = create_engine("sqlite://")
META.create_all(ENGINE)
with ENGINE.begin() as conn:
    conn.execute(insert(ROWS), [{"id": i, "amount": Decimal(i % 3)} for i in range(1, 8)])
STATEMENTS: list[str] = []
event.listen(ENGINE, "before_cursor_execute", lambda *args: STATEMENTS.append(str(args[2])))


@strawberry.type(description="A probe row.")
class Item:
    pk: int


@strawberry.type
class Query:
    @strawberry.field(description="Items by amount, largest first. " + PAGING)  # type: ignore[untyped-decorator]
    def items(self, info: Info[Any, Any], first: int | None = None, after: str | None = None,
              last: int | None = None, before: str | None = None) -> Connection[Item]:
        session: Session = info.context["session"]
        return keyset_connection(
            session, select(ROWS), key_columns=[KeyColumn(ROWS.c.amount, descending=True), KeyColumn(ROWS.c.id)],
            first=first, after=after, last=last, before=before, settings=Settings(max_page_size=5),
            wrap=lambda r: Item(pk=r.id), plain=True)


SCHEMA = strawberry.Schema(query=Query)
PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  items(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { pk } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


def run(query: str, **variables: Any) -> dict[str, Any]:
    with Session(ENGINE) as session:
        result = SCHEMA.execute_sync(query, variable_values=variables, context_value={"session": session})
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data["items"]  # type: ignore[no-any-return]


def test_the_sdl_names_the_connection_after_its_node() -> None:
    sdl = SCHEMA.as_str()
    assert "type ItemConnection {" in sdl and "type ItemEdge {" in sdl and "totalCount: Int!" in sdl
    assert "items(first: Int = null, after: String = null, last: Int = null, before: String = null): ItemConnection!" \
        in sdl


def test_paging_forward_then_back_through_graphql() -> None:
    order = [2, 5, 1, 4, 7, 3, 6]  # amount desc (2, 2, 1, 1, 1, 0, 0), then id
    first = run(PAGE, first=3)
    assert [e["node"]["pk"] for e in first["edges"]] == order[:3]
    assert first["pageInfo"]["hasNextPage"] is True and first["pageInfo"]["hasPreviousPage"] is False
    second = run(PAGE, first=3, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["pk"] for e in second["edges"]] == order[3:6]
    assert second["pageInfo"]["hasPreviousPage"] is True and second["pageInfo"]["hasNextPage"] is True
    back = run(PAGE, last=2, before=second["pageInfo"]["startCursor"])
    assert [e["node"]["pk"] for e in back["edges"]] == order[1:3]
    assert back["pageInfo"]["hasPreviousPage"] is True and back["pageInfo"]["hasNextPage"] is True
    end = run(PAGE, last=2)
    assert [e["node"]["pk"] for e in end["edges"]] == order[-2:]
    assert end["pageInfo"]["hasNextPage"] is False and end["pageInfo"]["hasPreviousPage"] is True
    assert [e["cursor"] for e in end["edges"]][-1] == end["pageInfo"]["endCursor"]


def test_total_count_is_one_query_and_only_when_selected() -> None:
    STATEMENTS.clear()
    run("{ items(first: 2) { edges { node { pk } } } }")
    assert len(STATEMENTS) == 1
    STATEMENTS.clear()
    assert run("{ items(first: 2) { totalCount } }")["totalCount"] == 7
    assert len(STATEMENTS) == 2 and "count" in STATEMENTS[1].lower()


def test_first_and_last_together_and_oversized_pages_are_refused() -> None:
    with Session(ENGINE) as session:
        for doc, field in (("{ items(first: 1, last: 1) { totalCount } }", "last"),
                           ("{ items(first: 6) { totalCount } }", "first"),
                           ("{ items(last: 6) { totalCount } }", "last")):
            result = SCHEMA.execute_sync(doc, context_value={"session": session})
            assert result.errors and result.errors[0].original_error is not None
            err = result.errors[0].original_error
            assert (getattr(err, "code", None), getattr(err, "field", None)) == ("PAGE_SIZE", field)
