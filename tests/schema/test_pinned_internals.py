"""The strawberry and graphql-core internals that compiled plans and document caches rely on.

``schema/fastexec.py`` reads strawberry's field definitions and resolvers and drives
graphql-core's field collection and argument coercion itself; ``schema/documents.py``
relies on the parser counting comments as tokens. Both libraries are pinned exactly in
``pyproject.toml``. When an upgrade changes one of these internals, a test here fails and
says which: adapt the plan compiler (then re-run ``tests/schema/test_fastexec*.py``) before
moving the pin.
"""

from __future__ import annotations

import enum
import inspect
import re
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import graphql
import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSyntaxError, parse
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_fields, collect_subfields
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path as ResponsePath
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext as ExecutionContext
from strawberry.schema.schema import validate_document
from strawberry.types import Info

from schema import fastexec

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
PINNED = ("strawberry-graphql", "graphql-core")


def _pins() -> dict[str, str]:
    deps = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    out = {}
    for dep in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)", dep)
        assert m is not None, dep
        out[m.group(1).lower()] = m.group(3).strip()
    return out


@pytest.mark.parametrize("package", PINNED)
def test_the_libraries_plans_rely_on_are_pinned_and_installed_as_pinned(package: str) -> None:
    spec = _pins().get(package, "")
    assert spec.startswith("==") and "," not in spec, (
        f"{package} must be pinned exactly ('=={metadata.version(package)}') in pyproject.toml: "
        "schema/fastexec.py relies on its internals")
    installed = metadata.version(package)
    assert installed == spec[2:], (
        f"{package} {installed} is installed but plans were tested with {spec[2:]}: run "
        "tests/schema/test_pinned_internals.py and tests/schema/test_fastexec*.py against it, "
        "adapt schema/fastexec.py, then move the pin")


def _params(fn: Any) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]


def _starts_with(fn: Any, names: list[str], what: str) -> None:
    got = _params(fn)
    assert got[: len(names)] == names, f"{what} now takes {got}, plans call it with {names}"


def test_graphql_core_functions_plans_call_keep_their_signatures() -> None:
    _starts_with(collect_fields, ["schema", "fragments", "variable_values", "runtime_type", "operation"],
                 "graphql.execution.collect_fields.collect_fields")
    _starts_with(collect_subfields,
                 ["schema", "fragments", "variable_values", "operation", "return_type", "field_details_list"],
                 "graphql.execution.collect_fields.collect_subfields")
    _starts_with(get_argument_values, ["type_def", "node", "variable_values"],
                 "graphql.execution.values.get_argument_values")
    _starts_with(ExecutionContext.build_resolve_info, ["field_def", "field_nodes", "parent_type", "path"],
                 "graphql ExecutionContext.build_resolve_info")
    _starts_with(ExecutionContext.build, ["schema", "document", "root_value", "context_value",
                                          "raw_variable_values", "operation_name"],
                 "graphql ExecutionContext.build")
    build = inspect.signature(ExecutionContext.build).parameters
    assert "is_awaitable" in build and any(p.kind is p.VAR_KEYWORD for p in build.values()), (
        "ExecutionContext.build lost is_awaitable or **custom_args (operation_extensions), which plans pass")
    assert strawberry.Schema(query=PinQuery).execution_context_class is ExecutionContext
    assert {"node", "defer_usage", "fragment_variable_values"} <= set(FieldDetails._fields), (
        f"FieldDetails is now {FieldDetails._fields}")
    _starts_with(FragmentDetails, ["definition"], "graphql FragmentDetails")
    _starts_with(VariableValues, ["sources", "coerced"], "graphql VariableValues")
    assert callable(getattr(ResponsePath(None, "a", "T"), "add_key", None)), "Path.add_key is gone"
    _starts_with(validate_document, ["schema", "document", "validation_rules"],
                 "strawberry.schema.schema.validate_document")


def test_the_parser_counts_comments_as_tokens_and_drops_locations_on_request() -> None:
    padded = "{ __typename }\n" + "# padding\n" * 50
    with pytest.raises(GraphQLSyntaxError, match="more than 20 tokens"):
        parse(padded, max_tokens=20)  # comments count: 3 + 50 + EOF tokens
    document = parse("{ __typename } # x", max_tokens=20)
    assert getattr(document, "token_count", None) == 4, (
        "DocumentNode.token_count (used for cache cost estimates) changed meaning or is gone")
    assert parse("{ a }", no_location=True).loc is None
    assert _params(parse)[:3] == ["source", "no_location", "max_tokens"]
    assert graphql.version.startswith("3.3.")


