"""Sealed values as earlier versions wrote them (to test that migrations and readers still take them)."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["seal_v1"]


def seal_v1(data_key: bytes, plaintext: str, context: str) -> str:
    """``v1:`` + base64(nonce ‖ AES-256-GCM), bound to ``context`` (table.column) only."""
    nonce = os.urandom(12)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext.encode(), context.encode())
    return "v1:" + base64.b64encode(nonce + sealed).decode()
