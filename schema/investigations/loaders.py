"""DataLoaders of the investigations domain's relations (one per relation for the whole schema)."""

from __future__ import annotations

from typing import Any

from resolvers.investigations import loaders as fetch
from resolvers.investigations import models as m
from schema.loaders import BatchLoader

__all__ = [
    "EscalationsByInvestigationIdLoader",
    "InvestigationBySurveyRecordIdLoader",
    "InvestigationOfferByIdLoader",
    "InvestigationsByClaimIdLoader",
    "OffersByInvestigationIdLoader",
    "TrailEventsByInvestigationIdLoader",
]


class InvestigationOfferByIdLoader(BatchLoader[int, m.InvestigationAssignment | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.offers_by_id(self.context.session, keys)


class OffersByInvestigationIdLoader(BatchLoader[int, list[m.InvestigationAssignment]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.offers_by_investigation(self.context.session, keys)


class TrailEventsByInvestigationIdLoader(BatchLoader[int, list[m.InvestigationEvent]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.trail_by_investigation(self.context.session, keys)


class EscalationsByInvestigationIdLoader(BatchLoader[int, list[m.InvestigationEscalation]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.escalations_by_investigation(self.context.session, keys)


class InvestigationsByClaimIdLoader(BatchLoader[int, list[m.Investigation]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.investigations_by_claim(self.context.session, keys)


class InvestigationBySurveyRecordIdLoader(BatchLoader[int, m.Investigation | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.investigations_by_survey_record(self.context.session, keys)
