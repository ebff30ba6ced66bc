"""Mutations on products: definition."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import MANAGERS
from resolvers.policies import models as m
from resolvers.policies import service
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import CreateProductInput
from schema.policies.types import Product
from schema.relay import encode_global_id

__all__ = ["CreateProductPayload", "ProductMutations"]


@strawberry.type
@access(PUBLIC)
class CreateProductPayload:
    product: Product | None
    errors: list[UserError]


def _product_target(p: m.Product | None) -> str | None:
    return None if p is None else encode_global_id("Product", p.id)


@strawberry.type
class ProductMutations:
    @strawberry.mutation(description="Define a product.", metadata=allow(MANAGERS))
    def create_product(self, info: Info[Context, Any], input: CreateProductInput) -> CreateProductPayload:
        row, errors = run_mutation(
            info, "createProduct", input,
            lambda s: service.create_product(
                s, code=input.code, name=input.name, annual_limit=input.annual_limit, deductible=input.deductible,
                copay_rate=input.copay_rate, waiting_period_days=input.waiting_period_days,
                description=input.description, cooling_off_days=input.cooling_off_days,
                term_months=input.term_months,
                coverage_items=[service.CoverageItemSpec(c.code, c.name, c.category, c.sublimit)
                                for c in input.coverage_items],
                premium_bands=[service.PremiumBandSpec(b.min_age, b.max_age, b.annual_premium)
                               for b in input.premium_bands],
            ),
            target=_product_target,
        )
        return CreateProductPayload(product=Product.from_row(row) if row else None, errors=errors)
