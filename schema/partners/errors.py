"""The error type of every partners mutation: ``<Mutation>Error`` with its own ``<Mutation>ErrorCode`` enum.

Each mutation lists exactly the codes its services can refuse with (plus the codes every
mutation can get, ``schema.errors.COMMON_CODES``). Signed records are refused with the codes of
``partners.errors.RejectCode``, described here once.
"""

from __future__ import annotations

from schema.errors import mutation_errors

__all__ = [
    "AddPartnerDocumentError",
    "AddPartnerLicenceError",
    "ApprovePartnerError",
    "CreateAssignmentError",
    "CreatePartnerClientError",
    "DeactivateWebhookEndpointError",
    "PublishRiskFlagError",
    "RegisterPartnerError",
    "RegisterSignerKeyError",
    "RegisterWebhookEndpointError",
    "RejectPartnerError",
    "ResubmitPartnerError",
    "RevokePartnerClientError",
    "RevokeSignerKeyError",
    "RotateSignerKeyError",
    "StartPartnerReviewError",
    "SubmitSignedRecordError",
    "SubmitSignedRecordsError",
    "SuspendPartnerError",
]

#: Why a signed record is refused (the checks run in this order; the first failing one answers).
REJECT_CODES: dict[str, str] = {
    "MALFORMED": "The typed data or signature does not have the published shape (types, fields, "
                          "values, 65-byte signature); `field` points into typedData.",
    "WRONG_DOMAIN": "The domain's name or version is not partnerSigningDomain's.",
    "WRONG_CHAIN": "Signed for another chainId than partnerSigningDomain's.",
    "WRONG_CONTRACT": "Signed for another verifyingContract than partnerSigningDomain's.",
    "HIGH_S": "A malleable signature (s in the upper half of the curve order): sign again (ethers and "
                       "eth-account always give low-s).",
    "DEADLINE_PASSED": "The message's deadline has passed.",
    "NOT_ASSIGNED": "The partner is not (or no longer) assigned to this case or investigation.",
    "WRONG_SIGNER": "The signature does not recover to the signer the message names, or that address "
                             "is not a signer key of the submitting partner.",
    "KEY_REVOKED": "The signer key is revoked.",
    "KEY_NOT_YET_VALID": "The signer key's validity has not started.",
    "KEY_EXPIRED": "The signer key's validity has ended (e.g. after a rotation).",
    "NONCE_REUSED": "The signer used this nonce before (a replay, or a nonce reused by mistake).",
    "PARTNER_NOT_APPROVED": "The submitting partner is not approved (submitted, suspended, expired...).",
}

_INVALID_TRANSITION = "The partner's status does not allow this step (see PartnerStatus)."
_MAKER_CHECKER = "Maker-checker: the partner's submitter may not review it."
_BAD_PERIOD = "A validity period ends before it starts (or a time lies on the wrong side of now)."
_DUPLICATE = "It exists already (the message says what)."
_BAD_ADDRESS = "Not an EVM address (0x + 40 hex characters), or the zero address."
_DUPLICATE_KEY = "This address is a signer key already (of this or another partner)."
_ALREADY_REVOKED = "It is revoked already."

RegisterPartnerError = mutation_errors("RegisterPartner", {
    "BAD_CODE": "The code is not 2-40 of A-Z, 0-9 and '-'.",
    "DUPLICATE": "A partner has this code already, or a licence number is given twice.",
    "BAD_PERIOD": "A licence ends before it starts.",
    "TOO_MANY": "More than 20 licences or 50 documents.",
})
AddPartnerLicenceError = mutation_errors("AddPartnerLicence", {
    "BAD_PERIOD": "The licence ends before it starts.",
    "DUPLICATE": "The partner holds a licence with this number already.",
})
AddPartnerDocumentError = mutation_errors("AddPartnerDocument")
StartPartnerReviewError = mutation_errors("StartPartnerReview", {
    "MAKER_CHECKER": _MAKER_CHECKER, "INVALID_TRANSITION": _INVALID_TRANSITION})
ApprovePartnerError = mutation_errors("ApprovePartner", {
    "MAKER_CHECKER": _MAKER_CHECKER, "INVALID_TRANSITION": _INVALID_TRANSITION,
    "NO_VALID_LICENCE": "The partner holds no licence valid today (business date): add one first."})
RejectPartnerError = mutation_errors("RejectPartner", {
    "MAKER_CHECKER": _MAKER_CHECKER, "INVALID_TRANSITION": _INVALID_TRANSITION})
SuspendPartnerError = mutation_errors("SuspendPartner", {"INVALID_TRANSITION": _INVALID_TRANSITION})
ResubmitPartnerError = mutation_errors("ResubmitPartner", {"INVALID_TRANSITION": _INVALID_TRANSITION})

RegisterSignerKeyError = mutation_errors("RegisterSignerKey", {
    "BAD_ADDRESS": _BAD_ADDRESS, "DUPLICATE_KEY": _DUPLICATE_KEY,
    "BAD_PERIOD": "validUntil is not after validFrom."})
RotateSignerKeyError = mutation_errors("RotateSignerKey", {
    "BAD_ADDRESS": _BAD_ADDRESS, "DUPLICATE_KEY": _DUPLICATE_KEY,
    "KEY_NOT_LIVE": "Only a live key (not revoked, not expired) can be rotated.",
    "BAD_PERIOD": "oldValidUntil lies in the past: revoke the key instead."})
RevokeSignerKeyError = mutation_errors("RevokeSignerKey", {
    "ALREADY_REVOKED": _ALREADY_REVOKED, "BAD_PERIOD": "effectiveAt lies in the future."})

CreatePartnerClientError = mutation_errors("CreatePartnerClient")
RevokePartnerClientError = mutation_errors("RevokePartnerClient", {"ALREADY_REVOKED": _ALREADY_REVOKED})

CreateAssignmentError = mutation_errors("CreateAssignment", {
    "PARTNER_NOT_APPROVED": "Only an approved partner can be assigned.",
    "WRONG_PARTNER_KIND": "The partner's kind does not do this work (surveys: assessor firms; hospital bills: "
                          "hospitals; credit reports: credit providers).",
    "DUPLICATE": "This investigation is assigned already."})

_LEDGER_NOT_READY = {"LEDGER_NOT_READY": "No AnchorRegistry is deployed yet, so no signing domain exists: retry "
                                        "once the ledger is up (partnerSigningDomain answers then)."}
SubmitSignedRecordError = mutation_errors("SubmitSignedRecord", {**REJECT_CODES, **_LEDGER_NOT_READY})
SubmitSignedRecordsError = mutation_errors("SubmitSignedRecords", {
    **REJECT_CODES, **_LEDGER_NOT_READY, "TOO_MANY": "More than 100 records in one call."})

PublishRiskFlagError = mutation_errors("PublishRiskFlag", {
    "PARTNER_NOT_APPROVED": "The publishing insurer is not approved.",
    "BAD_BLINDED_ID": "The blinded id is not 64 hex characters.",
    "BAD_FLAG_CODE": "The flag code is not 2-40 of A-Z, 0-9 and _.",
    "DUPLICATE": "You published this flag code on this blinded id already."})

RegisterWebhookEndpointError = mutation_errors("RegisterWebhookEndpoint", {
    "BAD_URL": "Not an https URL on a public host (no credentials, no private or reserved address).",
    "TOO_MANY": "The partner has 10 active endpoints already."})
DeactivateWebhookEndpointError = mutation_errors("DeactivateWebhookEndpoint")
