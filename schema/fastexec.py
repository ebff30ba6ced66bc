"""Compiled execution plans: the fast path for query documents seen before.

Normal execution walks the document field by field through graphql-core and strawberry:
per field a resolve-info, a resolver wrapper, argument conversion and awaitable checks.
For a page of 50 policies that is ~1,600 fields and most of the request's time.

Here a query document that has already been executed normally for a role (so it parsed
and passed validation, the per-role access rule included) is compiled once into a plan,
cached under the SHA-256 of (role, operation name, document) in a cache bounded in entries
and in estimated bytes. A plan executes the same fields column by column over all sibling
objects at once:

- plain attribute fields (strawberry's basic fields: no resolver, no field extension, no
  permission class) are read with ``getattr`` (the schema's default resolver);
- fields declaring a context-only twin of their resolver in their metadata
  (:func:`fast`) call it directly, and its ``prefetch`` hook loads a relation for all
  sibling objects in one query (the same statements DataLoaders would batch);
- any other field runs its strawberry resolver exactly as graphql-core runs it (real
  resolve-info and path), so field extensions and permission classes run as always;
- leaves are coerced by the schema's own scalar and enum types.

The result must equal normal execution's byte for byte. So a plan never produces an error:
on anything it does not handle (an exception, a null in a non-null position, an awaitable
below the root, invalid variables) it gives up and the request runs normally, which then
reports exactly what it always reports. Documents with directives, abstract types,
introspection, mutations or subscriptions are never compiled. The fast path is off when
the schema has an extension other than the known parse/validation-only ones, or operation
directives, since a plan skips schema extension hooks. The strawberry and graphql-core
internals used here are pinned and checked by ``tests/schema/test_pinned_internals.py``.

A plan whose root resolvers return plain values runs without any event loop
(:func:`try_plan`): a worker thread answers it without a loop iteration, each of which
would release the GIL and, under load, hand it to another thread.

Example::

    result = await execute(schema, query, variable_values=variables, context_value=ctx,
                           operation_name=name, allowed_operation_types={OperationType.QUERY})

    # in a worker thread: the plan now, else everything else on the thread's loop
    result = try_plan(schema, query, **kwargs) or loop.run_until_complete(
        execute(schema, query, plan_tried=True, **kwargs))
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from operator import attrgetter
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    parse,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path, Undefined, is_iterable
from graphql.type.definition import GraphQLInputType
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType as StrawberryOperationType

from schema.cache import BoundedCache, CacheStats
from schema.documents import document_too_large
from schema.extensions import AccessControl, CachedDocuments

__all__ = ["FAST_KEY", "FastResolver", "execute", "fast", "plan_cache_stats", "plan_stats", "try_plan"]

log = logging.getLogger("opsure.fastexec")

FAST_KEY = "opsure_fast"
# Schema extensions that only parse/validate (exactly these classes, not subclasses, which
# could add hooks); a plan may skip them once a document passed for the role.
SAFE_EXTENSIONS: frozenset[type] = frozenset({
    AccessControl, CachedDocuments, AddValidationRules, DisableIntrospection, MaxAliasesLimiter,
    MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache,
})
MAX_PLANS = 512
MAX_PLAN_BYTES = 32 << 20
# Estimated memory of a plan (tests/schema/test_document_cache.py keeps it an upper bound):
# its location-free AST and the compiled field plans with their completers.
_PLAN_BYTES_PER_TOKEN = 240
_PLAN_BYTES_PER_FIELD = 1600
_PLAN_BYTES = 4096


@dataclass(frozen=True)
class FastResolver:
    """A context-only twin of a field resolver: ``resolve(source, context, **args)``.

    It must return exactly what the field's resolver returns, as a plain value.
    ``prefetch(context, sources)`` (optional) loads the field's data for all sibling
    sources at once, so that ``resolve`` finds it loaded.
    """

    resolve: Callable[..., Any]
    prefetch: Callable[[Any, list[Any]], None] | None = None


def fast(resolve: Callable[..., Any], *, prefetch: Callable[[Any, list[Any]], None] | None = None,
         **metadata: Any) -> dict[str, Any]:
    """Field metadata declaring the resolver's context-only twin (merged with ``metadata``)."""
    return {**metadata, FAST_KEY: FastResolver(resolve, prefetch)}


