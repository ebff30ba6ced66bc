"""Root query fields of the operations domain, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import DomainError
from core.roles import EXPERIMENT_READERS
from resolvers.operations import experiments
from schema.context import Context
from schema.node import NodeFetcher
from schema.operations.inputs import ExperimentFilter
from schema.operations.types import Experiment
from schema.partners.paging import After, Before, First, Last
from schema.permissions import allow
from schema.relay import PAGING, Connection, decode_global_id, keyset_connection

__all__ = ["NODES", "OperationsQuery"]


def _experiment(ctx: Context, pk: int) -> Experiment | None:
    if ctx.principal.role not in EXPERIMENT_READERS:
        return None
    try:
        return Experiment.from_row(experiments.get_experiment(ctx.session, experiment_id=pk))
    except DomainError:
        return None


#: How ``node(id:)`` fetches this domain's types (experiment readers only).
NODES: dict[str, NodeFetcher] = {"Experiment": _experiment}


@strawberry.type
class OperationsQuery:
    @strawberry.field(description="An experiment by global id (null when absent).", metadata=allow(EXPERIMENT_READERS))
    def experiment(self, info: Info[Context, Any], id: Annotated[strawberry.ID, strawberry.argument(
            description="The experiment's global id.")]) -> Experiment | None:
        return _experiment(info.context, decode_global_id(id, "Experiment"))

    @strawberry.field(description="Experiments, oldest first, filtered. " + PAGING, metadata=allow(EXPERIMENT_READERS))
    def experiments(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                    before: Before = None, filter: Annotated[ExperimentFilter | None, strawberry.argument(
                        description="Which experiments (all when absent).")] = None) -> Connection[Experiment]:
        ctx = info.context
        f = filter or ExperimentFilter()
        stmt = experiments.experiments_query(flows=tuple(f.flows or ()), statuses=tuple(f.statuses or ()))
        return keyset_connection(ctx.session, stmt, wrap=Experiment.from_row, settings=ctx.settings, first=first,
                                 after=after, last=last, before=before)
