"""GraphQL enums of the partners domain (the service's enums, exposed under their schema names)."""

from __future__ import annotations

import strawberry

from partners import keys
from partners import models as m

__all__ = ["AssignmentKind", "PartnerKind", "PartnerStatus", "SignerKeyStatus", "WebhookDeliveryStatus"]

PartnerKind = strawberry.enum(m.PartnerKind, name="PartnerKind")
PartnerStatus = strawberry.enum(m.PartnerStatus, name="PartnerStatus", description="Qualification review status.")
AssignmentKind = strawberry.enum(m.AssignmentKind, name="AssignmentKind")
SignerKeyStatus = strawberry.enum(keys.KeyStatus, name="SignerKeyStatus")
WebhookDeliveryStatus = strawberry.enum(m.DeliveryStatus, name="WebhookDeliveryStatus")
