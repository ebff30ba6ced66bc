"""GraphQL enums of the investigations domain: the service's enums under their schema names, each value described."""

from __future__ import annotations

from resolvers.investigations import models as m
from resolvers.investigations import qualification as q
from schema.enums import described_enum as _described

__all__ = [
    "FirmQualificationDecision",
    "FirmQualificationState",
    "FirmSuspensionReason",
    "InvestigationCheck",
    "InvestigationDeclineReason",
    "InvestigationEventKind",
    "InvestigationOfferHow",
    "InvestigationOfferState",
    "InvestigationReviewOutcome",
    "InvestigationSla",
    "InvestigationState",
    "InvestigationTrigger",
]




InvestigationState = _described(m.InvestigationState, name="InvestigationState",
                                description="Where an investigation stands.", values={
    "PENDING": "Waiting for a firm: new, or its offer was declined, expired or the firm was reassigned.",
    "ASSIGNED": "Offered to a firm, waiting for its acceptance (acceptDueAt).",
    "IN_PROGRESS": "Accepted: the firm records its trail; first visit and report are due.",
    "REPORTED": "The firm's signed survey report is in; the adjuster reviews it.",
    "COMPLETED": "The report was accepted; the claim went back to review.",
    "REPORT_REJECTED": "The report was rejected; the claim went back to review.",
})
InvestigationTrigger = _described(m.InvestigationTrigger, name="InvestigationTrigger",
                                  description="Who asked for an investigation.", values={
    "ADJUSTER": "An adjuster asked for it.",
    "RISK_RULE": "Risk control sent the claim to investigation (rules: which fired).",
})
InvestigationCheck = _described(m.InvestigationCheck, name="InvestigationCheck",
                                description="What the firm is asked to check.", values={
    "HOSPITAL_VISIT": "Visit the hospital: the stay, the ward, the treating doctor.",
    "MEDICAL_RECORDS": "Compare the medical records with the claim.",
    "BILLING": "Check the bill against the hospital's own records.",
    "IDENTITY": "Confirm that the patient is the insured.",
    "PRIOR_CONDITIONS": "Look for conditions before the policy began.",
    "ACCIDENT_SCENE": "Inspect the place and circumstances of an accident.",
    "OTHER": "Something else: the instructions say what.",
})
InvestigationOfferHow = _described(m.AssignmentHow, name="InvestigationOfferHow",
                                   description="How a firm was chosen for an offer.", values={
    "AUTO": "By auto-assignment: region, free capacity, current load and quality score.",
    "MANUAL": "Named by an adjuster.",
})
InvestigationOfferState = _described(m.AssignmentState, name="InvestigationOfferState",
                                     description="Where an offer to a firm stands.", values={
    "OFFERED": "Waiting for the firm's answer.",
    "ACCEPTED": "The firm accepted and works on it.",
    "DECLINED": "The firm declined (declineReason).",
    "EXPIRED": "Not accepted before acceptDueAt; the investigation went to another firm.",
    "WITHDRAWN": "An adjuster reassigned the investigation to another firm.",
    "DONE": "The firm's report was reviewed (outcome).",
})
InvestigationDeclineReason = _described(m.DeclineReason, name="InvestigationDeclineReason",
                                        description="Why a firm declined an offer.", values={
    "NO_CAPACITY": "No investigator is free in time.",
    "OUT_OF_REGION": "The work lies outside the firm's area.",
    "CONFLICT_OF_INTEREST": "The firm is related to a party of the claim.",
    "LACKS_EXPERTISE": "The checks asked need expertise the firm lacks.",
    "OTHER": "Another reason.",
})
InvestigationEventKind = _described(m.EventKind, name="InvestigationEventKind",
                                    description="What an investigator's trail event records.", values={
    "VISIT": "A visit in person (the first one meets the first-visit SLA).",
    "CALL": "A telephone or video call.",
    "DOCUMENT": "A document obtained or inspected.",
    "FINDING": "A finding, named by its code.",
})
InvestigationReviewOutcome = _described(m.ReviewOutcome, name="InvestigationReviewOutcome",
                                        description="The adjuster's review of a survey report.", values={
    "ACCEPTED": "The report stands; the claim goes back to review.",
    "MORE_REQUESTED": "The firm must add to it and report again (a new report due time).",
    "REJECTED": "The report is unusable; the claim goes back to review.",
})
InvestigationSla = _described(m.SlaKind, name="InvestigationSla",
                              description="The deadlines of an investigation (on the business-day calendar).", values={
    "ACCEPTANCE": "An offer is accepted within business hours of being made.",
    "FIRST_VISIT": "The first visit happens within business days of acceptance.",
    "REPORT": "The signed report is in by the report due time.",
})
FirmQualificationState = _described(q.QualificationState, name="FirmQualificationState",
                                    description="An assessor firm's qualification as claims managers see it.", values={
    "APPROVED": "Approved in the partner registry; its licence runs beyond the review window.",
    "DUE_FOR_REVIEW": "Approved, but its licence ends within the review window (dueWithinDays): renew or let it lapse.",
    "PENDING_REVIEW": "Submitted or in review in the partner registry: not approved yet, gets no work.",
    "EXPIRED": "No licence valid today (expired in the registry, or about to be by the nightly job): gets no work.",
    "SUSPENDED": "Suspended in the partner registry: gets no new work.",
    "REJECTED": "Rejected in the partner registry (onboarding resubmits it).",
})
FirmQualificationDecision = _described(q.QualificationDecision, name="FirmQualificationDecision",
                                       description="A claims manager's decision on a firm's qualification.", values={
    "RENEW": "Record the renewed licence (the new expiry) and approve the firm: an approved firm stays approved, "
             "a submitted, in-review or suspended one is approved, an expired one is resubmitted for a second "
             "reviewer (maker-checker).",
    "SUSPEND": "Suspend an approved firm (with a reason code): it gets no new assignments.",
})
FirmSuspensionReason = _described(q.SuspensionReason, name="FirmSuspensionReason",
                                  description="Why a firm is suspended.", values={
    "QUALITY_BELOW_STANDARD": "Its report quality or review outcomes fell below standard.",
    "SLA_BREACHES": "It missed acceptance, visit or report deadlines repeatedly.",
    "LICENCE_PROBLEM": "Its licence is in doubt (revoked, under investigation, not renewed).",
    "MISCONDUCT": "Misconduct by the firm or its investigators.",
    "QUALIFICATION_LAPSED": "Its periodic qualification review was not passed in time.",
    "OTHER": "Another reason, recorded outside Opsure.",
})
