"""Keyset cursors shared by every paginated list (opaque to clients)."""

from __future__ import annotations

import base64
import json
from typing import Any

from core.errors import ValidationError

__all__ = ["decode_cursor", "encode_cursor"]


def encode_cursor(*values: Any) -> str:
    """An opaque cursor for the sort key of a row."""
    return base64.urlsafe_b64encode(json.dumps(list(values), default=str).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    """The sort key inside a cursor; a malformed cursor is a typed validation error."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValidationError("malformed cursor", field="after", code="BAD_CURSOR") from exc
    if not isinstance(values, list):
        raise ValidationError("malformed cursor", field="after", code="BAD_CURSOR")
    return values
