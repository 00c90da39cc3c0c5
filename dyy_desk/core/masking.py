"""Masking of buyers' personal data for display and for exports that leave the team."""

from __future__ import annotations

import re


def mask_phone(phone: str | None) -> str | None:
    """138****5678 for mainland mobiles; other numbers keep only their last 4 digits."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_address(address: str | None) -> str | None:
    """Keep province/city-level prefix (first 6 characters), hide the street and house number."""
    if not address:
        return address
    visible = address[:6]
    return visible + "****" if len(address) > 6 else address[:2] + "****"


def is_masked(value: str | None) -> bool:
    return bool(value) and "****" in (value or "")
