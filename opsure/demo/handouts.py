"""What the demo hands a newcomer: ``<data_dir>/demo/partners.json`` and ``showcase.json``.

``partners.json`` holds demo credentials: each partner's OAuth client id and secret and its
signer's private key, so the walk-through can log in as the hospital or sign as the
assessor firm. ``showcase.json`` names the showcase claims (global id, number, state,
customer) and the signed records, so commands can pick them with ``jq``. Both are created
once, mode 0600, never overwritten (:func:`core.keyfiles.secret_file`); their presence means
the demo was loaded into this data directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.keyfiles import secret_file
from opsure.demo.claims import ClaimsLoaded
from opsure.demo.partners import DemoPartner
from partners.eip712 import Domain
from schema.relay import encode_global_id

__all__ = ["Handouts", "demo_dir", "partner_handout", "showcase_handout", "write_handouts"]

WARNING = ("Demo credentials written by `opsure demo`: whoever reads this file (or knows the seed) can act as "
           "these partners. Never use them outside a demo.")


def demo_dir(data_dir: Path) -> Path:
    """Where the demo's handouts live."""
    return data_dir / "demo"


@dataclass(frozen=True)
class Handouts:
    """The two documents, ready to write."""

    partners: dict[str, Any]
    showcase: dict[str, Any]


def partner_handout(partners: dict[str, DemoPartner], domain: Domain, seed: int) -> dict[str, Any]:
    """Credentials and keys of every demo partner, by walk-through role."""
    return {
        "warning": WARNING,
        "seed": seed,
        "signingDomain": domain.as_dict(),
        "partners": {
            role: {
                "id": encode_global_id("Partner", p.partner.id), "code": p.partner.code, "name": p.partner.name,
                "kind": p.partner.kind.value, "status": p.partner.status.value,
                "clientId": p.client_id, "clientSecret": p.client_secret,
                "signerAddress": p.signer.address if p.signer else None,
                "signerPrivateKey": "0x" + bytes(p.signer.key).hex() if p.signer else None,
            }
            for role, p in partners.items()
        },
    }


def showcase_handout(claims: ClaimsLoaded) -> dict[str, Any]:
    """The showcase claims and signed records by scenario."""
    return {
        "claims": {
            name: {"id": encode_global_id("Claim", c.id), "number": c.number, "state": c.state.value,
                   "channel": c.channel.value, "customerId": c.customer_id}
            for name, c in claims.showcase.items()
        },
        "signedRecords": {
            name: {"id": encode_global_id("SignedRecord", r.id), "primaryType": r.primary_type,
                   "commitment": r.commitment}
            for name, r in claims.signed.items()
        },
    }


def write_handouts(data_dir: Path, handouts: Handouts) -> tuple[Path, Path]:
    """Write both files (0600, once); returns their paths."""
    target = demo_dir(data_dir)
    written = []
    for name, content in (("partners.json", handouts.partners), ("showcase.json", handouts.showcase)):
        path = target / name
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        secret_file(path, make=lambda text=text: text)  # type: ignore[misc]
        written.append(path)
    return written[0], written[1]
