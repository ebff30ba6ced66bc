"""GraphQL input types of the policies domain's mutations."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.policies.enums import BeneficiaryRelationship
from schema.scalars import Money, Rate

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
    name: str = strawberry.field(description="Full name, 1 to 100 characters.")
    id_number: str = strawberry.field(description="Mainland resident ID number (18 characters, valid check digit); "
                                      "one customer per ID number.")
    phone: str = strawberry.field(description="Phone number; mainland China is assumed without a country code.")
    email: str | None = strawberry.field(default=None, description="Email address (at most 254 characters).")
    city: str | None = strawberry.field(default=None, description="City of residence.")


@strawberry.input(description="One benefit of a new product.")
class CoverageItemInput:
    code: str = strawberry.field(description="The benefit's code, unique within the product, e.g. \"INPATIENT\".")
    name: str = strawberry.field(description="The benefit's display name.")
    category: str = strawberry.field(description="A grouping of the product's own choosing, e.g. \"inpatient\".")
    sublimit: Money | None = strawberry.field(default=None, description="The most paid for this benefit per policy "
                                              "year (CNY); omit for none.")


@strawberry.input(description="The annual premium for one band of insured ages.")
class PremiumBandInput:
    min_age: int = strawberry.field(description="Youngest age of the band (>= 0).")
    max_age: int = strawberry.field(description="Oldest age of the band (>= minAge).")
    annual_premium: Money = strawberry.field(description="Premium for a 12-month term (CNY, > 0).")


@strawberry.input(description="Define a product. Bands must tile the age range without gaps or overlaps.")
class CreateProductInput:
    code: str = strawberry.field(description="Unique product code: 2-40 of A-Z, 0-9, _ and -, starting with a letter "
                                 "or digit.")
    name: str = strawberry.field(description="Display name.")
    annual_limit: Money = strawberry.field(description="The most paid per policy year (CNY, > 0).")
    deductible: Money = strawberry.field(description="Borne by the insured per policy year (CNY, >= 0 and below "
                                         "the annual limit).")
    copay_rate: Rate = strawberry.field(description="Share of each covered amount the insured pays, 0 <= rate < 1.")
    waiting_period_days: int = strawberry.field(description="Days after the start before illness is covered "
                                                "(0..365).")
    coverage_items: list[CoverageItemInput] = strawberry.field(description="The benefits covered (at least one; "
                                                               "codes unique).")
    premium_bands: list[PremiumBandInput] = strawberry.field(description="The premium table (at least one band; "
                                                             "contiguous ages).")
    description: str = strawberry.field(default="", description="What the product is, in prose.")
    cooling_off_days: int = strawberry.field(default=15, description="Days after issue within which a policy may "
                                             "be cancelled with a full refund (0..60).")
    term_months: int = strawberry.field(default=12, description="Length of a policy period: 1, 3, 6 or 12 months.")


@strawberry.input(description="One answer of the health declaration.")
class DeclarationAnswerInput:
    question: str = strawberry.field(description="The question's code (HealthQuestion.code).")
    answer: bool = strawberry.field(description="Yes (true) or no (false).")
    diagnoses: list[str] = strawberry.field(default_factory=list, description="ICD-10 codes (WHO list, e.g. "
                                            "\"E11.9\") when a 'yes' asks for them; none for a 'no'.")


@strawberry.input(description="Ask for a priced, underwritten quote.")
class RequestQuoteInput:
    customer_id: strawberry.ID = strawberry.field(description="Global id of the customer to insure (a customer may "
                                                  "quote only for themself).")
    product_id: strawberry.ID = strawberry.field(description="Global id of a product on sale.")
    start_date: dt.date = strawberry.field(description="Business date the policy would start: today to 90 days "
                                           "ahead.")
    answers: list[DeclarationAnswerInput] = strawberry.field(description="Every health question answered once "
                                                             "(max 20).")


@strawberry.input(description="Which policy to change, and the version the caller last read.")
class PolicyChangeInput:
    policy_id: strawberry.ID = strawberry.field(description="Global id of the policy.")
    expected_version: int | None = strawberry.field(default=None, description="The policy's version as last read; "
                                                    "refused with STALE_VERSION when the policy moved on.")
    reason: str = strawberry.field(default="", description="Free-form note kept with a surrender or lapse "
                                   "(at most 200 characters; read by staff as Policy.endNote); ignored otherwise.")


@strawberry.input(description="Change a policy's contact phone and/or email (at least one).")
class ContactEndorsementInput:
    policy_id: strawberry.ID = strawberry.field(description="Global id of an active policy.")
    expected_version: int | None = strawberry.field(default=None, description="The policy's version as last read; "
                                                    "refused with STALE_VERSION when the policy moved on.")
    phone: str | None = strawberry.field(default=None, description="New contact phone (mainland China assumed "
                                         "without a country code).")
    email: str | None = strawberry.field(default=None, description="New contact email.")


@strawberry.input(description="Name a new beneficiary of a policy.")
class BeneficiaryEndorsementInput:
    policy_id: strawberry.ID = strawberry.field(description="Global id of an active policy.")
    expected_version: int | None = strawberry.field(default=None, description="The policy's version as last read; "
                                                    "refused with STALE_VERSION when the policy moved on.")
    name: str = strawberry.field(description="The beneficiary's full name, 1 to 100 characters.")
    relationship: BeneficiaryRelationship = strawberry.field(  # type: ignore[valid-type]
        description="How the beneficiary relates to the insured.")
