"""The typed EIP-712 side of the partners contract: signed messages as a union, the signing domain's types.

Each message type has the fields of its EIP-712 struct (``partners.eip712.RECORD_TYPES``), in the
order they are hashed. uint256 values (ids, amounts, nonces, deadlines) are decimal strings, since
they exceed what JSON numbers carry exactly; uint16 codes are Ints; addresses are lowercase 0x hex.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from core.roles import PARTNER_READERS, SIGNED_RECORD_READERS
from partners import eip712
from partners import models as m
from schema.partners.enums import SignedRecordType
from schema.permissions import access

__all__ = [
    "CreditReportMessage",
    "Eip712Field",
    "Eip712Type",
    "HospitalBillMessage",
    "SignedRecordMessage",
    "SurveyReportMessage",
    "domain_fields",
    "message_of",
    "record_types",
]

_UINT256 = "uint256, as a decimal string."
_NONCE = "The signer's nonce (uint256, decimal string); each is accepted once per signer."
_DEADLINE = "Unix seconds (uint256, decimal string) after which the record is refused."
_COMMITMENT = "bytes32, 0x + 64 lowercase hex: the hash of data kept off this record."
_ISSUED_ON = "The issue date as signed (an EIP-712 string YYYY-MM-DD)."


@strawberry.type(description="A signed SurveyReport: an assessor firm's findings on one investigation.")
@access(SIGNED_RECORD_READERS)
class SurveyReportMessage:
    investigation_id: str = strawberry.field(description=f"The investigation surveyed; {_UINT256}")
    case_reference: str = strawberry.field(description="The claim number the investigation belongs to.")
    findings_commitment: str = strawberry.field(description=f"The findings report's digest; {_COMMITMENT}")
    conclusion_code: int = strawberry.field(description="The assessor's conclusion (uint16; the codes are the "
                                                        "insurer's survey conclusion table).")
    assessor: str = strawberry.field(description="The signer's address (lowercase 0x).")
    nonce: str = strawberry.field(description=_NONCE)
    deadline: str = strawberry.field(description=_DEADLINE)


@strawberry.type(description="A signed HospitalBill: a hospital's bill for one case (direct billing).")
@access(SIGNED_RECORD_READERS)
class HospitalBillMessage:
    case_reference: str = strawberry.field(description="The policy or claim number the bill is for.")
    bill_number: str = strawberry.field(description="The hospital's bill number.")
    amount_fen: str = strawberry.field(description=f"The billed amount in fen (1/100 yuan); {_UINT256}")
    items_commitment: str = strawberry.field(description=f"The bill items' digest; {_COMMITMENT}")
    issued_on: dt.date = strawberry.field(description=_ISSUED_ON)
    hospital: str = strawberry.field(description="The signer's address (lowercase 0x).")
    nonce: str = strawberry.field(description=_NONCE)
    deadline: str = strawberry.field(description=_DEADLINE)


@strawberry.type(description="A signed CreditReport: a credit bureau's report on one case.")
@access(SIGNED_RECORD_READERS)
class CreditReportMessage:
    case_reference: str = strawberry.field(description="The case the report is for.")
    report_reference: str = strawberry.field(description="The bureau's report reference.")
    score_band: int = strawberry.field(description="The credit score band (uint16; the bureau's banding).")
    report_commitment: str = strawberry.field(description=f"The full report's digest; {_COMMITMENT}")
    issued_on: dt.date = strawberry.field(description=_ISSUED_ON)
    bureau: str = strawberry.field(description="The signer's address (lowercase 0x).")
    nonce: str = strawberry.field(description=_NONCE)
    deadline: str = strawberry.field(description=_DEADLINE)


SignedRecordMessage = Annotated[
    SurveyReportMessage | HospitalBillMessage | CreditReportMessage,
    strawberry.union("SignedRecordMessage", description=(
        "The message a partner signed, typed by its primaryType (select with `... on SurveyReportMessage`).")),
]

_MESSAGE_TYPES: dict[m.SignedRecordType, Any] = {
    m.SignedRecordType.SURVEY_REPORT: SurveyReportMessage,
    m.SignedRecordType.HOSPITAL_BILL: HospitalBillMessage,
    m.SignedRecordType.CREDIT_REPORT: CreditReportMessage,
}
_INT_FIELDS = frozenset({"conclusionCode", "scoreBand"})
_DATE_FIELDS = frozenset({"issuedOn"})


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _value(name: str, raw: Any) -> Any:
    if name in _INT_FIELDS:
        return int(raw)
    if name in _DATE_FIELDS:
        return dt.date.fromisoformat(raw)
    return str(raw)


def message_of(primary_type: str, message: dict[str, Any]) -> Any:
    """The typed message of a stored record (its normalised JSON: integers as decimal strings)."""
    cls = _MESSAGE_TYPES[m.SignedRecordType(primary_type)]
    return cls(**{_snake(name): _value(name, message[name]) for name, _ in eip712.RECORD_TYPES[primary_type]})


@strawberry.type(description="One field of an EIP-712 struct type: {name, type}, as ethers and eth-account take it.")
@access(PARTNER_READERS)
class Eip712Field:
    name: str = strawberry.field(description="The field name, as in the signed message (camelCase).")
    type: str = strawberry.field(description="The Solidity type name (uint256, uint16, address, bytes32, string): "
                                             "EIP-712's type vocabulary, not a closed set of this API.")


@strawberry.type(description=(
    "An EIP-712 struct type partners sign. To sign with ethers: "
    "`types = Object.fromEntries(domain.types.map(t => [t.name, t.fields]))`, then "
    "`signer.signTypedData(domain, {[name]: types[name]}, message)`; with eth-account: "
    "`encode_typed_data(domain, {name: fields}, message)`. The domain is {name, version, chainId, "
    "verifyingContract} of partnerSigningDomain, as given."))
@access(PARTNER_READERS)
class Eip712Type:
    name: str = strawberry.field(description="The struct name: the primaryType string to sign (e.g. SurveyReport).")
    record_type: SignedRecordType = strawberry.field(  # type: ignore[valid-type]
        description="The same type as the enum signedRecords report it with.")
    fields: list[Eip712Field] = strawberry.field(
        description="The struct's fields in hashing order (a fixed list of 7 or 8; part of the signed type).")


def record_types() -> list[Eip712Type]:
    """The record types partners sign, as published by ``partnerSigningDomain``."""
    return [Eip712Type(name=name, record_type=m.SignedRecordType(name),
                       fields=[Eip712Field(name=f, type=t) for f, t in fields])
            for name, fields in eip712.RECORD_TYPES.items()]


def domain_fields() -> list[Eip712Field]:
    """The fields of the EIP712Domain type (eth-account's ``full_message`` form lists them)."""
    return [Eip712Field(name=f, type=t) for f, t in eip712.DOMAIN_FIELDS]
