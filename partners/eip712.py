"""EIP-712 typed records partners sign: types, domain, parsing, hashing, recovery.

Domain = ``{name: "Opsure", version: "1", chainId, verifyingContract}`` where chain and
contract are the AnchorRegistry's. Hashing is eth-account's (``encode_typed_data`` for the
domain separator, its struct hashing for the message); recovery is coincurve (libsecp256k1,
about 40 times eth-keys' pure Python). Only low-s signatures (``s <= n/2``) with ``v`` in
{27, 28} (or 0/1) are accepted, so a signature has exactly one valid encoding.

Example::

    domain = Domain(chain_id=1337, verifying_contract="0x…registry…")
    record = parse_typed_data(payload, expected=domain)      # RecordRejected if unfit
    signer = recover(digest(record, domain), parse_signature(signature_hex))
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import coincurve
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address

from ledger.merkle import keccak256
from partners.errors import RecordRejected, RejectCode
from partners.models import AssignmentKind

_hash_struct: Callable[[str, dict[str, list[dict[str, str]]], dict[str, Any]], bytes] | None
try:  # the struct hash alone (the domain separator is cached per domain)
    from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_struct as _hash_struct
except ImportError:  # pragma: no cover - eth-account moved it: fall back to the public API
    _hash_struct = None

__all__ = [
    "DOMAIN_FIELDS",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "HALF_N",
    "RECORD_TYPES",
    "SECP256K1_N",
    "SIGNER_FIELD",
    "Domain",
    "TypedRecord",
    "address_of",
    "digest",
    "kind_of",
    "parse_signature",
    "parse_typed_data",
    "recover",
    "typed_data",
]

DOMAIN_NAME = "Opsure"
DOMAIN_VERSION = "1"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2

DOMAIN_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
)

#: The record types partners sign, field order as hashed.
RECORD_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "SurveyReport": (
        ("investigationId", "uint256"),
        ("caseReference", "string"),
        ("findingsCommitment", "bytes32"),
        ("conclusionCode", "uint16"),
        ("assessor", "address"),
        ("nonce", "uint256"),
        ("deadline", "uint256"),
    ),
    "HospitalBill": (
        ("caseReference", "string"),
        ("billNumber", "string"),
        ("amountFen", "uint256"),
        ("itemsCommitment", "bytes32"),
        ("issuedOn", "string"),
        ("hospital", "address"),
        ("nonce", "uint256"),
        ("deadline", "uint256"),
    ),
    "CreditReport": (
        ("caseReference", "string"),
        ("reportReference", "string"),
        ("scoreBand", "uint16"),
        ("reportCommitment", "bytes32"),
        ("issuedOn", "string"),
        ("bureau", "address"),
        ("nonce", "uint256"),
        ("deadline", "uint256"),
    ),
}

#: The message field naming the signer of each type.
SIGNER_FIELD: dict[str, str] = {"SurveyReport": "assessor", "HospitalBill": "hospital", "CreditReport": "bureau"}

_KIND: dict[str, AssignmentKind] = {
    "SurveyReport": AssignmentKind.SURVEY,
    "HospitalBill": AssignmentKind.HOSPITAL_BILL,
    "CreditReport": AssignmentKind.CREDIT_REPORT,
}
_DATE_FIELDS = frozenset({"issuedOn"})
_REFERENCE_FIELDS = frozenset({"caseReference", "billNumber", "reportReference"})
_MAX_STRING = 200
_MAX_REFERENCE = 64
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SIGNATURE = re.compile(r"^(0x)?[0-9a-fA-F]{130}$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,77})$")
_HEXNUM = re.compile(r"^0x[0-9a-fA-F]{1,64}$")


def kind_of(primary_type: str) -> AssignmentKind:
    """The assignment kind a record type answers."""
    return _KIND[primary_type]


def _types_json(primary_type: str) -> list[dict[str, str]]:
    return [{"name": n, "type": t} for n, t in RECORD_TYPES[primary_type]]


_DOMAIN_TYPES = [{"name": n, "type": t} for n, t in DOMAIN_FIELDS]
#: ``{primaryType: {primaryType: fields}}`` as eth-account's struct hashing takes them.
_HASH_TYPES: dict[str, dict[str, list[dict[str, str]]]] = {p: {p: _types_json(p)} for p in RECORD_TYPES}


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain records must be signed for."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION
    _separator: list[bytes] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not _ADDRESS.match(self.verifying_contract):
            raise ValueError(f"not an address: {self.verifying_contract!r}")
        object.__setattr__(self, "verifying_contract", to_checksum_address(self.verifying_contract))

    def as_dict(self) -> dict[str, Any]:
        """The domain as signers pass it (ethers ``TypedDataDomain``)."""
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }

    @property
    def separator(self) -> bytes:
        """``hashStruct(EIP712Domain)``, computed once by eth-account."""
        if not self._separator:
            probe = encode_typed_data(self.as_dict(), {"SurveyReport": _types_json("SurveyReport")}, _PROBE)
            self._separator.append(bytes(probe.header))
        return self._separator[0]


_PROBE: dict[str, Any] = {
    "investigationId": 0,
    "caseReference": "",
    "findingsCommitment": "0x" + "00" * 32,
    "conclusionCode": 0,
    "assessor": "0x" + "00" * 20,
    "nonce": 0,
    "deadline": 0,
}


@dataclass(frozen=True)
class TypedRecord:
    """A parsed, normalised record message of a known type."""

    primary_type: str
    #: Field values ready for hashing: ints, lowercase addresses, ``0x`` hex bytes32, strings.
    message: dict[str, Any]

    @property
    def signer(self) -> str:
        """The lowercase address the message names as its signer."""
        return str(self.message[SIGNER_FIELD[self.primary_type]]).lower()

    @property
    def nonce(self) -> int:
        """The signer's nonce."""
        return int(self.message["nonce"])

    @property
    def deadline(self) -> int:
        """Unix seconds after which the record is refused."""
        return int(self.message["deadline"])

    @property
    def case_reference(self) -> str:
        """The case the record belongs to."""
        return str(self.message["caseReference"])

    @property
    def kind(self) -> AssignmentKind:
        """The assignment kind this record answers."""
        return _KIND[self.primary_type]

    def json_message(self) -> dict[str, Any]:
        """The message as JSON (uint256 as decimal strings, safe for any JSON reader)."""
        return {k: (str(v) if isinstance(v, int) else v) for k, v in self.message.items()}


