"""claim reason codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 18:00:00

Timelines and decisions keep a reason code and parameters instead of prose
(resolvers.claims.reasons renders them per role). Existing prose is mapped back to codes
where it has a known shape; anything else becomes OTHER with the prose kept as the
staff-only ``note`` parameter. Explanations of benefits keep codes (``claimCodes``)
instead of a written ``summary``; a summary that was a staff-typed rejection reason
becomes REJECTED_AFTER_REVIEW.

The patterns below are frozen copies of what the code wrote before this revision.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_NUM = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"


def _list(text: str) -> list[str]:
    return [] if text.strip() in ("", "none") else [p.strip() for p in text.split(",") if p.strip()]


def _payee(text: str) -> str:
    return "hospital" if text.startswith("hospital") else "customer"


def _adjudicated(m: re.Match[str]) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"actor": m["actor"], "outcome": m["outcome"], "payable": m["payable"]}
    if m["note"]:
        params["note"] = m["note"]
    return "ADJUDICATED", params


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, dict[str, Any]]]]
_RULES: list[_Rule] = [
    (re.compile(r"^reported via (?P<c>\w+)$"), lambda m: ("REPORTED", {"channel": m["c"]})),
    (re.compile(r"^overlaps claim (?P<n>\S+) \(same insured, hospital and dates\)$"),
     lambda m: ("POSSIBLE_DUPLICATE", {"duplicateOf": m["n"]})),
    (re.compile(r"^(?P<n>\d+) line items from (?P<s>\w+)$"),
     lambda m: ("LINE_ITEMS_ENTERED", {"count": int(m["n"]), "source": m["s"]})),
    (re.compile(r"^submitted by the claimant$"), lambda m: ("SUBMITTED", {})),
    (re.compile(rf"^risk (?P<l>\w+|\?) score (?P<s>{_NUM}|None); rules (?P<r>.*) \(version (?P<v>.*)\)$"),
     lambda m: ("RISK_ASSESSED", {k: v for k, v in {
         "level": None if m["l"] == "?" else m["l"], "score": None if m["s"] == "None" else float(m["s"]),
         "rules": _list(m["r"]), "rulesVersion": None if m["v"] == "None" else m["v"]}.items() if v is not None})),
    (re.compile(r"^high risk: (?P<r>.*)$"),
     lambda m: ("ROUTED_TO_INVESTIGATION", {"rules": _list(m["r"].replace("model score", "MODEL_SCORE"))})),
    (re.compile(r"^invoice missing$"), lambda m: ("ROUTED_TO_DOCUMENTS", {"kind": "invoice"})),
    (re.compile(r"^not fast-claim: (?P<w>.*)$"), lambda m: ("ROUTED_TO_REVIEW", {"note": m["w"]})),
    (re.compile(r"^fast-claim calculation gave (?P<s>\w+); a person decides$"),
     lambda m: ("ROUTED_TO_REVIEW", {"blockers": [f"CALCULATED_{m['s'].upper()}"]})),
    (re.compile(r"^fast-claim: low risk, "), lambda m: ("FAST_CLAIM_APPROVED", {})),
    (re.compile(r"^approved with nothing payable"), lambda m: ("NOTHING_PAYABLE", {})),
    (re.compile(rf"^adjudicated by (?P<actor>.+?): (?P<outcome>\w+), payable (?P<payable>{_NUM})(?: — (?P<note>.*))?$",
                re.S), _adjudicated),
    (re.compile(rf"^payment (?P<seq>\d+) of (?P<a>{_NUM}) to the (?P<p>.+?), key (?P<k>\S+)$"),
     lambda m: ("PAID", {"seq": int(m["seq"]), "amount": m["a"], "payee": _payee(m["p"]), "key": m["k"]})),
    (re.compile(rf"^hospital bill (?P<b>.+) verified \(EIP-712\), (?P<a>{_NUM})$"),
     lambda m: ("SIGNED_BILL_VERIFIED", {"billNumber": m["b"], "amount": m["a"]})),
    (re.compile(r"^(?P<k>\w+) uploaded \((?P<n>\d+) bytes\)$"),
     lambda m: ("DOCUMENT_UPLOADED", {"kind": m["k"], "size": int(m["n"])})),
    (re.compile(r"^(?P<k>\w+) due (?P<d>\d{4}-\d{2}-\d{2})$"),
     lambda m: ("DOCUMENT_REQUESTED", {"kind": m["k"], "dueOn": m["d"]})),
    (re.compile(r"^paper original of (?P<k>\w+) received (?P<d>\d{4}-\d{2}-\d{2})$"),
     lambda m: ("ORIGINAL_RECEIVED", {"kind": m["k"], "receivedOn": m["d"]})),
]

_BENEFIT_SENTENCES = {
    "The policy was not in force on the date of the event.": "POLICY_NOT_IN_FORCE",
    "The event happened during the policy's waiting period.": "WAITING_PERIOD",
    "The diagnosis is excluded from cover under this policy.": "EXCLUDED_CONDITION",
    "This kind of item is not covered by the product.": "NOT_COVERED",
    "The benefit limit for this kind of item is used up.": "SUBLIMIT_REACHED",
    "The policy's annual limit is used up.": "ANNUAL_LIMIT_REACHED",
    "Part of the amount counts towards your annual deductible.": "DEDUCTIBLE",
    "Your co-payment share is deducted.": "COPAY",
}


def reason_of(prose: str | None, *, kind: str | None = None, to_state: str | None = None) -> tuple[str, dict[str, Any]]:
    """The code and parameters old prose stands for; OTHER (or MOVED_BY_STAFF) keeps it as a staff note."""
    text = (prose or "").strip()
    for pattern, make in _RULES:
        m = pattern.match(text)
        if m:
            return make(m)
    if kind == "transition" and to_state:
        return "MOVED_BY_STAFF", {"to": to_state, **({"note": text} if text else {})}
    return "OTHER", ({"note": text} if text else {})


def eob_codes(eob: dict[str, Any]) -> dict[str, Any]:
    """An explanation of benefits with ``claimCodes`` instead of a written ``summary``."""
    if "summary" not in eob:
        return eob
    out = {k: v for k, v in eob.items() if k != "summary"}
    codes: list[str] = []
    for sentence in eob.get("summary") or []:
        code = _BENEFIT_SENTENCES.get(str(sentence))
        if code is not None:
            codes.append(code)  # a claim-level code; line-level ones ("ITEM: ...") are in lines[].codes
        elif ": " not in str(sentence) and not str(sentence).startswith("Your claim is covered in full") \
                and eob.get("outcome") == "rejected":
            codes.append("REJECTED_AFTER_REVIEW")  # a staff-typed rejection reason: no longer shown
    out["claimCodes"] = codes
    return out


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('claim_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('reason_params', sa.JSON(), nullable=True))
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_reason_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('decision_reason_params', sa.JSON(), nullable=True))

    event = sa.table('claim_event', sa.column('id', sa.BigInteger()), sa.column('kind', sa.String()),
                     sa.column('to_state', sa.String()), sa.column('reason', sa.Text()),
                     sa.column('reason_code', sa.String()), sa.column('reason_params', sa.JSON()))
    rows = bind.execute(sa.select(event.c.id, event.c.kind, event.c.to_state, event.c.reason)).all()
    for row in rows:
        code, params = reason_of(row.reason, kind=row.kind, to_state=row.to_state)
        bind.execute(event.update().where(event.c.id == row.id).values(reason_code=code, reason_params=params))

    claim = sa.table('claim', sa.column('id', sa.BigInteger()), sa.column('state', sa.String()),
                     sa.column('decision_reason', sa.Text()), sa.column('eob', sa.JSON()),
                     sa.column('decision_reason_code', sa.String()), sa.column('decision_reason_params', sa.JSON()))
    decided = bind.execute(sa.select(claim.c.id, claim.c.decision_reason, claim.c.eob).where(
        (claim.c.decision_reason.is_not(None)) | (claim.c.eob.is_not(None)))).all()
    for row in decided:
        values: dict[str, Any] = {}
        if row.decision_reason is not None:
            code, params = reason_of(row.decision_reason)
            if code == "OTHER":  # only transitionClaim wrote free text here: a staff rejection
                code, params = "MOVED_BY_STAFF", {"to": "rejected", **params}
            values.update(decision_reason_code=code, decision_reason_params=params)
        eob = _json(row.eob)
        if isinstance(eob, dict):
            values["eob"] = eob_codes(eob)
        if values:
            bind.execute(claim.update().where(claim.c.id == row.id).values(**values))

    with op.batch_alter_table('claim_event', schema=None) as batch_op:
        batch_op.alter_column('reason_code', existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column('reason_params', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('reason')
    # Not in batch mode: SQLite (3.35+) drops the column in place instead of copying the claim
    # table, which other tables reference.
    op.drop_column('claim', 'decision_reason')


def downgrade() -> None:
    bind = op.get_bind()
    op.add_column('claim', sa.Column('decision_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('claim_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
    event = sa.table('claim_event', sa.column('id', sa.BigInteger()), sa.column('reason', sa.Text()),
                     sa.column('reason_code', sa.String()), sa.column('reason_params', sa.JSON()))
    for row in bind.execute(sa.select(event.c.id, event.c.reason_code, event.c.reason_params)).all():
        text = f"{row.reason_code} {json.dumps(_json(row.reason_params) or {}, ensure_ascii=False)}"
        bind.execute(event.update().where(event.c.id == row.id).values(reason=text))
    claim = sa.table('claim', sa.column('id', sa.BigInteger()), sa.column('decision_reason', sa.Text()),
                     sa.column('decision_reason_code', sa.String()), sa.column('decision_reason_params', sa.JSON()))
    for row in bind.execute(sa.select(claim.c.id, claim.c.decision_reason_code, claim.c.decision_reason_params)
                            .where(claim.c.decision_reason_code.is_not(None))).all():
        text = f"{row.decision_reason_code} {json.dumps(_json(row.decision_reason_params) or {}, ensure_ascii=False)}"
        bind.execute(claim.update().where(claim.c.id == row.id).values(decision_reason=text))
    with op.batch_alter_table('claim_event', schema=None) as batch_op:
        batch_op.alter_column('reason', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('reason_params')
        batch_op.drop_column('reason_code')
    op.drop_column('claim', 'decision_reason_params')
    op.drop_column('claim', 'decision_reason_code')
