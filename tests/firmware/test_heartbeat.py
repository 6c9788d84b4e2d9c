"""The main-loop heartbeat: WATCHDOG=1 at half WatchdogSec, worker check each turn."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from firmware.heartbeat import MainLoopHeartbeat
from firmware.sdnotify import Notifier
from firmware.supervisor import WorkerWatchdog
from kiosk.core.clock import FakeClock


def drain(sock: socket.socket) -> list[bytes]:
    got = []
    while True:
        try:
            got.append(sock.recv(4096))
        except BlockingIOError:
            return got


def test_pings_at_half_watchdog_and_checks_workers(tmp_path: Path, clock: FakeClock) -> None:
    path = str(tmp_path / "n.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "10000000"})
    restarted: list[str] = []
    wd = WorkerWatchdog(clock)
    wd.register("camera", lambda: restarted.append("camera"), timeout_s=3)
    hb = MainLoopHeartbeat(notifier, clock, wd)
    assert hb.interval_s == 5.0
    for _ in range(100):  # 10 s of main loop at 10 Hz, camera silent
        hb.tick()
        clock.advance(0.1)
    assert drain(sock) == [b"WATCHDOG=1"] * 2  # t=0 and t=5
    assert restarted == ["camera", "camera", "camera"]  # t~3.1, 6.2, 9.3
    sock.close()


def test_no_systemd_watchdog_only_checks(clock: FakeClock) -> None:
    hb = MainLoopHeartbeat(Notifier({}), clock)
    assert hb.interval_s is None
    assert hb.tick() == [] and hb.pings == 0


def test_bad_interval(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        MainLoopHeartbeat(Notifier({}), clock, interval_s=0)
