"""The service contract: what build_schema takes (ServiceQuery, ServiceMutation, ServiceSubscription, NODES)."""

from __future__ import annotations

from schema.service.mutations import ServiceMutation
from schema.service.queries import NODES, ServiceQuery
from schema.service.subscriptions import ServiceSubscription

__all__ = ["NODES", "ServiceMutation", "ServiceQuery", "ServiceSubscription"]
