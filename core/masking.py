"""Masks for personal values shown to roles that may not see them in full."""

from __future__ import annotations

__all__ = ["mask_email", "mask_id_number", "mask_name", "mask_phone"]


def mask_id_number(value: str) -> str:
    """``110101199003077777`` -> ``110***********7777`` (region prefix and last four kept)."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    """``+8613812345678`` -> ``+86138****5678`` (last four and prefix kept)."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:-8] + value[-8:-4].translate(str.maketrans("0123456789", "**********")) + value[-4:]


def mask_name(value: str) -> str:
    """``张三丰`` -> ``张**``; the family name stays, the rest is hidden."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_email(value: str) -> str:
    """``li.wei@example.cn`` -> ``l*****@example.cn``."""
    local, sep, domain = value.partition("@")
    if not sep:
        return "*" * len(value)
    return (local[:1] + "*" * max(len(local) - 1, 1)) + "@" + domain
