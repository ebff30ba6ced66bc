"""GraphQL enums of the claims domain: the service's enums under their schema names, each value described.

One spelling everywhere: a state is a ``ClaimState`` on a claim, in a timeline entry and in
the queue filter; a level is a ``RiskLevel`` on a claim, a risk hint and the queue filter.
"""

from __future__ import annotations

from resolvers.claims import models as m
from resolvers.claims.eob import BenefitCode as BenefitCodeValue
from resolvers.claims.queue import QueueSort
from resolvers.claims.reasons import ReasonCode
from resolvers.claims.risk.rule_models import RuleVersionStatus
from schema.enums import described_enum as _described

__all__ = [
    "BenefitCode",
    "ClaimChannel",
    "ClaimEventKind",
    "ClaimPaymentStatus",
    "ClaimQueueSort",
    "ClaimReasonCode",
    "ClaimRuleVersionStatus",
    "ClaimState",
    "DocumentKind",
    "LineItemSource",
    "PayeeKind",
    "RiskHintSource",
    "RiskLevel",
]




ClaimState = _described(m.ClaimState, name="ClaimState", description="Where a claim stands in its lifecycle.", values={
    "DRAFT": "Reported (first notice of loss), not yet submitted; invoice lines and documents may still be added.",
    "SUBMITTED": "Submitted by the claimant; risk control runs and routes it at once.",
    "DOCUMENTS_PENDING": "Waiting for a requested document (see documentRequests).",
    "UNDER_REVIEW": "In an adjuster's queue for a decision.",
    "INVESTIGATING": "Under investigation (high risk); decided after the investigation.",
    "APPROVED": "Decided: payable in full after deductible and co-payment.",
    "PARTIALLY_APPROVED": "Decided: part of the claimed amount is payable (see explanationOfBenefits).",
    "REJECTED": "Decided: nothing payable.",
    "PAID": "The approved amount has been paid.",
    "CLOSED": "Closed (paid, rejected, withdrawn, or approved with nothing payable).",
    "REOPENED": "Reopened after a decision; goes back to review, investigation or documents.",
})
ClaimChannel = _described(m.ClaimChannel, name="ClaimChannel", description="Where a claim was reported.", values={
    "APP": "The customer's app.",
    "WEB": "The web site.",
    "PHONE": "By phone, entered by staff.",
    "AGENT": "Through an agent.",
    "DIRECT_BILLING": "A hospital's signed bill (submitDirectBill); paid to the hospital.",
})
RiskLevel = _described(m.RiskLevel, name="RiskLevel", description="How risky risk control rated a claim.", values={
    "LOW": "Low risk: may take the fast-claim path.",
    "MEDIUM": "Medium risk: reviewed by an adjuster.",
    "HIGH": "High risk: investigated.",
})
RiskHintSource = _described(m.RiskHintSource, name="RiskHintSource", description="What raised a risk hint.", values={
    "RULE": "A rule of the versioned decision tables fired (see Claim.rulesVersion).",
    "MODEL": "The risk model: its score, or one of the features that raised it most.",
    "SHARED": "A risk flag a partner insurer shared on the insured.",
})
DocumentKind = _described(m.DocumentKind, name="DocumentKind", description="Kinds of claim documents; all but "
                          "ID_CARD are medical records (committed to the ledger).", values={
    "INVOICE": "The hospital invoice (required before a claim is decided, except for direct billing).",
    "DISCHARGE_SUMMARY": "The hospital's discharge summary.",
    "PRESCRIPTION": "A prescription.",
    "ID_CARD": "The insured's identity card (not a medical record, never on the ledger).",
    "OTHER": "Any other supporting document.",
})
LineItemSource = _described(m.LineItemSource, name="LineItemSource", description="Who entered a claim's structured "
                            "invoice data (never retyped by staff).", values={
    "HOSPITAL_EINVOICE": "The hospital's electronic invoice, entered by the hospital.",
    "CUSTOMER_APP": "Entered by the insured in the customer app.",
    "HOSPITAL_BILL": "The hospital's signed direct bill.",
})
PayeeKind = _described(m.PayeeKind, name="PayeeKind", description="Who receives a claim payment.", values={
    "CUSTOMER": "The insured.",
    "HOSPITAL": "The hospital (direct billing).",
})
ClaimEventKind = _described(m.ClaimEventKind, name="ClaimEventKind", description="What a timeline entry records "
                            "(its reasonCode and reason say why).", values={
    "REPORTED": "The claim was reported (first notice of loss).",
    "DUPLICATE_SUSPECTED": "The claim may duplicate another claim of the insured for the same stay.",
    "INVOICE_DATA": "The structured invoice lines were entered.",
    "RISK": "Risk control rated the claim.",
    "TRANSITION": "The claim changed state (fromState, toState).",
    "DOCUMENT": "A document was uploaded.",
    "DOCUMENT_REQUESTED": "A supplementary document was requested.",
    "ORIGINAL_RECEIVED": "A document's paper original arrived by post.",
    "SIGNED_BILL": "A hospital's signed bill was verified (direct billing).",
    "DOCUMENT_REMINDED": "The customer was reminded of a supplementary document past due.",
})
ClaimPaymentStatus = _described(m.PaymentStatus, name="ClaimPaymentStatus", description="Where a payment "
                                "instruction stands.", values={
    "INSTRUCTED": "Instructed on the payment rail, waiting for the bank; the claim stays APPROVED.",
    "SETTLED": "Settled by the bank with the payee; the claim is PAID.",
    "FAILED": "Returned by the bank (its reason on the rail's instruction); payClaim with a new key re-instructs it.",
})
BenefitCode = _described(BenefitCodeValue, name="BenefitCode", description="Why a benefit decision paid less than "
                         "claimed, on an invoice line or on the whole claim (the explanation of benefits' summary "
                         "says it in the reader's words).", values={
    "POLICY_NOT_IN_FORCE": "The policy was not in force on the date of the event (the whole claim).",
    "WAITING_PERIOD": "The event happened during the policy's waiting period (the whole claim).",
    "EXCLUDED_CONDITION": "The diagnosis is excluded from cover (the whole claim).",
    "NOT_COVERED": "The line's category is not covered by the product.",
    "SUBLIMIT_REACHED": "The category's sublimit is used up (the line is reduced or not paid).",
    "ANNUAL_LIMIT_REACHED": "The policy's annual limit is used up (the line is reduced or not paid).",
    "DEDUCTIBLE": "Part of the line counts towards the annual deductible.",
    "COPAY": "The insured's co-payment share is deducted.",
    "REJECTED_AFTER_REVIEW": "Staff rejected the claim after review (no line-by-line calculation).",
})
ClaimReasonCode = _described(ReasonCode, name="ClaimReasonCode", description="Why a claim event or decision "
                             "happened (the reason's text is rendered per reader).", values={
    "REPORTED": "The claim was reported.",
    "POSSIBLE_DUPLICATE": "It may duplicate another claim for the same stay.",
    "LINE_ITEMS_ENTERED": "Invoice lines were entered.",
    "SUBMITTED": "The claimant submitted it.",
    "RISK_ASSESSED": "Risk control rated it.",
    "ROUTED_TO_INVESTIGATION": "High risk: routed to investigation.",
    "ROUTED_TO_DOCUMENTS": "A required document is missing: waiting for it.",
    "ROUTED_TO_REVIEW": "Not eligible for fast claim: routed to an adjuster.",
    "FAST_CLAIM_APPROVED": "Approved automatically by fast claim.",
    "NOTHING_PAYABLE": "Approved, but the annual deductible absorbs the whole amount.",
    "ADJUDICATED": "An adjuster ran the benefit calculation and decided.",
    "MOVED_BY_STAFF": "Staff moved it to another state, with a reason.",
    "PAID": "A payment was made.",
    "SIGNED_BILL_VERIFIED": "The hospital's signed bill was verified (direct billing).",
    "DOCUMENT_UPLOADED": "A document was uploaded.",
    "DOCUMENT_REQUESTED": "A supplementary document was requested.",
    "DOCUMENT_REMINDED": "A reminder: a requested document is past due.",
    "ORIGINAL_RECEIVED": "A paper original arrived.",
    "INVESTIGATION_CONCLUDED": "Its investigation concluded (the survey report reviewed): back to review.",
    "OTHER": "Anything else (older records).",
})
ClaimQueueSort = _described(QueueSort, name="ClaimQueueSort", description="Orders of the claims queue; ties "
                            "are broken by the claim's id, so paging is stable.", values={
    "OLDEST": "Oldest reported first.",
    "NEWEST": "Newest reported first.",
    "AMOUNT_DESC": "Largest claimed amount first.",
    "RISK_DESC": "Highest risk score first (claims not yet rated last).",
    "SLA_DUE": "Earliest SLA due time first (claims without one last).",
})
ClaimRuleVersionStatus = _described(RuleVersionStatus, name="ClaimRuleVersionStatus", description="Where a version "
                                   "of the claim-risk rule set stands.", values={
    "DRAFT": "Drafted and checked; may be tested against past claims, then published.",
    "PUBLISHED": "Published: the newest published version judges new claims unless another is pinned.",
    "ROLLED_BACK": "Withdrawn after publication; the previous published version took over.",
})
