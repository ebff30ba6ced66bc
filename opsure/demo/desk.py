"""The claims desk: each step of a claim as its actor takes it, at a demo-clock instant, audited.

Customers report, upload and submit; the adjuster decides, moves, pays and assigns partners;
partners sign records with their demo keys and submit them. Each step calls the service the
matching mutation or route calls and leaves the audit entry that mutation would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import business_date
from core.settings import Settings
from opsure.demo.actors import ADJUSTER, audit, customer_principal
from opsure.demo.clock import DemoClock
from opsure.demo.files import seal
from opsure.demo.partners import DemoPartner
from opsure.demo.payments import ensure_account
from opsure.demo.signing import sign
from partners import assignments, ledger_seam, signed_records
from partners.eip712 import Domain
from partners.models import AssignmentKind, SignedRecord
from partners.risk import ConsortiumKey
from resolvers.claims import documents, payments, service
from resolvers.claims.models import Claim, ClaimChannel, ClaimDocument, ClaimState, DocumentKind
from resolvers.claims.service import LineItemSpec
from resolvers.claims.storage import Storage
from resolvers.policies.models import Policy
from schema.relay import encode_global_id

__all__ = ["DemoDesk"]

#: Minute past 10:00 each kind of document is uploaded on its day (after the report at 10:05, before
#: the submission at 10:30), so a timeline lists them in a readable order.
UPLOAD_MINUTE = {DocumentKind.ID_CARD: 12, DocumentKind.INVOICE: 20, DocumentKind.DISCHARGE_SUMMARY: 22}



@dataclass
class DemoDesk:
    """Runs claim steps as their actors, at demo-clock instants, each with its audit entry."""

    session: Session
    clock: DemoClock
    settings: Settings
    storage: Storage
    consortium: ConsortiumKey

    def _gid(self, claim: Claim) -> str:
        return encode_global_id("Claim", claim.id)

    def report(self, policy: Policy, *, event_days_ago: int, stay_days: int, reported_days_ago: int, hospital: str,
               diagnosis: str, items: Sequence[LineItemSpec]) -> Claim:
        """The policy's customer reports a claim in the app, with the invoice lines."""
        principal = customer_principal(policy.customer_id)
        ensure_account(self.session, policy.customer_id)  # the account the claim will be paid into
        admission = self.clock.day(event_days_ago)
        at = self.clock.at(reported_days_ago, 10, 5)
        claim = service.report_claim(
            self.session, principal=principal, policy_id=policy.id, event_date=admission, admission_date=admission,
            discharge_date=admission + dt.timedelta(days=stay_days), hospital=hospital, diagnosis_code=diagnosis,
            claimed_amount=sum((i.amount for i in items), Decimal(0)), channel=ClaimChannel.APP, items=items,
            today=business_date(at), now=at)
        audit(self.session, principal, "reportClaim", {"policyId": encode_global_id("Policy", policy.id),
                                                       "items": len(items)}, target=self._gid(claim))
        return claim

    def upload(self, claim: Claim, kind: DocumentKind, filename: str, data: bytes, *, days_ago: int,
               principal: Principal | None = None) -> ClaimDocument:
        """Upload a document as the upload route does: sniffed, sealed, attached (medical: a ledger record)."""
        who = principal or customer_principal(claim.customer_id)
        content_type = documents.sniff(data[: documents.SNIFF_BYTES],
                                      documents.UploadLimits.from_extra(self.settings.extra))
        stored = seal(self.storage, data)
        doc = documents.attach_document(self.session, principal=who, claim_id=claim.id, kind=kind, filename=filename,
                                        content_type=content_type, stored=stored,
                                        now=self.clock.at(days_ago, 10, UPLOAD_MINUTE.get(kind, 25)))
        audit(self.session, who, "uploadClaimDocument", {"claimId": claim.id, "sha256": stored.sha256},
              target=encode_global_id("ClaimDocument", doc.id))
        return doc

    def submit(self, claim: Claim, *, days_ago: int) -> Claim:
        """The customer submits: risk control (shared flags included), then fast claim or a queue."""
        principal = customer_principal(claim.customer_id)
        at = self.clock.at(days_ago, 10, 30)
        claim = service.submit_claim(self.session, principal=principal, claim_id=claim.id, expected_version=None,
                                     today=business_date(at), now=at, extra=self.settings.extra,
                                     consortium=self.consortium)
        audit(self.session, principal, "submitClaim", {"claimId": self._gid(claim)}, target=self._gid(claim))
        return claim

    def adjudicate(self, claim: Claim, *, days_ago: int, note: str) -> Claim:
        """The adjuster runs the benefit calculation and decides."""
        claim = service.adjudicate_claim(self.session, principal=ADJUSTER, claim_id=claim.id, expected_version=None,
                                         now=self.clock.at(days_ago, 14), note=note)
        audit(self.session, ADJUSTER, "adjudicateClaim", {"claimId": self._gid(claim), "note": note},
              target=self._gid(claim))
        return claim

    def move(self, claim: Claim, to: ClaimState, *, days_ago: int, reason: str) -> Claim:
        """The adjuster moves the claim by hand, with a reason."""
        claim = service.transition_claim(self.session, principal=ADJUSTER, claim_id=claim.id, to=to, reason=reason,
                                         expected_version=None, now=self.clock.at(days_ago, 15))
        audit(self.session, ADJUSTER, "transitionClaim", {"claimId": self._gid(claim), "to": to.value,
                                                          "reason": reason}, target=self._gid(claim))
        return claim

    def pay(self, claim: Claim, *, days_ago: int) -> None:
        """The adjuster pays an approved claim (idempotency key named after the claim)."""
        key = f"demo-pay-{claim.number}"
        payments.pay_claim(self.session, principal=ADJUSTER, claim_id=claim.id, idempotency_key=key,
                           now=self.clock.at(days_ago, 16))
        audit(self.session, ADJUSTER, "payClaim", {"claimId": self._gid(claim), "idempotencyKey": key},
              target=self._gid(claim))

    def assign(self, partner: DemoPartner, kind: AssignmentKind, case_reference: str, *, days_ago: int,
               investigation_id: int | None = None) -> None:
        """The adjuster assigns a partner to a case."""
        row = assignments.create_assignment(
            self.session, principal=ADJUSTER, partner_id=partner.partner.id, kind=kind, case_reference=case_reference,
            investigation_id=investigation_id, now=self.clock.at(days_ago, 11))
        audit(self.session, ADJUSTER, "createAssignment", {"partnerId": encode_global_id("Partner", row.partner_id),
                                                           "kind": kind.value, "caseReference": case_reference},
              target=encode_global_id("Assignment", row.id))

    def _verified(self, partner: DemoPartner, primary_type: str, message: dict[str, object],
                  at: dt.datetime) -> SignedRecord:
        assert partner.signer is not None
        domain = self.domain()
        payload, signature = sign(partner.signer, primary_type, message, domain)
        return signed_records.submit_signed_record(self.session, principal=partner.principal, domain=domain,
                                                   typed_data=payload, signature=signature, now=at)

    def signed(self, partner: DemoPartner, primary_type: str, message: dict[str, object], *,
               at: dt.datetime) -> SignedRecord:
        """The partner signs ``message`` with its key and submits it (verified, stored, committed)."""
        row = self._verified(partner, primary_type, message, at)
        audit(self.session, partner.principal, "submitSignedRecord", {"primaryType": primary_type,
                                                                      "digest": row.digest},
              target=encode_global_id("SignedRecord", row.id))
        return row

    def direct_bill(self, hospital: DemoPartner, message: dict[str, object], items: Sequence[LineItemSpec], *,
                    admission: dt.date, discharge: dt.date, diagnosis: str, at: dt.datetime) -> Claim:
        """The hospital signs its bill and submits it: the claim is created, assessed and settled with it."""
        claim = service.direct_bill(
            self.session, principal=hospital.principal, message=message,
            verify=lambda: self._verified(hospital, "HospitalBill", message, at), admission_date=admission,
            discharge_date=discharge, diagnosis_code=diagnosis, items=items, today=business_date(at), now=at,
            extra=self.settings.extra, consortium=self.consortium)
        audit(self.session, hospital.principal, "submitDirectBill", {"caseReference": message["caseReference"]},
              target=self._gid(claim))
        return claim

    def domain(self) -> Domain:
        """The EIP-712 domain partners sign for (the deployed AnchorRegistry's)."""
        return ledger_seam.signing_domain(self.session, self.settings)
