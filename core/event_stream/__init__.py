"""One domain event stream: a transactional outbox, durable consumers, fan-out to every process.

A domain registers its typed payloads, appends them inside the transaction that makes the
change, and reads the stream through a named consumer (durable, at least once, exactly once
for handlers writing to this database) or the process tail (in-memory subscribers from now
on, such as GraphQL subscriptions). Modules: :mod:`.types` (payloads, registry, readers),
:mod:`.outbox` (append, commit-order ids), :mod:`.consumers`, :mod:`.tail`, :mod:`.wakeup`
(local, PostgreSQL ``LISTEN/NOTIFY``, Redis), :mod:`.retention`, :mod:`.status`.

Example::

    class PolicyIssued(EventPayload):
        policy_id: int
        customer_id: int

    register_event_type("policy.issued", 1, PolicyIssued, aggregate="Policy", readers=POLICY_READERS)

    append(session, PolicyIssued(policy_id=p.id, customer_id=p.customer_id),
           aggregate=Aggregate("Policy", p.id, p.version), actor=Actor.of(principal))

    register_consumer(Consumer("webhooks", deliver, types={"policy.issued"}))
"""

from __future__ import annotations

from core.event_stream.consumers import (
    Consumer,
    ConsumerRow,
    ConsumerRunner,
    DeadLetter,
    DeadLetterState,
    RoundResult,
    consumer_named,
    drain,
    register_consumer,
    registered_consumers,
    replay,
    request_retry,
    run_once,
)
from core.event_stream.outbox import (
    DomainEventRow,
    StoredEvent,
    append,
    head_id,
    install_correlation_source,
    read_events,
)
from core.event_stream.retention import prune_events
from core.event_stream.status import ConsumerStatus, consumer_status
from core.event_stream.tail import EventTail, SubscriberLagged, install_process_tail, process_tail
from core.event_stream.types import (
    Actor,
    Aggregate,
    EventPayload,
    EventType,
    EventTypeError,
    readers,
    register_event_type,
    registered_event_types,
)
from core.event_stream.wakeup import wakeup

__all__ = [
    "Actor",
    "Aggregate",
    "Consumer",
    "ConsumerRow",
    "ConsumerRunner",
    "ConsumerStatus",
    "DeadLetter",
    "DeadLetterState",
    "DomainEventRow",
    "EventPayload",
    "EventTail",
    "EventType",
    "EventTypeError",
    "RoundResult",
    "StoredEvent",
    "SubscriberLagged",
    "append",
    "consumer_named",
    "consumer_status",
    "drain",
    "head_id",
    "install_correlation_source",
    "install_process_tail",
    "process_tail",
    "prune_events",
    "read_events",
    "readers",
    "register_consumer",
    "register_event_type",
    "registered_consumers",
    "registered_event_types",
    "replay",
    "request_retry",
    "run_once",
    "wakeup",
]
