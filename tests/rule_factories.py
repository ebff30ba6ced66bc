"""Rule-library factories: decision tables drafted from the built-in version, and claims to test them on."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.clock import business_today
from resolvers.claims import service
from resolvers.claims.models import Claim
from resolvers.claims.risk.rules import available_versions, builtin_document
from tests.claim_factories import ADJUSTER, add_invoice, make_claim_policy, report

BUILTIN = available_versions()[-1]


def table(document: dict[str, Any]) -> dict[str, Any]:
    """The decision table node's content of ``document``."""
    return next(n["content"] for n in document["nodes"] if n["type"] == "decisionTableNode")  # type: ignore[no-any-return]


def rule(code: str, *, level: str = "high", score: int | str = 40, **conditions: str) -> dict[str, Any]:
    """One row of the built-in table's shape: ``conditions`` by column id (amount, policyDays, ...)."""
    row: dict[str, Any] = {"_id": code.lower(), "_description": f"test rule {code}", "amount": "", "items": "",
                           "policyDays": "", "claims365": "", "dup": "", "dx": "", "maxShare": "",
                           "reportDelay": "", "sharedFlags": "", "weekend": "", "code": f"'{code}'",
                           "score": str(score), "level": f"'{level}'", "message": f"'test rule {code}'"}
    row.update(conditions)
    return row


def candidate(*rules: dict[str, Any], base: str = BUILTIN) -> dict[str, Any]:
    """The built-in table with ``rules`` appended (a new version's document)."""
    document = copy.deepcopy(builtin_document(base))
    document.pop("version", None)
    table(document)["rules"].extend(rules)
    return document


def submitted_claim(session: Session, *, amount: Decimal, days_ago: int = 6) -> Claim:
    """A claim with one invoice line of ``amount`` and its invoice, submitted now (risk control ran)."""
    today = business_today()
    policy = make_claim_policy(session)
    claim = report(session, policy, amount=amount, days_ago=days_ago,
                   items=[service.LineItemSpec("SURG-1", "inpatient", amount, 1)])
    add_invoice(session, claim)
    return service.submit_claim(session, principal=ADJUSTER, claim_id=claim.id, expected_version=None, today=today,
                                now=dt.datetime.now(dt.UTC))
