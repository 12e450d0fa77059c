"""Identifiers: time-ordered UUIDs generated in Python, and readable check-digit references."""

from __future__ import annotations

import os
import time
import uuid
from typing import NewType

UserId = NewType("UserId", uuid.UUID)
BranchId = NewType("BranchId", uuid.UUID)
CustomerId = NewType("CustomerId", uuid.UUID)


def new_id() -> uuid.UUID:
    """A UUIDv7 (time-ordered, RFC 9562), so primary-key indexes stay append-mostly."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def mod97_check_digits(body: str) -> str:
    """ISO 7064 MOD 97-10 check digits (as in IBAN) for a numeric reference body."""
    if not body.isdigit():
        raise ValueError("reference body must be digits")
    return f"{98 - (int(body + '00') % 97):02d}"


def is_valid_mod97(reference: str) -> bool:
    return reference.isdigit() and len(reference) > 2 and int(reference) % 97 == 1
