"""Customer tags: definitions, manual tags, incremental and full evaluation, history, classes.

A RULE tag holds for a customer when its rule (``rules.py``) holds on the customer's facts at
the evaluation instant; a MANUAL tag is added and removed by staff with a reason code. Every
gain and loss is a ``tag_history`` row and an ``operations.tag_members_changed`` event.

One function decides, :func:`evaluate_customers`: it loads the facts of some customers, answers
every active rule tag in dependency order (a rule may read other tags), writes the difference
and records when each customer must be looked at again with no new fact (``tag_state.recheck_at``:
the first window to close, the next business new year for age bands). Three paths call it:

* **incremental**: :func:`apply_new_events` reads the behaviour events stored since its cursor
  (identity-resolved), the anonymous ids bound to customers since another (their earlier events
  now count) and the customers created since a third; policy events reach it through the
  ``operations.tags`` consumer;
* **time passing**: :func:`expire` re-evaluates the customers whose ``recheck_at`` has come;
* **full rebuild**: :func:`rebuild` evaluates every customer.

Run at one instant after the same facts, the incremental paths and the rebuild agree (a
property test holds it). Defining or changing a rule tag evaluates every customer for it at once.

Example::

    define_tag(s, principal=p, key="browser", kind=TagKind.RULE, now=now,
               rule={"op": "did", "event": "quote.viewed", "atLeast": 3, "withinDays": 30})
    apply_new_events(s, now=now); expire(s, now=now)
    customer_tags(s, customer_id=7)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ConflictError, NotFoundError, ValidationError, collect_errors
from core.event_stream import Actor, Aggregate, append
from core.pagination import encode_cursor
from resolvers.operations.tags import reads, rules
from resolvers.operations.tags.events import ClassSchemeSet, TagDefined, publish_members
from resolvers.operations.tags.models import (
    ClassScheme,
    CustomerProduct,
    CustomerProfile,
    CustomerTag,
    Tag,
    TagCursor,
    TagHistory,
    TagState,
)
from resolvers.operations.tags.models import TagChange as TagChange
from resolvers.operations.tags.models import TagKind as TagKind

__all__ = [
    "TagRuleError",
    "add_manual_tag",
    "apply_new_events",
    "classify",
    "customer_tags",
    "define_tag",
    "evaluate_customers",
    "expire",
    "get_class_scheme",
    "get_tag",
    "history_query",
    "rebuild",
    "remove_manual_tag",
    "retire_tag",
    "rule_errors",
    "set_class_scheme",
    "tag_by_key",
    "tags_query",
]

KEY = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
REASON = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
BATCH = 1000
STREAM_ABOVE = 2000  # evaluating more customers than this reads every event once instead of each customer's
EVENTS_CURSOR = "behaviour_events"
CUSTOMERS_CURSOR = "customers"
IDENTITIES_CURSOR = "identities"
_JOB = Actor.system("operations.tags")


class TagRuleError(ValidationError):
    """A rule that does not parse: raised once per problem through ``collect_errors``."""


def rule_errors(problems: Iterable[rules.RuleError]) -> list[ValidationError]:
    """The rule language's problems as domain errors (field: the path, code: the problem's)."""
    return [ValidationError(p.message, field=p.path, code=p.code) for p in problems]


# --- definitions -------------------------------------------------------------------------------

def tags_query(*, kinds: Sequence[TagKind] = (), active_only: bool = True) -> Select[Any]:
    """Tags, filtered by kind, active ones unless ``active_only`` is false."""
    stmt = select(Tag)
    if kinds:
        stmt = stmt.where(Tag.kind.in_(kinds))
    if active_only:
        stmt = stmt.where(Tag.active.is_(True))
    return stmt


def get_tag(session: Session, *, tag_id: int) -> Tag:
    """The tag, or NOT_FOUND."""
    row = session.get(Tag, tag_id)
    if row is None:
        raise NotFoundError("no such tag", field="tagId")
    return row


def tag_by_key(session: Session, *, key: str) -> Tag | None:
    """The tag of this key, if any."""
    return session.scalar(select(Tag).where(Tag.key == key))


def _active_tags(session: Session) -> list[Tag]:
    return list(session.scalars(select(Tag).where(Tag.active.is_(True)).order_by(Tag.id)))


def _parse_rule(session: Session, raw: Any, *, self_key: str | None) -> rules.Cond:
    tags = {t.key: t for t in _active_tags(session)}

    def depends(key: str) -> set[str]:
        t = tags.get(key)
        if t is None or t.rule is None:
            return set()
        try:
            return rules.tag_refs(rules.parse(t.rule, tags=tags))
        except rules.RuleProblems:
            return set()

    try:
        return rules.parse(raw, tags=set(tags) | ({self_key} if self_key else set()), self_key=self_key,
                           depends=depends)
    except rules.RuleProblems as exc:
        with collect_errors() as errors:
            for e in rule_errors(exc.problems):
                errors.add(e)
            errors.raise_if_any()
        raise  # unreachable: raise_if_any raised


def define_tag(session: Session, *, principal: Principal, key: str, kind: TagKind, now: dt.datetime,
               rule: Any = None, description: str = "") -> Tag:
    """A new tag; a rule tag is evaluated for every customer at once. Every input error at once."""
    cond: rules.Cond | None = None
    with collect_errors() as errors:
        if not KEY.match(key):
            errors.add(ValidationError("key is 2-64 of a-z, 0-9, - and _ starting with a letter", field="key",
                                       code="BAD_KEY"))
        elif tag_by_key(session, key=key) is not None:
            errors.add(ConflictError("a tag with this key exists", field="key", code="KEY_TAKEN"))
        if len(description) > 500:
            errors.add(ValidationError("description has at most 500 characters", field="description",
                                       code="INVALID"))
        if kind is TagKind.RULE and rule is None:
            errors.add(ValidationError("a rule tag needs a rule", field="rule", code="RULE_REQUIRED"))
        if kind is TagKind.MANUAL and rule is not None:
            errors.add(ValidationError("a manual tag has no rule", field="rule", code="RULE_NOT_ALLOWED"))
        if kind is TagKind.RULE and rule is not None:
            with errors.check():
                cond = _parse_rule(session, rule, self_key=key)
        errors.raise_if_any()
    row = Tag(key=key, kind=kind, description=description.strip(), rule=rules.to_json(cond) if cond else None,
              active=True, created_by=principal.subject)
    session.add(row)
    session.flush()
    append(session, TagDefined(tag_id=row.id, key=row.key, active=True), aggregate=Aggregate("Tag", row.id),
           actor=Actor.of(principal))
    if cond is not None:
        rebuild(session, now=now, cause=TagChange.REDEFINED, actor=Actor.of(principal), advance_cursors=False)
    return row


def retire_tag(session: Session, *, principal: Principal, tag_id: int, now: dt.datetime) -> Tag:
    """Retire a tag: every holder loses it; refused while another tag, a segment or a class reads it."""
    row = get_tag(session, tag_id=tag_id)
    if not row.active:
        return row
    users = [t.key for t in _active_tags(session) if t.id != row.id and t.rule is not None
             and row.key in rules.tag_refs(rules.parse(t.rule, tags=_all_keys(session)))]
    from resolvers.operations import segments  # segments read tags: a lazy import avoids the cycle

    users += segments.segments_reading(session, tag_key=row.key)
    users += [s.key for s in session.scalars(select(ClassScheme))
              if any(row.key in rules.tag_refs(rules.parse(r["when"], tags=_all_keys(session), behaviour=False))
                     for r in s.rules)]
    if users:
        raise ConflictError(f"{', '.join(sorted(users))} read this tag", field="tagId", code="TAG_IN_USE")
    holders = list(session.scalars(select(CustomerTag.customer_id).where(CustomerTag.tag_id == row.id)))
    _write(session, row.id, gained=[], lost=holders, now=now, cause=TagChange.REDEFINED, actor=Actor.of(principal))
    row.active = False
    session.flush()
    append(session, TagDefined(tag_id=row.id, key=row.key, active=False), aggregate=Aggregate("Tag", row.id,
                                                                                              row.version),
           actor=Actor.of(principal))
    return row


def _all_keys(session: Session) -> set[str]:
    return set(session.scalars(select(Tag.key)))


# --- manual tags -------------------------------------------------------------------------------

def _manual(session: Session, *, tag_id: int, customer_id: int, reason_code: str) -> Tag:
    row = get_tag(session, tag_id=tag_id)
    with collect_errors() as errors:
        if row.kind is not TagKind.MANUAL or not row.active:
            errors.add(ValidationError("only an active manual tag is added or removed by hand (rule tags follow "
                                       "their rule)", field="tagId", code="NOT_MANUAL"))
        if not REASON.match(reason_code):
            errors.add(ValidationError("reasonCode is 2-40 of A-Z, 0-9 and _ starting with a letter",
                                       field="reasonCode", code="BAD_REASON_CODE"))
        if not reads.attributes(session, [customer_id]):
            errors.add(NotFoundError("no such customer", field="customerId"))
        errors.raise_if_any()
    return row


def add_manual_tag(session: Session, *, principal: Principal, tag_id: int, customer_id: int, reason_code: str,
                   now: dt.datetime) -> bool:
    """Give a customer a manual tag (with a reason code); False when they held it already. Dependent rules follow."""
    row = _manual(session, tag_id=tag_id, customer_id=customer_id, reason_code=reason_code)
    held = session.scalar(select(CustomerTag.id).where(CustomerTag.tag_id == row.id,
                                                       CustomerTag.customer_id == customer_id))
    if held is not None:
        return False
    _write(session, row.id, gained=[customer_id], lost=[], now=now, cause=TagChange.MANUAL,
           actor=Actor.of(principal), reason_code=reason_code)
    evaluate_customers(session, [customer_id], now=now, cause=TagChange.RULE, actor=Actor.of(principal))
    return True


def remove_manual_tag(session: Session, *, principal: Principal, tag_id: int, customer_id: int, reason_code: str,
                      now: dt.datetime) -> bool:
    """Take a manual tag from a customer (with a reason code); False when they did not hold it."""
    row = _manual(session, tag_id=tag_id, customer_id=customer_id, reason_code=reason_code)
    held = session.scalar(select(CustomerTag.id).where(CustomerTag.tag_id == row.id,
                                                       CustomerTag.customer_id == customer_id))
    if held is None:
        return False
    _write(session, row.id, gained=[], lost=[customer_id], now=now, cause=TagChange.MANUAL,
           actor=Actor.of(principal), reason_code=reason_code)
    evaluate_customers(session, [customer_id], now=now, cause=TagChange.RULE, actor=Actor.of(principal))
    return True


# --- evaluation --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Compiled:
    tag: Tag
    cond: rules.Cond


def _compiled_rules(session: Session) -> list[_Compiled]:
    """Active rule tags in dependency order (a tag after every tag its rule reads)."""
    tags = _active_tags(session)
    keys = {t.key for t in tags}
    compiled = {t.key: _Compiled(t, rules.parse(t.rule, tags=keys)) for t in tags if t.kind is TagKind.RULE and t.rule}
    ordered: list[_Compiled] = []
    done: set[str] = set()

    def visit(key: str) -> None:
        if key in done or key not in compiled:
            return
        done.add(key)
        for ref in sorted(rules.tag_refs(compiled[key].cond)):
            visit(ref)
        ordered.append(compiled[key])

    for key in sorted(compiled):
        visit(key)
    return ordered


def evaluate_customers(session: Session, ids: Iterable[int], *, now: dt.datetime, cause: TagChange,
                       actor: Actor = _JOB, compiled: list[_Compiled] | None = None,
                       preloaded: dict[int, dict[str, list[dt.datetime]]] | None = None) -> int:
    """Evaluate every rule tag for these customers at ``now``; write gains, losses and recheck times. Returns changes."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    compiled = _compiled_rules(session) if compiled is None else compiled
    key_of = {t.id: t.key for t in _active_tags(session)}
    names = set().union(*(rules.event_names(c.cond) for c in compiled)) if compiled else set()
    if preloaded is None and len(wanted) > STREAM_ABOVE:  # many customers: one pass over the events beats a query each
        preloaded = reads.all_events(session, names)
    changes = 0
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        attrs = reads.attributes(session, chunk)
        events = preloaded if preloaded is not None else reads.events_of(session, list(attrs), names)
        held: dict[int, set[int]] = {}
        for cid, tid in session.execute(select(CustomerTag.customer_id, CustomerTag.tag_id)
                                        .where(CustomerTag.customer_id.in_(chunk))):
            held.setdefault(cid, set()).add(tid)
        gained: dict[int, list[int]] = {}
        lost: dict[int, list[int]] = {}
        states: list[dict[str, Any]] = []
        for cid in chunk:
            mine = held.get(cid, set())
            a = attrs.get(cid)
            if a is None:  # no such customer (any more): it keeps no rule tag
                for c in compiled:
                    if c.tag.id in mine:
                        lost.setdefault(c.tag.id, []).append(cid)
                continue
            facts = rules.Facts(birth_year=a.birth_year, city=a.city, gender=a.gender, products=a.products,
                                events=events.get(cid, {}),
                                tags={key_of[t] for t in mine if key_of.get(t)})
            recheck: dt.datetime | None = None
            for c in compiled:
                facts.tags.discard(c.tag.key)
                holds = rules.evaluate(c.cond, facts, now)
                if holds:
                    facts.tags.add(c.tag.key)
                if holds and c.tag.id not in mine:
                    gained.setdefault(c.tag.id, []).append(cid)
                elif not holds and c.tag.id in mine:
                    lost.setdefault(c.tag.id, []).append(cid)
                nxt = rules.next_change(c.cond, facts, now)
                if nxt is not None and (recheck is None or nxt < recheck):
                    recheck = nxt
            states.append({"customer_id": cid, "recheck_at": recheck, "evaluated_at": now})
        _save_profiles(session, attrs)
        _save_states(session, states)
        for tag_id in sorted(set(gained) | set(lost)):
            changes += _write(session, tag_id, gained=gained.get(tag_id, []), lost=lost.get(tag_id, []), now=now,
                              cause=cause, actor=actor)
    return changes


