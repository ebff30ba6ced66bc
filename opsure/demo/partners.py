"""Demo partners of every kind, taken through the real maker-checker review.

An agent registers each partner with a licence and a qualification document; a manager
(not the registrar) reviews it. Four end approved, each with a signer key derived from the
seed and OAuth client credentials; one hospital is rejected and one assessor firm is
suspended after approval, so every review state a newcomer meets is there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from sqlalchemy.orm import Session

from core.auth import Principal
from opsure.demo.actors import CHECKER, MAKER, audit, partner_principal
from opsure.demo.clock import DemoClock
from opsure.demo.files import pdf
from opsure.demo.signing import demo_signer
from partners import credentials, keys, review
from partners import service as registry
from partners.models import Partner, PartnerKind, PartnerStatus
from schema.relay import encode_global_id

__all__ = ["PARTNER_SPECS", "DemoPartner", "PartnerSpec", "load_partners"]


@dataclass(frozen=True)
class PartnerSpec:
    """A demo partner: its role in the walk-through, registry data and how its review ends."""

    role: str
    code: str
    name: str
    kind: PartnerKind
    fate: PartnerStatus  # APPROVED, REJECTED or SUSPENDED


PARTNER_SPECS: tuple[PartnerSpec, ...] = (
    PartnerSpec("insurer", "DEMO-INSURER", "演示安和健康保险", PartnerKind.INSURER, PartnerStatus.APPROVED),
    PartnerSpec("assessorFirm", "DEMO-ASSESSOR", "演示明鉴保险公估", PartnerKind.ASSESSOR_FIRM,
                PartnerStatus.APPROVED),
    PartnerSpec("hospital", "DEMO-HOSPITAL", "演示西湖医院", PartnerKind.HOSPITAL, PartnerStatus.APPROVED),
    PartnerSpec("creditProvider", "DEMO-CREDIT", "演示信达征信", PartnerKind.CREDIT_PROVIDER,
                PartnerStatus.APPROVED),
    PartnerSpec("rejectedHospital", "DEMO-HOSPITAL-2", "演示城东民营医院", PartnerKind.HOSPITAL,
                PartnerStatus.REJECTED),
    PartnerSpec("suspendedAssessor", "DEMO-ASSESSOR-2", "演示远航保险公估", PartnerKind.ASSESSOR_FIRM,
                PartnerStatus.SUSPENDED),
)


@dataclass(frozen=True)
class DemoPartner:
    """A loaded demo partner, its signer account and (approved ones) its client credentials."""

    spec: PartnerSpec
    partner: Partner
    signer: LocalAccount | None
    client_id: str | None
    client_secret: str | None

    @property
    def principal(self) -> Principal:
        """The partner's system, logged in with its client credentials."""
        if self.client_id is None:
            raise ValueError(f"{self.spec.code} has no client credentials")
        return partner_principal(self.partner.id, self.client_id)


def _gid(partner: Partner) -> str:
    return encode_global_id("Partner", partner.id)


def _register(session: Session, spec: PartnerSpec, clock: DemoClock, n: int) -> Partner:
    at = clock.at(60, 10, n)
    proof = pdf(f"{spec.code} business licence", [spec.kind.value, f"licence NFRA-DEMO-{n:04d}"])
    partner = registry.register_partner(
        session, principal=MAKER, code=spec.code, name=spec.name, kind=spec.kind, now=at,
        licences=[registry.LicenceSpec(f"NFRA-DEMO-{n:04d}", "演示国家金融监督管理总局", clock.day(400),
                                       clock.today + dt.timedelta(days=3 * 365))],
        documents=[registry.DocumentSpec("business_licence", f"{spec.code.lower()}-licence.pdf",
                                         hashlib.sha256(proof).hexdigest(), len(proof))],
    )
    audit(session, MAKER, "registerPartner", {"code": spec.code, "kind": spec.kind.value}, target=_gid(partner))
    return partner


def _review(session: Session, partner: Partner, spec: PartnerSpec, clock: DemoClock) -> None:
    review.start_review(session, principal=CHECKER, partner_id=partner.id, now=clock.at(58, 11))
    if spec.fate is PartnerStatus.REJECTED:
        review.reject(session, principal=CHECKER, partner_id=partner.id, now=clock.at(57, 15),
                      reason="the licence number is not in the regulator's register")
        return
    review.approve(session, principal=CHECKER, partner_id=partner.id, now=clock.at(57, 15),
                   note="licence checked against the regulator's register")


def _key(session: Session, partner: Partner, spec: PartnerSpec, clock: DemoClock, seed: int) -> LocalAccount:
    signer = demo_signer(seed, spec.code)
    key = keys.register_key(session, principal=CHECKER, partner_id=partner.id, address=signer.address,
                            now=clock.at(57, 16))
    audit(session, CHECKER, "registerSignerKey", {"partnerId": _gid(partner), "address": key.address},
          target=encode_global_id("SignerKey", key.id))
    return signer


def _client(session: Session, partner: Partner, spec: PartnerSpec, clock: DemoClock) -> tuple[str, str]:
    client, secret = credentials.create_client(session, principal=CHECKER, partner_id=partner.id,
                                               label=f"{spec.code.lower()} claims system", now=clock.at(57, 16))
    audit(session, CHECKER, "createPartnerClient", {"partnerId": _gid(partner), "label": client.label},
          target=_gid(partner))
    return client.client_id, secret


def load_partners(session: Session, clock: DemoClock, *, seed: int) -> dict[str, DemoPartner]:
    """Register and review every demo partner (fixed; their keys follow ``seed``); returns them by role."""
    loaded: dict[str, DemoPartner] = {}
    for n, spec in enumerate(PARTNER_SPECS, start=1):
        partner = _register(session, spec, clock, n)
        _review(session, partner, spec, clock)
        signer = _key(session, partner, spec, clock, seed) if spec.fate is not PartnerStatus.REJECTED else None
        client_id = secret = None
        if spec.fate is PartnerStatus.APPROVED:
            client_id, secret = _client(session, partner, spec, clock)
        if spec.fate is PartnerStatus.SUSPENDED:  # approved, signed for a while, then suspended
            review.suspend(session, principal=CHECKER, partner_id=partner.id, now=clock.at(20, 14),
                           reason="licence under the regulator's investigation")
        loaded[spec.role] = DemoPartner(spec, partner, signer, client_id, secret)
    return loaded
