"""Compiled plans run every field's extensions and permission classes, as normal execution does.

strawberry marks any resolver-less field ``_is_default``, even one carrying permission
classes or field extensions; plans used to read such a field as a plain attribute, so a
field denied on the first request answered from the second one on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types import Info

from schema import fastexec


class Deny(BasePermission):
    message = "Not allowed to see this."

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        return False


class Shout(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Info[Any, Any], **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


def _secret_twin(source: Any, _context: Any) -> str:
    return str(source.hidden)


@strawberry.type
class Secret:
    public: str
    hidden: str | None = strawberry.field(permission_classes=[Deny])
    shouted: str = strawberry.field(extensions=[Shout()])

    @strawberry.field(permission_classes=[Deny], metadata=fastexec.fast(_secret_twin))  # type: ignore[untyped-decorator]
    def guarded(self) -> str | None:
        return self.hidden


@strawberry.type
class Query:
    @strawberry.field
    def secrets(self) -> list[Secret]:
        return [Secret(public=f"p{i}", hidden=f"h{i}", shouted=f"s{i}") for i in range(3)]


def _run(schema: strawberry.Schema, query: str) -> tuple[Any, list[Any]]:
    result = asyncio.run(fastexec.execute(schema, query))
    return result.data, [e.formatted for e in result.errors or ()]


def _twice(schema: strawberry.Schema, query: str) -> tuple[tuple[Any, list[Any]], tuple[Any, list[Any]]]:
    return _run(schema, query), _run(schema, query)


def test_a_denied_resolverless_field_stays_denied_on_the_plan_path() -> None:
    schema = strawberry.Schema(query=Query)
    first, second = _twice(schema, "{ secrets { public hidden } }")
    assert first[1] and all(e["message"] == "Not allowed to see this." for e in first[1])
    assert first[0] == {"secrets": [{"public": f"p{i}", "hidden": None} for i in range(3)]}
    assert second == first
    assert fastexec.plan_stats(schema)["compiled"] == 1


def test_field_extensions_run_on_the_plan_path() -> None:
    schema = strawberry.Schema(query=Query)
    first, second = _twice(schema, "{ secrets { public shouted } }")
    assert first == ({"secrets": [{"public": f"p{i}", "shouted": f"S{i}"} for i in range(3)]}, [])
    assert second == first
    assert fastexec.plan_stats(schema)["fast"] == 1  # answered by the plan, running the extension


def test_a_fast_twin_never_bypasses_permission_classes() -> None:
    schema = strawberry.Schema(query=Query)
    first, second = _twice(schema, "{ secrets { guarded } }")
    assert first[0] == {"secrets": [{"guarded": None}] * 3} and len(first[1]) == 3
    assert second == first


def test_plans_are_off_beside_an_unknown_schema_extension() -> None:
    class Audit(SchemaExtension):
        seen = 0

        def on_execute(self) -> Any:
            Audit.seen += 1
            yield

    schema = strawberry.Schema(query=Query, extensions=[Audit])
    _twice(schema, "{ secrets { public } }")
    assert Audit.seen == 2 and fastexec.plan_stats(schema)["fast"] == 0