def _write(session: Session, tag_id: int, *, gained: list[int], lost: list[int], now: dt.datetime,
           cause: TagChange, actor: Actor, reason_code: str | None = None) -> int:
    """Apply one tag's gains and losses: membership rows, history rows, one event per 1000 ids."""
    if not gained and not lost:
        return 0
    if lost:
        for i in range(0, len(lost), BATCH):
            session.execute(delete(CustomerTag).where(CustomerTag.tag_id == tag_id,
                                                      CustomerTag.customer_id.in_(lost[i:i + BATCH])))
    if gained:
        session.execute(insert(_table(CustomerTag)), [{"customer_id": c, "tag_id": tag_id, "since": now}
                                                         for c in gained])
    session.execute(insert(_table(TagHistory)), [
        {"customer_id": c, "tag_id": tag_id, "gained": g, "at": now, "cause": cause.value,
         "reason_code": reason_code, "actor": actor.subject[:200]}
        for g, ids in ((True, gained), (False, lost)) for c in ids])
    publish_members(session, tag_id=tag_id, cause=cause, gained=gained, lost=lost, actor=actor,
                    reason_code=reason_code)
    return len(gained) + len(lost)


def _table(model: Any) -> Table:
    """The Core table of a model: bulk inserts skip the ORM's bulk path."""
    return cast(Table, model.__table__)


