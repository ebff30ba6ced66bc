"""Mutations of customer tags, classes and segments: define and retire tags, manual tags, rebuild, classes,
segments."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.roles import TAG_EDITORS, TAG_MANAGERS
from resolvers.operations import campaigns, segments
from resolvers.operations.tags import service as tags
from schema.context import Context
from schema.errors import mutation_errors, run_mutation
from schema.operations.tag_types import RULE_DOC, Campaign, ClassScheme, Segment, Tag, TagKindEnum
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id
from schema.scalars import Rate

__all__ = ["TagMutations"]

INPUT = strawberry.argument(description="What to do; each field's description says its limits.")
ERRORS_DOC = "Every refusal (empty on success): field, code, message."
_RULE_CODES = {
    "BAD_RULE": "A condition is not an object with a known op and exactly its fields (field: its path).",
    "UNKNOWN_EVENT": "A behaviour atom names no registered event.",
    "BAD_WINDOW": "withinDays is not a whole number from 1 to 3650.",
    "BAD_COUNT": "atLeast is not a whole number from 1 to 10000.",
    "UNKNOWN_TAG": "A tag atom names no active tag.",
    "BAD_AGE_BAND": "An age band is not 0 <= min <= max <= 150.",
    "BAD_VALUES": "An `in` list is not 1-100 strings of 1-64 characters.",
    "RULE_TOO_LARGE": "More than 64 conditions.",
    "BEHAVIOUR_NOT_ALLOWED": "Segments and classes read tags and attributes, not behaviour (define a tag).",
}
_KEY_CODES = {"BAD_KEY": "key is not 2-64 of a-z, 0-9, - and _ starting with a letter."}
DefineTagError = mutation_errors("DefineTag", {
    **_RULE_CODES, **_KEY_CODES, "KEY_TAKEN": "A tag with this key exists.",
    "RULE_REQUIRED": "A RULE tag needs a rule.", "RULE_NOT_ALLOWED": "A MANUAL tag has no rule.",
    "SELF_REFERENCE": "The rule reads the tag it defines.",
    "TAG_CYCLE": "The rule reads a tag whose rule reads this one (directly or through others)."})
RetireTagError = mutation_errors("RetireTag", {"TAG_IN_USE": "Another tag, a segment or a class reads it (the "
                                                             "message names them)."})
_MANUAL = {"NOT_MANUAL": "The tag is a RULE tag or retired: only active manual tags are set by hand.",
           "BAD_REASON_CODE": "reasonCode is not 2-40 of A-Z, 0-9 and _ starting with a letter."}
AddCustomerTagError = mutation_errors("AddCustomerTag", _MANUAL)
RemoveCustomerTagError = mutation_errors("RemoveCustomerTag", _MANUAL)
RebuildCustomerTagsError = mutation_errors("RebuildCustomerTags", {})
DefineSegmentError = mutation_errors("DefineSegment", {**_RULE_CODES, **_KEY_CODES,
                                                       "KEY_TAKEN": "A segment with this key exists."})
SetClassSchemeError = mutation_errors("SetClassScheme", {
    **_RULE_CODES, **_KEY_CODES, "BAD_CLASSES": "A scheme has 1 to 20 classes.",
    "DUPLICATE_CLASS": "A class appears twice."})

CreateCampaignError = mutation_errors("CreateCampaign", {
    **_KEY_CODES, "KEY_TAKEN": "A campaign with this key exists.",
    "BAD_PERIOD": "endsOn is before startsOn, or the period is longer than 366 days.",
    "BAD_OFFER": "An offer's code, product code or discount rate is not valid, a code repeats, or more than 20."})


@strawberry.input(description="A new tag.")
class DefineTagInput:
    key: str = strawberry.field(description="Unique key, 2-64 of a-z, 0-9, - and _ starting with a letter.")
    kind: TagKindEnum = strawberry.field(description="RULE (give a rule) or MANUAL (no rule).")  # type: ignore[valid-type]
    rule: JSON | None = strawberry.field(default=None, description="A RULE tag's rule. " + RULE_DOC +
                                         " Every customer is evaluated at once.")
    description: str = strawberry.field(default="", description="What it means (at most 500 characters).")


@strawberry.input(description="Retire a tag (every holder loses it).")
class RetireTagInput:
    tag_id: strawberry.ID = strawberry.field(description="The Tag's global id.")


@strawberry.input(description="Add or remove a manual tag on a customer.")
class CustomerTagInput:
    tag_id: strawberry.ID = strawberry.field(description="The (manual) Tag's global id.")
    customer_id: strawberry.ID = strawberry.field(description="The Customer's global id.")
    reason_code: str = strawberry.field(description="Why, as a code: 2-40 of A-Z, 0-9 and _ (e.g. BIG_CLIENT); no "
                                                    "free text.")


@strawberry.input(description="A new segment.")
class DefineSegmentInput:
    key: str = strawberry.field(description="Unique key, 2-64 of a-z, 0-9, - and _ starting with a letter.")
    expression: JSON = strawberry.field(description="Its expression over tags and attributes (no behaviour atoms). "
                                        + RULE_DOC)
    description: str = strawberry.field(default="", description="What it targets (at most 500 characters).")


@strawberry.input(description="One class of a scheme.")
class ClassRuleInput:
    class_key: str = strawberry.field(description="The class (2-64 of a-z, 0-9, - and _).")
    when: JSON = strawberry.field(description="Its condition over tags and attributes. " + RULE_DOC)


@strawberry.input(description="Create or replace a classification scheme.")
class SetClassSchemeInput:
    key: str = strawberry.field(description="The scheme's key (e.g. value_tier).")
    classes: list[ClassRuleInput] = strawberry.field(description="1 to 20 classes in order: the first match wins.")
    description: str = strawberry.field(default="", description="What it classifies (at most 500 characters).")


@strawberry.input(description="One offer of a campaign.")
class CampaignOfferInput:
    code: str = strawberry.field(description="The offer's code: 2-40 of A-Z, 0-9, _ and - (e.g. D11-10OFF).")
    product_code: str | None = strawberry.field(default=None, description="The product it applies to (null: any); "
                                                "purchases of other products do not convert.")
    discount_rate: Rate = strawberry.field(description="Its discount, 0 to 1 (e.g. \"0.1000\").")


@strawberry.input(description="A new campaign.")
class CreateCampaignInput:
    key: str = strawberry.field(description="Unique key, 2-64 of a-z, 0-9, - and _ starting with a letter.")
    name: str = strawberry.field(description="Its name (1-200 characters).")
    segment_id: strawberry.ID = strawberry.field(description="The target Segment's global id.")
    starts_on: dt.date = strawberry.field(description="First business date (Asia/Shanghai).")
    ends_on: dt.date = strawberry.field(description="Last business date, inclusive (at most 366 days after startsOn).")
    offers: list[CampaignOfferInput] = strawberry.field(description="At most 20 offers.")


@strawberry.type(description="The result of createCampaign.")
@access(PUBLIC)
class CreateCampaignPayload:
    campaign: Campaign | None = strawberry.field(description="The campaign (null when refused).")
    errors: list[CreateCampaignError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of defineTag.")
@access(PUBLIC)
class DefineTagPayload:
    tag: Tag | None = strawberry.field(description="The tag (null when refused).")
    errors: list[DefineTagError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of retireTag.")
@access(PUBLIC)
class RetireTagPayload:
    tag: Tag | None = strawberry.field(description="The retired tag (null when refused).")
    errors: list[RetireTagError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of addCustomerTag.")
@access(PUBLIC)
class AddCustomerTagPayload:
    changed: bool = strawberry.field(description="False when the customer held the tag already (nothing changed).")
    errors: list[AddCustomerTagError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of removeCustomerTag.")
@access(PUBLIC)
class RemoveCustomerTagPayload:
    changed: bool = strawberry.field(description="False when the customer did not hold the tag.")
    errors: list[RemoveCustomerTagError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of rebuildCustomerTags.")
@access(PUBLIC)
class RebuildCustomerTagsPayload:
    changes: int = strawberry.field(description="Gains and losses the rebuild made (0 when the incremental path was "
                                                "current).")
    errors: list[RebuildCustomerTagsError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of defineSegment.")
@access(PUBLIC)
class DefineSegmentPayload:
    segment: Segment | None = strawberry.field(description="The segment (null when refused).")
    errors: list[DefineSegmentError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of setClassScheme.")
@access(PUBLIC)
class SetClassSchemePayload:
    scheme: ClassScheme | None = strawberry.field(description="The scheme (null when refused).")
    errors: list[SetClassSchemeError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type
class TagMutations:
    @strawberry.mutation(description="Define a tag (RULE: evaluated for every customer at once; MANUAL: set by staff).",
                         metadata=allow(TAG_MANAGERS))
    def define_tag(self, info: Info[Context, Any], input: Annotated[DefineTagInput, INPUT]) -> DefineTagPayload:
        ctx = info.context
        result, errors = run_mutation(info, "defineTag", {"key": input.key}, lambda s: Tag.from_row(tags.define_tag(
            s, principal=ctx.principal, key=input.key, kind=input.kind, rule=input.rule, description=input.description,
            now=ctx.now())), codes=DefineTagError)
        return DefineTagPayload(tag=result, errors=errors)

    @strawberry.mutation(description="Retire a tag: every holder loses it (refused while something reads it).",
                         metadata=allow(TAG_MANAGERS))
    def retire_tag(self, info: Info[Context, Any], input: Annotated[RetireTagInput, INPUT]) -> RetireTagPayload:
        ctx = info.context
        pk = decode_global_id(input.tag_id, "Tag", field="tagId")
        result, errors = run_mutation(info, "retireTag", {"tagId": pk}, lambda s: Tag.from_row(tags.retire_tag(
            s, principal=ctx.principal, tag_id=pk, now=ctx.now())), codes=RetireTagError)
        return RetireTagPayload(tag=result, errors=errors)

    @strawberry.mutation(description="Give a customer a manual tag, with a reason code (rules reading it follow).",
                         metadata=allow(TAG_EDITORS))
    def add_customer_tag(self, info: Info[Context, Any], input: Annotated[CustomerTagInput, INPUT]
                         ) -> AddCustomerTagPayload:
        ctx = info.context
        tag = decode_global_id(input.tag_id, "Tag", field="tagId")
        customer = decode_global_id(input.customer_id, "Customer", field="customerId")
        result, errors = run_mutation(info, "addCustomerTag", {"tagId": tag, "customerId": customer,
                                                               "reasonCode": input.reason_code},
                                      lambda s: tags.add_manual_tag(s, principal=ctx.principal, tag_id=tag,
                                                                    customer_id=customer, reason_code=input.reason_code,
                                                                    now=ctx.now()), codes=AddCustomerTagError)
        return AddCustomerTagPayload(changed=bool(result), errors=errors)

    @strawberry.mutation(description="Take a manual tag from a customer, with a reason code.",
                         metadata=allow(TAG_EDITORS))
    def remove_customer_tag(self, info: Info[Context, Any], input: Annotated[CustomerTagInput, INPUT]
                            ) -> RemoveCustomerTagPayload:
        ctx = info.context
        tag = decode_global_id(input.tag_id, "Tag", field="tagId")
        customer = decode_global_id(input.customer_id, "Customer", field="customerId")
        result, errors = run_mutation(info, "removeCustomerTag", {"tagId": tag, "customerId": customer,
                                                                  "reasonCode": input.reason_code},
                                      lambda s: tags.remove_manual_tag(s, principal=ctx.principal, tag_id=tag,
                                                                       customer_id=customer,
                                                                       reason_code=input.reason_code, now=ctx.now()),
                                      codes=RemoveCustomerTagError)
        return RemoveCustomerTagPayload(changed=bool(result), errors=errors)

    @strawberry.mutation(description="Rebuild every customer's rule tags now (as the nightly job does).",
                         metadata=allow(TAG_MANAGERS))
    def rebuild_customer_tags(self, info: Info[Context, Any]) -> RebuildCustomerTagsPayload:
        ctx = info.context
        result, errors = run_mutation(info, "rebuildCustomerTags", {}, lambda s: tags.rebuild(s, now=ctx.now()),
                                      codes=RebuildCustomerTagsError)
        return RebuildCustomerTagsPayload(changes=result or 0, errors=errors)

    @strawberry.mutation(description="Define a segment over tags and attributes.", metadata=allow(TAG_MANAGERS))
    def define_segment(self, info: Info[Context, Any], input: Annotated[DefineSegmentInput, INPUT]
                       ) -> DefineSegmentPayload:
        ctx = info.context
        result, errors = run_mutation(info, "defineSegment", {"key": input.key}, lambda s: Segment.from_row(
            segments.define_segment(s, principal=ctx.principal, key=input.key, expression=input.expression,
                                    description=input.description)), codes=DefineSegmentError)
        return DefineSegmentPayload(segment=result, errors=errors)

    @strawberry.mutation(description="Create or replace a classification scheme (ordered classes, first match).",
                         metadata=allow(TAG_MANAGERS))
    def set_class_scheme(self, info: Info[Context, Any], input: Annotated[SetClassSchemeInput, INPUT]
                         ) -> SetClassSchemePayload:
        ctx = info.context
        result, errors = run_mutation(info, "setClassScheme", {"key": input.key}, lambda s: ClassScheme.from_row(
            tags.set_class_scheme(s, principal=ctx.principal, key=input.key, description=input.description,
                                  classes=[(c.class_key, c.when) for c in input.classes])), codes=SetClassSchemeError)
        return SetClassSchemePayload(scheme=result, errors=errors)

    @strawberry.mutation(description="Create a campaign on a segment over business dates, with its offers.",
                         metadata=allow(TAG_MANAGERS))
    def create_campaign(self, info: Info[Context, Any], input: Annotated[CreateCampaignInput, INPUT]
                        ) -> CreateCampaignPayload:
        ctx = info.context
        segment = decode_global_id(input.segment_id, "Segment", field="segmentId")
        offers = [campaigns.OfferSpec(o.code, o.product_code, o.discount_rate) for o in input.offers]
        result, errors = run_mutation(info, "createCampaign", {"key": input.key}, lambda s: Campaign.from_row(
            campaigns.create_campaign(s, principal=ctx.principal, key=input.key, name=input.name, segment_id=segment,
                                      starts_on=input.starts_on, ends_on=input.ends_on, offers=offers)),
            codes=CreateCampaignError)
        return CreateCampaignPayload(campaign=result, errors=errors)