def _malformed(message: str, field: str) -> RecordRejected:
    return RecordRejected(RejectCode.MALFORMED, message, field=field)


def _uint(value: Any, bits: int, where: str) -> int:
    if isinstance(value, bool):
        raise _malformed("must be an unsigned integer", where)
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and _DECIMAL.match(value):
        n = int(value)
    elif isinstance(value, str) and _HEXNUM.match(value):
        n = int(value, 16)
    else:
        raise _malformed("must be an unsigned integer (number, decimal or 0x hex string)", where)
    if not 0 <= n < 1 << bits:
        raise _malformed(f"out of range for uint{bits}", where)
    return n


@lru_cache(maxsize=4096)
def _checksum_ok(hexpart: str) -> bool:
    """EIP-55: a letter is upper case iff its nibble of keccak(lowercase hex) is >= 8."""
    nibbles = keccak256(hexpart.lower().encode()).hex()
    return all(c.isdigit() or (c.isupper() == (int(n, 16) >= 8)) for c, n in zip(hexpart, nibbles[:40], strict=True))


def _field(name: str, kind: str, value: Any, where: str) -> Any:
    if kind.startswith("uint"):
        return _uint(value, int(kind[4:]), where)
    if kind == "address":
        if not isinstance(value, str) or not _ADDRESS.match(value):
            raise _malformed("must be a 0x-prefixed 20-byte address", where)
        hexpart = value[2:]
        lower = hexpart.lower()
        if hexpart not in (lower, hexpart.upper()) and not _checksum_ok(hexpart):
            raise _malformed("address checksum is wrong (EIP-55)", where)
        return "0x" + lower
    if kind == "bytes32":
        if not isinstance(value, str) or not _HEX32.match(value):
            raise _malformed("must be 0x + 64 hex characters", where)
        return value.lower()
    if kind == "string":
        if not isinstance(value, str):
            raise _malformed("must be a string", where)
        limit = _MAX_REFERENCE if name in _REFERENCE_FIELDS else _MAX_STRING
        if name in _REFERENCE_FIELDS and not value.strip():
            raise _malformed("must not be empty", where)
        if len(value) > limit:
            raise _malformed(f"must be at most {limit} characters", where)
        if name in _DATE_FIELDS:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise _malformed("must be a date YYYY-MM-DD", where) from None
            if len(value) != 10:
                raise _malformed("must be a date YYYY-MM-DD", where)
        return value
    raise AssertionError(f"unsupported EIP-712 type {kind}")  # pragma: no cover - RECORD_TYPES only


