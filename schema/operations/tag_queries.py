"""Root query fields of customer tags, classes and segments, and their ``node(id:)`` fetchers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import DomainError
from core.roles import TAG_READERS
from resolvers.operations import campaigns, segments
from resolvers.operations.tags import service as tags
from schema.context import Context
from schema.node import NodeFetcher
from schema.operations.tag_types import (
    Campaign,
    ClassScheme,
    CustomerTagging,
    Segment,
    Tag,
    TagKindEnum,
    tagging,
)
from schema.partners.paging import After, Before, First, Last
from schema.permissions import allow
from schema.relay import PAGING, Connection, decode_global_id, keyset_connection

__all__ = ["TAG_NODES", "TagsQuery"]


def _fetch(kind: str) -> NodeFetcher:
    def fetch(ctx: Context, pk: int) -> Any:
        if ctx.principal.role not in TAG_READERS:
            return None
        try:
            if kind == "Tag":
                return Tag.from_row(tags.get_tag(ctx.session, tag_id=pk))
            if kind == "Segment":
                return Segment.from_row(segments.get_segment(ctx.session, segment_id=pk))
            if kind == "Campaign":
                return Campaign.from_row(campaigns.get_campaign(ctx.session, campaign_id=pk))
            return ClassScheme.from_row(tags.get_class_scheme(ctx.session, scheme_id=pk))
        except DomainError:
            return None

    return fetch


#: How ``node(id:)`` fetches tags, segments, class schemes and campaigns (tag readers only).
TAG_NODES: dict[str, NodeFetcher] = {k: _fetch(k) for k in ("Tag", "Segment", "ClassScheme", "Campaign")}


@strawberry.type
class TagsQuery:
    @strawberry.field(description="Tags by key. " + PAGING, metadata=allow(TAG_READERS))
    def tags(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
             before: Before = None, kinds: Annotated[list[TagKindEnum] | None, strawberry.argument(  # type: ignore[valid-type]
                 description="Only these kinds (all when absent).")] = None,
             include_retired: Annotated[bool, strawberry.argument(description="Retired tags too.")] = False,
             ) -> Connection[Tag]:
        ctx = info.context
        stmt = tags.tags_query(kinds=tuple(kinds or ()), active_only=not include_retired)
        return keyset_connection(ctx.session, stmt, wrap=Tag.from_row, settings=ctx.settings, first=first,
                                 after=after, last=last, before=before)

    @strawberry.field(description="A customer's tags now, classes and tag history.", metadata=allow(TAG_READERS))
    def customer_tagging(self, info: Info[Context, Any], customer_id: Annotated[strawberry.ID, strawberry.argument(
            description="The Customer's global id.")]) -> CustomerTagging:
        return tagging(info.context, decode_global_id(customer_id, "Customer", field="customerId"))

    @strawberry.field(description="Segments, oldest first. " + PAGING, metadata=allow(TAG_READERS))
    def segments(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                 before: Before = None) -> Connection[Segment]:
        ctx = info.context
        return keyset_connection(ctx.session, segments.segments_query(), wrap=Segment.from_row, settings=ctx.settings,
                                 first=first, after=after, last=last, before=before)

    @strawberry.field(description="A segment by global id (null when absent).", metadata=allow(TAG_READERS))
    def segment(self, info: Info[Context, Any], id: Annotated[strawberry.ID, strawberry.argument(
            description="The Segment's global id.")]) -> Segment | None:
        found = TAG_NODES["Segment"](info.context, decode_global_id(id, "Segment"))
        return found if isinstance(found, Segment) else None

    @strawberry.field(description="Every classification scheme, by key (a handful).", metadata=allow(TAG_READERS))
    def class_schemes(self, info: Info[Context, Any]) -> list[ClassScheme]:
        return [ClassScheme.from_row(r) for r in tags.class_schemes(info.context.session)]


    @strawberry.field(description="Campaigns, oldest first. " + PAGING, metadata=allow(TAG_READERS))
    def campaigns(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                  before: Before = None, active_on: Annotated[dt.date | None, strawberry.argument(
                      description="Only campaigns running on this business date.")] = None) -> Connection[Campaign]:
        ctx = info.context
        return keyset_connection(ctx.session, campaigns.campaigns_query(active_on=active_on), wrap=Campaign.from_row,
                                 settings=ctx.settings, first=first, after=after, last=last, before=before)

    @strawberry.field(description="A campaign by global id (null when absent).", metadata=allow(TAG_READERS))
    def campaign(self, info: Info[Context, Any], id: Annotated[strawberry.ID, strawberry.argument(
            description="The Campaign's global id.")]) -> Campaign | None:
        found = TAG_NODES["Campaign"](info.context, decode_global_id(id, "Campaign"))
        return found if isinstance(found, Campaign) else None
