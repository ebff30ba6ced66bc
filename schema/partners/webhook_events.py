"""Webhook payloads as types: one per event, the union ``WebhookEventData``.

A delivery's ``data`` holds the same fields as the JSON body POSTed to the endpoint (the body
carries enum values as their wire strings: ``survey``, ``SurveyReport``, ``high``). Row ids are
global ids, as ``node(id:)`` takes them (payloads queued before they were may hold integers).
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from core.roles import PARTNER_SELF_SERVICE
from partners import models as m
from partners.webhooks import node_id
from schema.partners.enums import AssignmentKind, RiskLevel, SignedRecordType
from schema.permissions import access

__all__ = ["AssignmentCreatedData", "FlagMatchedData", "RecordAnchoredData", "WebhookEventData", "event_data_of"]


@strawberry.type(description="Payload of assignment.created: staff assigned the partner to a case.")
@access(PARTNER_SELF_SERVICE)
class AssignmentCreatedData:
    assignment_id: strawberry.ID = strawberry.field(description="The Assignment's global id.")
    kind: AssignmentKind = strawberry.field(description="The work assigned.")  # type: ignore[valid-type]
    case_reference: str = strawberry.field(description="The case to put in the signed message's caseReference.")
    investigation_id: str | None = strawberry.field(
        description="Surveys only: the investigation (uint256 as a decimal string; a JSON number in the body).")


@strawberry.type(description="Payload of record.anchored: one of the partner's signed records is anchored.")
@access(PARTNER_SELF_SERVICE)
class RecordAnchoredData:
    signed_record_id: strawberry.ID = strawberry.field(description="The SignedRecord's global id.")
    record_type: SignedRecordType = strawberry.field(description="Its type.")  # type: ignore[valid-type]
    commitment: str = strawberry.field(description="Its ledger commitment (0x + 64 hex); its proof is final now.")


@strawberry.type(description="Payload of flag.matched: another insurer flagged a blinded id this partner flagged.")
@access(PARTNER_SELF_SERVICE)
class FlagMatchedData:
    blinded_id: str = strawberry.field(description="The blinded person id both flagged (64 hex).")
    risk_flag_id: strawberry.ID = strawberry.field(
        description="The other insurer's RiskFlag (global id); read it with riskFlags(blindedId:).")
    flag_code: str = strawberry.field(description="Its flag code (an open vocabulary, e.g. STAGED_ACCIDENT).")
    level: RiskLevel = strawberry.field(description="Its level.")  # type: ignore[valid-type]
    publisher: str = strawberry.field(description="The other insurer's partner code.")


WebhookEventData = Annotated[
    AssignmentCreatedData | RecordAnchoredData | FlagMatchedData,
    strawberry.union("WebhookEventData", description="A webhook's payload, typed by its event."),
]


def _gid(type_name: str, raw: Any) -> strawberry.ID:
    return strawberry.ID(node_id(type_name, raw) if isinstance(raw, int) else str(raw))


def event_data_of(event: str, data: dict[str, Any]) -> Any:
    """The typed payload of a stored delivery."""
    kind = m.WebhookEvent(event)
    if kind is m.WebhookEvent.ASSIGNMENT_CREATED:
        inv = data.get("investigationId")
        return AssignmentCreatedData(assignment_id=_gid("Assignment", data["assignmentId"]),
                                     kind=m.AssignmentKind(data["kind"]), case_reference=data["caseReference"],
                                     investigation_id=None if inv is None else str(inv))
    if kind is m.WebhookEvent.RECORD_ANCHORED:
        return RecordAnchoredData(signed_record_id=_gid("SignedRecord", data["signedRecordId"]),
                                  record_type=m.SignedRecordType(data["recordType"]), commitment=data["commitment"])
    return FlagMatchedData(blinded_id=data["blindedId"], risk_flag_id=_gid("RiskFlag", data["riskFlagId"]),
                           flag_code=data["flagCode"], level=RiskLevel(data["level"]), publisher=data["publisher"])