def _save_profiles(session: Session, attrs: dict[int, reads.Attributes]) -> None:
    if not attrs:
        return
    ids = list(attrs)
    session.execute(delete(CustomerProfile).where(CustomerProfile.customer_id.in_(ids)))
    session.execute(delete(CustomerProduct).where(CustomerProduct.customer_id.in_(ids)))
    session.execute(insert(_table(CustomerProfile)), [
        {"customer_id": c, "birth_year": a.birth_year, "city": a.city, "gender": a.gender} for c, a in attrs.items()])
    products = [{"customer_id": c, "product_code": p} for c, a in attrs.items() for p in sorted(a.products)]
    if products:
        session.execute(insert(_table(CustomerProduct)), products)


def _save_states(session: Session, states: list[dict[str, Any]]) -> None:
    if not states:
        return
    session.execute(delete(TagState).where(TagState.customer_id.in_([s["customer_id"] for s in states])))
    session.execute(insert(_table(TagState)), states)


_CURSORS = (EVENTS_CURSOR, IDENTITIES_CURSOR, CUSTOMERS_CURSOR)


def _positions(session: Session) -> dict[str, int]:
    """The consumer's three positions (one query; missing ones start at 0)."""
    found = {n: int(p) for n, p in session.execute(select(TagCursor.name, TagCursor.position))}
    missing = [{"name": n, "position": 0} for n in _CURSORS if n not in found]
    if missing:
        session.execute(insert(_table(TagCursor)), missing)
    return {n: found.get(n, 0) for n in _CURSORS}


