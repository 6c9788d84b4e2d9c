"""Record ids (UUIDv7) and the receipt code a villager can read out, type and say aloud."""

from __future__ import annotations

import hashlib
import hmac
import uuid

RECEIPT_DIGITS = 12
"""Digits in a receipt code: 11 random digits and one Damm check digit, grouped 4-4-4."""

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
"""Damm's quasigroup: the check digit catches every single-digit error and every swap of two
neighbouring digits, the two mistakes people make when reading a number aloud or typing it."""


def uuid7(unix_seconds: float, rand: bytes) -> str:
    """A UUIDv7 string from a wall time (seconds) and at least 10 random bytes (RFC 9562)."""
    if len(rand) < 10:
        raise ValueError("uuid7 needs at least 10 random bytes")
    ms = int(unix_seconds * 1000) & ((1 << 48) - 1)
    rand_a = int.from_bytes(rand[:2], "big") & 0x0FFF
    rand_b = int.from_bytes(rand[2:10], "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def damm_digit(digits: str) -> str:
    """The Damm check digit of a string of decimal digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def receipt_code(rand: bytes) -> str:
    """A receipt code like ``4821-0937-5516`` from at least 8 random bytes.

    Digits only (said aloud digit by digit, typed on the NIK keypad), 11 random digits (about
    36.5 bits) and a check digit, so a mistyped code is caught before any lookup.
    """
    if len(rand) < 8:
        raise ValueError("receipt_code needs at least 8 random bytes")
    body = str(int.from_bytes(rand[:8], "big") % 10 ** (RECEIPT_DIGITS - 1)).zfill(
        RECEIPT_DIGITS - 1
    )
    return group_receipt(body + damm_digit(body))


def group_receipt(digits: str) -> str:
    """Twelve digits as ``NNNN-NNNN-NNNN``."""
    return "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def parse_receipt(text: str) -> str | None:
    """The canonical grouped code for typed text (spaces and dashes ignored), or None when it
    is not 12 digits with a right check digit."""
    digits = "".join(ch for ch in text if not ch.isspace() and ch != "-")
    if len(digits) != RECEIPT_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    if damm_digit(digits) != "0":
        return None
    return group_receipt(digits)


def spoken_digits(grouped: str) -> str:
    """A grouped number as a speech engine should read it: digit by digit, a pause per group."""
    return ", ".join(" ".join(group) for group in grouped.replace(" ", "-").split("-"))


def group_nik(digits: str) -> str:
    """A NIK or No. KK grouped as printed on the card: ``3510 0152 0890 0002``."""
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``key`` and ``purpose``, hex: a lookup key, not the value."""
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
