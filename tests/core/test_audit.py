"""The audit hash chain: building, verifying, and detecting tampering."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.core.audit import GENESIS, AuditEntry, next_entry, verify


def chain(n: int = 5) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = None
    for i in range(n):
        prev = next_entry(prev, 1000.0 + i, "agent_login_ok", "AG-001", f"s{i}")
        entries.append(prev)
    return entries


def test_a_fresh_chain_verifies() -> None:
    entries = chain()
    report = verify(entries)
    assert report.ok and report.entries == 5 and report.head == entries[-1].hash
    assert entries[0].prev_hash == GENESIS and entries[0].seq == 1


def test_empty_chain_is_ok() -> None:
    assert verify([]).ok


def test_changed_field_is_detected() -> None:
    entries = chain()
    entries[2] = dataclasses.replace(entries[2], actor="AG-999")
    report = verify(entries)
    assert not report.ok and report.bad_seq == 3


def test_recomputed_hash_still_breaks_the_next_link() -> None:
    entries = chain()
    forged = next_entry(entries[0], entries[1].at, "vouch", "AG-999", None)
    entries[1] = forged
    report = verify(entries)
    assert not report.ok and report.bad_seq == 3
    assert report.reason == "link to the previous entry broken"


def test_deleted_entry_is_detected() -> None:
    entries = chain()
    del entries[1]
    report = verify(entries)
    assert not report.ok and report.bad_seq == 3


def test_truncated_tail_is_detected_with_an_anchor() -> None:
    entries = chain()
    anchor = (5, entries[4].hash)
    assert verify(entries, [anchor]).ok
    report = verify(entries[:3], [anchor])
    assert not report.ok and report.bad_seq == 5


@pytest.mark.parametrize(
    ("kind", "actor", "subject"),
    [
        ("made_up_kind", None, None),
        ("vouch", "3510012345670001", None),  # a NIK is personal data
        ("vouch", None, "KK 3510012345670001"),
        ("vouch", "Siti Aminah", None),  # names are not ids
        ("vouch", "x" * 65, None),
        ("vouch", None, "rec-351001234567"),  # 12 digits: part of a NIK
        ("vouch", None, "0190d3c8-1a2b-7c3d-8e4f-351001234567x"),  # not a UUID: digits count
    ],
)
def test_personal_data_and_unknown_kinds_are_refused(
    kind: str, actor: str | None, subject: str | None
) -> None:
    with pytest.raises(ValueError):
        next_entry(None, 0.0, kind, actor, subject)


def test_a_record_id_whose_last_group_is_all_digits_is_an_id_not_a_nik() -> None:
    # uuid7 ends in 12 random hex digits; about one id in 280 has no letter there.
    rid = "0190d3c8-1a2b-7c3d-8e4f-351001234567"
    assert next_entry(None, 0.0, "roster_edit", "AG-DW-01", rid).subject == rid
