"""Mutations on customers: registration."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import ONBOARDERS
from resolvers.policies import models as m
from resolvers.policies import service
from schema.context import Context
from schema.errors import mutation_errors, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import RegisterCustomerInput
from schema.policies.types import Customer
from schema.relay import encode_global_id

__all__ = ["CustomerMutations", "RegisterCustomerError", "RegisterCustomerPayload"]


class RegisterCustomerErrorCode(enum.Enum):
    BAD_ID_NUMBER = "The ID number is not a valid mainland resident ID number (length, date or check digit)."
    BAD_PHONE = "The phone is not a valid phone number."
    BAD_EMAIL = "The email is not an email address."
    DUPLICATE = "A customer with this ID number is registered already."


RegisterCustomerError = mutation_errors("RegisterCustomer", RegisterCustomerErrorCode)


@strawberry.type(description="The result of registerCustomer.")
@access(PUBLIC)
class RegisterCustomerPayload:
    customer: Customer | None = strawberry.field(description="The registered customer (null when refused).")
    errors: list[RegisterCustomerError] = strawberry.field(  # type: ignore[valid-type]
        description="Every input error at once (empty on success).")


def _customer_target(c: m.Customer | None) -> str | None:
    return None if c is None else encode_global_id("Customer", c.id)


_Input = Annotated[RegisterCustomerInput, strawberry.argument(description="The customer to register.")]

@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Register a customer (front-office onboarding: agents, managers, admins). "
                         "Reports every input error at once.", metadata=allow(ONBOARDERS))
    def register_customer(self, info: Info[Context, Any], input: _Input) -> RegisterCustomerPayload:
        row, errors = run_mutation(
            info, "registerCustomer", {"idNumberDigest": "redacted", "city": input.city},
            lambda s: service.create_customer(s, name=input.name, id_number=input.id_number, phone=input.phone,
                                              email=input.email, city=input.city),
            target=_customer_target, codes=RegisterCustomerError,
        )
        return RegisterCustomerPayload(customer=Customer.from_row(row) if row else None, errors=errors)
