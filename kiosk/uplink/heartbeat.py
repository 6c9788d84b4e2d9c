"""Heartbeat: the kiosk's health in one small JSON message, from injected probes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk import __version__
from kiosk.core.clock import Clock
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink import messages
from kiosk.uplink.topics import Name

THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def cpu_temperature_c(path: Path = THERMAL_ZONE) -> float | None:
    """SoC temperature in degrees Celsius, or None where the kernel does not report one."""
    try:
        return int(path.read_text().strip()) / 1000.0
    except (OSError, ValueError):
        return None


def clock_synchronised(flag: Path = TIMESYNC_FLAG) -> bool:
    """True once systemd-timesyncd has synchronised the wall clock since boot (no RTC on a Pi)."""
    return flag.exists()


def boot_id(path: Path = BOOT_ID) -> str:
    """The kernel's id of this boot (monotonic counts are only comparable within one boot)."""
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def disk_free_bytes(directory: Path) -> int:
    """Free bytes on the file system holding ``directory`` (0 if it cannot be read)."""
    try:
        return int(shutil.disk_usage(directory).free)
    except OSError:
        return 0


@dataclass
class Probes:
    """Where the heartbeat's facts come from; every probe can be replaced in tests."""

    data_dir: Path
    camera_state: Callable[[], str] = lambda: "unknown"
    model_versions: Callable[[], dict[str, str]] = dict
    clock_synced: Callable[[], bool] = clock_synchronised
    cpu_temp: Callable[[], float | None] = cpu_temperature_c
    boot: Callable[[], str] = boot_id
    extra: dict[str, Any] = field(default_factory=dict)


def build(
    device_id: str,
    clock: Clock,
    repo: OutboxRepository,
    probes: Probes,
    *,
    inbound: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The heartbeat message (validated against schemas/heartbeat.json).

    ``inbound``: portal messages refused since start by reason code (``unsigned``,
    ``bad_signature``, ``too_deep``, ...) and handler errors, so forgeries show at the portal.
    """
    counts = repo.counts()
    now = clock.now()
    msg: dict[str, Any] = {
        "v": 1,
        "device_id": device_id,
        "clock": {
            "wall": now,
            "monotonic": clock.monotonic(),
            "boot_id": probes.boot(),
            "synced": bool(probes.clock_synced()),
        },
        "queue_depth": counts.waiting,
        "oldest_pending_age_s": repo.oldest_pending_age(now),
        "dead": counts.dead,
        "disk_free_bytes": disk_free_bytes(probes.data_dir),
        "cpu_temp_c": probes.cpu_temp(),
        "camera": probes.camera_state()[:40],
        "models": dict(probes.model_versions()),
        "software_version": __version__,
        "inbound_refused": {k[:40]: int(v) for k, v in sorted((inbound or {}).items())[:32]},
    }
    messages.check(Name.HEARTBEAT, msg)
    return msg
