"""One layout for every domain: loaders, imports, row scoping and role sets each in their one place.

- one DataLoader per relation across the schema, judged by the SQL each loader sends;
- a domain reads another domain through its service or loaders, never its models;
- imports point down the floors (opsure -> schema -> resolvers -> partners -> ledger -> core);
- role sets are defined in ``core/roles.py`` only;
- ``node(id:)`` answers from the registry the domain packages fill.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

import schema
from core import roles
from core.auth import STAFF_ROLES, Principal, Role
from core.db import transaction
from core.errors import NotFoundError
from schema.context import Context
from schema.loaders import BatchLoader
from schema.node import node_registry, resolve_node
from schema.relay import encode_global_id
from tests.factories import make_customer, make_policy, make_product

ROOT = Path(__file__).resolve().parents[2]
FLOORS = ("opsure", "schema", "resolvers", "partners", "ledger", "core")
ROLE_NAMES = frozenset(r.value for r in Role)
#: Which domain each schema package is the contract of (for the models rule).
SCHEMA_DOMAINS = {"policies": "resolvers.policies", "claims": "resolvers.claims", "partners": "partners",
                  "ledger": "ledger", "audit": "core.audit", "investigations": "resolvers.investigations",
                  "knowledge": "resolvers.knowledge", "payments": "resolvers.payments", "advances": "resolvers.advances",
                  "analytics": "resolvers.analytics", "service": "resolvers.service"}
#: Imports of another domain's models that are allowed, each with the reason.
ALLOWED_MODEL_IMPORTS: dict[tuple[str, str], str] = {
    ("partners.ledger_seam", "ledger.models"):
        "the documented seam over ledger facts ledger.service does not expose yet (deployment, record "
        "status, commitments); each read becomes a ledger.service call when it does",
}


def _modules(*tops: str) -> Iterator[tuple[str, ast.Module]]:
    for top in tops:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
            yield name, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every imported module name (``from x import y`` also yields ``x.y``: y may be a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _domain(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "resolvers" and len(parts) > 1:
        return ".".join(parts[:2])
    if parts[0] == "schema" and len(parts) > 1 and parts[1] in SCHEMA_DOMAINS:
        return SCHEMA_DOMAINS[parts[1]]
    return parts[0]


# --- loaders -------------------------------------------------------------------------------------


def _loader_classes() -> list[type[BatchLoader[Any, Any]]]:
    for info in pkgutil.walk_packages(schema.__path__, "schema."):
        importlib.import_module(info.name)
    found: list[type[BatchLoader[Any, Any]]] = []
    stack: list[type[Any]] = [BatchLoader]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("schema."):
                found.append(sub)
    return sorted(found, key=lambda c: c.__qualname__)


_IN = re.compile(r"\bWHERE\s+\"?(\w+)\"?\.\"?(\w+)\"?\s+IN\s*\(", re.IGNORECASE)


def test_one_dataloader_per_relation_across_the_schema(session_factory: Any, engine: Engine,
                                                       settings: Any) -> None:
    """Two loaders load the same relation when their first query filters the same table column with IN."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    loaders = _loader_classes()
    assert len(loaders) >= 15, [c.__name__ for c in loaders]
    relation_of: dict[tuple[str, str], list[str]] = {}
    event.listen(engine, "before_cursor_execute", record)
    try:
        for cls in loaders:
            ctx = Context(principal=Principal(subject="layout", role=Role.ADMIN), session_factory=session_factory,
                          settings=settings)
            seen.clear()
            try:
                cls(ctx).fetch([getattr(cls, "sample_key", 1)])  # keyed by more than an id: its own sample
            finally:
                ctx.close()
            relations = [m.groups() for m in map(_IN.search, seen) if m]
            assert relations, f"{cls.__name__} sent no 'WHERE table.column IN (...)' query: {seen}"
            relation_of.setdefault((relations[0][0].lower(), relations[0][1].lower()), []).append(
                f"{cls.__module__}.{cls.__qualname__}")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    twice = {rel: names for rel, names in relation_of.items() if len(names) > 1}
    assert not twice, f"one relation, several loaders: {twice}"