def _move(session: Session, old: dict[str, int], new: dict[str, int]) -> None:
    for name in _CURSORS:
        if new[name] != old[name]:
            session.execute(update(_table(TagCursor)).where(TagCursor.name == name).values(position=new[name]))


def apply_new_events(session: Session, *, now: dt.datetime, limit: int = 10_000) -> int:
    """Incremental step: evaluate the customers of behaviour events stored since the cursor, and new customers."""
    old = _positions(session)
    new = dict(old)
    touched, new[EVENTS_CURSOR] = reads.touched_after(session, old[EVENTS_CURSOR], limit=limit)
    identified, new[IDENTITIES_CURSOR] = reads.identified_after(session, old[IDENTITIES_CURSOR], limit=limit)
    touched |= identified
    after = encode_cursor(old[CUSTOMERS_CURSOR]) if old[CUSTOMERS_CURSOR] else None
    for ids, _ in reads.customer_ids(session, batch=BATCH, after=after):
        touched.update(ids)
        new[CUSTOMERS_CURSOR] = max(new[CUSTOMERS_CURSOR], max(ids))
    _move(session, old, new)
    return evaluate_customers(session, touched, now=now, cause=TagChange.RULE)


def expire(session: Session, *, now: dt.datetime) -> int:
    """Time passing: re-evaluate the customers whose recheck instant has come (windows closing, a new year)."""
    due = list(session.scalars(select(TagState.customer_id).where(TagState.recheck_at <= now)))
    return evaluate_customers(session, due, now=now, cause=TagChange.RULE)


