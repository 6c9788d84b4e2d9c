"""The composition root and the `kiosk` command as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kiosk.app import build_kiosk
from kiosk.cli import main
from kiosk.config import AgentsConfig, KioskConfig, parse_config
from kiosk.errors import NotPersistentError, SessionExpired
from tests.fixtures.net import free_port
from tests.fixtures.processes import kiosk_toml, stop_on_sigint


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "config", "nik", "eval", "bench"):
        assert command in out


def test_no_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_build_kiosk_wires_a_working_appliance(cfg: KioskConfig) -> None:
    kiosk = build_kiosk(cfg, secret_key=b"k" * 32)
    try:
        assert kiosk.demo is not None, "demo references are installed out of the box"
        assert (cfg.paths.data_dir / "keys" / "data.key").is_file()
        client = kiosk.wsgi_app.test_client()
        assert client.get("/", headers={"Host": "127.0.0.1"}).status_code == 200
        kiosk.tick()  # one main-loop pass: time-outs, LEDs, housekeeping
    finally:
        kiosk.stop()


def test_refuses_a_volatile_data_directory() -> None:
    if not Path("/dev/shm").is_dir():
        pytest.skip("no /dev/shm tmpfs on this machine")
    cfg = parse_config({"paths": {"data_dir": "/dev/shm/kiosk-test", "require_persistent": True}})
    with pytest.raises(NotPersistentError):
        build_kiosk(cfg)


def test_kiosk_run_serves_the_ui_and_stops_cleanly(tmp_path: Path, shared_dir: Path) -> None:
    port = free_port()
    conf = kiosk_toml(tmp_path, shared_dir, ui_port=port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--config", str(conf), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"},
    )
    try:
        deadline = time.monotonic() + 90
        body = b""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    body = resp.read()
                    break
            except OSError:
                time.sleep(0.3)
        assert body, "kiosk run did not serve the UI"
        assert b"<html" in body.lower()
    finally:
        stop_on_sigint(proc, 20, "kiosk run")
    assert (tmp_path / "data" / "kiosk.sqlite3").is_file()


class DeadCamera:
    """A camera that was unplugged: never a frame; counts restarts."""

    state = "absent"

    def __init__(self) -> None:
        self.starts = 0

    def start(self) -> None:
        self.starts += 1

    def stop(self) -> None:
        pass

    def latest(self) -> None:
        return None


def test_stuck_camera_is_restarted_within_budget_then_out_of_service(cfg: KioskConfig) -> None:
    from gpiozero.pins.mock import MockFactory

    from firmware.indicators import Status
    from kiosk.core.clock import FakeClock

    clock = FakeClock()
    camera = DeadCamera()
    kiosk = build_kiosk(cfg, clock=clock, camera=camera, pin_factory=MockFactory())
    try:
        for _ in range(8):  # 8 x 10 s: more silence than 5 restarts in 60 s allow
            clock.advance(10)
            kiosk.tick()
        assert camera.starts == 5
        assert kiosk.out_of_service and "camera" in kiosk.out_of_service
        assert kiosk.device is not None and kiosk.device.status is Status.OUT_OF_SERVICE
    finally:
        kiosk.stop()


def cfg_pin(role: str) -> int:
    from firmware.pins import ROLES

    return ROLES[role].pin


def test_presence_sensor_wakes_the_screen_and_walking_away_ends_the_session(
    cfg: KioskConfig,
) -> None:
    from gpiozero.pins.mock import MockFactory

    from kiosk.core.clock import FakeClock

    clock = FakeClock()
    factory = MockFactory()
    kiosk = build_kiosk(cfg, clock=clock, camera=DeadCamera(), pin_factory=factory)
    try:
        device = kiosk.device
        assert device is not None and device.presence is not None
        token = kiosk.registration.start()
        pin = factory.pin(cfg_pin("presence"))
        client = kiosk.wsgi_app.test_client()
        pin.drive_high()
        got = client.get("/api/presence", headers={"Host": "127.0.0.1"}).get_json()
        assert got == {"present": True}, "the attract screen learns someone is there"
        pin.drive_low()
        clock.advance(cfg.gpio.presence_timeout_s + 1)
        device.tick()
        assert not kiosk.registration.active
        with pytest.raises(SessionExpired):
            kiosk.registration.view(token)
    finally:
        kiosk.stop()


def test_build_with_uplink_wires_the_portal_handlers(cfg: KioskConfig) -> None:
    kiosk = build_kiosk(cfg, with_uplink=True, with_device=False)
    try:
        assert kiosk.uplink is not None
        assert kiosk.uplink.pending_count() == 0
        assert not kiosk.uplink.online  # not started: nothing connects at build time
    finally:
        kiosk.stop()


def test_every_outbox_commit_wakes_the_uplink(cfg: KioskConfig) -> None:
    kiosk = build_kiosk(cfg, with_uplink=True, with_device=False)
    try:
        events = kiosk.uplink._events  # the relay's queue (not started: nothing drains it)
        while not events.empty():
            events.get_nowait()
        kiosk.agents.audit.record("agent_login_failed")
        assert events.empty()  # an audit entry alone is no outbox row
        assert kiosk.agents.flush_audit() is not None
        assert type(events.get_nowait()).__name__ == "_Wake" and events.empty()
    finally:
        kiosk.stop()


def test_agent_session_limits_and_pin_throttle_come_from_the_config(cfg: KioskConfig) -> None:
    agents = {"session_idle_s": 45, "face_step_s": 60, "pin_free_failures": 2}
    agents |= {"pin_base_delay_s": 10, "pin_max_delay_s": 600}
    tuned = cfg.model_copy(update={"agents": AgentsConfig(**agents)})
    kiosk = build_kiosk(tuned, secret_key=b"k" * 32, with_device=False)
    try:
        t = kiosk.agents.timeouts
        assert (t.idle_s, t.max_s, t.face_step_s) == (45, 3600, 60)
        policy = kiosk.agents.auth.policy
        assert [policy.delay_after(n) for n in (1, 2, 3, 9)] == [0, 10, 20, 600]
    finally:
        kiosk.stop()
