"""GraphQL contract of the payment rail: payee accounts, payment instructions, re-instruction.

The domain's parts for ``schema.build_schema``: its root query and mutation fields and the
node fetchers of its global ids.
"""

from __future__ import annotations

from schema.payments.mutations import PaymentsMutation
from schema.payments.queries import NODES, PaymentsQuery

__all__ = ["NODES", "PaymentsMutation", "PaymentsQuery"]