def rebuild(session: Session, *, now: dt.datetime, cause: TagChange = TagChange.REBUILD, actor: Actor = _JOB,
            advance_cursors: bool = True) -> int:
    """Full rebuild: evaluate every customer at ``now`` (and drop rule tags of customers that are gone)."""
    old = _positions(session)
    new = dict(old)
    if advance_cursors:
        new[EVENTS_CURSOR] = reads.last_event_id(session)
        new[IDENTITIES_CURSOR] = reads.last_identity_id(session)
    compiled = _compiled_rules(session)
    names = set().union(*(rules.event_names(c.cond) for c in compiled)) if compiled else set()
    everything = reads.all_events(session, names)
    changes = 0
    seen: set[int] = set()
    last = 0
    for ids, _ in reads.customer_ids(session, batch=BATCH):
        seen.update(ids)
        last = max(last, *ids)
        changes += evaluate_customers(session, ids, now=now, cause=cause, actor=actor, compiled=compiled,
                                      preloaded=everything)
    gone = sorted(set(session.scalars(select(CustomerTag.customer_id).distinct())) - seen)
    changes += evaluate_customers(session, gone, now=now, cause=cause, actor=actor, compiled=compiled,
                                  preloaded=everything)
    if advance_cursors:
        new[CUSTOMERS_CURSOR] = max(new[CUSTOMERS_CURSOR], last)
        _move(session, old, new)
    return changes


# --- reading -----------------------------------------------------------------------------------

def customer_tags(session: Session, *, customer_id: int) -> list[tuple[Tag, dt.datetime]]:
    """The tags a customer holds now, with since when, by tag key."""
    stmt = (select(Tag, CustomerTag.since).join(CustomerTag, CustomerTag.tag_id == Tag.id)
            .where(CustomerTag.customer_id == customer_id, Tag.active.is_(True)).order_by(Tag.key))
    return [(t, since) for t, since in session.execute(stmt)]


def tags_of(session: Session, ids: Sequence[int]) -> dict[int, set[str]]:
    """The keys of the active tags each customer holds, one query."""
    out: dict[int, set[str]] = {i: set() for i in ids}
    stmt = (select(CustomerTag.customer_id, Tag.key).join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.customer_id.in_(list(ids)), Tag.active.is_(True)))
    for cid, key in session.execute(stmt):
        out[cid].add(key)
    return out


def history_query(*, customer_id: int | None = None, tag_id: int | None = None) -> Select[Any]:
    """Tag history rows (gains and losses), filtered by customer and tag."""
    stmt = select(TagHistory)
    if customer_id is not None:
        stmt = stmt.where(TagHistory.customer_id == customer_id)
    if tag_id is not None:
        stmt = stmt.where(TagHistory.tag_id == tag_id)
    return stmt


