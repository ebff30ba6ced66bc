"""GraphQL types of customer tags, classes and segments (operations domain)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.roles import SEGMENT_EXPORTERS, TAG_READERS
from resolvers.operations import campaigns, segments
from resolvers.operations.tags import service as tags
from schema.context import Context
from schema.enums import described_enum
from schema.partners.arguments import gid
from schema.partners.paging import After, Before, First, Last
from schema.permissions import access, allow
from schema.relay import PAGING, Connection, Node, decode_global_id, encode_global_id, keyset_connection
from schema.scalars import Money, Rate

__all__ = ["Campaign", "CampaignMetrics", "CampaignOffer", "ClassScheme", "CustomerClass", "CustomerTagging", "HeldTag", "Segment", "SegmentMember", "Tag",
           "TagChangeCause", "TagHistoryEntry", "TagKindEnum"]

RULE_DOC = ("A recursive condition, free-form here and typed by the tag rule language (docs/API.md, 'Customer tags'): an object with an "
            "`op` (all, any, not, tag, age, city, gender, holdsProduct, did, never, firstTime, stopped).")

TagKindEnum = described_enum(tags.TagKind, name="TagKind", description="How a tag is held.", values={
    "RULE": "Computed from its rule (attributes, behaviour in time windows, other tags); never set by hand.",
    "MANUAL": "Added and removed by staff, with a reason code.",
})
TagChangeCause = described_enum(tags.TagChange, name="TagChangeCause", description="Why a customer gained or lost a tag.",
                                values={
    "RULE": "The rule's answer changed: new events, changed attributes, or a window closing as time passed.",
    "MANUAL": "Staff added or removed it (reasonCode says why).",
    "REBUILD": "A full rebuild found it otherwise (the incremental path had missed a fact).",
    "REDEFINED": "The tag was created, its rule changed, or it was retired.",
})


@strawberry.type(description="A customer tag: a rule tag computed from behaviour and attributes, or a manual one.")
@access(TAG_READERS)
class Tag(Node):
    key: str = strawberry.field(description="Its unique key (2-64 of a-z, 0-9, - and _).")
    kind: TagKindEnum = strawberry.field(description="RULE or MANUAL.")  # type: ignore[valid-type]
    description: str = strawberry.field(description="What it means (free text by operations staff).")
    rule: JSON | None = strawberry.field(description="A RULE tag's rule as stored (canonical). " + RULE_DOC)
    active: bool = strawberry.field(description="False once retired (nobody holds it).")
    version: int = strawberry.field(description="Optimistic-locking version.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Tag:
        return cls(id=gid("Tag", row.id), pk=row.id, key=row.key, kind=row.kind, description=row.description,
                   rule=row.rule, active=row.active, version=row.version)

    @strawberry.field(description="How many customers hold it now (one COUNT).")
    def members_count(self, info: Info[Context, Any]) -> int:
        return tags.members_count(info.context.session, tag_id=self.pk)


@strawberry.type(description="A tag a customer holds, and since when.")
@access(TAG_READERS)
class HeldTag:
    tag: Tag = strawberry.field(description="The tag.")
    since: dt.datetime = strawberry.field(description="When the customer gained it.")


@strawberry.type(description="A customer's class in one classification scheme.")
@access(TAG_READERS)
class CustomerClass:
    scheme: str = strawberry.field(description="The scheme's key (e.g. value_tier).")
    class_key: str | None = strawberry.field(description="The first class whose condition holds (null: none).")


@strawberry.type(description="One gain or loss of a tag by a customer.")
@access(TAG_READERS)
class TagHistoryEntry:
    tag_id: strawberry.ID = strawberry.field(description="The Tag's global id.")
    customer_id: strawberry.ID = strawberry.field(description="The Customer's global id.")
    gained: bool = strawberry.field(description="True: gained; false: lost.")
    at: dt.datetime = strawberry.field(description="When.")
    cause: TagChangeCause = strawberry.field(description="Why.")  # type: ignore[valid-type]
    reason_code: str | None = strawberry.field(description="MANUAL: the staff member's reason code.")
    actor: str = strawberry.field(description="Who or which job changed it.")

    @classmethod
    def from_row(cls, row: Any) -> TagHistoryEntry:
        return cls(tag_id=gid("Tag", row.tag_id),
                   customer_id=gid("Customer", row.customer_id), gained=row.gained, at=row.at, cause=row.cause,
                   reason_code=row.reason_code, actor=row.actor)


@strawberry.type(description="What operations know of one customer: tags held, classes, tag history.")
@access(TAG_READERS)
class CustomerTagging:
    customer_id: strawberry.ID = strawberry.field(description="The Customer's global id.")
    tags: list[HeldTag] = strawberry.field(description="Active tags held now, by key (a customer holds at most one "
                                                       "row per tag).")
    classes: list[CustomerClass] = strawberry.field(description="The class in every scheme, by scheme key.")
    pk: strawberry.Private[int]

    @strawberry.field(description="Gains and losses of tags, oldest first. " + PAGING)
    def history(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                before: Before = None) -> Connection[TagHistoryEntry]:
        ctx = info.context
        return keyset_connection(ctx.session, tags.history_query(customer_id=self.pk), wrap=TagHistoryEntry.from_row,
                                 settings=ctx.settings, first=first, after=after, last=last, before=before)


@strawberry.type(description="One class of a scheme and its condition.")
@access(TAG_READERS)
class ClassRuleView:
    class_key: str = strawberry.field(description="The class.")
    when: JSON = strawberry.field(description="Its condition over tags and attributes (no behaviour atoms). "
                                  + RULE_DOC)


@strawberry.type(description="A classification scheme (e.g. value tiers): ordered classes, the first match wins.")
@access(TAG_READERS)
class ClassScheme(Node):
    key: str = strawberry.field(description="Its unique key.")
    description: str = strawberry.field(description="What it classifies.")
    classes: list[ClassRuleView] = strawberry.field(description="Classes in order (at most 20).")

    @classmethod
    def from_row(cls, row: Any) -> ClassScheme:
        return cls(id=gid("ClassScheme", row.id), key=row.key, description=row.description,
                   classes=[ClassRuleView(class_key=r["class"], when=r["when"]) for r in row.rules])


@strawberry.type(description="A member of a segment.")
@access(TAG_READERS)
class SegmentMember:
    customer_id: strawberry.ID = strawberry.field(description="The Customer's global id.")
    city: str | None = strawberry.field(description="The customer's city, as rules read it.")
    birth_year: int | None = strawberry.field(description="The customer's birth year, as age bands read it.")


@strawberry.type(description="A segment: a boolean expression over tags and attributes; members are the customers "
                             "known to tags for whom it holds now.")
@access(TAG_READERS)
class Segment(Node):
    key: str = strawberry.field(description="Its unique key.")
    description: str = strawberry.field(description="What it targets.")
    expression: JSON = strawberry.field(description="Its expression (no behaviour atoms: use tags). " + RULE_DOC)
    version: int = strawberry.field(description="Optimistic-locking version.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Segment:
        return cls(id=gid("Segment", row.id), pk=row.id, key=row.key, description=row.description,
                   expression=row.expression, version=row.version)

    @strawberry.field(description="How many customers are members now (one COUNT).")
    def size(self, info: Info[Context, Any]) -> int:
        return segments.size(info.context.session, segment_id=self.pk, now=info.context.now())

    @strawberry.field(description="Whether a customer is a member now.")
    def is_member(self, info: Info[Context, Any], customer_id: Annotated[strawberry.ID, strawberry.argument(
            description="The Customer's global id.")]) -> bool:
        pk = decode_global_id(customer_id, "Customer", field="customerId")
        return segments.is_member(info.context.session, segment_id=self.pk, customer_id=pk, now=info.context.now())

    @strawberry.field(description="Members by customer, in id order. " + PAGING)
    def members(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                before: Before = None) -> Connection[SegmentMember]:
        ctx = info.context
        stmt = segments.members_query(ctx.session, segment_id=self.pk, now=ctx.now())
        return keyset_connection(ctx.session, stmt, settings=ctx.settings, first=first, after=after, last=last,
                                 before=before, key_columns=[segments.MEMBER_KEY],
                                 wrap=lambda p: SegmentMember(customer_id=gid("Customer", p.customer_id), city=p.city,
                                                              birth_year=p.birth_year))

    @strawberry.field(description="Every member as CSV text: a header line `customerId`, then one Customer global id "
                                  "a line, in id order (at most 1,000,000 lines).",
                      metadata=allow(SEGMENT_EXPORTERS))
    def export_csv(self, info: Info[Context, Any]) -> str:
        ctx = info.context
        return "".join(segments.export_csv(ctx.session, segment_id=self.pk, now=ctx.now(),
                                           encode_id=lambda pk: encode_global_id("Customer", pk)))


def tagging(ctx: Context, customer_id: int) -> CustomerTagging:
    """A customer's tags and classes now."""
    held = tags.customer_tags(ctx.session, customer_id=customer_id)
    classes = tags.classify(ctx.session, customer_ids=[customer_id], now=ctx.now()).get(customer_id, {})
    return CustomerTagging(customer_id=gid("Customer", customer_id), pk=customer_id,
                           tags=[HeldTag(tag=Tag.from_row(t), since=since) for t, since in held],
                           classes=[CustomerClass(scheme=k, class_key=v) for k, v in sorted(classes.items())])


