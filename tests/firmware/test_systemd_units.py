"""The systemd units pass ``systemd-analyze verify`` and say what the appliance needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.config import REPO_ROOT

UNITS = REPO_ROOT / "firmware" / "systemd"
IMAGE_UNITS = REPO_ROOT / "firmware" / "image" / "rootfs" / "etc" / "systemd" / "system"
UNIT_FILES = (
    UNITS / "kiosk.service",
    UNITS / "kiosk-browser.service",
    IMAGE_UNITS / "kiosk-data-init.service",
)
SERVICES = tuple(p.name for p in UNIT_FILES)
SYSTEM_UNIT_DIRS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """systemd INI: sections -> (key, value) in order; repeated keys kept; '\\' continues."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def get(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def exec_paths(unit: dict[str, list[tuple[str, str]]]) -> list[str]:
    """The programs every Exec*= line runs (prefix characters like '-' or '@' stripped)."""
    return [
        value.split()[0].lstrip("-@:+!")
        for key, value in unit["Service"]
        if key.startswith("Exec") and value
    ]


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """A root with the host's stock units, ours in /etc, and stub binaries at our Exec paths."""
    root = tmp_path / "root"
    stock = next((d for d in SYSTEM_UNIT_DIRS if (d / "sysinit.target").exists()), None)
    if stock is None:
        pytest.fail("systemd-analyze is installed but no stock unit directory was found")
    shutil.copytree(stock, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for path in UNIT_FILES:
        shutil.copy(path, root / "etc/systemd/system" / path.name)
        for program in exec_paths(parse_unit(path)):
            stub = root / program.lstrip("/")
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\nexit 0\n")
            stub.chmod(0o755)
    return root


def test_units_pass_systemd_analyze_verify(fake_root: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt install systemd)")
    result = subprocess.run(
        [analyze, "verify", f"--root={fake_root}", "--man=no", "--generators=no", *SERVICES],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # no "Unknown key" and the like


def test_verify_catches_a_broken_unit(fake_root: Path) -> None:
    """The check above is not vacuous: a typo in a key is reported."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt install systemd)")
    unit = fake_root / "etc/systemd/system/kiosk.service"
    unit.write_text(unit.read_text().replace("Restart=always", "Restrat=always"))
    result = subprocess.run(
        [analyze, "verify", f"--root={fake_root}", "--man=no", "--generators=no", "kiosk.service"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Restrat" in result.stderr


def test_kiosk_service_supervision() -> None:
    unit = parse_unit(UNITS / "kiosk.service")
    assert get(unit, "Service", "Type") == ["notify"]
    assert get(unit, "Service", "Restart") == ["always"]
    (watchdog,) = get(unit, "Service", "WatchdogSec")
    assert watchdog.endswith("s") and 5 <= int(watchdog[:-1]) <= 120
    (start,) = get(unit, "Service", "ExecStart")
    assert start.split() == [
        "/opt/kiosk/venv/bin/kiosk", "--config", "/data/kiosk/kiosk.toml", "run",
    ]  # fmt: skip
    assert get(unit, "Service", "User") == ["kiosk"]
    assert get(unit, "Service", "ProtectSystem") == ["strict"]
    assert get(unit, "Service", "ReadWritePaths") == ["/data/kiosk"]
    assert get(unit, "Service", "NoNewPrivileges") == ["yes"]
    assert get(unit, "Unit", "RequiresMountsFor") == ["/data/kiosk"]
    assert get(unit, "Service", "StandardOutput") == ["journal"]
    assert "char-gpiochip rw" in get(unit, "Service", "DeviceAllow")


def test_browser_service_kiosk_flags() -> None:
    unit = parse_unit(UNITS / "kiosk-browser.service")
    (start,) = get(unit, "Service", "ExecStart")
    argv = start.split()
    assert argv[0] == "/usr/bin/cage" and "/usr/bin/chromium" in argv
    for flag in (
        "--kiosk", "--noerrdialogs", "--disable-infobars", "--no-first-run",
        "--disable-background-networking", "--disable-session-crashed-bubble",
    ):  # fmt: skip
        assert flag in argv, flag
    assert any(a.startswith("--disable-features=") and "Translate" in a for a in argv)
    assert "http://127.0.0.1:8080/" in argv
    (profile,) = [a for a in argv if a.startswith("--user-data-dir=")]
    assert profile.startswith("--user-data-dir=/run/")  # RAM (tmpfs): nothing survives a reboot
    assert "--incognito" not in argv
    assert get(unit, "Service", "Restart") == ["always"]
    assert get(unit, "Service", "User") == ["kiosk-browser"]  # not the user owning the data
    assert get(unit, "Service", "InaccessiblePaths") == ["-/data"]
    assert "getty@tty1.service" in get(unit, "Unit", "Conflicts")
    assert "XCURSOR_THEME=kiosk-none" in get(unit, "Service", "Environment")


def _conf(path: Path) -> dict[str, str]:
    return {k: v for entries in parse_unit(path).values() for k, v in entries}


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "min": 60, "h": 3600}
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * units[suffix]
    return float(text)


def test_hardware_watchdog_armed_within_pi_limit() -> None:
    conf = _conf(UNITS / "system.conf.d/50-watchdog.conf")
    assert 0 < _seconds(conf["RuntimeWatchdogSec"]) <= 14  # bcm2835-wdt caps near 15 s


def test_journald_limits() -> None:
    conf = _conf(UNITS / "journald.conf.d/50-kiosk.conf")
    assert conf["Storage"] == "persistent"
    assert conf["SystemMaxUse"].endswith("M") and int(conf["SystemMaxUse"][:-1]) <= 500
    assert "SystemKeepFree" in conf and "RuntimeMaxUse" in conf
