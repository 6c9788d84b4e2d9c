"""Record ids (UUIDv7) and the short receipt number a villager can read out."""

from __future__ import annotations

import uuid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def uuid7(unix_seconds: float, rand: bytes) -> str:
    """A UUIDv7 string from a wall time (seconds) and at least 10 random bytes (RFC 9562)."""
    if len(rand) < 10:
        raise ValueError("uuid7 needs at least 10 random bytes")
    ms = int(unix_seconds * 1000) & ((1 << 48) - 1)
    rand_a = int.from_bytes(rand[:2], "big") & 0x0FFF
    rand_b = int.from_bytes(rand[2:10], "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def receipt_number(record_id: str, village_code: str) -> str:
    """Receipt like ``3510-7K4Q-9M2X``: regency code + 8 Crockford base-32 chars of the id.

    Crockford's alphabet has no I, L, O or U, so it is read aloud without confusion.
    """
    bits = uuid.UUID(record_id).int & ((1 << 40) - 1)
    chars = "".join(_CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(8)))
    return f"{village_code[:4]}-{chars[:4]}-{chars[4:]}"
