"""Input types of the claim-risk rule library's mutations."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

__all__ = ["DraftClaimRuleVersionInput", "PinClaimRuleVersionInput", "PublishClaimRuleVersionInput",
           "RollBackClaimRuleVersionInput", "TestClaimRuleVersionInput"]

_VERSION_ID = "The ClaimRuleVersion's global id."


@strawberry.input(description="A new version of the claim-risk decision table.")
class DraftClaimRuleVersionInput:
    label: str = strawberry.field(description="Its label: 1-40 letters, digits, '.', '_' or '-', unique (e.g. "
                                  "2026.07-1); claims record it as rulesVersion.")
    document: JSON = strawberry.field(description="The decision table: a zen-engine JDM document (GoRules format; "
                                      "start from a version's document), free-form by nature since the editor's "
                                      "layout travels with it. Checked whole: one inputNode, one decisionTableNode "
                                      "with hitPolicy collect, inputs reading the facts risk control provides "
                                      "(claim.amount, claim.itemCount, claim.duplicate, claim.diagnosis, "
                                      "claim.maxLineShare, claim.reportDelayDays, claim.weekendAdmission, "
                                      "policy.ageDays, history.claims365, history.sharedFlags), outputs code, score, "
                                      "level, message as constants, one outputNode; at most 500 rules, 256 KiB. "
                                      "Every problem is reported at once, each with its place.")
    description: str = strawberry.field(default="", description="What changes in this version (at most 500 "
                                        "characters).")
    based_on_id: strawberry.ID | None = strawberry.field(default=None, description="The version it was drafted "
                                                         "from (its global id), if any.")


@strawberry.input(description="Run a version over past claims.")
class TestClaimRuleVersionInput:
    version_id: strawberry.ID = strawberry.field(description=_VERSION_ID)
    last: int = strawberry.field(default=50, description="How many of the most recently submitted claims (1-200).")


@strawberry.input(description="Publish a draft.")
class PublishClaimRuleVersionInput:
    version_id: strawberry.ID = strawberry.field(description=_VERSION_ID)
    expected_version: int | None = strawberry.field(default=None, description="Refuse with STALE_VERSION unless the "
                                                    "draft is still at this version (as read).")


@strawberry.input(description="Pin a published version as live, or unpin.")
class PinClaimRuleVersionInput:
    version_id: strawberry.ID | None = strawberry.field(default=None, description="The published version to pin "
                                                        "(its global id); null unpins, so the newest published "
                                                        "version is live again.")


@strawberry.input(description="Withdraw the live version.")
class RollBackClaimRuleVersionInput:
    version_id: strawberry.ID = strawberry.field(description="The live version's global id (refused with NOT_LIVE "
                                                 "otherwise, so two rollbacks never withdraw two versions).")
    reason: str = strawberry.field(description="Why, in the manager's words (1-500 characters; staff read it).")