@strawberry.type(description="One offer of a campaign.")
@access(TAG_READERS)
class CampaignOffer:
    code: str = strawberry.field(description="The offer's code (2-40 of A-Z, 0-9, _ and -).")
    product_code: str | None = strawberry.field(description="The product it applies to (null: any).")
    discount_rate: Rate = strawberry.field(description="Its discount, 0 to 1.")


@strawberry.type(description="A campaign's figures from behaviour events in its window (audience as the segment "
                             "reads now).")
@access(TAG_READERS)
class CampaignMetrics:
    audience: int = strawberry.field(description="Members of the target segment.")
    reach: int = strawberry.field(description="Members who did anything (any behaviour event) in the window: exposed.")
    conversions: int = strawberry.field(description="Reached members with a purchase in the window (of an offered "
                                                    "product when offers name products).")
    premium: Money = strawberry.field(description="The sum of those purchases' premiums.")
    conversion_rate: float | None = strawberry.field(description="conversions / reach, 0 to 1 (null without reach).")
    finished: bool = strawberry.field(description="Whether the window has ended (the figures are final).")


@strawberry.type(description="A campaign (Double 11, New Year opening): a target segment, business dates, offers.")
@access(TAG_READERS)
class Campaign(Node):
    key: str = strawberry.field(description="Its unique key.")
    name: str = strawberry.field(description="Its name (free text by operations staff).")
    segment_id: strawberry.ID = strawberry.field(description="The target Segment's global id.")
    starts_on: dt.date = strawberry.field(description="First business date (Asia/Shanghai).")
    ends_on: dt.date = strawberry.field(description="Last business date (inclusive).")
    offers: list[CampaignOffer] = strawberry.field(description="Its offers (at most 20).")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Campaign:
        return cls(id=gid("Campaign", row.id), pk=row.id, key=row.key, name=row.name,
                   segment_id=gid("Segment", row.segment_id), starts_on=row.starts_on, ends_on=row.ends_on,
                   offers=[CampaignOffer(code=o["code"], product_code=o.get("productCode"),
                                         discount_rate=Decimal(o["discountRate"]).quantize(Decimal("0.0001")))
                           for o in row.offers])

    @strawberry.field(description="Its figures now (reads the audience's events: read it on one campaign, not "
                                  "across a page).")
    def metrics(self, info: Info[Context, Any]) -> CampaignMetrics:
        m = campaigns.metrics(info.context.session, campaign_id=self.pk, now=info.context.now())
        return CampaignMetrics(audience=m.audience, reach=m.reach, conversions=m.conversions, premium=m.premium,
                               conversion_rate=m.conversion_rate, finished=m.finished)
