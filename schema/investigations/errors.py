"""The error type of every investigations mutation: ``<Mutation>Error`` with its own ``<Mutation>ErrorCode``.

Each lists exactly the codes its services (``resolvers/investigations/*``) refuse with, plus the
codes every mutation can get (``schema.errors.COMMON_CODES``).
"""

from __future__ import annotations

from schema.errors import mutation_errors
from schema.partners.errors import REJECT_CODES

__all__ = ["AcceptInvestigationOfferError", "AssignInvestigationError", "DeclineInvestigationOfferError",
           "RecordInvestigationEventError", "RequestInvestigationError", "ReviewInvestigationError",
           "SetAssessorFirmProfileError", "SubmitSurveyReportError"]

_TRANSITION = "The investigation's state does not allow this step (see InvestigationState); the message names it."
_CALENDAR = ("A deadline falls in a year whose public holidays are not published yet (update chinesecalendar, or "
             "add the year by settings).")
_NOT_ASSIGNED = "Your firm does not hold the live offer of this investigation (or the report names another offer)."
_OFFER = {
    "ALREADY_ACCEPTED": "You accepted this offer already.",
    "OFFER_CLOSED": "The offer is declined, expired or withdrawn.",
}

RequestInvestigationError = mutation_errors("RequestInvestigation", {
    "CLAIM_NOT_OPEN": "The claim is decided or closed: nothing to investigate.",
    "INVESTIGATION_OPEN": "The claim has an open investigation already.",
    "NO_CHECKS": "Name at least one check.",
    "BAD_REGION": "region is no 6-digit GB/T 2260 code.",
    "DUE_DATE_PASSED": "reportDueOn is today or earlier.",
    "CALENDAR_UNKNOWN_YEAR": _CALENDAR,
    "INVALID_TRANSITION": "The claim's state machine refused the move to INVESTIGATING.",
})
AssignInvestigationError = mutation_errors("AssignInvestigation", {
    "FIRM_SUSPENDED": "The firm is not approved in the partner registry (suspended, expired or in review).",
    "FIRM_NOT_QUALIFIED": "The partner is no assessor firm, has no profile, or does not work in the region.",
    "FIRM_FULL": "The firm holds as many investigations as its capacity.",
    "NO_FIRM_AVAILABLE": "Auto-assignment found no approved firm of the region with room.",
    "ALREADY_ASSIGNED": "The investigation is offered to (or worked on by) a firm: name another firm to reassign.",
    "INVALID_TRANSITION": _TRANSITION,
    "CALENDAR_UNKNOWN_YEAR": _CALENDAR,
    "WRONG_PARTNER_KIND": "The partner cannot hold a survey assignment.",
    "PARTNER_NOT_APPROVED": "The partner registry refused the assignment: the firm is not approved.",
})
AcceptInvestigationOfferError = mutation_errors("AcceptInvestigationOffer", {**_OFFER,
                                                                             "CALENDAR_UNKNOWN_YEAR": _CALENDAR})
DeclineInvestigationOfferError = mutation_errors("DeclineInvestigationOffer", _OFFER)
RecordInvestigationEventError = mutation_errors("RecordInvestigationEvent", {
    "NOT_ASSIGNED": _NOT_ASSIGNED,
    "INVALID_TRANSITION": _TRANSITION,
    "DATE_IN_FUTURE": "occurredAt lies in the future.",
    "FINDING_CODE_REQUIRED": "A FINDING names its code (finding).",
    "BAD_FINDING_CODE": "finding is not 2-40 of A-Z, 0-9 and _ starting with a letter.",
    "REQUIRED": "The ledger record lacks a required field.",
})
SubmitSurveyReportError = mutation_errors("SubmitSurveyReport", {
    **REJECT_CODES,
    "NOT_ASSIGNED": _NOT_ASSIGNED,
    "INVALID_TRANSITION": _TRANSITION,
    "LEDGER_NOT_READY": "No AnchorRegistry is deployed yet, so no signing domain exists: retry later.",
})
ReviewInvestigationError = mutation_errors("ReviewInvestigation", {
    "INVALID_TRANSITION": _TRANSITION + " (Or the claim's state machine refused to resume it.)",
    "CALENDAR_UNKNOWN_YEAR": _CALENDAR,
    "REASON_REQUIRED": "The claim's move back to review needs a reason.",
})
ReviewFirmQualificationError = mutation_errors("ReviewFirmQualification", {
    "FIRM_NOT_QUALIFIED": "The partner is not an assessor firm.",
    "LICENCE_REQUIRED": "A renewal of an approved or expired firm records the licence with its new expiry.",
    "BAD_PERIOD": "The licence ends before it starts, or does not run beyond today.",
    "DUPLICATE": "The firm holds a licence with this number already.",
    "REASON_REQUIRED": "A suspension needs its reason code.",
    "INVALID_TRANSITION": "The partner registry does not allow this move (e.g. suspending a firm not approved, "
                          "renewing a rejected one).",
    "MAKER_CHECKER": "You submitted this firm to the registry: another reviewer decides.",
    "NO_VALID_LICENCE": "The firm holds no licence valid today (business date): renew with one.",
})
SetAssessorFirmProfileError = mutation_errors("SetAssessorFirmProfile", {
    "FIRM_NOT_QUALIFIED": "Only an assessor firm has an investigation profile.",
})
