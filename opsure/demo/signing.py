"""Demo signer keys (derived from the seed) and EIP-712 signatures made with them.

A partner's signer key is ``sha256("opsure-demo:<seed>:<partner code>")``: the same seed
gives the same addresses, and ``<data_dir>/demo/partners.json`` lists the keys so a
walk-through can sign more records with them. Demo keys only: anyone who knows the seed
knows them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from partners.eip712 import Domain, typed_data

__all__ = ["demo_signer", "sign"]


def demo_signer(seed: int, partner_code: str) -> LocalAccount:
    """The signer account of a demo partner for ``seed``."""
    account: LocalAccount = Account.from_key(hashlib.sha256(f"opsure-demo:{seed}:{partner_code}".encode()).digest())
    return account


def sign(account: LocalAccount, primary_type: str, message: dict[str, Any], domain: Domain) -> tuple[dict[str, Any], str]:
    """The typed data of ``message`` for ``domain`` and its signature (0x r‖s‖v, as wallets sign)."""
    payload = typed_data(primary_type, message, domain)
    signed = account.sign_message(encode_typed_data(full_message=payload))
    return payload, "0x" + bytes(signed.signature).hex()
