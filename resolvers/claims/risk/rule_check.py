"""Check a drafted decision table before it is stored: every problem at once, each with its place.

A table must have the shape risk control evaluates: an input node, one decision table with
hit policy *collect* whose conditions read only the facts of ``rules.FACT_FIELDS``, whose
outputs are ``code``, ``score``, ``level`` and ``message``, and an output node. Each
condition cell must parse as a zen unary expression (empty: any value); each output cell
must be a constant: a code in upper snake case (unique in the table), an integer score,
a level 'low', 'medium' or 'high', a message. Finally zen-engine compiles the document and
runs it once over sample facts.

Example::

    with collect_errors() as errors:
        check_document(document, errors)   # ValidationError(field="document.nodes[1].content.rules[3].amount", ...)
"""

from __future__ import annotations

import json
import re
from typing import Any

import zen

from core.errors import ErrorCollector, ValidationError
from resolvers.claims.risk.rules import FACT_FIELDS, RuleLibrary

__all__ = ["MAX_DOCUMENT_BYTES", "MAX_RULES", "OUTPUTS", "check_document"]

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_RULES = 500
OUTPUTS = ("code", "score", "level", "message")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_LEVELS = ("low", "medium", "high")
_SAMPLE = {"claim": {"amount": 1000.0, "itemCount": 1, "duplicate": False, "diagnosis": "J18.9",
                     "maxLineShare": 1.0, "reportDelayDays": 3, "weekendAdmission": False},
           "policy": {"ageDays": 200}, "history": {"claims365": 0, "sharedFlags": 0}}


def _problem(errors: ErrorCollector, path: str, code: str, message: str) -> None:
    errors.add(ValidationError(message, field=f"document{path}", code=code))


def _zen_error(exc: Exception) -> str:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        return str(json.loads(first).get("source", first))
    except (ValueError, AttributeError):
        return first


def _table(document: Any, errors: ErrorCollector) -> tuple[int, dict[str, Any]] | None:
    if not isinstance(document, dict):
        _problem(errors, "", "BAD_DOCUMENT", "the decision table must be a JSON object (a JDM document)")
        return None
    nodes = document.get("nodes")
    if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
        _problem(errors, ".nodes", "BAD_DOCUMENT", "nodes must be a list of node objects")
        return None
    kinds = [n.get("type") for n in nodes]
    for kind in ("inputNode", "outputNode"):
        if kinds.count(kind) != 1:
            _problem(errors, ".nodes", "BAD_DOCUMENT", f"needs exactly one {kind} (has {kinds.count(kind)})")
    tables = [i for i, n in enumerate(nodes) if n.get("type") == "decisionTableNode"]
    if len(tables) != 1:
        _problem(errors, ".nodes", "BAD_DOCUMENT", f"needs exactly one decisionTableNode (has {len(tables)})")
        return None
    others = sorted({str(k) for k in kinds} - {"inputNode", "outputNode", "decisionTableNode"})
    if others:
        _problem(errors, ".nodes", "BAD_DOCUMENT", f"unsupported node types: {', '.join(others)}")
    ids = {str(n.get("type")): n.get("id") for n in nodes}
    edges = document.get("edges")
    pairs = {(e.get("sourceId"), e.get("targetId")) for e in edges if isinstance(e, dict)} if isinstance(
        edges, list) else set()
    for source, target in (("inputNode", "decisionTableNode"), ("decisionTableNode", "outputNode")):
        if (ids.get(source), ids.get(target)) not in pairs:
            _problem(errors, ".edges", "BAD_DOCUMENT", f"needs an edge from the {source} to the {target}")
    content = nodes[tables[0]].get("content")
    if not isinstance(content, dict):
        _problem(errors, f".nodes[{tables[0]}].content", "BAD_DOCUMENT", "the decision table has no content")
        return None
    return tables[0], content


def _columns(content: dict[str, Any], key: str, path: str, errors: ErrorCollector) -> list[dict[str, Any]]:
    cols = content.get(key)
    if not isinstance(cols, list) or not all(isinstance(c, dict) and c.get("id") for c in cols):
        _problem(errors, f"{path}.{key}", "BAD_DOCUMENT", f"{key} must be a list of columns, each with an id")
        return []
    return cols


