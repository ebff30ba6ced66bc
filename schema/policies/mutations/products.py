"""Mutations on products: definition."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import MANAGERS
from resolvers.policies import models as m
from resolvers.policies import service
from schema.context import Context
from schema.errors import mutation_errors, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import CreateProductInput
from schema.policies.types import Product
from schema.relay import encode_global_id

__all__ = ["CreateProductError", "CreateProductPayload", "ProductMutations"]


class CreateProductErrorCode(enum.Enum):
    DUPLICATE = "A product with this code exists, or two coverage items share a code."
    BANDS_NOT_CONTIGUOUS = "The premium bands leave a gap or overlap between their ages."


CreateProductError = mutation_errors("CreateProduct", CreateProductErrorCode)


@strawberry.type(description="The result of createProduct.")
@access(PUBLIC)
class CreateProductPayload:
    product: Product | None = strawberry.field(description="The new product, on sale (null when refused).")
    errors: list[CreateProductError] = strawberry.field(  # type: ignore[valid-type]
        description="Every input error at once (empty on success).")


def _product_target(p: m.Product | None) -> str | None:
    return None if p is None else encode_global_id("Product", p.id)


_Input = Annotated[CreateProductInput, strawberry.argument(description="The product to define.")]

@strawberry.type
class ProductMutations:
    @strawberry.mutation(description="Define a product, on sale at once (managers and admins). Reports every input "
                         "error at once.", metadata=allow(MANAGERS))
    def create_product(self, info: Info[Context, Any], input: _Input) -> CreateProductPayload:
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
            target=_product_target, codes=CreateProductError,
        )
        return CreateProductPayload(product=Product.from_row(row) if row else None, errors=errors)