_NO_INFO: Any = None  # strawberry's generated is_type_of ignores its info argument


class _Bail(Exception):
    """The plan cannot answer this request: run it normally."""


class _Disable(_Bail):
    """The plan can never answer this document fast (e.g. a resolver awaits): forget it."""


class _NeedsLoop(Exception):
    """A root resolver returned an awaitable: this plan runs on an event loop (:func:`execute`)."""


Column = Callable[[list[Any], "list[Path] | None", "_Run"], list[Any]]


class _Run:
    """Per-request state of one plan execution."""

    __slots__ = ("args", "context", "executor", "variables")

    def __init__(self, executor: Any, context: Any) -> None:
        self.executor = executor
        self.context = context
        self.variables: VariableValues = executor.variable_values
        self.args: dict[int, dict[str, Any]] = {}


# --- plans -----------------------------------------------------------------------------------


class _FieldPlan:
    """One response key of an object selection."""

    __slots__ = ("complete", "fast", "field_def", "getter", "key", "kwarg_names", "mode",
                 "needs_paths", "nodes", "parent", "prefetch", "sub_paths", "typename")

    def __init__(self, key: str, parent: GraphQLObjectType, field_def: GraphQLField | None,
                 nodes: list[FieldNode]) -> None:
        self.key = key
        self.parent = parent
        self.field_def = field_def
        self.nodes = nodes
        self.mode = "attr"
        self.getter: Callable[[Any], Any] | None = None
        self.fast: Callable[..., Any] | None = None
        self.prefetch: Callable[[Any, list[Any]], None] | None = None
        self.kwarg_names: dict[str, str] = {}
        self.complete: Column = _identity
        self.needs_paths = False
        self.sub_paths = False
        self.typename = parent.name

    def arguments(self, run: _Run) -> dict[str, Any]:
        """Coerced arguments of this field for the request (computed once per request)."""
        found = run.args.get(id(self))
        if found is None:
            node = self.nodes[0]
            assert self.field_def is not None
            found = (
                get_argument_values(self.field_def, node, run.variables)
                if self.field_def.args or node.arguments
                else {}
            )
            run.args[id(self)] = found
        return found

    def resolve(self, sources: list[Any], paths: list[Path] | None, run: _Run) -> list[Any]:
        """The field's raw values for every source."""
        mode = self.mode
        if mode == "attr":
            assert self.getter is not None
            return list(map(self.getter, sources))
        if mode == "typename":
            return [self.typename] * len(sources)
        if mode == "fast":
            fn = self.fast
            assert fn is not None
            ctx = run.context
            args = self.arguments(run)
            if args:
                kwargs = {self.kwarg_names[k]: v for k, v in args.items()}
                values = [fn(s, ctx, **kwargs) for s in sources]
            else:
                values = [fn(s, ctx) for s in sources]
            for v in values:
                if optimized_is_awaitable(v):
                    _close(values)
                    raise _Bail("fast resolver returned an awaitable")
            return values
        # generic: exactly what graphql-core's execute_field does, per source
        assert self.field_def is not None and paths is not None
        field_def = self.field_def
        resolve = field_def.resolve
        if resolve is None:
            raise _Disable("field without resolver")
        args = self.arguments(run)
        build = run.executor.build_resolve_info
        key, typename, nodes = self.key, self.typename, self.nodes
        out = []
        for source, path in zip(sources, paths, strict=True):
            info = build(field_def, nodes, self.parent, path.add_key(key, typename))
            value = resolve(source, info, **args)
            if optimized_is_awaitable(value):
                _close([value])
                raise _Disable("resolver returned an awaitable")
            out.append(value)
        return out


