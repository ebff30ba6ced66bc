"""GraphQL contract of the policies core: customers, products, quotes, policies, endorsements.

The domain's parts for ``schema.build_schema``: its root query, mutation and subscription
fields, the node fetchers of its global ids, and the types the schema registers.
"""

from __future__ import annotations

from schema.policies.mutations import PoliciesMutation
from schema.policies.queries import NODES, PoliciesQuery
from schema.policies.subscriptions import PoliciesSubscription
from schema.policies.types import Customer, Policy, Product, Quote

__all__ = ["NODES", "Customer", "PoliciesMutation", "PoliciesQuery", "PoliciesSubscription", "Policy", "Product",
           "Quote"]
