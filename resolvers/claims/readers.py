"""Who may read what in the claims domain, as sets of role names.

One source for two enforcers: the GraphQL schema declares its claim fields with these
sets (``schema/claims.py``), and the reason renderer (``reasons.py``) withholds a reason
parameter from every role outside the set of the field the parameter comes from. So a
risk score is hidden in ``Claim.riskScore`` and in every sentence that could quote it.

Example::

    if role in RISK_READERS:
        ...  # may read risk scores, levels, hints, event actors
"""

from __future__ import annotations

from core.auth import STAFF_ROLES, Role

__all__ = ["ADJUSTERS", "CLAIM_READERS", "DATA_HOLDERS", "REPORTERS", "RISK_READERS", "SIGNED_RECORD_READERS",
           "STAFF"]

#: Internal staff (the same set as ``schema.permissions.STAFF``).
STAFF: frozenset[str] = frozenset(r.value for r in STAFF_ROLES)
#: Everyone who may read a claim they can see (row scoping narrows customers and partners).
CLAIM_READERS: frozenset[str] = STAFF | {Role.CUSTOMER.value, Role.PARTNER.value, Role.AUDITOR.value}
#: Risk scores, levels, hints, rule versions, SLA due times, event actors, duplicate links.
RISK_READERS: frozenset[str] = STAFF | {Role.AUDITOR.value}
#: Who decides claims.
ADJUSTERS: frozenset[str] = frozenset({Role.ADJUSTER.value, Role.MANAGER.value, Role.ADMIN.value})
#: Who reports claims.
REPORTERS: frozenset[str] = frozenset({Role.CUSTOMER.value, Role.AGENT.value, Role.ADJUSTER.value,
                                       Role.MANAGER.value, Role.ADMIN.value})
#: Who enters structured invoice data (customer app, hospital).
DATA_HOLDERS: frozenset[str] = frozenset({Role.CUSTOMER.value, Role.PARTNER.value})
#: Readers of partners' signed records (``SignedRecord`` in ``schema/partners.py``: staff, auditors, the partner).
SIGNED_RECORD_READERS: frozenset[str] = STAFF | {Role.AUDITOR.value, Role.PARTNER.value}
