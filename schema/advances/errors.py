"""Error types of the advances mutations: ``<Mutation>Error`` with its own ``<Mutation>ErrorCode`` enum."""

from __future__ import annotations

from schema.errors import mutation_errors

__all__ = ["ApplyAdvanceError", "PayAdvanceError", "RecordAdvanceRepaymentError", "ReviewAdvanceError"]

_KEY_REUSED = "The idempotency key moved other money (another advance or payment)."
ApplyAdvanceError = mutation_errors("ApplyAdvance", {
    "BAD_AMOUNT": "amount is not a positive amount with at most 2 decimals.",
    "BAD_ICD10": "diagnosisCode is not a code of the WHO's ICD-10 list.",
    "NOT_COVERED": "The policy excludes the diagnosis.",
    "DATE_IN_FUTURE": "admissionDate is after today (business date).",
    "POLICY_NOT_IN_FORCE": "The policy was not in force on the admission date.",
    "ABOVE_LIMIT": "amount is above the advance limit: the product's cap or the configured share of the annual "
                   "limit still open (the message names the limit).",
    "ADVANCE_OPEN": "An advance on this policy is still open (in review, approved, paid or overdue).",
    "BAD_CREDIT_REPORT": "creditReportId is not a current CreditReport signed for this advance's case "
                         "(ADV-<policy number>).",
})
ReviewAdvanceError = mutation_errors("ReviewAdvance", {
    "INVALID_TRANSITION": "Only an advance IN_REVIEW is decided.",
})
PayAdvanceError = mutation_errors("PayAdvance", {
    "ALREADY_PAID": "The advance is paid, or its payout is on its way (by another idempotency key).",
    "INVALID_TRANSITION": "Only an APPROVED advance is paid.",
    "NO_PAYEE_ACCOUNT": "The customer has no bank account on file.",
    "IDEMPOTENCY_KEY_REUSED": _KEY_REUSED,
})
RecordAdvanceRepaymentError = mutation_errors("RecordAdvanceRepayment", {
    "BAD_AMOUNT": "amount is not a positive amount with at most 2 decimals.",
    "INVALID_TRANSITION": "Nothing is owed on the advance (not PAID or OVERDUE).",
    "REPAYMENT_EXCEEDS_BALANCE": "amount is more than is still owed (direct debits on their way count as paid).",
    "NO_PAYEE_ACCOUNT": "A direct debit needs the customer's bank account on file.",
    "IDEMPOTENCY_KEY_REUSED": _KEY_REUSED,
})
