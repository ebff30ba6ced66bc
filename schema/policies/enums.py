"""GraphQL enums of the policies domain: the service's enums under their schema names, each value described.

One spelling everywhere: a relationship is a ``BeneficiaryRelationship`` on a policy and in
``endorseBeneficiary``'s input; a policy event's kind is a ``PolicyEventKind``.
"""

from __future__ import annotations

from resolvers.policies import models as m
from resolvers.policies.underwriting import UnderwritingReason
from schema.enums import described_enum as _described

__all__ = [
    "BeneficiaryRelationship",
    "EndorsementField",
    "EndorsementKind",
    "Gender",
    "PolicyEndReason",
    "PolicyEventKind",
    "PolicyStatus",
    "QuoteStatus",
    "UnderwritingOutcome",
    "UnderwritingReasonCode",
]




PolicyStatus = _described(m.PolicyStatus, name="PolicyStatus",
                          description="Where a policy stands (FHIR Coverage.status plus the ways a policy ends).",
                          values={
    "ACTIVE": "Issued and not ended; covers the days of its period (see inForce).",
    "CANCELLED": "Cancelled within the cooling-off period: void from the start, premium refunded in full.",
    "SURRENDERED": "Surrendered by the policyholder: unearned premium refunded less 25% expenses.",
    "LAPSED": "Lapsed: premium unpaid after the grace period; no refund.",
    "EXPIRED": "Its period ended (it may still be renewed within 60 days).",
})
Gender = _described(m.Gender, name="Gender", description="Administrative gender (FHIR AdministrativeGender), "
                    "from the resident ID number.", values={
    "MALE": "Male.",
    "FEMALE": "Female.",
    "OTHER": "Other.",
    "UNKNOWN": "Unknown.",
})
UnderwritingOutcome = _described(m.UnderwritingOutcome, name="UnderwritingOutcome",
                                 description="What underwriting decided on a health declaration.", values={
    "ACCEPT": "Accepted at the standard terms (a smoker loading may apply).",
    "ACCEPT_WITH_EXCLUSIONS": "Accepted; the conditions in the quote's exclusions are not covered.",
    "DECLINE": "Declined: the quote cannot issue a policy.",
    "REFER": "Referred to manual underwriting (a risk flag partners shared on the insured): no policy issues yet.",
})
QuoteStatus = _described(m.QuoteStatus, name="QuoteStatus", description="Where a quote stands.", values={
    "OPEN": "Can issue a policy (issuePolicy) until validUntil.",
    "BOUND": "Has issued its policy (a quote issues once).",
    "DECLINED": "Underwriting declined it; it cannot issue a policy.",
    "REFERRED": "Waits for manual underwriting (outcome REFER); it cannot issue a policy meanwhile.",
})
EndorsementKind = _described(m.EndorsementKind, name="EndorsementKind",
                             description="The kind of a mid-term change to a policy.", values={
    "CONTACT": "Contact phone and/or email changed (endorseContact).",
    "BENEFICIARY": "A new beneficiary named (endorseBeneficiary).",
})
EndorsementField = _described(m.EndorsementField, name="EndorsementField",
                              description="A policy field an endorsement changed (never its value).", values={
    "CONTACT_PHONE": "Policy.contactPhone.",
    "CONTACT_EMAIL": "Policy.contactEmail.",
    "BENEFICIARY_NAME": "Policy.beneficiaryName.",
    "BENEFICIARY_RELATIONSHIP": "Policy.beneficiaryRelationship.",
})
BeneficiaryRelationship = _described(m.BeneficiaryRelationship, name="BeneficiaryRelationship",
                                     description="How a named beneficiary relates to the insured.", values={
    "SPOUSE": "Spouse.",
    "CHILD": "Child.",
    "PARENT": "Parent.",
    "SIBLING": "Brother or sister.",
    "LEGAL_HEIR": "The insured's legal heirs.",
    "OTHER": "Another relationship.",
})
PolicyEndReason = _described(m.PolicyEndReason, name="PolicyEndReason",
                             description="Why a policy ended (one per ending status).", values={
    "COOLING_OFF_CANCELLATION": "Cancelled within the cooling-off period (status CANCELLED).",
    "SURRENDER": "Surrendered by the policyholder (status SURRENDERED).",
    "PREMIUM_UNPAID": "Premium unpaid after the grace period (status LAPSED).",
    "PERIOD_ENDED": "Its period ended (status EXPIRED).",
})
PolicyEventKind = _described(m.PolicyEventKind, name="PolicyEventKind",
                             description="What happened to a policy (policyEvents).", values={
    "ISSUED": "A policy was issued from a quote.",
    "RENEWED": "A policy was renewed; the event names the new policy.",
    "CANCELLED": "Cancelled within the cooling-off period.",
    "SURRENDERED": "Surrendered.",
    "LAPSED": "Lapsed for unpaid premium.",
    "EXPIRED": "Its period ended.",
    "ENDORSED_CONTACT": "Its contact phone or email changed.",
    "ENDORSED_BENEFICIARY": "A new beneficiary was named.",
})
UnderwritingReasonCode = _described(UnderwritingReason, name="UnderwritingReasonCode",
                                    description="Why underwriting decided as it did (the text is rendered per "
                                    "reader; it never names the declared diagnoses).", values={
    "STANDARD_RISK": "Nothing declared that changes the terms.",
    "CONDITIONS_EXCLUDED": "Declared conditions are excluded from cover (the quote's exclusions).",
    "SMOKER_LOADING": "Smoker: the premium carries the smoker loading (x1.20).",
    "DECLINED_MALIGNANCY": "Declined: a malignant tumour was declared.",
    "DECLINED_PENDING_INVESTIGATION": "Declined for now: a medical examination is pending.",
    "REFERRED_FOR_REVIEW": "Referred to manual underwriting; the reason names no shared data (staff read the "
    "customer's riskProfile).",
    "ACCEPTED_AFTER_REVIEW": "An underwriter accepted the referred quote (decideReferredQuote); it may issue a policy.",
    "DECLINED_AFTER_REVIEW": "An underwriter declined the referred quote (decideReferredQuote).",
})
