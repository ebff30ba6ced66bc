"""Mutations on customers: registration."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import ONBOARDERS
from resolvers.policies import models as m
from resolvers.policies import service
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import RegisterCustomerInput
from schema.policies.types import Customer
from schema.relay import encode_global_id

__all__ = ["CustomerMutations", "RegisterCustomerPayload"]


@strawberry.type
@access(PUBLIC)
class RegisterCustomerPayload:
    customer: Customer | None
    errors: list[UserError]


def _customer_target(c: m.Customer | None) -> str | None:
    return None if c is None else encode_global_id("Customer", c.id)


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Register a customer (staff onboarding).",
                         metadata=allow(ONBOARDERS))
    def register_customer(self, info: Info[Context, Any], input: RegisterCustomerInput) -> RegisterCustomerPayload:
        row, errors = run_mutation(
            info, "registerCustomer", {"idNumberDigest": "redacted", "city": input.city},
            lambda s: service.create_customer(s, name=input.name, id_number=input.id_number, phone=input.phone,
                                              email=input.email, city=input.city),
            target=_customer_target,
        )
        return RegisterCustomerPayload(customer=Customer.from_row(row) if row else None, errors=errors)