def _same_fields(declared: Any, want: list[dict[str, str]]) -> bool:
    if declared == want:
        return True
    if not isinstance(declared, list):
        return False
    return [{"name": f.get("name"), "type": f.get("type")} if isinstance(f, Mapping) else f for f in declared] == want


def _check_types(types: Any, primary: str) -> None:
    if not isinstance(types, Mapping):
        raise _malformed("types must be an object", "typedData.types")
    extra = set(types) - {primary, "EIP712Domain"}
    if extra:
        raise _malformed(f"unexpected types {sorted(extra)}", "typedData.types")
    expected = _HASH_TYPES[primary][primary]
    if not _same_fields(types.get(primary), expected):
        raise _malformed(f"types.{primary} must be exactly {expected}", f"typedData.types.{primary}")
    if "EIP712Domain" in types and not _same_fields(types["EIP712Domain"], _DOMAIN_TYPES):
        raise _malformed(f"types.EIP712Domain must be exactly {_DOMAIN_TYPES}", "typedData.types.EIP712Domain")


def _check_domain(raw: Any, expected: Domain) -> None:
    if not isinstance(raw, Mapping):
        raise _malformed("domain must be an object", "typedData.domain")
    keys = set(raw)
    want = {n for n, _ in DOMAIN_FIELDS}
    if keys != want:
        raise _malformed(f"domain must have exactly {sorted(want)}", "typedData.domain")
    if raw["name"] != expected.name or raw["version"] != expected.version:
        raise RecordRejected(
            RejectCode.WRONG_DOMAIN,
            f"domain must be name {expected.name!r} version {expected.version!r}",
            field="typedData.domain",
        )
    chain_id = _uint(raw["chainId"], 256, "typedData.domain.chainId")
    if chain_id != expected.chain_id:
        raise RecordRejected(
            RejectCode.WRONG_CHAIN,
            f"signed for chain {chain_id}, this ledger is chain {expected.chain_id}",
            field="typedData.domain.chainId",
        )
    contract = raw["verifyingContract"]
    if not isinstance(contract, str) or not _ADDRESS.match(contract):
        raise _malformed("verifyingContract must be an address", "typedData.domain.verifyingContract")
    if contract.lower() != expected.verifying_contract.lower():
        raise RecordRejected(
            RejectCode.WRONG_CONTRACT,
            f"signed for contract {contract}, this ledger's registry is {expected.verifying_contract}",
            field="typedData.domain.verifyingContract",
        )


