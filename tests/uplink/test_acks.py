"""The one ack rule (kiosk.uplink.acks), shared by MQTT acks and the USB ack file."""

from __future__ import annotations

from pathlib import Path

from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.acks import apply_acks
from kiosk.uplink.inbound import Ack


def rid(i: int) -> str:
    return f"01930000-0000-7000-8000-{i:012d}"


def _repo(tmp_path: Path, n: int) -> OutboxRepository:
    repo = OutboxRepository(connect(tmp_path / "k.sqlite3"))
    for i in range(n):
        repo.enqueue(rid(i), "registration", b"env", 1.0)
    return repo


def test_stored_and_duplicate_ack_rejected_kills_unknown_is_reported(tmp_path: Path) -> None:
    repo = _repo(tmp_path, 3)
    out = apply_acks(
        repo,
        [
            Ack(rid(0), "stored", None),
            Ack(rid(1), "duplicate", None),
            Ack(rid(2), "rejected", "bad signature"),
            Ack(rid(9), "stored", None),
        ],
        5.0,
    )
    assert out.acked == [rid(0), rid(1)]
    assert out.dead == [(rid(2), "portal rejected the record: bad signature")]
    assert out.unknown == [rid(9)] and out.unchanged == []
    assert repo.state_of(rid(2)) == ("dead", 0, "portal rejected the record: bad signature")


def test_an_ack_wins_over_a_rejection_and_is_final(tmp_path: Path) -> None:
    repo = _repo(tmp_path, 2)
    out = apply_acks(repo, [Ack(rid(0), "rejected", "x"), Ack(rid(0), "stored", None)], 5.0)
    assert out.acked == [rid(0)] and out.dead == []
    later = apply_acks(repo, [Ack(rid(0), "rejected", "late"), Ack(rid(0), "stored", None)], 6.0)
    assert later.acked == [] and later.dead == [] and rid(0) in later.unchanged
    assert repo.state_of(rid(0))[0] == "acked"  # type: ignore[index]
    # a dead record that the portal later holds (e.g. it came by USB) becomes acked
    apply_acks(repo, [Ack(rid(1), "rejected", "x")], 7.0)
    assert apply_acks(repo, [Ack(rid(1), "duplicate", None)], 8.0).acked == [rid(1)]
