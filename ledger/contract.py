"""Compiled contract artifacts (built by ``contracts/build.mjs``) and record kind codes.

The artifact ships inside the package (``ledger/artifacts/AnchorRegistry.json``, a
byte-identical copy of ``contracts/artifacts/AnchorRegistry.json``; ``npm run check``
in ``contracts/`` proves both match a fresh build).
"""

from __future__ import annotations

import copy
import json
from enum import IntEnum
from functools import cache
from importlib import resources
from typing import Any

from ledger.merkle import keccak256

__all__ = [
    "ANCHORER_ROLE",
    "ANCHOR_REGISTRY",
    "AUDITOR_ROLE",
    "DEFAULT_ADMIN_ROLE",
    "PARTNER_ROLE",
    "RecordKind",
    "abi",
    "anchor_registry_artifact",
    "artifact",
    "bytecode",
    "deployed_bytecode",
]

ANCHOR_REGISTRY = "AnchorRegistry"

# Role ids: keccak256 of the role name, as in AnchorRegistry.sol (admin role is zero).
DEFAULT_ADMIN_ROLE = bytes(32)
ANCHORER_ROLE = keccak256(b"ANCHORER_ROLE")
PARTNER_ROLE = keccak256(b"PARTNER_ROLE")
AUDITOR_ROLE = keccak256(b"AUDITOR_ROLE")


class RecordKind(IntEnum):
    """Record kind codes passed as ``kind`` to ``AnchorRegistry.anchor``."""

    MEDICAL = 1
    CREDIT = 2
    SURVEY = 3
    INVESTIGATION_EVENT = 4
    AUDIT_LOG = 5
    RISK_FLAG = 6
    HOSPITAL_BILL = 7


@cache
def _load(name: str) -> dict[str, Any]:
    ref = resources.files(__package__ or "ledger").joinpath("artifacts", f"{name}.json")
    try:
        text = ref.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"contract artifact {name}.json not found in ledger/artifacts "
            "(run `npm ci --prefix contracts && npm run build --prefix contracts`)"
        ) from None
    data: dict[str, Any] = json.loads(text)
    for key in ("contractName", "abi", "bytecode", "deployedBytecode", "compiler"):
        if key not in data:
            raise ValueError(f"contract artifact {name}.json lacks {key!r}")
    if data["contractName"] != name:
        raise ValueError(f"artifact {name}.json is for contract {data['contractName']!r}")
    return data


def artifact(name: str) -> dict[str, Any]:
    """Return a copy of the compiled artifact of contract ``name``."""
    return copy.deepcopy(_load(name))


def anchor_registry_artifact() -> dict[str, Any]:
    """Return a copy of the AnchorRegistry artifact (contractName, abi, bytecode, ...)."""
    return artifact(ANCHOR_REGISTRY)


def abi(name: str = ANCHOR_REGISTRY) -> list[dict[str, Any]]:
    """Return the ABI of contract ``name`` (default AnchorRegistry)."""
    result: list[dict[str, Any]] = copy.deepcopy(_load(name)["abi"])
    return result


def bytecode(name: str = ANCHOR_REGISTRY) -> str:
    """Return the creation bytecode (0x hex) of contract ``name``."""
    return str(_load(name)["bytecode"])


def deployed_bytecode(name: str = ANCHOR_REGISTRY) -> str:
    """Return the runtime bytecode (0x hex) of contract ``name``."""
    return str(_load(name)["deployedBytecode"])