def parse_typed_data(raw: Any, *, expected: Domain) -> TypedRecord:
    """Check a submitted ``{types, primaryType, domain, message}`` against our types and domain.

    Refusals: MALFORMED (shape, types, values), WRONG_DOMAIN (name/version),
    WRONG_CHAIN, WRONG_CONTRACT.
    """
    if not isinstance(raw, Mapping):
        raise _malformed("typed data must be an object", "typedData")
    unknown = set(raw) - {"types", "primaryType", "domain", "message"}
    if unknown:
        raise _malformed(f"unexpected keys {sorted(unknown)}", "typedData")
    primary = raw.get("primaryType")
    if not isinstance(primary, str) or primary not in RECORD_TYPES:
        raise _malformed(f"primaryType must be one of {sorted(RECORD_TYPES)}", "typedData.primaryType")
    _check_types(raw.get("types"), primary)
    _check_domain(raw.get("domain"), expected)
    message = raw.get("message")
    if not isinstance(message, Mapping):
        raise _malformed("message must be an object", "typedData.message")
    fields = RECORD_TYPES[primary]
    names = {n for n, _ in fields}
    if set(message) != names:
        missing, extra = sorted(names - set(message)), sorted(set(message) - names)
        raise _malformed(f"message fields wrong (missing {missing}, unexpected {extra})", "typedData.message")
    normal = {n: _field(n, t, message[n], f"typedData.message.{n}") for n, t in fields}
    return TypedRecord(primary_type=primary, message=normal)


def digest(record: TypedRecord, domain: Domain) -> bytes:
    """The 32-byte EIP-712 digest ``keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))``."""
    types = _HASH_TYPES[record.primary_type]
    try:
        if _hash_struct is not None:
            body = bytes(_hash_struct(record.primary_type, types, record.message))
            header = domain.separator
        else:  # pragma: no cover - see the import above
            signable = encode_typed_data(domain.as_dict(), types, record.message)
            body, header = bytes(signable.body), bytes(signable.header)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _malformed(f"typed data does not encode: {exc}", "typedData.message") from None
    return keccak256(b"\x19\x01" + header + body)


def parse_signature(signature: Any) -> bytes:
    """``r ‖ s ‖ recid`` (65 bytes) from a 0x-hex r‖s‖v signature; MALFORMED / HIGH_S otherwise."""
    if not isinstance(signature, str) or not _SIGNATURE.match(signature):
        raise _malformed("signature must be 65 bytes of hex (r, s, v)", "signature")
    raw = bytes.fromhex(signature.removeprefix("0x"))
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:64], "big")
    v = raw[64]
    if v in (27, 28):
        recid = v - 27
    elif v in (0, 1):
        recid = v
    else:
        raise _malformed(f"signature v must be 27 or 28 (or 0/1), got {v}", "signature")
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise _malformed("signature r or s out of range", "signature")
    if s > HALF_N:
        raise RecordRejected(RejectCode.HIGH_S, "malleable signature: s is in the upper half", field="signature")
    return raw[:64] + bytes([recid])


def address_of(public_key: coincurve.PublicKey) -> str:
    """The lowercase 0x address of a public key."""
    return "0x" + keccak256(public_key.format(compressed=False)[1:])[12:].hex()


def recover(digest_: bytes, sig65: bytes) -> str:
    """The lowercase address that signed ``digest_``; WRONG_SIGNER if nothing recovers."""
    try:
        key = coincurve.PublicKey.from_signature_and_message(sig65, digest_, hasher=None)
    except Exception:  # libsecp256k1 refuses: no public key recovers from this signature
        raise RecordRejected(RejectCode.WRONG_SIGNER, "signature recovers to no key", field="signature") from None
    return address_of(key)


def typed_data(primary_type: str, message: Mapping[str, Any], domain: Domain) -> dict[str, Any]:
    """The full typed-data JSON for a message (what a signer signs and a client submits)."""
    return {
        "types": {
            "EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_FIELDS],
            primary_type: _types_json(primary_type),
        },
        "primaryType": primary_type,
        "domain": domain.as_dict(),
        "message": dict(message),
    }
