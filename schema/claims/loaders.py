"""DataLoaders of the claims domain's relations, and the look-ahead of a page of claims.

A claim's policy and insured customer are the policies domain's relations: its loaders
(``schema.policies.loaders``) load them, one per relation for the whole schema.
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from resolvers.claims import loaders as fetch
from resolvers.claims import models as m
from schema.context import Context
from schema.loaders import BatchLoader
from schema.lookahead import selected
from schema.policies.loaders import (
    CoverageItemsByProductIdLoader,
    CustomerByIdLoader,
    PolicyByIdLoader,
    ProductByIdLoader,
)

__all__ = [
    "DocumentsByClaimIdLoader",
    "EventsByClaimIdLoader",
    "LineItemsByClaimIdLoader",
    "PaymentsByClaimIdLoader",
    "RequestsByClaimIdLoader",
    "prefetch_claims",
]


class LineItemsByClaimIdLoader(BatchLoader[int, list[m.ClaimLineItem]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.line_items_by_claim(self.context.session, keys)


class DocumentsByClaimIdLoader(BatchLoader[int, list[m.ClaimDocument]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.documents_by_claim(self.context.session, keys)


class EventsByClaimIdLoader(BatchLoader[int, list[m.ClaimEvent]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.events_by_claim(self.context.session, keys)


class PaymentsByClaimIdLoader(BatchLoader[int, list[m.Payment]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.payments_by_claim(self.context.session, keys)


class RequestsByClaimIdLoader(BatchLoader[int, list[m.DocumentRequest]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.requests_by_claim(self.context.session, keys)


_RELATIONS: dict[str, type[BatchLoader[Any, Any]]] = {
    "lineItems": LineItemsByClaimIdLoader, "documents": DocumentsByClaimIdLoader,
    "timeline": EventsByClaimIdLoader, "payments": PaymentsByClaimIdLoader,
    "documentRequests": RequestsByClaimIdLoader,
}


def prefetch_claims(ctx: Context, info: Info[Context, Any], rows: list[m.Claim]) -> None:
    """Look-ahead: one query per selected relation for the whole page."""
    if not rows:
        return
    wanted = selected(info, "edges", "node")
    ids = [r.id for r in rows]
    for name, loader in _RELATIONS.items():
        if name in wanted:
            ctx.loader(loader).fetch_and_prime(ids)
    if "customer" in wanted:
        ctx.loader(CustomerByIdLoader).fetch_and_prime([r.customer_id for r in rows])
    if "policy" in wanted:
        ctx.loader(PolicyByIdLoader).fetch_and_prime([r.policy_id for r in rows])
        below = selected(info, "edges", "node", "policy")
        if "product" in below or "customer" in below:
            policies = [ctx.loader(PolicyByIdLoader).peek(r.policy_id) for r in rows]
            if "product" in below:
                product_ids = [p.product_id for p in policies if p is not None]
                ctx.loader(ProductByIdLoader).fetch_and_prime(product_ids)
                if "coverageItems" in selected(info, "edges", "node", "policy", "product"):
                    ctx.loader(CoverageItemsByProductIdLoader).fetch_and_prime(product_ids)
            if "customer" in below:
                ctx.loader(CustomerByIdLoader).fetch_and_prime([p.customer_id for p in policies if p is not None])
