"""The store: migrations, atomic registration + outbox commit, crash safety, disk full."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kiosk.errors import MigrationError, StorageFullError, StoreError
from kiosk.store import db
from kiosk.store.registrations import (
    NewRegistration,
    RegistrationRepository,
    registrations_received,
)
from tests.fixtures.records import new_registration


def reg(i: int) -> NewRegistration:
    return new_registration(
        f"rec-{i:06d}",
        receipt_no=f"3510-{i:04d}-XXXX",
        nik_hmac=f"h{i % 7}",
        created_at=1_780_000_000.0 + i,
        created_mono=100.0 + i,
        boot_id="boot",
        form_id="household",
        consent_version="consent-v1",
        template_sealed=b"sealed",
    )


def test_connect_sets_durability_pragmas_and_migrates(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "k.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert version == len(db._migrations()) >= 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"registration", "outbox"} <= tables
    assert db.migrate(conn) == version  # idempotent


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    db.connect(path).execute("PRAGMA user_version=999")
    with pytest.raises(MigrationError, match="newer than this software"):
        db.connect(path)


def test_corrupt_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        db.connect(path)


def test_commit_writes_registration_and_outbox_row(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "k.sqlite3")
    repo = RegistrationRepository(conn)
    repo.commit(reg(1), "registration", b"envelope")
    row = conn.execute("SELECT kind, payload, state FROM outbox").fetchone()
    assert row == ("registration", b"envelope", "pending")
    assert repo.count() == 1
    [status] = repo.by_nik("h1")
    assert status.receipt_no == "3510-0001-XXXX" and status.outbox_state == "pending"


def test_failure_in_second_insert_leaves_neither_row(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "k.sqlite3")
    # An outbox row with the same record id makes the second INSERT of the pair fail.
    conn.execute(
        "INSERT INTO outbox (record_id, kind, payload, created_at)"
        " VALUES ('rec-000001', 'x', x'00', 0)"
    )
    with pytest.raises(StoreError):
        RegistrationRepository(conn).commit(reg(1), "registration", b"e")
    assert conn.execute("SELECT COUNT(*) FROM registration").fetchone()[0] == 0
    assert not conn.in_transaction


def test_status_update_and_template_purge(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "k.sqlite3")
    repo = RegistrationRepository(conn)
    repo.commit(reg(3), "registration", b"e")
    assert repo.set_status("rec-000003", "not_eligible", "income above threshold", 5.0)
    assert not repo.set_status("unknown", "eligible", None, 5.0)
    with db.transaction(conn) as tx:  # the registration kind's ack effect
        registrations_received(tx, ["rec-000003"], 6.0)
    status = repo.by_nik("h3")[0]
    # the portal's own status stays; only a ``waiting`` registration becomes ``received``
    assert status.status == "not_eligible" and status.status_reason == "income above threshold"
    assert status.status_at == 5.0
    sealed = conn.execute("SELECT template_sealed FROM registration").fetchone()[0]
    assert sealed is None


def test_a_late_older_decision_does_not_replace_a_newer_one(tmp_path: Path) -> None:
    """A status message re-sent after a lost PUBACK can arrive after the officer's next decision:
    the kiosk keeps the decision with the later portal time."""
    repo = RegistrationRepository(db.connect(tmp_path / "k.sqlite3"))
    repo.commit(reg(4), "registration", b"e")
    assert repo.set_status("rec-000004", "eligible", None, 20.0)
    assert repo.set_status("rec-000004", "not_eligible", "income above threshold", 10.0)
    held = repo.by_nik("h4")[0]
    assert (held.status, held.status_reason, held.status_at) == ("eligible", None, 20.0)
    assert repo.set_status("rec-000004", "not_eligible", "moved away", 30.0)
    assert repo.by_nik("h4")[0].status == "not_eligible"


def test_free_space_check(tmp_path: Path) -> None:
    db.ensure_free_space(tmp_path, minimum=1)
    with pytest.raises(StorageFullError, match="registrations are paused"):
        db.ensure_free_space(tmp_path, minimum=1 << 62)


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from kiosk.store import db
    from kiosk.store.registrations import NewRegistration, RegistrationRepository
    repo = RegistrationRepository(db.connect(Path(sys.argv[1])))
    start = int(sys.argv[2])
    i = start
    while True:
        repo.commit(NewRegistration(f"rec-{i}", f"r-{i}", "h", 0.0, 0.0, "b", False,
                    "pending", "f", "1", "c", None, b"t" * 512), "registration", b"p" * 2048)
        print(i, flush=True)
        i += 1
    """
)


def test_sigkill_mid_commit_leaves_both_rows_or_neither(tmp_path: Path) -> None:
    """Kill a writer at arbitrary moments; every confirmed record survives, pairs stay whole."""
    path = tmp_path / "k.sqlite3"
    db.connect(path).close()
    confirmed: list[int] = []
    start = 0
    for _kill in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(start)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        assert proc.stdout is not None
        for _ in range(5 + _kill * 3):  # wait for a few confirmations, then kill mid-stream
            line = proc.stdout.readline()
            if not line:
                break
            confirmed.append(int(line))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        start = 1_000_000 * (_kill + 1)  # fresh ids for the next writer
    conn = db.connect(path)
    regs = {r[0] for r in conn.execute("SELECT record_id FROM registration")}
    outs = {r[0] for r in conn.execute("SELECT record_id FROM outbox")}
    assert regs == outs, "a registration without its outbox row (or the reverse)"
    assert {f"rec-{i}" for i in confirmed} <= regs, "a confirmed registration was lost"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_threads_sharing_a_connection_never_interleave_transactions(tmp_path: Path) -> None:
    """Many UI threads committing through one connection: every pair whole, none lost."""
    import threading

    conn = db.connect(tmp_path / "k.sqlite3")
    repo = RegistrationRepository(conn)
    errors: list[BaseException] = []

    def worker(base: int) -> None:
        try:
            for i in range(base, base + 40):
                repo.commit(reg(i), "registration", b"e")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(k * 1000,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert repo.count() == 240
    assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 240