def _close(values: Iterable[Any]) -> None:
    for v in values:
        close = getattr(v, "close", None)
        if callable(close) and hasattr(v, "cr_frame"):
            close()


def _identity(values: list[Any], _paths: list[Path] | None, _run: _Run) -> list[Any]:
    return values


class _ObjectPlan:
    """The selection on one object type."""

    __slots__ = ("fields", "is_type_of", "needs_paths", "origin", "prefetches", "type")

    def __init__(self, type_: GraphQLObjectType, fields: list[_FieldPlan]) -> None:
        self.type = type_
        self.fields = fields
        self.prefetches = [f for f in fields if f.prefetch is not None]
        self.needs_paths = any(f.needs_paths for f in fields)
        self.is_type_of = type_.is_type_of
        definition = (type_.extensions or {}).get("strawberry-definition")
        # Instances of exactly the type's class (not cast to another type) pass is_type_of.
        self.origin = getattr(definition, "origin", None)

    def complete(self, sources: list[Any], paths: list[Path] | None, run: _Run) -> list[dict[str, Any]]:
        """Completed response objects for ``sources`` (all non-null), in field order.

        A source object appearing more than once (a product many policies share) is
        completed once; its response object is reused, which serialises identically.
        """
        is_type_of, origin = self.is_type_of, self.origin
        for s in sources:
            if isinstance(s, Exception):
                raise _Bail("exception as value")
            if is_type_of is not None and not (
                type(s) is origin and getattr(s, TYPE_CAST_ATTRIBUTE, None) is None
            ) and not is_type_of(s, _NO_INFO):
                raise _Bail("not of the expected type")
        if paths is None and len(sources) > 1:
            unique = {id(s): s for s in sources}
            if len(unique) < len(sources):
                done = dict(zip(unique, self._complete(list(unique.values()), None, run), strict=True))
                return [done[id(s)] for s in sources]
        return self._complete(sources, paths, run)

    def _complete(self, sources: list[Any], paths: list[Path] | None, run: _Run) -> list[dict[str, Any]]:
        for f in self.prefetches:
            assert f.prefetch is not None
            f.prefetch(run.context, sources)
        rows: list[dict[str, Any]] = [{} for _ in sources]
        for f in self.fields:
            fpaths = None
            if paths is not None and f.needs_paths:
                key, typename = f.key, f.typename
                fpaths = [p.add_key(key, typename) for p in paths]
            values = f.complete(f.resolve(sources, paths, run), fpaths, run)
            key = f.key
            for row, value in zip(rows, values, strict=True):
                row[key] = value
        return rows


# --- completers (one per output type position) ----------------------------------------------


def _non_null(inner: Column) -> Column:
    def complete(values: list[Any], paths: list[Path] | None, run: _Run) -> list[Any]:
        out = inner(values, paths, run)
        for v in out:
            if v is None:
                raise _Bail("null in a non-null position")
        return out

    return complete


def _list(inner: Column, needs_paths: bool) -> Column:
    def complete(values: list[Any], paths: list[Path] | None, run: _Run) -> list[Any]:
        flat: list[Any] = []
        sizes: list[int] = []
        sub: list[Path] | None = [] if needs_paths and paths is not None else None
        for i, v in enumerate(values):
            if v is None or v is Undefined:
                sizes.append(-1)
                continue
            if isinstance(v, Exception) or not is_iterable(v) or hasattr(v, "__aiter__"):
                raise _Bail("not a list")
            items = list(v)
            sizes.append(len(items))
            flat.extend(items)
            if sub is not None and paths is not None:
                base = paths[i]
                sub.extend(base.add_key(j, None) for j in range(len(items)))
        done = inner(flat, sub, run)
        out: list[Any] = []
        pos = 0
        for n in sizes:
            if n < 0:
                out.append(None)
            else:
                out.append(done[pos:pos + n])
                pos += n
        return out

    return complete