def members_count(session: Session, *, tag_id: int) -> int:
    """How many customers hold the tag now."""
    return int(session.scalar(select(func.count()).select_from(CustomerTag).where(CustomerTag.tag_id == tag_id)) or 0)


def membership(session: Session) -> set[tuple[int, int]]:
    """Every (customer id, tag id) held now (for checks and tests)."""
    return {(int(c), int(t)) for c, t in session.execute(select(CustomerTag.customer_id, CustomerTag.tag_id))}


# --- classes -----------------------------------------------------------------------------------

def get_class_scheme(session: Session, *, scheme_id: int) -> ClassScheme:
    """The scheme, or NOT_FOUND."""
    row = session.get(ClassScheme, scheme_id)
    if row is None:
        raise NotFoundError("no such class scheme", field="schemeId")
    return row


def class_schemes(session: Session) -> list[ClassScheme]:
    """Every classification scheme, by key."""
    return list(session.scalars(select(ClassScheme).order_by(ClassScheme.key)))


def set_class_scheme(session: Session, *, principal: Principal, key: str, classes: Sequence[tuple[str, Any]],
                     description: str = "") -> ClassScheme:
    """Create or replace a classification scheme: ordered (class, condition over tags and attributes), first match."""
    keys = _all_keys(session)
    parsed: list[dict[str, Any]] = []
    with collect_errors() as errors:
        if not KEY.match(key):
            errors.add(ValidationError("key is 2-64 of a-z, 0-9, - and _ starting with a letter", field="key",
                                       code="BAD_KEY"))
        if not classes or len(classes) > 20:
            errors.add(ValidationError("a scheme has 1 to 20 classes", field="classes", code="BAD_CLASSES"))
        names = [c for c, _ in classes]
        if len(set(names)) != len(names):
            errors.add(ValidationError("a class appears twice", field="classes", code="DUPLICATE_CLASS"))
        for i, (name, when) in enumerate(classes):
            if not KEY.match(name):
                errors.add(ValidationError("a class is 2-64 of a-z, 0-9, - and _", field=f"classes[{i}].class",
                                           code="BAD_KEY"))
            try:
                parsed.append({"class": name, "when": rules.to_json(rules.parse(
                    when, tags=keys, behaviour=False, path=f"classes[{i}].when"))})
            except rules.RuleProblems as exc:
                for e in rule_errors(exc.problems):
                    errors.add(e)
        errors.raise_if_any()
    row = session.scalar(select(ClassScheme).where(ClassScheme.key == key))
    if row is None:
        row = ClassScheme(key=key, description=description.strip(), rules=parsed, set_by=principal.subject)
        session.add(row)
    else:
        row.rules, row.description, row.set_by = parsed, description.strip(), principal.subject
    session.flush()
    append(session, ClassSchemeSet(scheme_id=row.id, key=row.key, classes=[r["class"] for r in parsed]),
           aggregate=Aggregate("ClassScheme", row.id, row.version), actor=Actor.of(principal))
    return row


def classify(session: Session, *, customer_ids: Sequence[int], now: dt.datetime) -> dict[int, dict[str, str | None]]:
    """Each customer's class in every scheme (None: no rule matched), from tags and attributes now."""
    schemes = list(session.scalars(select(ClassScheme).order_by(ClassScheme.key)))
    keys = _all_keys(session)
    compiled = [(s.key, [(r["class"], rules.parse(r["when"], tags=keys, behaviour=False)) for r in s.rules])
                for s in schemes]
    attrs = reads.attributes(session, customer_ids)
    held = tags_of(session, list(attrs))
    out: dict[int, dict[str, str | None]] = {}
    for cid in customer_ids:
        a = attrs.get(cid)
        if a is None:
            continue
        facts = rules.Facts(birth_year=a.birth_year, city=a.city, gender=a.gender, products=a.products,
                            tags=held.get(cid, set()))
        out[cid] = {key: next((name for name, cond in ordered if rules.evaluate(cond, facts, now)), None)
                    for key, ordered in compiled}
    return out


def reset_states(session: Session) -> None:
    """Forget recheck instants (tests and benchmarks start again from a rebuild)."""
    session.execute(update(TagState).values(recheck_at=None))
