"""UUIDv7 record ids and receipt numbers."""

from __future__ import annotations

import uuid

import pytest

from kiosk.core.ids import (
    damm_digit,
    group_nik,
    parse_receipt,
    receipt_code,
    spoken_digits,
    uuid7,
)


def test_uuid7_version_variant_and_time_order() -> None:
    a = uuid.UUID(uuid7(1_780_000_000.0, bytes(10)))
    b = uuid.UUID(uuid7(1_780_000_000.5, bytes(10)))
    assert a.version == 7 and a.variant == uuid.RFC_4122
    assert str(a) < str(b)
    assert (a.int >> 80) == 1_780_000_000_000


def test_uuid7_needs_randomness() -> None:
    with pytest.raises(ValueError):
        uuid7(0, b"12")


def test_receipt_code_is_digits_grouped_4_4_4_with_a_check_digit() -> None:
    code = receipt_code(bytes(range(8)))
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4] and "".join(groups).isdigit()
    assert damm_digit(code.replace("-", "")) == "0"
    assert parse_receipt(code) == code
    assert parse_receipt(code.replace("-", " ")) == code, "typed with spaces"
    assert receipt_code(bytes(8)) == "0000-0000-0000"


def test_receipt_codes_differ_with_the_randomness() -> None:
    import os

    codes = {receipt_code(os.urandom(8)) for _ in range(200)}
    assert len(codes) == 200


@pytest.mark.parametrize("pos", range(12))
def test_every_single_digit_error_is_caught(pos: int) -> None:
    digits = receipt_code(bytes(range(1, 9))).replace("-", "")
    for d in "0123456789":
        if d != digits[pos]:
            wrong = digits[:pos] + d + digits[pos + 1 :]
            assert parse_receipt(wrong) is None


@pytest.mark.parametrize("pos", range(11))
def test_every_swap_of_neighbours_is_caught(pos: int) -> None:
    digits = receipt_code(bytes(range(3, 11))).replace("-", "")
    if digits[pos] != digits[pos + 1]:
        swapped = digits[:pos] + digits[pos + 1] + digits[pos] + digits[pos + 2 :]
        assert parse_receipt(swapped) is None


@pytest.mark.parametrize("text", ["", "1234", "1234-5678-901", "abcd-efgh-ijkl", "١٢٣٤٥٦٧٨٩٠١٢"])
def test_malformed_receipt_text_is_refused(text: str) -> None:
    assert parse_receipt(text) is None


def test_spoken_and_grouped_forms() -> None:
    assert spoken_digits("4821-0937-5516") == "4 8 2 1, 0 9 3 7, 5 5 1 6"
    assert group_nik("3510015208900002") == "3510 0152 0890 0002"
    with pytest.raises(ValueError):
        receipt_code(b"12")