def test_loaders_are_named_thing_by_key() -> None:
    bad = [c.__name__ for c in _loader_classes() if not re.fullmatch(r"[A-Z]\w*By[A-Z]\w*Loader", c.__name__)]
    assert not bad, bad


# --- imports -------------------------------------------------------------------------------------


def test_no_domain_imports_another_domains_models() -> None:
    """A domain reads another domain through its service or loaders (``from x.service import Enum`` is fine)."""
    found = []
    for name, tree in _modules("resolvers", "partners", "ledger", "schema"):
        own = _domain(name)
        if own == "schema":
            continue  # shared schema infrastructure imports no models at all (checked below)
        for line, imported in _imports(tree):
            if not imported.endswith(".models"):
                continue
            if _domain(imported) != own and (name, imported) not in ALLOWED_MODEL_IMPORTS:
                found.append(f"{name}:{line} imports {imported}")
    assert not found, found


def test_shared_schema_modules_import_no_models() -> None:
    found = [f"{name}:{line} imports {imported}"
             for name, tree in _modules("schema") if _domain(name) == "schema"
             for line, imported in _imports(tree) if imported.endswith(".models")]
    assert not found, found


def test_every_allowed_model_import_still_exists() -> None:
    present = {(name, imported) for name, tree in _modules("partners") for _, imported in _imports(tree)}
    assert set(ALLOWED_MODEL_IMPORTS) <= present, "drop allowances no longer needed"


def test_imports_point_down_the_floors() -> None:
    """opsure -> schema -> resolvers -> partners -> ledger -> core; nothing imports a floor above its own."""
    found = []
    for name, tree in _modules(*FLOORS):
        floor = FLOORS.index(name.split(".")[0])
        for line, imported in _imports(tree):
            root = imported.split(".")[0]
            if root in FLOORS and FLOORS.index(root) < floor:
                found.append(f"{name}:{line} imports {imported}")
    assert not found, found


def test_core_roles_imports_only_the_role_enum() -> None:
    tree = ast.parse((ROOT / "core" / "roles.py").read_text(encoding="utf-8"))
    imported = {(node.module, a.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for a in node.names if node.module != "__future__"}
    assert imported == {("core.auth", "Role")}


# --- role sets -----------------------------------------------------------------------------------


def _is_role(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Role":
        return True
    return isinstance(node, ast.Constant) and node.value in ROLE_NAMES


def _over_roles(node: ast.AST) -> bool:
    """A comprehension iterating over ``Role`` (a tuple of roles is caught as a tuple)."""
    return isinstance(node, ast.SetComp | ast.GeneratorExp | ast.ListComp) and any(
        isinstance(g.iter, ast.Name) and g.iter.id == "Role" for g in node.generators)


def _role_set_definitions(tree: ast.Module) -> Iterator[ast.expr]:
    """Role sets written out in a module: literals, calls or unions of roles, sets built over Role."""
    named = set(roles.__all__)
    built = {id(arg) for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id in ("frozenset", "set") for arg in node.args}
    for node in ast.walk(tree):
        if not isinstance(node, ast.expr):
            continue
        literal = isinstance(node, ast.Set) and any(_is_role(e) for e in node.elts)
        sequence = isinstance(node, ast.Tuple | ast.List) and sum(_is_role(e) for e in node.elts) >= 2
        # frozenset((Role.A, Role.B)) is caught as a tuple; this is allow(Role.A, Role.B)
        call = isinstance(node, ast.Call) and sum(_is_role(a) for a in node.args) >= 2
        union = isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr | ast.BitAnd | ast.Sub) and any(
            (isinstance(side, ast.Name) and side.id in named)
            or (isinstance(side, ast.Set) and any(_is_role(e) for e in side.elts))
            for side in (node.left, node.right))
        comprehension = _over_roles(node) and (isinstance(node, ast.SetComp) or id(node) in built)
        if literal or sequence or call or union or comprehension:
            yield node


def test_role_sets_are_defined_only_in_core_roles() -> None:
    found = [f"{name}:{node.lineno}: {ast.unparse(node)[:80]}"
             for name, tree in _modules("schema", "resolvers", "partners", "opsure")
             for node in _role_set_definitions(tree)]
    assert not found, "define the set once in core/roles.py (a comment: who and why), import it: " + str(found)


def test_the_role_set_check_sees_what_it_must() -> None:
    tree = ast.parse("A = frozenset({Role.AGENT.value})\nB = STAFF | {'customer'}\nC = allow(Role.QA, Role.ADMIN)\n"
                     "D = frozenset(r.value for r in Role)\nE = role in (Role.AGENT, Role.QA)\n"
                     "F = allow(Role.ADMIN)\nG = {'draft', 'paid'}\nH = click.Choice([r.value for r in Role])\n")
    assert sorted({n.lineno for n in _role_set_definitions(tree)}) == [1, 2, 3, 4, 5]


def test_every_named_role_set_has_a_comment_and_names_roles() -> None:
    lines = (ROOT / "core" / "roles.py").read_text(encoding="utf-8").splitlines()
    for name in roles.__all__:
        value = getattr(roles, name)
        assert value and value <= ROLE_NAMES, name
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}: frozenset[str] ="))
        assert lines[at - 1].startswith("#: "), f"{name} needs a comment saying who and why"


