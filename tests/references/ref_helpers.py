"""Helpers shared by the reference tests (importable as ``ref_helpers``)."""

from __future__ import annotations

import struct

from kiosk.references.message import ReferenceEntry

VILLAGE = "3510012001"


def template(seed: int) -> bytes:
    """A deterministic KFT1 template (128 float32 values)."""
    values = [((i * 7 + seed * 13) % 17 - 8) / 10.0 + 0.01 for i in range(128)]
    return b"KFT1" + struct.pack("<128f", *values)


def entries(n: int = 3) -> list[ReferenceEntry]:
    """Sample residents: NIK 35100112038500NN, KK 3510012001000NNN."""
    return [
        ReferenceEntry(
            f"35100112038500{i + 1:02d}", f"3510012001{i + 1:06d}", f"A.{i}", template(i)
        )
        for i in range(n)
    ]
