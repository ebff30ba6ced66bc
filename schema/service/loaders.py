"""DataLoaders of the service domain's relations (one per relation for the whole schema)."""

from __future__ import annotations

from typing import Any

from resolvers.service import loaders as fetch
from resolvers.service import models as m
from schema.loaders import BatchLoader

__all__ = ["ActivitiesByWorkOrderIdLoader", "BreachesByWorkOrderIdLoader", "CommentsByWorkOrderIdLoader",
           "ComplaintByWorkOrderIdLoader", "ServiceAgentByIdLoader"]


class ServiceAgentByIdLoader(BatchLoader[int, m.ServiceAgent | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.agents_by_id(self.context.session, keys)


class CommentsByWorkOrderIdLoader(BatchLoader[int, list[m.WorkOrderComment]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.comments_by_order(self.context.session, keys)


class ActivitiesByWorkOrderIdLoader(BatchLoader[int, list[m.WorkOrderActivity]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.activities_by_order(self.context.session, keys)


class BreachesByWorkOrderIdLoader(BatchLoader[int, list[m.WorkOrderBreach]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.breaches_by_order(self.context.session, keys)


class ComplaintByWorkOrderIdLoader(BatchLoader[int, m.Complaint | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.complaints_by_order(self.context.session, keys)
