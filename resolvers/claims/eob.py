"""The explanation of benefits: what a decision paid per line and why, as typed data.

A decision stores it as JSON on the claim (``Claim.eob``: amounts as decimal strings,
benefit codes, never prose); :func:`read_eob` reads every stored form back, including
those written before a field existed (a missing amount reads as zero, a missing annual
limit as unknown). ``reasons.eob_summary`` words its codes per reader.

Example::

    eob = read_eob(claim.eob)
    eob.payable, [line.codes for line in eob.lines]
    # (Decimal('1170.45'), [[BenefitCode.DEDUCTIBLE, BenefitCode.COPAY]])
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from resolvers.claims.models import ClaimState

__all__ = ["BenefitCode", "EobLine", "ExplanationOfBenefits", "read_eob", "rejected_after_review"]

ZERO = Decimal("0.00")


class BenefitCode(enum.StrEnum):
    """Why a benefit decision paid less than claimed, on a line or on the whole claim."""

    POLICY_NOT_IN_FORCE = "POLICY_NOT_IN_FORCE"
    WAITING_PERIOD = "WAITING_PERIOD"
    EXCLUDED_CONDITION = "EXCLUDED_CONDITION"
    NOT_COVERED = "NOT_COVERED"
    SUBLIMIT_REACHED = "SUBLIMIT_REACHED"
    ANNUAL_LIMIT_REACHED = "ANNUAL_LIMIT_REACHED"
    DEDUCTIBLE = "DEDUCTIBLE"
    COPAY = "COPAY"
    REJECTED_AFTER_REVIEW = "REJECTED_AFTER_REVIEW"


#: Codes that reject (part of) a line rather than reduce it by the insured's share.
REJECTING = frozenset({BenefitCode.POLICY_NOT_IN_FORCE, BenefitCode.WAITING_PERIOD, BenefitCode.EXCLUDED_CONDITION,
                       BenefitCode.NOT_COVERED, BenefitCode.SUBLIMIT_REACHED, BenefitCode.ANNUAL_LIMIT_REACHED})


@dataclass(frozen=True)
class EobLine:
    """The decision on one invoice line: claimed, covered, the insured's shares, payable, and why."""

    item_code: str
    category: str
    claimed: Decimal
    covered: Decimal = ZERO
    deductible: Decimal = ZERO
    copay: Decimal = ZERO
    payable: Decimal = ZERO
    codes: tuple[BenefitCode, ...] = ()


@dataclass(frozen=True)
class ExplanationOfBenefits:
    """A claim's benefit decision: totals, the policy year's annual limit, claim-level codes, lines."""

    outcome: ClaimState
    claimed: Decimal
    payable: Decimal
    deductible: Decimal = ZERO
    copay: Decimal = ZERO
    annual_limit: Decimal | None = None
    annual_limit_used: Decimal | None = None
    claim_codes: tuple[BenefitCode, ...] = ()
    lines: tuple[EobLine, ...] = field(default_factory=tuple)

    def stored(self) -> dict[str, Any]:
        """The JSON form kept on the claim (amounts as strings)."""
        out: dict[str, Any] = {
            "claimed": str(self.claimed), "payable": str(self.payable), "deductible": str(self.deductible),
            "copay": str(self.copay), "outcome": self.outcome.value,
            "lines": [
                {"itemCode": ln.item_code, "category": ln.category, "claimed": str(ln.claimed),
                 "covered": str(ln.covered), "deductible": str(ln.deductible), "copay": str(ln.copay),
                 "payable": str(ln.payable), "codes": [c.value for c in ln.codes]}
                for ln in self.lines
            ],
            "claimCodes": [c.value for c in self.claim_codes],
        }
        if self.annual_limit is not None and self.annual_limit_used is not None:
            out["annualLimit"] = str(self.annual_limit)
            out["annualLimitUsed"] = str(self.annual_limit_used)
        return out


def rejected_after_review(claimed: Decimal) -> ExplanationOfBenefits:
    """The explanation of a claim staff rejected after review (no line-by-line calculation)."""
    return ExplanationOfBenefits(outcome=ClaimState.REJECTED, claimed=claimed, payable=ZERO,
                                 claim_codes=(BenefitCode.REJECTED_AFTER_REVIEW,))


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else ZERO
    except InvalidOperation:
        return ZERO


def _codes(values: Any) -> tuple[BenefitCode, ...]:
    known = {c.value for c in BenefitCode}
    return tuple(BenefitCode(v) for v in values or () if v in known)


def _outcome(value: Any) -> ClaimState:
    try:
        return ClaimState(value)
    except ValueError:
        return ClaimState.REJECTED


def read_eob(stored: Mapping[str, Any]) -> ExplanationOfBenefits:
    """The typed explanation of a stored one (any stored form; unknown codes are dropped)."""
    lines: Sequence[Mapping[str, Any]] = stored.get("lines") or ()
    limit, used = stored.get("annualLimit"), stored.get("annualLimitUsed")
    return ExplanationOfBenefits(
        outcome=_outcome(stored.get("outcome")), claimed=_amount(stored.get("claimed")),
        payable=_amount(stored.get("payable")), deductible=_amount(stored.get("deductible")),
        copay=_amount(stored.get("copay")),
        annual_limit=_amount(limit) if limit is not None else None,
        annual_limit_used=_amount(used) if used is not None else None,
        claim_codes=_codes(stored.get("claimCodes")),
        lines=tuple(
            EobLine(item_code=str(ln.get("itemCode", "")), category=str(ln.get("category", "")),
                    claimed=_amount(ln.get("claimed")), covered=_amount(ln.get("covered")),
                    deductible=_amount(ln.get("deductible")), copay=_amount(ln.get("copay")),
                    payable=_amount(ln.get("payable")), codes=_codes(ln.get("codes")))
            for ln in lines
        ),
    )