def _leaf(type_: GraphQLScalarType | GraphQLEnumType) -> Column:
    coerce = type_.coerce_output_value
    fast_type: type | None = None
    if isinstance(type_, GraphQLScalarType) and type_.name in ("String", "ID"):
        fast_type = str
    elif isinstance(type_, GraphQLScalarType) and type_.name == "Boolean":
        fast_type = bool
    names: dict[Any, str] = {}
    wrapped = getattr(type_, "wrapped_cls", None)
    if isinstance(type_, GraphQLEnumType) and isinstance(wrapped, type) and issubclass(wrapped, Enum):
        # strawberry's enum coercion: the first GraphQL value equal to the member's value
        for member in wrapped:
            for name, value in type_.values.items():
                if member.value == value.value:
                    names[member] = name
                    break

    def slow(v: Any) -> Any:
        if isinstance(v, Exception):
            raise _Bail("exception as value")
        out = coerce(v)
        if out is None or out is Undefined:
            raise _Bail("leaf coerced to null")
        return out

    if fast_type is not None:
        ft = fast_type

        def complete_typed(values: list[Any], _p: list[Path] | None, _r: _Run) -> list[Any]:
            return [v if type(v) is ft else (None if v is None or v is Undefined else slow(v)) for v in values]

        return complete_typed
    if type_.name == "Int":

        def complete_int(values: list[Any], _p: list[Path] | None, _r: _Run) -> list[Any]:
            return [
                v if type(v) is int and -2147483648 <= v <= 2147483647
                else (None if v is None or v is Undefined else slow(v))
                for v in values
            ]

        return complete_int
    if names:
        enum_cls = wrapped

        def complete_enum(values: list[Any], _p: list[Path] | None, _r: _Run) -> list[Any]:
            return [
                (names.get(v) or slow(v)) if type(v) is enum_cls
                else (None if v is None or v is Undefined else slow(v))
                for v in values
            ]

        return complete_enum

    def complete_other(values: list[Any], _p: list[Path] | None, _r: _Run) -> list[Any]:
        return [None if v is None or v is Undefined else slow(v) for v in values]

    return complete_other


def _object(plan: _ObjectPlan) -> Column:
    def complete(values: list[Any], paths: list[Path] | None, run: _Run) -> list[Any]:
        present = [i for i, v in enumerate(values) if v is not None and v is not Undefined]
        if len(present) == len(values):
            return plan.complete(values, paths, run)
        done = plan.complete([values[i] for i in present],
                             [paths[i] for i in present] if paths is not None else None, run)
        out: list[Any] = [None] * len(values)
        for i, row in zip(present, done, strict=True):
            out[i] = row
        return out

    return complete


# --- compiling -------------------------------------------------------------------------------


class _NotCompilable(Exception):
    pass


