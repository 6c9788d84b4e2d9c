"""`scripts/dev run`'s demo: local broker + reference portal + kiosk, records really acked."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.crypto.envelope import sealer_from_config
from kiosk.store.db import DB_NAME, connect
from kiosk.store.registrations import RegistrationRepository
from tests.fixtures.mqtt import wait_for
from tests.fixtures.net import free_port, serving
from tests.fixtures.processes import kiosk_toml, stop_on_sigint
from tests.fixtures.records import new_registration

pytestmark = pytest.mark.broker


def test_demo_delivers_a_registration_to_the_portal(tmp_path: Path, shared_dir: Path) -> None:
    mqtt, http = free_port(), free_port()
    conf = kiosk_toml(tmp_path, shared_dir, ui_port=http, mqtt_port=mqtt)
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal.demo", "--config", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: serving(http), 120, "the kiosk UI")
        cfg = load_config(conf)
        portal_key = cfg.paths.data_dir / "demo-portal" / "portal_x25519.pub.pem"
        cfg = cfg.model_copy(
            update={"uplink": cfg.uplink.model_copy(update={"portal_public_key": portal_key})}
        )
        sealer = sealer_from_config(cfg)
        record_id = "019a0000-0000-7000-8000-000000000001"
        RegistrationRepository(connect(cfg.paths.data_dir / DB_NAME)).commit(
            new_registration(
                record_id,
                receipt_no="3510-TEST-0001",
                created_mono=0.0,
                form_id="household",
                consent_version="consent_v1",
            ),
            "registration",
            sealer.seal("registration", record_id, {"record_id": record_id, "demo": True}),
        )

        def acked() -> bool:
            db = sqlite3.connect(cfg.paths.data_dir / DB_NAME)
            try:
                row = db.execute("SELECT state FROM outbox WHERE record_id=?", (record_id,))
                return row.fetchone() == ("acked",)
            finally:
                db.close()

        wait_for(acked, 60, "the portal's ack")
        portal = sqlite3.connect(cfg.paths.data_dir / "demo-portal" / "portal.sqlite3")
        tables = [r[0] for r in portal.execute("SELECT name FROM sqlite_master")]
        assert tables, "the portal stored nothing"
    finally:
        stop_on_sigint(proc, 30, "the demo")
    time.sleep(0.5)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", mqtt)) != 0, "the demo broker was left running"


def test_help_prints_help_and_starts_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    from portal import demo

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("--help started a process")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    assert demo.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "scripts/dev run" in out and "--no-portal" in out and "--config" in out


def test_scripts_dev_run_help_installs_and_starts_nothing(tmp_path: Path) -> None:
    import subprocess

    from kiosk.config import REPO_ROOT

    env = {"PATH": "/usr/bin:/bin", "KIOSK_VENV": str(tmp_path / "no-venv")}
    out = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "dev"), "run", "--help"],
        capture_output=True, text=True, env=env, timeout=30, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "usage: scripts/dev run" in out.stdout
    assert "[dev] installing" not in out.stderr and not (tmp_path / "no-venv").exists()