class Deny(BasePermission):
    message = "no"

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        return False


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class Item:
    plain: str
    guarded: str = strawberry.field(permission_classes=[Deny])
    colour: Colour = Colour.RED

    @strawberry.field
    def computed(self, times: int = 1) -> str:
        return self.plain * times


@strawberry.type
class PinQuery:
    @strawberry.field
    def item(self) -> Item:
        return Item(plain="x", guarded="y")


def test_strawberry_field_resolvers_are_what_plans_expect() -> None:
    schema = strawberry.Schema(query=PinQuery)
    item = schema._schema.type_map["Item"]
    assert isinstance(item, GraphQLObjectType)
    plain, guarded, computed = (item.fields[n] for n in ("plain", "guarded", "computed"))
    for f in (plain, guarded, computed):
        assert "strawberry-definition" in (f.extensions or {}), "GraphQLField.extensions lost the strawberry field"
    # A basic field is read from an attribute by _get_basic_result (plans read it with getattr)...
    assert plain.resolve is not None and plain.resolve.__name__ == "_get_basic_result"
    assert getattr(plain.resolve, "_is_default", None) is True
    # ...while a resolver-less field with permission classes is also marked default (the trap
    # plans must not fall into) but runs PermissionExtension in its resolver.
    sguarded = guarded.extensions["strawberry-definition"]
    assert guarded.resolve is not None and guarded.resolve.__name__ != "_get_basic_result"
    assert getattr(guarded.resolve, "_is_default", None) is True
    assert sguarded.permission_classes == [Deny]
    assert any(isinstance(e, PermissionExtension) for e in sguarded.extensions)
    assert not fastexec._reads_attribute(guarded, sguarded) and fastexec._reads_attribute(
        plain, plain.extensions["strawberry-definition"])
    scomputed = computed.extensions["strawberry-definition"]
    for attr in ("python_name", "metadata", "extensions", "permission_classes", "base_resolver", "arguments"):
        assert hasattr(scomputed, attr), f"StrawberryField.{attr} is gone"
    assert [a.python_name for a in scomputed.arguments] == ["times"]
    assert schema.config.name_converter.from_argument(scomputed.arguments[0]) == "times"
    assert schema.config.default_resolver is getattr
    type_def = item.extensions["strawberry-definition"]
    assert type_def.origin is Item, "the strawberry type definition lost its origin class"
    if item.is_type_of is not None:
        assert item.is_type_of.__module__ == "strawberry.schema.schema_converter"
    enum = schema._schema.type_map["Colour"]
    assert getattr(enum, "wrapped_cls", None) is Colour, "GraphQLEnumType.wrapped_cls is gone"
    for name in ("execution_context_class", "extensions", "directives", "config", "_schema"):
        assert hasattr(schema, name), f"strawberry.Schema.{name} is gone"


def test_strawberry_helpers_plans_import_still_exist() -> None:
    from strawberry.execution import optimized_is_awaitable
    from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
    from strawberry.types.execution import ExecutionResult

    assert callable(optimized_is_awaitable) and isinstance(TYPE_CAST_ATTRIBUTE, str)
    assert {"data", "errors", "extensions"} <= set(inspect.signature(ExecutionResult).parameters)
    # Extensions given as factories are built per request (not shared across threads).
    assert "ext()" in inspect.getsource(strawberry.Schema.get_extensions)


def test_a_plan_compiles_and_answers_on_these_versions() -> None:
    """End to end on a small schema: the internals above combine as plans expect."""
    import asyncio

    schema = strawberry.Schema(query=PinQuery)
    query = "{ item { plain colour computed(times: 2) __typename } }"
    first = asyncio.run(fastexec.execute(schema, query))
    second = asyncio.run(fastexec.execute(schema, query))
    assert first.data == second.data == {
        "item": {"plain": "x", "colour": "RED", "computed": "xx", "__typename": "Item"}}
    assert fastexec.plan_stats(schema) == {"fast": 1, "normal": 1, "bail": 0, "compiled": 1,
                                           "not_compilable": 0}
