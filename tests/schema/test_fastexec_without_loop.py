"""Compiled plans answer without an event loop (``fastexec.try_plan``) and hand over cleanly.

A worker thread serving ``/graphql`` first asks ``try_plan`` (plain synchronous code, no
loop running) and only when it answers None runs ``execute(..., plan_tried=True)`` on the
thread's loop. The answers must be those of normal execution; a plan whose root resolver
awaits runs on the loop instead, and a request is never tried by a plan twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from schema import fastexec

CALLS: dict[str, int] = {"plain": 0, "awaited": 0, "flaky": 0}


@strawberry.type
class Item:
    code: str
    size: int


@strawberry.type
class Query:
    @strawberry.field
    def plain(self) -> list[Item]:
        CALLS["plain"] += 1
        return [Item(code=f"c{i}", size=i) for i in range(3)]

    @strawberry.field
    async def awaited(self) -> list[Item]:
        CALLS["awaited"] += 1
        await asyncio.sleep(0)
        return [Item(code="a", size=1)]

    @strawberry.field
    def flaky(self) -> Item:
        CALLS["flaky"] += 1
        if CALLS["flaky"] > 1:  # the plan's run fails: normal execution reports it
            raise ValueError("flaky")
        return Item(code="f", size=0)


def _normal(schema: strawberry.Schema, query: str, **kwargs: Any) -> Any:
    return asyncio.run(fastexec.execute(schema, query, **kwargs))


def test_a_compiled_plan_answers_without_a_loop_exactly_like_normal_execution() -> None:
    schema = strawberry.Schema(query=Query)
    query = "{ plain { code size } }"
    assert fastexec.try_plan(schema, query) is None  # nothing compiled yet
    first = _normal(schema, query)  # runs normally and compiles
    answered = fastexec.try_plan(schema, query)
    assert answered is not None and answered.errors is None
    assert answered.data == first.data == {"plain": [{"code": f"c{i}", "size": i} for i in range(3)]}
    assert fastexec.plan_stats(schema) == {"fast": 1, "normal": 1, "bail": 0, "compiled": 1,
                                           "not_compilable": 0}


def test_a_plan_whose_root_awaits_runs_on_the_loop_from_then_on() -> None:
    schema = strawberry.Schema(query=Query)
    query = "{ awaited { code } }"
    _normal(schema, query)
    CALLS["awaited"] = 0
    assert fastexec.try_plan(schema, query) is None  # the root awaits: no answer without a loop
    result = _normal(schema, query, plan_tried=True)
    assert result.data == {"awaited": [{"code": "a"}]} and result.errors is None
    assert fastexec.try_plan(schema, query) is None  # known now: the resolver is not called again
    assert CALLS["awaited"] == 1  # the discarded coroutine never ran; the loop's run did
    assert fastexec.plan_stats(schema)["fast"] == 1 and fastexec.plan_stats(schema)["bail"] == 0


def test_a_plan_that_gives_up_is_not_tried_twice_for_one_request() -> None:
    schema = strawberry.Schema(query=Query)
    query = "{ flaky { code } }"
    CALLS["flaky"] = 0
    _normal(schema, query)
    assert fastexec.try_plan(schema, query) is None  # the plan's resolver raised
    result = _normal(schema, query, plan_tried=True)
    assert result.data is None and [e.message for e in result.errors or ()] == ["flaky"]
    assert CALLS["flaky"] == 3  # compile run, plan, normal execution: no second plan attempt
    assert fastexec.plan_stats(schema) == {"fast": 0, "normal": 2, "bail": 1, "compiled": 1,
                                           "not_compilable": 0}


def test_without_a_try_execute_answers_by_the_plan_itself() -> None:
    schema = strawberry.Schema(query=Query)
    query = "{ plain { code } }"
    first, second = _normal(schema, query), _normal(schema, query)
    assert first.data == second.data
    assert fastexec.plan_stats(schema)["fast"] == 1