def _check_output(errors: ErrorCollector, where: str, name: str, cell: Any, seen: dict[str, str]) -> None:
    if not isinstance(cell, str) or not cell.strip():
        _problem(errors, where, "BAD_OUTPUT", f"{name} must be given")
        return
    try:
        value = zen.evaluate_expression(cell, {})
    except RuntimeError as exc:
        _problem(errors, where, "BAD_EXPRESSION", f"{name} does not parse: {_zen_error(exc)}")
        return
    if name == "code":
        if not isinstance(value, str) or not _CODE.match(value):
            _problem(errors, where, "BAD_OUTPUT", "code must be a quoted UPPER_SNAKE_CASE string of 2-40 characters")
        elif value in seen:
            _problem(errors, where, "DUPLICATE_RULE_CODE", f"code {value} is also the code of document{seen[value]}")
        else:
            seen[value] = where
    elif name == "score" and (isinstance(value, bool) or not isinstance(value, int | float)
                              or value != int(value) or not 0 <= value <= 1000):
        _problem(errors, where, "BAD_OUTPUT", "score must be an integer from 0 to 1000")
    elif name == "level" and value not in _LEVELS:
        _problem(errors, where, "BAD_OUTPUT", "level must be 'low', 'medium' or 'high'")
    elif name == "message" and (not isinstance(value, str) or not value.strip() or len(value) > 200):
        _problem(errors, where, "BAD_OUTPUT", "message must be a quoted string of 1-200 characters")


def _check_rules(content: dict[str, Any], path: str, inputs: list[dict[str, Any]],
                 outputs: list[dict[str, Any]], errors: ErrorCollector) -> None:
    rules = content.get("rules")
    if not isinstance(rules, list) or not rules:
        _problem(errors, f"{path}.rules", "NO_RULES", "the table needs at least one rule")
        return
    if len(rules) > MAX_RULES:
        _problem(errors, f"{path}.rules", "TOO_LARGE", f"at most {MAX_RULES} rules (has {len(rules)})")
        return
    out_name = {str(c["id"]): str(c.get("field")) for c in outputs}
    seen: dict[str, str] = {}
    for r, rule in enumerate(rules):
        where = f"{path}.rules[{r}]"
        if not isinstance(rule, dict):
            _problem(errors, where, "BAD_DOCUMENT", "a rule must be an object")
            continue
        for col in inputs:
            cell = rule.get(str(col["id"]), "")
            if not isinstance(cell, str):
                _problem(errors, f"{where}.{col['id']}", "BAD_EXPRESSION", "a condition must be a string")
            elif cell.strip():
                try:
                    zen.compile_unary_expression(cell)
                except RuntimeError as exc:
                    _problem(errors, f"{where}.{col['id']}", "BAD_EXPRESSION",
                             f"condition {cell!r} does not parse: {_zen_error(exc)}")
        for col_id, name in out_name.items():
            _check_output(errors, f"{where}.{col_id}", name, rule.get(col_id), seen)


def check_document(document: Any, errors: ErrorCollector) -> None:
    """Add every problem of the decision table ``document`` to ``errors`` (none: it can be stored)."""
    if len(json.dumps(document, ensure_ascii=False).encode()) > MAX_DOCUMENT_BYTES:
        _problem(errors, "", "TOO_LARGE", f"the document exceeds {MAX_DOCUMENT_BYTES // 1024} KiB")
        return
    found = _table(document, errors)
    if found is None:
        return
    index, content = found
    path = f".nodes[{index}].content"
    if content.get("hitPolicy") != "collect":
        _problem(errors, f"{path}.hitPolicy", "BAD_HIT_POLICY", "hitPolicy must be 'collect': every matching rule "
                 "fires")
    inputs = _columns(content, "inputs", path, errors)
    outputs = _columns(content, "outputs", path, errors)
    for i, col in enumerate(inputs):
        if col.get("field") not in FACT_FIELDS:
            _problem(errors, f"{path}.inputs[{i}].field", "UNKNOWN_FACT",
                     f"{col.get('field')!r} is not a fact risk control provides ({', '.join(FACT_FIELDS)})")
    fields = [str(c.get("field")) for c in outputs]
    missing = [o for o in OUTPUTS if o not in fields]
    extra = [f for f in fields if f not in OUTPUTS]
    if missing or extra or len(fields) != len(set(fields)):
        _problem(errors, f"{path}.outputs", "BAD_OUTPUT", f"outputs must be exactly {', '.join(OUTPUTS)}")
    _check_rules(content, path, inputs, outputs, errors)
    if errors:
        return
    try:
        RuleLibrary({**document, "version": "check"}).evaluate(_SAMPLE)
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        _problem(errors, "", "BAD_DOCUMENT", f"zen-engine refuses the document: {_zen_error(exc)}")