def test_staff_is_core_auth_staff_roles() -> None:
    assert {r.value for r in STAFF_ROLES} == roles.STAFF


# --- node registry -------------------------------------------------------------------------------


def test_a_node_type_registered_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        node_registry({"Policy": lambda ctx, pk: None}, {"Policy": lambda ctx, pk: None})


def test_node_answers_from_the_registry_and_null_when_absent_hidden_or_unregistered(
        session_factory: Any, settings: Any) -> None:
    with transaction(session_factory) as s:
        product = make_product(s)
        mine, other = make_customer(s), make_customer(s)
        policy = make_policy(s, customer=mine, product=product, today=dt.date(2026, 1, 1))
        ids = {"policy": policy.id, "mine": mine.id, "other": other.id, "product": product.id}
    from schema import policies

    def node_for(principal: Principal, type_name: str, pk: int) -> Any:
        ctx = Context(principal=principal, session_factory=session_factory, settings=settings)
        try:
            return resolve_node(policies.NODES, ctx, encode_global_id(type_name, pk))
        finally:
            ctx.close()

    customer = Principal(subject="c", role=Role.CUSTOMER, customer_id=ids["mine"])
    assert node_for(customer, "Policy", ids["policy"]).number == policy.number
    assert node_for(customer, "Customer", ids["mine"]).pk == ids["mine"]
    assert node_for(customer, "Customer", ids["other"]) is None  # not visible
    assert node_for(customer, "Product", ids["product"]).code == product.code
    assert node_for(customer, "Policy", 10**9) is None  # absent
    assert node_for(customer, "Claim", 1) is None  # not registered by any domain


def test_every_domain_package_registers_its_nodes_and_parts() -> None:
    for name in SCHEMA_DOMAINS:
        package = importlib.import_module(f"schema.{name}")
        assert isinstance(package.NODES, dict), name
        assert any(n.endswith("Query") for n in package.__all__), name


def test_node_fetchers_raise_domain_errors_for_hidden_rows() -> None:
    """The registry turns a fetcher's DomainError into null (a fetcher never returns a hidden row)."""

    def hidden(_ctx: Any, _pk: int) -> Any:
        raise NotFoundError("policy not found")

    assert resolve_node({"Policy": hidden}, None, encode_global_id("Policy", 1)) is None  # type: ignore[arg-type]
