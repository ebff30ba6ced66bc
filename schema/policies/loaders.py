"""DataLoaders of the policies domain's relations: one per relation for the whole schema.

Other domains use these too (a claim's policy and insured customer), never their own.
``prefetch_policy_relations`` is the look-ahead of a page of policies.
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from resolvers.policies import loaders as fetch
from resolvers.policies import models as m
from schema.context import Context
from schema.loaders import BatchLoader
from schema.lookahead import selected

__all__ = [
    "CoverageItemsByProductIdLoader",
    "CustomerByIdLoader",
    "EndorsementsByPolicyIdLoader",
    "PoliciesByCustomerIdLoader",
    "PolicyByIdLoader",
    "PremiumBandsByProductIdLoader",
    "ProductByIdLoader",
    "prefetch_policy_relations",
]


class CustomerByIdLoader(BatchLoader[int, Any]):
    """Customers as read-only rows (personal columns decrypted only when read)."""

    def fetch(self, keys: Any) -> Any:
        return fetch.customers_by_id(self.context.session, keys)


class PolicyByIdLoader(BatchLoader[int, Any]):
    """Policies as read-only rows (personal columns decrypted only when read)."""

    def fetch(self, keys: Any) -> Any:
        return fetch.policies_by_id(self.context.session, keys)


class ProductByIdLoader(BatchLoader[int, m.Product | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.products_by_id(self.context.session, keys)


class EndorsementsByPolicyIdLoader(BatchLoader[int, list[m.Endorsement]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.endorsements_by_policy(self.context.session, keys)


class PoliciesByCustomerIdLoader(BatchLoader[int, list[m.Policy]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.policies_by_customer(self.context.session, keys)


class CoverageItemsByProductIdLoader(BatchLoader[int, list[m.CoverageItem]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.coverage_items_by_product(self.context.session, keys)


class PremiumBandsByProductIdLoader(BatchLoader[int, list[m.PremiumBand]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.premium_bands_by_product(self.context.session, keys)


def prefetch_policy_relations(ctx: Context, info: Info[Context, Any], rows: list[m.Policy]) -> None:
    """Look-ahead: load every selected relation of a page of policies now, one query each."""
    if not rows:
        return
    wanted = selected(info, "edges", "node")
    if "customer" in wanted:
        ctx.loader(CustomerByIdLoader).fetch_and_prime([r.customer_id for r in rows])
    if "product" in wanted:
        product_ids = [r.product_id for r in rows]
        ctx.loader(ProductByIdLoader).fetch_and_prime(product_ids)
        below = selected(info, "edges", "node", "product")
        if "coverageItems" in below:
            ctx.loader(CoverageItemsByProductIdLoader).fetch_and_prime(product_ids)
        if "premiumBands" in below:
            ctx.loader(PremiumBandsByProductIdLoader).fetch_and_prime(product_ids)
    if "endorsements" in wanted:
        ctx.loader(EndorsementsByPolicyIdLoader).fetch_and_prime([r.id for r in rows])
