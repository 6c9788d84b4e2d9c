"""The one way into the outbox: in the caller's transaction, and a wake-up after each commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.errors import StoreError
from kiosk.store import db
from kiosk.store.outbox import OutboxRepository
from kiosk.store.registrations import RegistrationRepository
from tests.store.test_registrations import reg


def other_sees(path: Path) -> int:
    """Outbox rows another connection can read (so: committed)."""
    conn = db.connect(path)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
    finally:
        conn.close()


def test_the_wake_up_comes_after_the_commit_once_per_row(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    seen: list[int] = []
    outbox = OutboxRepository(db.connect(path), on_commit=lambda: seen.append(other_sees(path)))
    outbox.enqueue("r1", "audit", b"sealed", 1.0)
    assert seen == [1]  # the relay, woken, can already read the row
    regs = RegistrationRepository(db.connect(path), outbox)
    regs.commit(reg(1), "registration", b"envelope")
    assert seen == [1, 2]


def test_a_rolled_back_transaction_keeps_neither_row_and_wakes_nobody(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "k.sqlite3")
    woken: list[str] = []
    outbox = OutboxRepository(conn, on_commit=lambda: woken.append("x"))
    with pytest.raises(RuntimeError), db.transaction(conn) as c:
        c.execute("INSERT INTO help_request (request_id, source, created_at) VALUES ('h', 'x', 0)")
        outbox.enqueue("r1", "vouch", b"sealed", 1.0, tx=c)
        raise RuntimeError("the caller's next step failed")
    assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM help_request").fetchone()[0] == 0
    assert woken == []
    outbox.enqueue("r2", "vouch", b"sealed", 2.0)  # the next transaction starts clean
    assert woken == ["x"]


def test_a_registration_whose_outbox_row_fails_wakes_nobody(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "k.sqlite3")
    woken: list[str] = []
    outbox = OutboxRepository(conn, on_commit=lambda: woken.append("x"))
    outbox.enqueue(reg(1).record_id, "registration", b"old", 0.0)
    woken.clear()
    with pytest.raises(StoreError):
        RegistrationRepository(conn, outbox).commit(reg(1), "registration", b"e")
    assert conn.execute("SELECT COUNT(*) FROM registration").fetchone()[0] == 0
    assert woken == []


def test_a_failing_wake_up_never_undoes_or_fails_the_commit(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "k.sqlite3")

    def broken() -> None:
        raise OSError("queue gone")

    RegistrationRepository(conn, OutboxRepository(conn, on_commit=broken)).commit(
        reg(2), "registration", b"e"
    )
    assert conn.execute("SELECT state FROM outbox").fetchone()[0] == "pending"
    assert not conn.in_transaction
