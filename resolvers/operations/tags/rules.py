"""The tag rule language: JSON conditions over attributes, behaviour in time windows and other tags.

A condition is a JSON object with an ``op``:

* ``{"op": "all", "of": [c, ...]}``, ``{"op": "any", "of": [...]}``, ``{"op": "not", "of": c}``
* ``{"op": "tag", "tag": "vip"}`` — holds the tag (a rule or a manual one)
* ``{"op": "age", "min": 30, "max": 39}`` — age band in years (business year minus birth year)
* ``{"op": "city", "in": ["杭州"]}``, ``{"op": "gender", "in": ["female"]}``
* ``{"op": "holdsProduct", "in": ["MED-1"]}`` — holds a policy in force of one of the products
* ``{"op": "did", "event": "quote.viewed", "atLeast": 3, "withinDays": 30}`` — at least N times
  in the last D days (an instant ``t`` is in the window when ``now - D days < t <= now``)
* ``{"op": "never", "event": "purchase"}`` — never did it
* ``{"op": "firstTime", "event": "purchase", "withinDays": 7}`` — did it for the first time ever
  in the last D days
* ``{"op": "stopped", "event": "page.viewed", "withinDays": 90}`` — did it before, but not in the
  last D days

``parse`` checks a condition and returns every problem at once (path, code, message): unknown
ops and event names, bad windows and counts, unknown tags, a tag referencing itself or a cycle
through other tags. Segments and classes use the same language without behaviour atoms
(``behaviour=False``): they read tags, which carry behaviour.

``evaluate`` answers a condition for one customer's :class:`Facts` at an instant, and
``next_change`` the first later instant at which the answer could change with no new fact
(a window closing, a new year changing an age): the expiry job re-evaluates then.

Example::

    cond = parse({"op": "did", "event": "quote.viewed", "atLeast": 3, "withinDays": 30},
                 tags={"vip"}, self_key="browser")
    evaluate(cond, facts, now), next_change(cond, facts, now)
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.clock import business_zone
from resolvers.operations.behaviour import EVENT_SCHEMAS

__all__ = ["Age", "All", "Any_", "Cond", "Did", "Facts", "FirstTime", "HasTag", "HoldsProduct", "InSet", "Never",
           "Not", "RuleError", "RuleProblems", "Stopped", "evaluate", "event_names", "next_change", "parse",
           "tag_refs", "to_json"]

MAX_NODES = 64
MAX_DAYS = 3650
MAX_COUNT = 10_000
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class RuleError:
    """One problem of a condition: where (``rule.of[1].withinDays``), a code, a message."""

    path: str
    code: str
    message: str


class RuleProblems(Exception):
    """A condition that does not parse: every problem found."""

    def __init__(self, problems: list[RuleError]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class All:
    of: tuple[Cond, ...]


@dataclass(frozen=True)
class Any_:
    of: tuple[Cond, ...]


@dataclass(frozen=True)
class Not:
    of: Cond


@dataclass(frozen=True)
class HasTag:
    tag: str


@dataclass(frozen=True)
class Age:
    min: int
    max: int


@dataclass(frozen=True)
class InSet:
    attribute: str  # city | gender
    values: frozenset[str]


@dataclass(frozen=True)
class HoldsProduct:
    codes: frozenset[str]


@dataclass(frozen=True)
class Did:
    event: str
    at_least: int
    within_days: int


@dataclass(frozen=True)
class Never:
    event: str


@dataclass(frozen=True)
class FirstTime:
    event: str
    within_days: int


@dataclass(frozen=True)
class Stopped:
    event: str
    within_days: int


Cond = All | Any_ | Not | HasTag | Age | InSet | HoldsProduct | Did | Never | FirstTime | Stopped


@dataclass
class Facts:
    """What rules read about one customer: attributes, behaviour (instants per event name, sorted) and tags held."""

    birth_year: int | None = None
    city: str | None = None
    gender: str | None = None
    products: frozenset[str] = frozenset()
    events: Mapping[str, Sequence[dt.datetime]] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)


# --- parsing ------------------------------------------------------------------------------------

_BEHAVIOUR = {"did", "never", "firstTime", "stopped"}
_KEYS: dict[str, set[str]] = {
    "all": {"of"}, "any": {"of"}, "not": {"of"}, "tag": {"tag"}, "age": {"min", "max"}, "city": {"in"},
    "gender": {"in"}, "holdsProduct": {"in"}, "did": {"event", "atLeast", "withinDays"}, "never": {"event"},
    "firstTime": {"event", "withinDays"}, "stopped": {"event", "withinDays"},
}


def parse(raw: Any, *, tags: Collection[str], self_key: str | None = None, behaviour: bool = True,
          depends: Callable[[str], Collection[str]] | None = None, path: str = "rule") -> Cond:
    """The condition of ``raw``, or RuleProblems naming every problem.

    ``tags``: the keys of existing tags; ``self_key``: the tag this rule defines (a reference to it,
    or to a tag whose rule reaches it through ``depends``, is a cycle).
    """
    problems: list[RuleError] = []
    count = [0]
    cond = _parse(raw, path, problems, count, tags, behaviour)
    if count[0] > MAX_NODES:
        problems.append(RuleError(path, "RULE_TOO_LARGE", f"at most {MAX_NODES} conditions"))
    if cond is not None and self_key is not None:
        for ref in sorted(tag_refs(cond)):
            if ref == self_key:
                problems.append(RuleError(path, "SELF_REFERENCE", f"the rule of {self_key!r} refers to itself"))
            elif depends is not None and _reaches(ref, self_key, depends):
                problems.append(RuleError(path, "TAG_CYCLE", f"{ref!r} depends on {self_key!r}: a cycle"))
    if problems or cond is None:
        raise RuleProblems(problems or [RuleError(path, "BAD_RULE", "not a condition")])
    return cond


def _reaches(start: str, target: str, depends: Callable[[str], Collection[str]]) -> bool:
    seen: set[str] = set()
    todo = [start]
    while todo:
        key = todo.pop()
        if key == target:
            return True
        if key in seen:
            continue
        seen.add(key)
        todo.extend(depends(key))
    return False


def _parse(raw: Any, path: str, problems: list[RuleError], count: list[int], tags: Collection[str],
           behaviour: bool) -> Cond | None:
    count[0] += 1
    if count[0] > MAX_NODES:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("op"), str) or raw["op"] not in _KEYS:
        problems.append(RuleError(path, "BAD_RULE", f"a condition is an object whose op is one of {sorted(_KEYS)}"))
        return None
    op = raw["op"]
    extra = set(raw) - _KEYS[op] - {"op"}
    missing = _KEYS[op] - set(raw)
    if extra or missing:
        problems.append(RuleError(path, "BAD_RULE", f"{op} takes exactly {sorted(_KEYS[op])}"))
        return None
    if op in _BEHAVIOUR and not behaviour:
        problems.append(RuleError(path, "BEHAVIOUR_NOT_ALLOWED", "segments and classes read tags, not behaviour "
                                                                 "(define a tag for it)"))
        return None
    if op in ("all", "any"):
        items = raw["of"]
        if not isinstance(items, list) or not items:
            problems.append(RuleError(f"{path}.of", "BAD_RULE", f"{op} takes a non-empty list"))
            return None
        parts = [_parse(x, f"{path}.of[{i}]", problems, count, tags, behaviour) for i, x in enumerate(items)]
        if any(p is None for p in parts):
            return None
        return (All if op == "all" else Any_)(tuple(p for p in parts if p is not None))
    if op == "not":
        inner = _parse(raw["of"], f"{path}.of", problems, count, tags, behaviour)
        return Not(inner) if inner is not None else None
    if op == "tag":
        key = raw["tag"]
        if not isinstance(key, str) or key not in tags:
            problems.append(RuleError(f"{path}.tag", "UNKNOWN_TAG", f"no tag named {key!r}"))
            return None
        return HasTag(key)
    if op == "age":
        lo, hi = raw["min"], raw["max"]
        if not (_int(lo) and _int(hi) and 0 <= lo <= hi <= 150):
            problems.append(RuleError(path, "BAD_AGE_BAND", "min and max are whole years, 0 <= min <= max <= 150"))
            return None
        return Age(lo, hi)
    if op in ("city", "gender", "holdsProduct"):
        values = raw["in"]
        if not isinstance(values, list) or not values or len(values) > 100 or not all(
                isinstance(v, str) and 0 < len(v) <= 64 for v in values):
            problems.append(RuleError(f"{path}.in", "BAD_VALUES", "in is a list of 1 to 100 strings (1-64 characters)"))
            return None
        if op == "holdsProduct":
            return HoldsProduct(frozenset(values))
        return InSet(op, frozenset(values))
    event = raw["event"]
    ok = True
    if not isinstance(event, str) or event not in EVENT_SCHEMAS:
        problems.append(RuleError(f"{path}.event", "UNKNOWN_EVENT", f"no event named {event!r} is registered"))
        ok = False
    days = raw.get("withinDays", 1)
    if not (_int(days) and 1 <= days <= MAX_DAYS):
        problems.append(RuleError(f"{path}.withinDays", "BAD_WINDOW", f"withinDays is a whole number, 1 to {MAX_DAYS}"))
        ok = False
    n = raw.get("atLeast", 1)
    if not (_int(n) and 1 <= n <= MAX_COUNT):
        problems.append(RuleError(f"{path}.atLeast", "BAD_COUNT", f"atLeast is a whole number, 1 to {MAX_COUNT}"))
        ok = False
    if not ok:
        return None
    if op == "did":
        return Did(event, n, days)
    if op == "never":
        return Never(event)
    if op == "firstTime":
        return FirstTime(event, days)
    return Stopped(event, days)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def to_json(cond: Cond) -> dict[str, Any]:
    """The canonical JSON of a condition (what is stored)."""
    match cond:
        case All(of):
            return {"op": "all", "of": [to_json(c) for c in of]}
        case Any_(of):
            return {"op": "any", "of": [to_json(c) for c in of]}
        case Not(of):
            return {"op": "not", "of": to_json(of)}
        case HasTag(tag):
            return {"op": "tag", "tag": tag}
        case Age(lo, hi):
            return {"op": "age", "min": lo, "max": hi}
        case InSet(attribute, values):
            return {"op": attribute, "in": sorted(values)}
        case HoldsProduct(codes):
            return {"op": "holdsProduct", "in": sorted(codes)}
        case Did(event, n, days):
            return {"op": "did", "event": event, "atLeast": n, "withinDays": days}
        case Never(event):
            return {"op": "never", "event": event}
        case FirstTime(event, days):
            return {"op": "firstTime", "event": event, "withinDays": days}
        case Stopped(event, days):
            return {"op": "stopped", "event": event, "withinDays": days}
    raise AssertionError(cond)


def _children(cond: Cond) -> tuple[Cond, ...]:
    if isinstance(cond, All | Any_):
        return cond.of
    if isinstance(cond, Not):
        return (cond.of,)
    return ()


def _walk(cond: Cond) -> list[Cond]:
    out = [cond]
    for c in _children(cond):
        out.extend(_walk(c))
    return out


def tag_refs(cond: Cond) -> set[str]:
    """The tags a condition reads."""
    return {c.tag for c in _walk(cond) if isinstance(c, HasTag)}


def event_names(cond: Cond) -> set[str]:
    """The behaviour event names a condition reads."""
    return {c.event for c in _walk(cond) if isinstance(c, Did | Never | FirstTime | Stopped)}


def uses_age(cond: Cond) -> bool:
    """Whether a condition reads the age (which changes with the business year)."""
    return any(isinstance(c, Age) for c in _walk(cond))


# --- evaluation ---------------------------------------------------------------------------------

def _upto(times: Sequence[dt.datetime], now: dt.datetime) -> int:
    """How many of the sorted ``times`` are at or before ``now``."""
    return bisect_right(times, now)


def evaluate(cond: Cond, facts: Facts, now: dt.datetime) -> bool:
    """Whether ``facts`` meet ``cond`` at ``now`` (events after ``now`` do not count yet)."""
    match cond:
        case All(of):
            return all(evaluate(c, facts, now) for c in of)
        case Any_(of):
            return any(evaluate(c, facts, now) for c in of)
        case Not(of):
            return not evaluate(of, facts, now)
        case HasTag(tag):
            return tag in facts.tags
        case Age(lo, hi):
            return facts.birth_year is not None and lo <= _year(now) - facts.birth_year <= hi
        case InSet(attribute, values):
            return getattr(facts, attribute) in values
        case HoldsProduct(codes):
            return bool(codes & facts.products)
    times = facts.events.get(cond.event, ())
    n = _upto(times, now)
    match cond:
        case Did(_, at_least, days):
            return n >= at_least and times[n - at_least] > now - days * DAY
        case Never():
            return n == 0
        case FirstTime(_, days):
            return n > 0 and times[0] > now - days * DAY
        case Stopped(_, days):
            return n > 0 and times[n - 1] <= now - days * DAY
    raise AssertionError(cond)


def next_change(cond: Cond, facts: Facts, now: dt.datetime) -> dt.datetime | None:
    """The first instant after ``now`` at which an atom of ``cond`` may change with no new fact (None: never)."""
    found: list[dt.datetime] = []
    for atom in _walk(cond):
        if isinstance(atom, Age):
            found.append(_next_year(now))
            continue
        if not isinstance(atom, Did | Never | FirstTime | Stopped):
            continue
        times = facts.events.get(atom.event, ())
        n = _upto(times, now)
        if n < len(times):  # an event dated ahead of now (clock skew) counts from its instant
            found.append(times[n])
        match atom:
            case Did(_, at_least, days) if n >= at_least:
                found.append(times[n - at_least] + days * DAY)
            case FirstTime(_, days) if n > 0:
                found.append(times[0] + days * DAY)
            case Stopped(_, days) if n > 0:
                found.append(times[n - 1] + days * DAY)
    later = [t for t in found if t > now]
    return min(later) if later else None


def _year(at: dt.datetime) -> int:
    return at.astimezone(business_zone()).year


def _next_year(at: dt.datetime) -> dt.datetime:
    zone = business_zone()
    return dt.datetime(at.astimezone(zone).year + 1, 1, 1, tzinfo=zone).astimezone(dt.UTC)
