"""Fast-claim: small, low-risk, complete claims are adjudicated and paid without a human.

Eligibility (all must hold; thresholds from ``claims.fast.*`` in settings.extra):
enabled; risk level low; claimed amount at most ``max_amount``; structured line items
present (at most ``max_items``) and adding up to the claimed amount; an invoice uploaded
(unless the bill came signed by the hospital); no duplicate suspicion. The benefit
calculation must then approve in full (a partial approval or rejection goes to a human).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from resolvers.claims.models import Claim, ClaimChannel, RiskLevel

__all__ = ["FastClaimConfig", "ineligibility"]


@dataclass(frozen=True)
class FastClaimConfig:
    """Fast-claim thresholds."""

    enabled: bool = True
    max_amount: Decimal = Decimal("5000")
    max_items: int = 30

    @classmethod
    def from_extra(cls, extra: dict[str, str]) -> FastClaimConfig:
        """Read ``claims.fast.enabled``, ``claims.fast.max_amount``, ``claims.fast.max_items``."""
        d = cls()
        return cls(
            enabled=extra.get("claims.fast.enabled", "1").lower() not in ("0", "false", "no"),
            max_amount=Decimal(extra.get("claims.fast.max_amount", str(d.max_amount))),
            max_items=int(extra.get("claims.fast.max_items", d.max_items)),
        )


def ineligibility(claim: Claim, *, config: FastClaimConfig, item_count: int, items_total: Decimal,
                  has_invoice: bool) -> list[str]:
    """Codes of why ``claim`` may not take the fast path (empty: it may)."""
    why: list[str] = []
    if not config.enabled:
        why.append("FAST_CLAIM_OFF")
    if claim.risk_level is not RiskLevel.LOW:
        why.append("RISK_NOT_LOW")
    if claim.claimed_amount > config.max_amount:
        why.append("AMOUNT_OVER_LIMIT")
    if item_count == 0:
        why.append("NO_LINE_ITEMS")
    elif item_count > config.max_items:
        why.append("TOO_MANY_LINE_ITEMS")
    if items_total != claim.claimed_amount:
        why.append("ITEMS_DO_NOT_ADD_UP")
    if not has_invoice and claim.channel is not ClaimChannel.DIRECT_BILLING:
        why.append("NO_INVOICE")
    if claim.duplicate_of_id is not None:
        why.append("POSSIBLE_DUPLICATE")
    return why
