"""The error type of every claims mutation: ``<Mutation>Error`` with its own ``<Mutation>ErrorCode`` enum.

Each mutation lists exactly the codes its services (``resolvers/claims/*``) can refuse with,
plus the codes every mutation can get (``schema.errors.COMMON_CODES``: INVALID, BAD_ID,
NOT_FOUND, FORBIDDEN, CONFLICT, STALE_VERSION). Direct billing adds the signed-record codes
of ``partners.errors.RejectCode``, described once in ``schema.partners.errors``.
"""

from __future__ import annotations

from schema.errors import mutation_errors
from schema.partners.errors import REJECT_CODES

__all__ = [
    "AdjudicateClaimError",
    "AssignClaimError",
    "DraftClaimRuleVersionError",
    "PayClaimError",
    "PinClaimRuleVersionError",
    "PublishClaimRuleVersionError",
    "RecordOriginalDocumentError",
    "RecordQaReviewError",
    "ReportClaimError",
    "RequestClaimDocumentError",
    "RollBackClaimRuleVersionError",
    "SetClaimFlowTemplateError",
    "SetClaimLineItemsError",
    "SubmitClaimError",
    "SubmitDirectBillError",
    "TestClaimRuleVersionError",
    "TransitionClaimError",
]

_INVALID_TRANSITION = "The claim's state does not allow this step (see ClaimState); the message names the state."
_ADD_UP = "The line items do not add up to the claimed amount."
_DATE_IN_FUTURE = "A date lies after today (business date)."
_BAD_ICD10 = "diagnosisCode is not a code of the WHO's ICD-10 list."
_LINES = {
    "AMOUNTS_DO_NOT_ADD_UP": _ADD_UP,
    "NOT_A_DATA_HOLDER": "Invoice lines come from the hospital or the customer's app, never retyped by staff.",
}

ReportClaimError = mutation_errors("ReportClaim", {
    "DATE_IN_FUTURE": _DATE_IN_FUTURE,
    "TIME_BARRED": "The event is more than 3 years ago: too late to claim.",
    "POLICY_NOT_IN_FORCE": "The policy was not in force on the event date.",
    "BAD_ICD10": _BAD_ICD10,
    **_LINES,
})
SetClaimLineItemsError = mutation_errors("SetClaimLineItems", {
    "INVALID_TRANSITION": _INVALID_TRANSITION,
    "ITEMS_ALREADY_ENTERED": "The claim's invoice lines were entered already (they are entered once).",
    **_LINES,
})
SubmitClaimError = mutation_errors("SubmitClaim", {"INVALID_TRANSITION": _INVALID_TRANSITION})
AdjudicateClaimError = mutation_errors("AdjudicateClaim", {
    "INVALID_TRANSITION": _INVALID_TRANSITION,
    "NO_ITEMS": "The claim has no invoice lines to assess.",
})
TransitionClaimError = mutation_errors("TransitionClaim", {
    "INVALID_TRANSITION": _INVALID_TRANSITION + " APPROVED, PARTIALLY_APPROVED, PAID and SUBMITTED are reached by "
    "their own mutations.",
    "REASON_REQUIRED": "Every transition needs a reason.",
})
PayClaimError = mutation_errors("PayClaim", {
    "INVALID_TRANSITION": "Only an APPROVED or PARTIALLY_APPROVED claim is paid.",
    "ALREADY_PAID": "The claim is paid, or its payment is on its way to the bank (by another idempotency key).",
    "NO_PAYEE_ACCOUNT": "The payee (the customer, or the hospital that billed) has no bank account on file.",
    "ALREADY_INSTRUCTED": "The returned payment was instructed again already (by another idempotency key).",
    "NOTHING_TO_PAY": "Nothing is left to pay on the claim.",
    "IDEMPOTENCY_KEY_REUSED": "The idempotency key paid another claim.",
})
RequestClaimDocumentError = mutation_errors("RequestClaimDocument", {"INVALID_TRANSITION": _INVALID_TRANSITION})
RecordOriginalDocumentError = mutation_errors("RecordOriginalDocument")
SubmitDirectBillError = mutation_errors("SubmitDirectBill", {
    **REJECT_CODES,
    "NOT_ASSIGNED": "No direct-billing authorisation covers the bill's case reference on the admission date: one "
    "answer whether the hospital holds no assignment for it, no such policy exists, or the policy was not in force.",
    "ITEMS_MISMATCH": "The line items do not hash to the signed bill's itemsCommitment.",
    "DATE_IN_FUTURE": _DATE_IN_FUTURE,
    "TIME_BARRED": "The admission is more than 3 years ago: too late to claim.",
    "BAD_ICD10": _BAD_ICD10,
    "AMOUNTS_DO_NOT_ADD_UP": _ADD_UP,
    "INVALID_TRANSITION": _INVALID_TRANSITION,
})

_TABLE = {
    "BAD_DOCUMENT": "The document is not a decision table risk control can run (nodes, edges, one decision table); "
    "the field names the place (document.nodes[1]...).",
    "BAD_HIT_POLICY": "The decision table's hitPolicy is not 'collect' (every matching rule must fire).",
    "UNKNOWN_FACT": "A condition column reads a fact risk control does not provide.",
    "BAD_EXPRESSION": "A condition or output cell does not parse as a zen expression; the field names the cell.",
    "BAD_OUTPUT": "The outputs are not exactly code, score, level, message, or a cell is not a valid constant.",
    "DUPLICATE_RULE_CODE": "Two rules of the table share a code.",
    "NO_RULES": "The table has no rules.",
    "TOO_LARGE": "The document exceeds 256 KiB or 500 rules.",
}
DraftClaimRuleVersionError = mutation_errors("DraftClaimRuleVersion", {
    **_TABLE,
    "BAD_LABEL": "The label is not 1-40 letters, digits, '.', '_' or '-'.",
    "LABEL_TAKEN": "A version with this label exists already.",
})
TestClaimRuleVersionError = mutation_errors("TestClaimRuleVersion")
PublishClaimRuleVersionError = mutation_errors("PublishClaimRuleVersion", {
    "NOT_A_DRAFT": "Only a draft is published (a published or rolled-back version is immutable: draft a copy).",
})
PinClaimRuleVersionError = mutation_errors("PinClaimRuleVersion", {
    "NOT_PUBLISHED": "Only a published version (not a draft, not rolled back) can be pinned.",
})
RollBackClaimRuleVersionError = mutation_errors("RollBackClaimRuleVersion", {
    "NOT_LIVE": "The version is not the live one (it may have been rolled back already).",
    "NOTHING_TO_ROLL_BACK_TO": "No earlier published version is left to take over.",
    "REASON_REQUIRED": "A rollback needs a reason (1-500 characters).",
})
AssignClaimError = mutation_errors("AssignClaim", {
    "INVALID_TRANSITION": "A draft, paid, closed or rejected claim waits for nobody: it is not assigned.",
})
RecordQaReviewError = mutation_errors("RecordQaReview", {
    "ALREADY_REVIEWED": "The sample was reviewed already (a review is recorded once).",
    "BAD_SCORE": "The score is not 0-100.",
    "FINDINGS_REQUIRED": "A score below 100 names its findings.",
    "OWN_DECISION": "Nobody reviews a claim they decided themselves.",
})
SetClaimFlowTemplateError = mutation_errors("SetClaimFlowTemplate")
