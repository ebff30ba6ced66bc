"""``Customer.riskProfile``: what adjusters and risk staff read about a person's risk.

The field sits on the policies domain's ``Customer`` type (declared there lazily) and is
answered here from the claims domain's profile (``resolvers.claims.risk.profile``).
"""

from __future__ import annotations

import datetime as dt

import strawberry

from core.roles import RISK_PROFILE_READERS
from partners import risk as shared_risk
from resolvers.claims.risk import profile
from resolvers.policies.underwriting import REFER_LEVELS
from schema.claims.enums import RiskLevel
from schema.context import Context
from schema.partners.types import RiskFlag
from schema.permissions import access
from schema.scalars import Money

__all__ = ["CustomerRiskProfile", "RiskProfileHint", "referral_flags_of", "risk_profile_of"]


@strawberry.type(description="What deserves attention in a customer's risk profile.")
@access(RISK_PROFILE_READERS)
class RiskProfileHint:
    code: str = strawberry.field(description="SHARED_FLAG_HIGH, SHARED_FLAG, VERY_FREQUENT_CLAIMANT, "
                                 "FREQUENT_CLAIMANT, HIGH_RISK_CLAIMS, REJECTED_BEFORE, DUPLICATES_SUSPECTED or "
                                 "ROBOT_WATCH_LIST.")
    level: RiskLevel = strawberry.field(description="How serious.")  # type: ignore[valid-type]
    message: str = strawberry.field(description="What it means, in English for staff.")


@strawberry.type(description="A customer's risk profile: claims history features (the last 365 days to today's "
                 "business date, drafts left out), the risk flags partner insurers shared on the person (looked up "
                 "by blinded id, each with its ledger proof) and hints. Adjusters and risk staff only.")
@access(RISK_PROFILE_READERS)
class CustomerRiskProfile:
    total_claims: int = strawberry.field(description="Claims ever submitted.")
    open_claims: int = strawberry.field(description="Claims not yet paid, closed or rejected.")
    claims_365: int = strawberry.field(description="Claims with an event in the last 365 days.")
    amount_365: Money = strawberry.field(description="Claimed over the last 365 days.")
    paid_365: Money = strawberry.field(description="Paid on the claims of the last 365 days.")
    rejected_365: int = strawberry.field(description="Claims of the last 365 days that were rejected.")
    duplicates_365: int = strawberry.field(description="Claims of the last 365 days suspected to duplicate another.")
    high_risk_365: int = strawberry.field(description="Claims of the last 365 days risk control rated HIGH.")
    last_event_on: dt.date | None = strawberry.field(description="Business date of the latest claim's event.")
    shared_flags: list[RiskFlag] = strawberry.field(description="Risk flags partner insurers shared on the person, "
                                                    "newest first (at most 100), each with its proof.")
    hints: list[RiskProfileHint] = strawberry.field(description="What deserves attention, most serious first.")

    @classmethod
    def of(cls, p: profile.CustomerRiskProfile) -> CustomerRiskProfile:
        from resolvers.claims.models import RiskLevel as Level

        return cls(total_claims=p.total_claims, open_claims=p.open_claims, claims_365=p.claims_365,
                   amount_365=p.amount_365, paid_365=p.paid_365, rejected_365=p.rejected_365,
                   duplicates_365=p.duplicates_365, high_risk_365=p.high_risk_365, last_event_on=p.last_event_on,
                   shared_flags=[RiskFlag.from_row(f) for f in p.shared_flags],
                   hints=[RiskProfileHint(code=h.code, level=Level(h.level), message=h.message) for h in p.hints])


def risk_profile_of(ctx: Context, customer_id: int) -> CustomerRiskProfile:
    """The profile of a customer the caller can see (the Customer field's body)."""
    return CustomerRiskProfile.of(profile.customer_risk_profile(
        ctx.session, customer_id=customer_id, today=ctx.today(),
        consortium=shared_risk.consortium_key(ctx.settings.keys_dir)))


def referral_flags_of(ctx: Context, customer_id: int, quoted_at: dt.datetime) -> list[RiskFlag]:
    """The shared flags at a referring level that were on the customer when a quote was made (Quote.referralFlags)."""
    flags = profile.shared_flags_of(ctx.session, customer_id=customer_id,
                                    consortium=shared_risk.consortium_key(ctx.settings.keys_dir))
    return [RiskFlag.from_row(f) for f in flags if f.level in REFER_LEVELS and f.published_at <= quoted_at]
