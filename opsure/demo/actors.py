"""Who acts in the demo, and the audit entry each action leaves (as the GraphQL mutation would).

Staff are fixed demo principals; customers and partner clients act as themselves. Every
action the demo takes through a service is written to the hash-chained audit log under
the name of the mutation a client would have called, so the audit log tells the same story
as the data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.audit import append_audit, digest_input
from core.auth import Principal, Role

__all__ = ["ADJUSTER", "CHECKER", "MAKER", "SYSTEM", "audit", "customer_principal", "partner_principal"]

#: Sells policies and loads the customer base.
SYSTEM = Principal(subject="demo-loader", role=Role.ADMIN)
#: Registers partners (the maker of maker-checker).
MAKER = Principal(subject="demo:agent-wang", role=Role.AGENT)
#: Reviews and approves partners, issues their keys and client credentials (the checker).
CHECKER = Principal(subject="demo:manager-zhao", role=Role.MANAGER)
#: Decides claims, assigns assessors and hospitals.
ADJUSTER = Principal(subject="demo:adjuster-chen", role=Role.ADJUSTER)


def customer_principal(customer_id: int) -> Principal:
    """A customer acting in the app (as a customer token would name them)."""
    return Principal(subject=f"customer-{customer_id}", role=Role.CUSTOMER, customer_id=customer_id)


def partner_principal(partner_id: int, client_id: str) -> Principal:
    """A partner system logged in with its client credentials (as ``/oauth/token`` names it)."""
    return Principal(subject=f"partner-client:{client_id}", role=Role.PARTNER, partner_id=partner_id,
                     client_id=client_id)


def audit(session: Session, principal: Principal, action: str, payload: Any, target: str | None = None) -> None:
    """Append the audit entry of one demo action (keyed digest of its input)."""
    append_audit(session, actor=principal.subject, role=principal.role.value if principal.role else None,
                 action=action, input_digest=digest_input(payload), target=target)
