"""DataLoaders of the partners domain's relations (one per relation for the whole schema)."""

from __future__ import annotations

from typing import Any

from partners import loaders as fetch
from partners import models as m
from schema.loaders import BatchLoader

__all__ = [
    "AssignmentByIdLoader",
    "DocumentsByPartnerIdLoader",
    "KeysByPartnerIdLoader",
    "LicencesByPartnerIdLoader",
    "PartnerByIdLoader",
    "ReviewEventsByPartnerIdLoader",
]


class PartnerByIdLoader(BatchLoader[int, m.Partner | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.partners_by_id(self.context.session, keys)


class AssignmentByIdLoader(BatchLoader[int, m.Assignment | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.assignments_by_id(self.context.session, keys)


class LicencesByPartnerIdLoader(BatchLoader[int, list[m.PartnerLicence]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.licences_by_partner(self.context.session, keys)


class DocumentsByPartnerIdLoader(BatchLoader[int, list[m.PartnerDocument]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.documents_by_partner(self.context.session, keys)


class ReviewEventsByPartnerIdLoader(BatchLoader[int, list[m.PartnerReviewEvent]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.review_events_by_partner(self.context.session, keys)


class KeysByPartnerIdLoader(BatchLoader[int, list[m.SignerKey]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.keys_by_partner(self.context.session, keys)
