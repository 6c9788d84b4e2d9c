"""The real kiosk (`kiosk run`) SIGKILLed under the process supervisor: back up, outbox intact."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware.procsup import ProcessSupervisor
from kiosk.config import REPO_ROOT, load_config
from kiosk.store.db import DB_NAME, connect
from kiosk.store.registrations import RegistrationRepository
from tests.fixtures.net import free_port, serving
from tests.fixtures.processes import kiosk_toml
from tests.fixtures.records import new_registration


def _wait(cond: Callable[[], bool], poll: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("not reached before the deadline")
        poll()
        time.sleep(0.1)


@pytest.mark.slow
def test_kiosk_run_killed_under_supervisor_restarts_with_outbox_intact(
    tmp_path: Path, shared_dir: Path
) -> None:
    port = free_port()
    conf = kiosk_toml(tmp_path, shared_dir, ui_port=port)
    db_path = load_config(conf).paths.data_dir / DB_NAME
    repo = RegistrationRepository(connect(db_path))
    for i in range(25):  # confirmed registrations waiting for the portal
        repo.commit(
            new_registration(
                f"rec-{i}",
                receipt_no=f"R-{i}",
                created_at=0.0,
                created_mono=0.0,
                form_id="household",
                consent_version="consent_v1",
                template_sealed=b"sealed-template",
            ),
            "registration",
            b"sealed-envelope",
        )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("NOTIFY_SOCKET", None)
    sup = ProcessSupervisor(
        [sys.executable, "-m", "kiosk", "--config", str(conf), "run"],
        budget=5, window_s=60, restart_delay_s=0.2, env=env,
    )  # fmt: skip
    sup.start()
    try:
        _wait(lambda: serving(port), sup.poll, 120)
        first = sup.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)  # a crash: no cleanup at all
        _wait(lambda: sup.pid not in (None, first), sup.poll, 30)
        _wait(lambda: serving(port), sup.poll, 120)
        assert sup.starts == 2 and sup.exit_codes == [-signal.SIGKILL]
    finally:
        sup.stop(timeout_s=20)
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()
        regs = conn.execute("SELECT COUNT(*) FROM registration").fetchone()
    finally:
        conn.close()
    assert rows == (25,) and regs == (25,), "the kill lost or duplicated confirmed records"
