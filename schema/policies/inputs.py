"""GraphQL input types of the policies domain's mutations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

__all__ = [
    "BeneficiaryEndorsementInput",
    "ContactEndorsementInput",
    "CoverageItemInput",
    "CreateProductInput",
    "DeclarationAnswerInput",
    "PolicyChangeInput",
    "PremiumBandInput",
    "RegisterCustomerInput",
    "RequestQuoteInput",
]


@strawberry.input(description="Register a customer; birth date and gender come from the ID number.")
class RegisterCustomerInput:
    name: str
    id_number: str = strawberry.field(description="Mainland resident ID number (18 characters).")
    phone: str
    email: str | None = None
    city: str | None = None


@strawberry.input
class CoverageItemInput:
    code: str
    name: str
    category: str
    sublimit: Decimal | None = None


@strawberry.input
class PremiumBandInput:
    min_age: int
    max_age: int
    annual_premium: Decimal


@strawberry.input(description="Define a product. Bands must tile the age range without gaps.")
class CreateProductInput:
    code: str
    name: str
    annual_limit: Decimal
    deductible: Decimal
    copay_rate: Decimal
    waiting_period_days: int
    coverage_items: list[CoverageItemInput]
    premium_bands: list[PremiumBandInput]
    description: str = ""
    cooling_off_days: int = 15
    term_months: int = 12


@strawberry.input
class DeclarationAnswerInput:
    question: str
    answer: bool
    diagnoses: list[str] = strawberry.field(default_factory=list, description="ICD-10 codes when a 'yes' asks for them.")


@strawberry.input(description="Ask for a priced, underwritten quote.")
class RequestQuoteInput:
    customer_id: strawberry.ID
    product_id: strawberry.ID
    start_date: dt.date
    answers: list[DeclarationAnswerInput] = strawberry.field(description="Every health question answered once (max 20).")


@strawberry.input
class PolicyChangeInput:
    policy_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description="Refused when the policy moved on.")
    reason: str = ""


@strawberry.input
class ContactEndorsementInput:
    policy_id: strawberry.ID
    expected_version: int | None = None
    phone: str | None = None
    email: str | None = None


@strawberry.input
class BeneficiaryEndorsementInput:
    policy_id: strawberry.ID
    expected_version: int | None = None
    name: str
    relationship: str = strawberry.field(description="spouse, child, parent, sibling, legal_heir or other.")
