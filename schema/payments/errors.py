"""Error types of the rail's mutations: ``<Mutation>Error`` with its own ``<Mutation>ErrorCode`` enum."""

from __future__ import annotations

from schema.errors import mutation_errors

__all__ = ["RegisterPayeeAccountError", "ReinstructPaymentError", "RequeuePaymentReturnHoldError"]

RegisterPayeeAccountError = mutation_errors("RegisterPayeeAccount", {
    "BAD_BANK_CODE": "bankCode is not 3-12 capital letters or digits.",
    "BAD_ACCOUNT_NUMBER": "accountNumber is not 8-30 digits (spaces and dashes are ignored).",
    "BAD_HOLDER_NAME": "holderName is empty, longer than 100 characters, or holds | or a line end.",
})
ReinstructPaymentError = mutation_errors("ReinstructPayment", {
    "NOT_RETURNED": "Only an instruction the bank returned (FAILED) is instructed again.",
    "ALREADY_INSTRUCTED": "The payment was instructed again already (by another idempotency key).",
    "NO_PAYEE_ACCOUNT": "The payee has no bank account on file.",
    "IDEMPOTENCY_KEY_REUSED": "The idempotency key instructed another payment.",
})
RequeuePaymentReturnHoldError = mutation_errors("RequeuePaymentReturnHold", {
    "INVALID_TRANSITION": "Only a DEAD_LETTER line is requeued (a retrying or applied one is left alone).",
})
