"""Behaviour events through GraphQL: one batch per call, each event stored once by its event id."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.errors import DomainError
from core.roles import BEHAVIOUR_EVENT_SENDERS
from resolvers.operations import behaviour
from schema.context import Context
from schema.errors import mutation_errors, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id

__all__ = ["BehaviourEventInput", "BehaviourEventRejection", "BehaviourEventRejectionCode", "BehaviourMutations", "IngestBehaviourEventsInput",
           "IngestBehaviourEventsPayload"]

IngestBehaviourEventsError = mutation_errors("IngestBehaviourEvents", {
    "BATCH_TOO_LARGE": f"More than {behaviour.MAX_BATCH} events in one batch: nothing was stored.",
})
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
