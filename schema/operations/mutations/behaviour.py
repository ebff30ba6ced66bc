"""Behaviour events through GraphQL: one batch per call, each event stored once by its event id."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.errors import DomainError
from core.roles import BEHAVIOUR_EVENT_SENDERS, VISITOR_IDENTIFIERS
from resolvers.operations import behaviour
from schema.context import Context
from schema.errors import mutation_errors, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["IDENTIFY_CODES", "BehaviourEventInput", "BehaviourEventRejection", "BehaviourEventRejectionCode",
           "BehaviourMutations", "IdentifyVisitorInput", "IdentifyVisitorPayload", "IngestBehaviourEventsInput",
           "IngestBehaviourEventsPayload"]

IngestBehaviourEventsError = mutation_errors("IngestBehaviourEvents", {
    "BATCH_TOO_LARGE": f"More than {behaviour.MAX_BATCH} events in one batch: nothing was stored.",
})
#: identifyVisitor's own codes (the HTTP endpoint answers the same).
IDENTIFY_CODES: dict[str, str] = {
    "BAD_ANONYMOUS_ID": "anonymousId (or aliasOf) is not 8-64 of A-Z, a-z, 0-9, _ and -.",
    "NOT_YOUR_CUSTOMER_ID": "A customer named another customer.",
    "NO_CUSTOMER": "Neither customerId nor aliasOf was given (staff name the customer).",
    "CUSTOMER_AND_ALIAS": "Both customerId and aliasOf were given: name one.",
    "CUSTOMER_NOT_FOUND": "No such customer.",
    "NOT_IDENTIFIED": "aliasOf is bound to no customer (for a customer: to none of theirs).",
    "ANONYMOUS_ID_TAKEN": "anonymousId is bound to another customer already: nothing changed.",
}
IdentifyVisitorError = mutation_errors("IdentifyVisitor", IDENTIFY_CODES)
_NAMES = ", ".join(sorted(behaviour.EVENT_SCHEMAS))


@strawberry.enum(description="Why one behaviour event was refused.")
class BehaviourEventRejectionCode(enum.Enum):
    BAD_EVENT_ID = strawberry.enum_value("BAD_EVENT_ID", description="eventId is not 8-64 of A-Z, a-z, 0-9, _, -.")
    UNKNOWN_EVENT = strawberry.enum_value("UNKNOWN_EVENT", description="No event of this name is registered.")
    BAD_CUSTOMER_ID = strawberry.enum_value("BAD_CUSTOMER_ID", description="customerId is no Customer's id.")
    NO_SUBJECT = strawberry.enum_value("NO_SUBJECT", description="Neither customerId nor anonymousId.")
    BAD_ANONYMOUS_ID = strawberry.enum_value("BAD_ANONYMOUS_ID", description="anonymousId is not 8-64 of A-Z, "
                                                                             "a-z, 0-9, _, -.")
    NOT_YOUR_CUSTOMER_ID = strawberry.enum_value("NOT_YOUR_CUSTOMER_ID", description="A customer named another "
                                                                                     "customer.")
    BAD_TIMESTAMP = strawberry.enum_value("BAD_TIMESTAMP", description="timestamp has no zone.")
    FUTURE_DATED = strawberry.enum_value("FUTURE_DATED", description="timestamp is more than 5 minutes ahead.")
    BAD_PROPERTIES = strawberry.enum_value("BAD_PROPERTIES", description="properties do not fit the name's schema "
                                                                         "(the message says where).")


@strawberry.input(description="One behaviour event.")
class BehaviourEventInput:
    event_id: str = strawberry.field(description="The sender's id of the event, 8-64 of A-Z, a-z, 0-9, _ and -: "
                                                 "sending it again stores nothing (a duplicate).")
    name: str = strawberry.field(description=f"A registered event name: {_NAMES}.")
    timestamp: dt.datetime = strawberry.field(description="When it happened, with its zone; at most 5 minutes "
                                                          "ahead of the server (else FUTURE_DATED).")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The Customer's global id (a customer may name only themself, or leave it out).")
    anonymous_id: str | None = strawberry.field(default=None, description="A visitor's anonymous id (8-64 of A-Z, "
                                                                          "a-z, 0-9, _ and -).")
    # None, not {}: graphql-core cannot print an object default in introspection.
    properties: JSON | None = strawberry.field(default=None, description="The event's properties (none: an empty "
                                               "object), checked against its name's schema (camelCase keys; unknown "
                                               "keys refused): free-form here, typed by the name.")


@strawberry.input(description="A batch of behaviour events.")
class IngestBehaviourEventsInput:
    events: list[BehaviourEventInput] = strawberry.field(description=f"At most {behaviour.MAX_BATCH} events.")


@strawberry.type(description="Why one event of the batch was refused (the others are kept).")
@access(PUBLIC)
class BehaviourEventRejection:
    index: int = strawberry.field(description="Its position in the batch (from 0).")
    code: BehaviourEventRejectionCode = strawberry.field(description="Why.")
    message: str = strawberry.field(description="What is wrong, for people.")


@strawberry.type(description="The result of ingestBehaviourEvents.")
@access(PUBLIC)
class IngestBehaviourEventsPayload:
    accepted: int = strawberry.field(description="Events stored by this call.")
    duplicates: int = strawberry.field(description="Events whose id was stored before (or repeated in the batch).")
    rejected: list[BehaviourEventRejection] = strawberry.field(description="Each refused event.")
    errors: list[IngestBehaviourEventsError] = strawberry.field(  # type: ignore[valid-type]
        description="Refusals of the whole batch (empty on success).")


@strawberry.input(description="Who an anonymous visitor turned out to be: a customer (identify), or the customer "
                  "another, identified anonymous id is bound to (alias).")
class IdentifyVisitorInput:
    anonymous_id: str = strawberry.field(description="The visitor's anonymous id (8-64 of A-Z, a-z, 0-9, _ and -).")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The Customer's global id (identify). A customer may leave it out (themself) or "
                                  "name only themself.")
    alias_of: str | None = strawberry.field(default=None, description="An anonymous id already bound to a customer "
                                            "(alias): the visitor is that customer too. Not with customerId.")


@strawberry.type(description="The result of identifyVisitor.")
@access(PUBLIC)
class IdentifyVisitorPayload:
    customer_id: strawberry.ID | None = strawberry.field(description="The Customer's global id the visitor is bound "
                                                                      "to (null when refused).")
    already_identified: bool = strawberry.field(description="True when this binding existed before (nothing "
                                                            "changed: identifying again is harmless).")
    errors: list[IdentifyVisitorError] = strawberry.field(  # type: ignore[valid-type]
        description="Refusals (empty on success).")


def _event(e: BehaviourEventInput) -> behaviour.EventIn:
    try:
        customer = decode_global_id(e.customer_id, "Customer", field="customerId") if e.customer_id else None
    except DomainError:
        customer = 0  # refused as BAD_CUSTOMER_ID with the other events of the batch kept
    props = {} if e.properties is None else e.properties if isinstance(e.properties, dict) else {"": e.properties}
    return behaviour.EventIn(event_id=e.event_id, name=e.name, timestamp=e.timestamp, customer_id=customer,
                             anonymous_id=e.anonymous_id, properties=props)


@strawberry.type
class BehaviourMutations:
    @strawberry.mutation(description="Send a batch of behaviour events (at most 500): each valid one is stored once "
                         "by its event id; each bad one is listed in `rejected` while the rest are kept.",
                         metadata=allow(BEHAVIOUR_EVENT_SENDERS))
    def ingest_behaviour_events(self, info: Info[Context, Any], input: Annotated[
            IngestBehaviourEventsInput, strawberry.argument(description="The batch.")]) -> IngestBehaviourEventsPayload:
        ctx = info.context
        result, errors = run_mutation(info, "ingestBehaviourEvents", {"count": len(input.events)},
                                      lambda s: behaviour.ingest(s, principal=ctx.principal, source=ctx.principal.subject,
                                                                 events=[_event(e) for e in input.events],
                                                                 now=ctx.now()), codes=IngestBehaviourEventsError)
        if result is None:
            return IngestBehaviourEventsPayload(accepted=0, duplicates=0, rejected=[], errors=errors)
        return IngestBehaviourEventsPayload(
            accepted=result.accepted, duplicates=result.duplicates, errors=errors,
            rejected=[BehaviourEventRejection(index=r.index, code=BehaviourEventRejectionCode(r.code), message=r.message) for r in result.rejected])

    @strawberry.mutation(description="Bind an anonymous visitor to a customer (customerId) or to the customer of "
                         "another identified anonymous id (aliasOf): their events sent anonymously count for the "
                         "customer from then on. Idempotent; an anonymous id bound to another customer is "
                         "ANONYMOUS_ID_TAKEN and nothing changes. A customer identifies only as themself.",
                         metadata=allow(VISITOR_IDENTIFIERS))
    def identify_visitor(self, info: Info[Context, Any], input: Annotated[
            IdentifyVisitorInput, strawberry.argument(description="The visitor and who they are.")]
                         ) -> IdentifyVisitorPayload:
        ctx = info.context

        def work(s: Any) -> behaviour.IdentifyResult:
            customer = decode_global_id(input.customer_id, "Customer", field="customerId") if input.customer_id \
                else None
            return behaviour.identify_visitor(s, principal=ctx.principal, anonymous_id=input.anonymous_id,
                                              customer_id=customer, alias_of=input.alias_of, now=ctx.now())

        result, errors = run_mutation(info, "identifyVisitor", {"anonymousId": input.anonymous_id,
                                                                "customerId": input.customer_id,
                                                                "aliasOf": input.alias_of}, work,
                                      target=lambda r: encode_global_id("Customer", r.customer_id),
                                      codes=IdentifyVisitorError)
        if result is None:
            return IdentifyVisitorPayload(customer_id=None, already_identified=False, errors=errors)
        return IdentifyVisitorPayload(customer_id=strawberry.ID(encode_global_id("Customer", result.customer_id)),
                                      already_identified=not result.created, errors=errors)
