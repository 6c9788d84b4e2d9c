"""Outbox repository over the real SQLite schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.errors import StoreError
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository


@pytest.fixture
def repo(tmp_path: Path) -> OutboxRepository:
    return OutboxRepository(connect(tmp_path / "k.sqlite3"))


def _fill(repo: OutboxRepository, n: int, now: float = 100.0) -> list[str]:
    ids = [f"id-{i:03d}" for i in range(n)]
    for i, rid in enumerate(ids):
        repo.enqueue(rid, "registration", b"sealed", now + i)
    return ids


def test_oldest_first_and_limit(repo: OutboxRepository) -> None:
    ids = _fill(repo, 5)
    assert [r.record_id for r in repo.next_batch(3, now=200)] == ids[:3]
    assert repo.next_batch(0, now=200) == []


def test_lifecycle_and_counts(repo: OutboxRepository) -> None:
    ids = _fill(repo, 4)
    repo.mark_sent(ids[:2], now=150)
    c = repo.counts()
    assert (c.pending, c.sent, c.waiting) == (2, 2, 4)
    assert repo.inflight() == 2
    assert [r.record_id for r in repo.next_batch(10, now=200)] == ids[2:]
    assert repo.mark_acked([ids[0]], now=160) == [ids[0]]
    assert repo.mark_acked([ids[0]], now=170) == []  # duplicate ack: success, no change
    assert repo.mark_dead(ids[1], "not authorised (0x87)")
    assert not repo.mark_dead(ids[0], "late refusal")  # acked stays acked
    assert repo.state_of(ids[0]) == ("acked", 1, None)
    assert repo.dead() == [(ids[1], "not authorised (0x87)")]
    assert repo.counts().waiting == 2
    assert repo.revive_dead(now=200) == 1 and repo.counts().pending == 3


def test_ack_of_dead_record_wins(repo: OutboxRepository) -> None:
    (rid,) = _fill(repo, 1)
    repo.mark_dead(rid, "x")
    assert repo.mark_acked([rid], now=1) == [rid]
    assert repo.state_of(rid) is not None and repo.state_of(rid)[0] == "acked"  # type: ignore[index]


def test_requeue_at_start_and_after_timeout(repo: OutboxRepository) -> None:
    ids = _fill(repo, 3)
    repo.mark_sent(ids[:1], now=100)
    repo.mark_sent(ids[1:2], now=190)
    assert repo.requeue_sent(now=200, sent_before=150, delay=lambda a: 10.0 * a) == 1
    assert repo.state_of(ids[0])[0] == "pending"  # type: ignore[index]
    assert [r.record_id for r in repo.next_batch(10, now=205)] == [ids[2]]  # ids[0] backs off
    assert ids[0] in [r.record_id for r in repo.next_batch(10, now=211)]
    assert repo.requeue_sent(now=300) == 1  # start-up: everything in flight goes back
    assert repo.inflight() == 0


def test_retry_later(repo: OutboxRepository) -> None:
    (rid,) = _fill(repo, 1)
    repo.mark_sent([rid], now=100)
    repo.retry_later(rid, at=500, error="connection lost")
    assert repo.next_batch(5, now=499) == []
    assert repo.state_of(rid) == ("pending", 1, "connection lost")


def test_purge_only_old_acked(repo: OutboxRepository) -> None:
    ids = _fill(repo, 3)
    repo.mark_acked(ids[:1], now=100)
    repo.mark_acked(ids[1:2], now=900)
    assert repo.purge_acked(before=500) == 1
    assert repo.counts().acked == 1 and repo.counts().pending == 1


def test_oldest_pending_age(repo: OutboxRepository) -> None:
    assert repo.oldest_pending_age(now=1000) is None
    _fill(repo, 2, now=400)
    assert repo.oldest_pending_age(now=1000) == 600


def test_duplicate_record_id_is_an_error(repo: OutboxRepository) -> None:
    _fill(repo, 1)
    with pytest.raises(StoreError):
        repo.enqueue("id-000", "registration", b"x", 1)


def test_rows_from_another_connection_are_seen(tmp_path: Path) -> None:
    a = OutboxRepository(connect(tmp_path / "k.sqlite3"))
    b = OutboxRepository(connect(tmp_path / "k.sqlite3"))
    a.enqueue("r1", "registration", b"x", 1)
    assert [r.record_id for r in b.next_batch(5, now=10)] == ["r1"]


def test_clock_jumping_back_does_not_strand_rows(repo: OutboxRepository) -> None:
    (rid,) = _fill(repo, 1)
    repo.mark_sent([rid], now=2_000_000_000)  # sent while the clock was far ahead
    assert repo.requeue_sent(now=1_000, sent_before=900) == 1
    repo.retry_later(rid, at=2_000_000_000, error="x")
    assert [r.record_id for r in repo.next_batch(5, now=1_000)] == [rid]


def test_ack_runs_each_kinds_own_effect_in_the_ack_transaction(repo: OutboxRepository) -> None:
    repo.enqueue("r-1", "registration", b"s", 1.0)
    repo.enqueue("a-1", "audit", b"s", 1.0)
    repo.enqueue("r-2", "registration", b"s", 1.0)
    seen: list[tuple[str, list[str], float, bool]] = []

    def effect(kind: str):  # type: ignore[no-untyped-def]
        return lambda tx, ids, now: seen.append((kind, list(ids), now, tx.in_transaction))

    fresh = repo.mark_acked(["r-1", "a-1", "r-2", "r-1"], 9.0, {"registration": effect("reg")})
    assert sorted(fresh) == ["a-1", "r-1", "r-2"]
    assert seen == [("reg", ["r-1", "r-2"], 9.0, True)]  # audit has no effect; one call a kind


def test_a_failing_ack_effect_rolls_the_ack_back(repo: OutboxRepository) -> None:
    repo.enqueue("r-1", "registration", b"s", 1.0)

    def broken(*_args: object) -> None:
        raise StoreError("disk I/O error")

    with pytest.raises(StoreError):
        repo.mark_acked(["r-1"], 9.0, {"registration": broken})
    assert repo.state_of("r-1") == ("pending", 0, None)  # acked again on the next ack
