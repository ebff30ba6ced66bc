"""GraphQL enums of the partners domain (the service's enums, exposed under their schema names).

Risk levels are the claims domain's ``RiskLevel`` (the same three levels, the same spelling).
"""

from __future__ import annotations

import enum

from partners import keys
from partners import models as m
from schema.claims.enums import RiskLevel
from schema.enums import described_enum as _described

__all__ = [
    "AssignmentKind",
    "PartnerDocumentKind",
    "PartnerKind",
    "PartnerStatus",
    "RiskLevel",
    "SignedRecordType",
    "SignerKeyStatus",
    "WebhookDeliveryStatus",
    "WebhookEvent",
    "WebhookFailure",
]

E = type[enum.Enum]




PartnerKind = _described(m.PartnerKind, "PartnerKind", "What a partner does for Opsure.", {
    "INSURER": "A partner insurer: shares risk flags with the consortium.",
    "ASSESSOR_FIRM": "An assessor firm: answers survey assignments with signed SurveyReport records.",
    "HOSPITAL": "A hospital: answers hospital-bill assignments with signed HospitalBill records (direct billing).",
    "CREDIT_PROVIDER": "A credit bureau: answers credit-report assignments with signed CreditReport records.",
})

PartnerStatus = _described(m.PartnerStatus, "PartnerStatus", (
    "Qualification review status: SUBMITTED -> REVIEWING -> APPROVED | REJECTED; an approved partner may be "
    "SUSPENDED or become EXPIRED; REJECTED and EXPIRED may be resubmitted."), {
    "SUBMITTED": "Registered (or resubmitted) and waiting for a reviewer.",
    "REVIEWING": "A reviewer (never its submitter) is checking the qualification.",
    "APPROVED": "May sign records, log in with client credentials and be assigned; its signer keys hold "
                "PARTNER_ROLE on chain.",
    "REJECTED": "Refused by a reviewer (see statusReason); may be resubmitted.",
    "SUSPENDED": "Stopped by a manager; its keys lost PARTNER_ROLE on chain; may be reviewed again.",
    "EXPIRED": "No licence valid today any more (checked daily, business time zone); may be resubmitted.",
})

AssignmentKind = _described(m.AssignmentKind, "AssignmentKind",
                            "The work a partner is assigned to, and the signed record type it answers with.", {
    "SURVEY": "An on-site survey of one investigation (an assessor firm; answered by a SurveyReport).",
    "HOSPITAL_BILL": "A hospital stay billed directly (a hospital; answered by a HospitalBill).",
    "CREDIT_REPORT": "A credit report for an advance payment (a credit bureau; answered by a CreditReport).",
})

SignedRecordType = _described(m.SignedRecordType, "SignedRecordType", (
    "The EIP-712 record types partners sign. The primaryType string signed is the type's name in "
    "partnerSigningDomain.types (SurveyReport, HospitalBill, CreditReport)."), {
    "SURVEY_REPORT": "primaryType SurveyReport: an assessor's findings on one investigation.",
    "HOSPITAL_BILL": "primaryType HospitalBill: a hospital's bill for one case.",
    "CREDIT_REPORT": "primaryType CreditReport: a credit bureau's report on one case.",
})

PartnerDocumentKind = _described(m.PartnerDocumentKind, "PartnerDocumentKind",
                                 "What a qualification document is.", {
    "BUSINESS_LICENCE": "The business licence (营业执照).",
    "PRACTICE_LICENCE": "The licence to practise: medical institution, assessor or credit-reporting licence.",
    "QUALIFICATION_CERTIFICATE": "A qualification or accreditation certificate.",
    "AUTHORISATION_LETTER": "A letter authorising the people who act for the partner.",
    "COOPERATION_AGREEMENT": "The signed cooperation agreement with the insurer.",
    "OTHER": "Anything else (its name says what); also documents recorded before kinds were a closed set.",
})

SignerKeyStatus = _described(keys.KeyStatus, "SignerKeyStatus",
                             "A signer key's status at one instant (revocation first, then the validity window).", {
    "ACTIVE": "Inside its validity window and not revoked: records it signs are accepted.",
    "NOT_YET_VALID": "Its validFrom is still ahead.",
    "EXPIRED": "Its validUntil has passed (e.g. the old key of a rotation).",
    "REVOKED": "Revoked (from revokedAt on); records it signed before stay valid.",
})

WebhookDeliveryStatus = _described(m.DeliveryStatus, "WebhookDeliveryStatus", "A webhook delivery's lifecycle.", {
    "PENDING": "Not delivered yet; tried again at nextAttemptAt (exponential backoff).",
    "DELIVERED": "The endpoint answered 2xx.",
    "FAILED": "Given up after the last attempt, or the endpoint was deactivated.",
})

WebhookEvent = _described(m.WebhookEvent, "WebhookEvent", (
    "What a webhook tells a partner. The delivered JSON body's `event` carries the value in brackets."), {
    "ASSIGNMENT_CREATED": "(assignment.created) Staff assigned the partner to a case.",
    "RECORD_ANCHORED": "(record.anchored) One of the partner's signed records is anchored on chain; its proof "
                       "is final.",
    "FLAG_MATCHED": "(flag.matched) Another insurer flagged a blinded id this partner flagged too.",
})

WebhookFailure = _described(m.WebhookFailure, "WebhookFailure",
                            "Why a delivery attempt failed, as the partner sees it (the detail is staff-only).", {
    "HTTP_STATUS": "The endpoint answered with a status other than 2xx (see lastStatusCode).",
    "DELIVERY_FAILED": "No answer: address refused, connection, TLS or timeout (all alike to partners).",
    "ENDPOINT_DEACTIVATED": "The endpoint was deactivated before the delivery succeeded.",
})
