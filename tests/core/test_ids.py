"""UUIDv7 record ids and receipt numbers."""

from __future__ import annotations

import uuid

import pytest

from kiosk.core.ids import receipt_number, uuid7


def test_uuid7_version_variant_and_time_order() -> None:
    a = uuid.UUID(uuid7(1_780_000_000.0, bytes(10)))
    b = uuid.UUID(uuid7(1_780_000_000.5, bytes(10)))
    assert a.version == 7 and a.variant == uuid.RFC_4122
    assert str(a) < str(b)
    assert (a.int >> 80) == 1_780_000_000_000


def test_uuid7_needs_randomness() -> None:
    with pytest.raises(ValueError):
        uuid7(0, b"12")


def test_receipt_is_readable_and_stable() -> None:
    rid = uuid7(1_780_000_000.0, bytes(range(10)))
    r = receipt_number(rid, "3510012001")
    assert r == receipt_number(rid, "3510012001")
    assert r.startswith("3510-") and len(r) == 14
    assert not set(r) & set("ILOU")
