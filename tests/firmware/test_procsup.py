"""Crash survival: SIGKILL the app under the process supervisor; it restarts, the outbox holds.

The child is a stand-in for the kiosk's write path: it opens the real kiosk database
(kiosk.store.db.connect: WAL, synchronous=FULL, migrations) and enqueues outbox rows through
kiosk.store.outbox.OutboxRepository, one transaction each; after each COMMIT returns it appends
the record id to a side log (fsynced). Every id in that log must survive the kill.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware.procsup import ProcessSupervisor, SupState, main
from kiosk.config import REPO_ROOT
from kiosk.core.clock import FakeClock

CHILD = """\
import os, sys, time, uuid
from pathlib import Path
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository

db, log = Path(sys.argv[1]), sys.argv[2]
repo = OutboxRepository(connect(db))
fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
while True:
    rid = uuid.uuid4().hex
    repo.enqueue(rid, "selftest", b"sealed-envelope-stand-in", time.time())
    os.write(fd, (rid + "\\n").encode())
    os.fsync(fd)
    time.sleep(0.005)
"""


def wait_for(cond: Callable[[], bool], poll: Callable[[], object], timeout_s: float = 30) -> None:
    """Poll the supervisor until ``cond`` holds (real subprocesses: a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the deadline")
        poll()
        time.sleep(0.02)


def committed(log: Path) -> list[str]:
    return [ln for ln in log.read_text().splitlines() if len(ln) == 32] if log.exists() else []


@pytest.fixture
def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), e.get("PYTHONPATH")]))
    return e


@pytest.fixture
def child(tmp_path: Path) -> Path:
    script = tmp_path / "writer.py"
    script.write_text(CHILD)
    return script


@pytest.fixture
def sup_factory() -> Iterator[Callable[..., ProcessSupervisor]]:
    made: list[ProcessSupervisor] = []

    def make(*args: object, **kw: object) -> ProcessSupervisor:
        s = ProcessSupervisor(*args, **kw)  # type: ignore[arg-type]
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop(timeout_s=5)


@pytest.mark.slow
def test_sigkill_restarts_and_outbox_intact(
    tmp_path: Path, child: Path, env: dict[str, str], sup_factory: Callable[..., ProcessSupervisor]
) -> None:
    db, log = tmp_path / "data" / "kiosk.sqlite3", tmp_path / "committed.log"
    sup = sup_factory(
        [sys.executable, str(child), str(db), str(log)],
        budget=5, window_s=60, restart_delay_s=0.2, env=env,
    )  # fmt: skip
    sup.start()
    wait_for(lambda: len(committed(log)) >= 30, sup.poll)

    first_pid = sup.pid
    assert first_pid is not None
    os.kill(first_pid, signal.SIGKILL)  # a crash mid-write: no cleanup, no atexit
    wait_for(lambda: sup.pid not in (None, first_pid), sup.poll)
    assert sup.exit_codes == [-signal.SIGKILL]
    assert sup.starts == 2

    before_second = len(committed(log))
    wait_for(lambda: len(committed(log)) >= before_second + 30, sup.poll)  # writing again
    second_pid = sup.pid
    assert second_pid is not None
    os.kill(second_pid, signal.SIGKILL)
    wait_for(lambda: sup.pid not in (None, second_pid), sup.poll)
    sup.stop(timeout_s=5)

    ids = committed(log)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        stored = {r[0] for r in conn.execute("SELECT record_id FROM outbox")}
        states = {r[0] for r in conn.execute("SELECT DISTINCT state FROM outbox")}
    finally:
        conn.close()
    missing = set(ids) - stored
    assert not missing, f"{len(missing)} committed outbox rows lost to SIGKILL"
    assert len(ids) >= 60
    assert states == {"pending"}


def test_budget_spent_gives_up(env: dict[str, str]) -> None:
    clock = FakeClock()
    reasons: list[str] = []
    sup = ProcessSupervisor(
        [sys.executable, "-c", "import sys; sys.exit(3)"],
        clock=clock, budget=3, window_s=60, restart_delay_s=0, env=env,
        on_give_up=reasons.append,
    )  # fmt: skip
    sup.start()
    wait_for(lambda: sup.state is SupState.GAVE_UP, sup.poll)
    assert sup.starts == 4  # the first start and 3 restarts
    assert sup.exit_codes == [3, 3, 3, 3]
    assert len(reasons) == 1 and "3 restarts in 60 s" in reasons[0]
    assert sup.poll() is SupState.GAVE_UP  # stays given up


def test_crashes_spread_out_keep_restarting(env: dict[str, str]) -> None:
    clock = FakeClock()
    sup = ProcessSupervisor(
        [sys.executable, "-c", "pass"], clock=clock, budget=2, window_s=10, restart_delay_s=0,
        env=env,
    )  # fmt: skip
    sup.start()

    def later() -> None:
        clock.advance(6)
        sup.poll()

    for n in range(2, 6):
        wait_for(lambda n=n: sup.starts >= n, later)  # type: ignore[misc]
    assert sup.state is not SupState.GAVE_UP
    sup.stop()


def test_restart_waits_for_the_delay(env: dict[str, str]) -> None:
    clock = FakeClock()
    sup = ProcessSupervisor([sys.executable, "-c", "pass"], clock=clock, restart_delay_s=5)
    sup.start()
    wait_for(lambda: sup.state is SupState.WAITING, sup.poll)
    clock.advance(4.9)
    assert sup.poll() is SupState.WAITING and sup.starts == 1
    clock.advance(0.1)
    assert sup.poll() is SupState.RUNNING and sup.starts == 2
    sup.stop()


def test_missing_program_counts_as_a_failure() -> None:
    sup = ProcessSupervisor(["/nonexistent/kiosk"], clock=FakeClock(), budget=1, restart_delay_s=0)
    sup.start()
    assert sup.exit_codes == [127] and sup.state is SupState.WAITING
    assert sup.poll() is SupState.GAVE_UP


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="empty"):
        ProcessSupervisor([])
    with pytest.raises(ValueError, match="negative"):
        ProcessSupervisor(["x"], restart_delay_s=-1)
    with pytest.raises(ValueError, match="at least 1"):
        ProcessSupervisor(["x"], budget=0)
    sup = ProcessSupervisor([sys.executable, "-c", "pass"])
    sup.start()
    with pytest.raises(RuntimeError, match="already"):
        sup.start()
    sup.stop()


def test_cli_gives_up_with_status_1() -> None:
    crash = [sys.executable, "-c", "raise SystemExit(2)"]
    before = signal.getsignal(signal.SIGINT)
    assert main(["--budget", "1", "--delay", "0", "--", *crash]) == 1
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored


def test_cli_requires_a_command() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--budget", "2"])
    assert exc.value.code == 2