class _Compiler:
    def __init__(self, schema: Any, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.strawberry = schema
        self.schema: GraphQLSchema = schema._schema
        self.operation = operation
        self.fragments = {
            d.name.value: FragmentDetails(d)
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = VariableValues({}, {})
        default = schema.config.default_resolver
        self.default_resolver = default
        self.field_count = 0

    def root(self) -> _ObjectPlan:
        root_type = self.schema.query_type
        if root_type is None:
            raise _NotCompilable("no query type")
        collected = collect_fields(self.schema, self.fragments, self.variables, root_type, self.operation)
        return self.selection(root_type, collected.grouped_field_set, root=True)

    def selection(self, type_: GraphQLObjectType, grouped: dict[str, list[FieldDetails]],
                  root: bool = False) -> _ObjectPlan:
        fields = []
        for key, details in grouped.items():
            if any(d.defer_usage is not None or d.fragment_variable_values is not None for d in details):
                raise _NotCompilable("defer or fragment variables")
            fields.append(self.field(type_, key, details, root))
        return _ObjectPlan(type_, fields)

    def field(self, parent: GraphQLObjectType, key: str, details: list[FieldDetails], root: bool) -> _FieldPlan:
        self.field_count += 1
        nodes = [d.node for d in details]
        name = nodes[0].name.value
        if name == "__typename":
            plan = _FieldPlan(key, parent, None, nodes)
            plan.mode = "typename"
            plan.complete = _leaf(self.schema.type_map["String"])  # type: ignore[arg-type]
            return plan
        if name.startswith("__"):
            raise _NotCompilable("introspection")
        field_def = parent.fields.get(name)
        if field_def is None:
            raise _NotCompilable(f"unknown field {name}")
        plan = _FieldPlan(key, parent, field_def, nodes)
        sfield = (field_def.extensions or {}).get("strawberry-definition")
        fast_resolver = (getattr(sfield, "metadata", None) or {}).get(FAST_KEY)
        if root:
            plan.mode = "generic"
        elif sfield is not None and _reads_attribute(field_def, sfield):
            plan.mode = "attr"
            python_name = sfield.python_name
            dr = self.default_resolver
            plan.getter = attrgetter(python_name) if dr is getattr else (lambda s: dr(s, python_name))
        elif isinstance(fast_resolver, FastResolver) and sfield is not None and _runs_bare(sfield):
            plan.mode = "fast"
            plan.fast = fast_resolver.resolve
            plan.prefetch = fast_resolver.prefetch
            for arg in sfield.arguments:
                gql_name = self.strawberry.config.name_converter.from_argument(arg)
                arg_type: GraphQLInputType = field_def.args[gql_name].type
                if not isinstance(get_named_type(arg_type), GraphQLScalarType) or _is_list_input(arg_type):
                    plan.mode = "generic"
                    break
                plan.kwarg_names[gql_name] = arg.python_name
        else:
            plan.mode = "generic"
        plan.complete, sub_paths = self.completer(field_def.type, details)
        plan.needs_paths = plan.mode == "generic" or sub_paths
        return plan

    def completer(self, type_: GraphQLOutputType, details: list[FieldDetails]) -> tuple[Column, bool]:
        """The column completer of ``type_`` and whether it needs response paths."""
        if isinstance(type_, GraphQLNonNull):
            inner, paths = self.completer(type_.of_type, details)
            return _non_null(inner), paths
        if isinstance(type_, GraphQLList):
            inner, paths = self.completer(type_.of_type, details)
            return _list(inner, paths), paths
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return _leaf(type_), False
        if isinstance(type_, GraphQLObjectType):
            if type_.is_type_of is not None and getattr(type_.is_type_of, "__module__", "") != (
                "strawberry.schema.schema_converter"
            ):
                raise _NotCompilable("custom is_type_of")
            collected = collect_subfields(self.schema, self.fragments, self.variables, self.operation,
                                          type_, details)
            plan = self.selection(type_, collected.grouped_field_set)
            return _object(plan), plan.needs_paths
        raise _NotCompilable(f"abstract type {type_}")


def _runs_bare(sfield: StrawberryField) -> bool:
    """True when the field declares nothing that wraps its resolver (extensions, permissions)."""
    return not sfield.extensions and not sfield.permission_classes


def _reads_attribute(field_def: GraphQLField, sfield: StrawberryField) -> bool:
    """True when strawberry resolves the field by reading an attribute and nothing else.

    strawberry marks every resolver-less field ``_is_default``, even one whose resolver
    runs permission classes or field extensions; only a basic field gets the bare
    attribute read (``_get_basic_result``), so that is what is checked.
    """
    resolve = field_def.resolve
    return (
        getattr(resolve, "_is_default", False) is True
        and getattr(resolve, "__name__", None) == "_get_basic_result"
        and sfield.base_resolver is None
        and _runs_bare(sfield)
    )


def _is_list_input(type_: GraphQLInputType) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _has_directives(node: Any) -> bool:
    if getattr(node, "directives", None):
        return True
    selection_set: SelectionSetNode | None = getattr(node, "selection_set", None)
    return bool(selection_set and any(_has_directives(s) for s in selection_set.selections))


@dataclass
class _Plan:
    document: DocumentNode
    root: _ObjectPlan
    cost: int  # estimated bytes it keeps alive
    needs_loop: bool = False  # a root resolver awaits: never answered by try_plan


def compile_plan(schema: Any, query: str, operation_name: str | None,
                 max_tokens: int | None = None) -> _Plan | None:
    """A plan for the query operation of ``query`` or None when it is not compilable."""
    try:
        # Without locations: a plan never reports errors, and its AST is a third the size.
        document = parse(query, no_location=True, max_tokens=max_tokens)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            if len(operations) != 1:
                return None
            operation = operations[0]
        else:
            named = [o for o in operations if o.name is not None and o.name.value == operation_name]
            if len(named) != 1:
                return None
            operation = named[0]
        if operation.operation is not OperationType.QUERY:
            return None
        if any(_has_directives(d) for d in document.definitions):
            return None
        if any(getattr(d, "variable_definitions", None) and isinstance(d, FragmentDefinitionNode)
               for d in document.definitions):
            return None
        compiler = _Compiler(schema, document, operation)
        root = compiler.root()
        tokens = getattr(document, "token_count", None)
        cost = (_PLAN_BYTES + _PLAN_BYTES_PER_FIELD * compiler.field_count
                + _PLAN_BYTES_PER_TOKEN * (tokens if isinstance(tokens, int) else len(query)))
        return _Plan(document, root, cost)
    except (_NotCompilable, GraphQLError):
        return None
    except Exception:  # a document we did not foresee: normal execution serves it
        log.warning("could not compile a plan; the document runs normally", exc_info=True)
        return None


# --- the per-schema cache and the entry point ------------------------------------------------

_NOT_COMPILABLE = object()
_NOT_COMPILABLE_COST = 128  # the key and the entry


def _extension_class(extension: Any) -> Any:
    """The class a schema extension entry builds (a class, a partial of one, or an instance)."""
    if isinstance(extension, type):
        return extension
    if isinstance(extension, partial):
        return _extension_class(extension.func)
    return type(extension)


class _SchemaPlans:
    def __init__(self, schema: Any) -> None:
        classes = {_extension_class(e) for e in schema.extensions}
        self.enabled = classes <= SAFE_EXTENSIONS and not schema.directives and not getattr(
            schema.config, "enable_experimental_incremental_execution", False)
        store = getattr(schema, "documents", None)
        self.max_tokens: int | None = getattr(store, "max_tokens", None)
        self.max_bytes: int | None = getattr(store, "max_bytes", None)
        self.plans: BoundedCache[bytes, Any] = BoundedCache(
            "compiled plans", max_entries=MAX_PLANS, max_bytes=MAX_PLAN_BYTES)
        self.stats = {"fast": 0, "normal": 0, "bail": 0, "compiled": 0, "not_compilable": 0}


_by_schema: weakref.WeakKeyDictionary[Any, _SchemaPlans] = weakref.WeakKeyDictionary()
_by_schema_lock = threading.Lock()


def _plans_of(schema: Any) -> _SchemaPlans:
    found = _by_schema.get(schema)
    if found is None:
        with _by_schema_lock:
            found = _by_schema.get(schema)
            if found is None:
                found = _by_schema[schema] = _SchemaPlans(schema)
    return found


def plan_stats(schema: Any) -> dict[str, int]:
    """Counters of the schema's fast path (fast, normal, bail, compiled, not_compilable)."""
    return dict(_plans_of(schema).stats)


def plan_cache_stats(schema: Any) -> CacheStats:
    """What the schema's plan cache holds (entries, estimated bytes) and its bounds."""
    return _plans_of(schema).plans.stats()


def _plan_key(query: str, operation_name: str | None, role: str | None) -> bytes:
    """SHA-256 of (role, operation name, document): plans never keep the client's text as a key."""
    h = hashlib.sha256()
    for part in (role, operation_name):
        h.update(b"\x00" if part is None else b"\x01" + part.encode("utf-8", "surrogatepass") + b"\x00")
    h.update(query.encode("utf-8", "surrogatepass"))
    return h.digest()


def _role_of(context: Any) -> str | None:
    principal = getattr(context, "principal", None)
    role = getattr(principal, "role", None)
    return None if role is None else str(getattr(role, "value", role))


def _start(schema: Any, plan: _Plan, query_variables: dict[str, Any] | None, context: Any,
           operation_name: str | None, operation_extensions: dict[str, Any] | None) -> _Run:
    executor = schema.execution_context_class.build(
        schema._schema, plan.document, None, context, query_variables, operation_name,
        is_awaitable=optimized_is_awaitable, operation_extensions=operation_extensions,
    )
    if isinstance(executor, list):
        raise _Bail("variables")
    return _Run(executor, context)


def _resolve_root(f: _FieldPlan, root: GraphQLObjectType, run: _Run) -> tuple[Any, Path]:
    path = Path(None, f.key, root.name)
    if f.mode == "typename":
        return root.name, path
    assert f.field_def is not None and f.field_def.resolve is not None
    info = run.executor.build_resolve_info(f.field_def, f.nodes, root, path)
    return f.field_def.resolve(None, info, **f.arguments(run)), path


def _complete_root(f: _FieldPlan, value: Any, path: Path, run: _Run) -> Any:
    return f.complete([value], [path] if f.needs_paths else None, run)[0]


async def _run_plan(schema: Any, plan: _Plan, query_variables: dict[str, Any] | None, context: Any,
                    operation_name: str | None, operation_extensions: dict[str, Any] | None) -> dict[str, Any]:
    run = _start(schema, plan, query_variables, context, operation_name, operation_extensions)
    data: dict[str, Any] = {}
    for f in plan.root.fields:
        value, path = _resolve_root(f, plan.root.type, run)
        if optimized_is_awaitable(value):
            value = await value
        data[f.key] = _complete_root(f, value, path, run)
    return data


def _run_plan_now(schema: Any, plan: _Plan, query_variables: dict[str, Any] | None, context: Any,
                  operation_name: str | None, operation_extensions: dict[str, Any] | None) -> dict[str, Any]:
    """:func:`_run_plan` without a loop: raises ``_NeedsLoop`` when a root resolver awaits."""
    run = _start(schema, plan, query_variables, context, operation_name, operation_extensions)
    data: dict[str, Any] = {}
    for f in plan.root.fields:
        value, path = _resolve_root(f, plan.root.type, run)
        if optimized_is_awaitable(value):
            _close([value])
            raise _NeedsLoop
        data[f.key] = _complete_root(f, value, path, run)
    return data


def _plan_key_for(plans: _SchemaPlans, query: Any, context_value: Any, operation_name: str | None,
                  allowed_operation_types: frozenset[StrawberryOperationType] | None) -> bytes | None:
    """The plan cache key of a request a plan may answer, or None (it always runs normally)."""
    if not plans.enabled or not isinstance(query, str) or (
        allowed_operation_types is not None and StrawberryOperationType.QUERY not in allowed_operation_types
    ) or (plans.max_bytes is not None and document_too_large(query, plans.max_bytes)):
        return None
    return _plan_key(query, operation_name, _role_of(context_value))


def _gave_up(plans: _SchemaPlans, key: bytes, exc: Exception) -> None:
    if isinstance(exc, _Disable):
        plans.plans.put(key, _NOT_COMPILABLE, cost=_NOT_COMPILABLE_COST)
    plans.stats["bail"] += 1


def _answered(plans: _SchemaPlans, data: dict[str, Any]) -> StrawberryExecutionResult:
    plans.stats["fast"] += 1
    return StrawberryExecutionResult(data=data, errors=None, extensions={})


def _by_plan_now(schema: Any, plans: _SchemaPlans, key: bytes, plan: _Plan, *args: Any) -> StrawberryExecutionResult | None:
    try:
        data = _run_plan_now(schema, plan, *args)
    except _NeedsLoop:
        plan.needs_loop = True
        return None
    except Exception as exc:  # any error: normal execution reports it exactly as always
        _gave_up(plans, key, exc)
        return None
    return _answered(plans, data)


def try_plan(
    schema: Any,
    query: str,
    *,
    variable_values: dict[str, Any] | None = None,
    context_value: Any = None,
    operation_name: str | None = None,
    allowed_operation_types: Iterable[StrawberryOperationType] | None = None,
    operation_extensions: dict[str, Any] | None = None,
) -> StrawberryExecutionResult | None:
    """The result by a compiled plan, computed now without an event loop, or None.

    None when there is no plan, the plan gave up, or a root resolver awaits: then run
    ``execute(..., plan_tried=True)``, which serves the request without trying again.
    """
    plans = _plans_of(schema)
    allowed = None if allowed_operation_types is None else frozenset(allowed_operation_types)
    key = _plan_key_for(plans, query, context_value, operation_name, allowed)
    plan = None if key is None else plans.plans.get(key)
    if key is None or not isinstance(plan, _Plan) or plan.needs_loop:
        return None
    return _by_plan_now(schema, plans, key, plan, variable_values, context_value, operation_name,
                        operation_extensions)


async def execute(
    schema: Any,
    query: str,
    *,
    variable_values: dict[str, Any] | None = None,
    context_value: Any = None,
    operation_name: str | None = None,
    allowed_operation_types: Iterable[StrawberryOperationType] | None = None,
    operation_extensions: dict[str, Any] | None = None,
    plan_tried: bool = False,
) -> StrawberryExecutionResult:
    """Execute like ``schema.execute`` (same arguments), by a compiled plan when there is one.

    ``plan_tried``: :func:`try_plan` already had its go at this request.
    """
    plans = _plans_of(schema)

    async def normal() -> StrawberryExecutionResult:
        result: StrawberryExecutionResult = await schema.execute(
            query, variable_values=variable_values, context_value=context_value,
            operation_name=operation_name, allowed_operation_types=allowed_operation_types,
            operation_extensions=operation_extensions,
        )
        return result

    if allowed_operation_types is not None:
        allowed_operation_types = frozenset(allowed_operation_types)
    key = _plan_key_for(plans, query, context_value, operation_name, allowed_operation_types)
    if key is None:
        return await normal()
    plan = plans.plans.get(key)
    if isinstance(plan, _Plan):
        args = (variable_values, context_value, operation_name, operation_extensions)
        if not plan.needs_loop and not plan_tried:
            answered = _by_plan_now(schema, plans, key, plan, *args)
            if answered is not None:
                return answered
        if plan.needs_loop:
            try:
                data = await _run_plan(schema, plan, *args)
            except Exception as exc:  # any error: normal execution reports it exactly as always
                _gave_up(plans, key, exc)
            else:
                return _answered(plans, data)
    result = await normal()
    plans.stats["normal"] += 1
    if plan is None and all(e.path for e in result.errors or ()):
        # It parsed and validated for this role: compile once.
        compiled = compile_plan(schema, query, operation_name, plans.max_tokens)
        if compiled is not None:
            plans.plans.put(key, compiled, cost=compiled.cost)
        else:
            plans.plans.put(key, _NOT_COMPILABLE, cost=_NOT_COMPILABLE_COST)
        plans.stats["compiled" if compiled is not None else "not_compilable"] += 1
    return result
