"""A missing, read-only or full stick: a clear error code, no partial export, nothing lost."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.errors import StickError
from kiosk.store.outbox import OutboxRepository
from kiosk.usb.export import check_stick
from kiosk.usb.layout import ROOT, export_dirs
from tests.fixtures.records import commit_registrations, open_db
from tests.fixtures.usb import PortalSide, export, make_portal, offline_kiosk


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[PortalSide]:
    side = make_portal(tmp_path / "portal")
    yield side
    side.store.close()


def _tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs as a stand-in stick: {done.stderr!r}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_missing_stick(tmp_path: Path) -> None:
    with pytest.raises(StickError) as err:
        check_stick(tmp_path / "absent")
    assert err.value.code == "missing"
    (tmp_path / "empty-mount-point").mkdir()  # the folder exists, but no stick is mounted on it
    with pytest.raises(StickError) as err:
        check_stick(tmp_path / "empty-mount-point", require_mount=True)
    assert err.value.code == "missing"


def test_read_only_stick(tmp_path: Path) -> None:
    for stick in _tmpfs(tmp_path / "ro", "ro,size=64k"):
        assert check_stick(stick, require_mount=True, writable=False) == stick
        with pytest.raises(StickError) as err:
            check_stick(stick, require_mount=True)
        assert err.value.code == "read_only"


def test_full_stick_before_writing(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 5)
    for _stick in _tmpfs(cfg.usb.mount_point, "size=64k"):
        with pytest.raises(StickError) as err:
            export(cfg)
        assert err.value.code == "full"
        assert list((cfg.usb.mount_point / ROOT / cfg.device.id).iterdir()) == []
    assert OutboxRepository(open_db(cfg)).counts().pending == 5


SCRIPT = """
import resource, signal, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from kiosk.config import parse_config
from kiosk.errors import StickError
from tests.fixtures.usb import export
cfg = parse_config({cfg!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))
try:
    export(cfg)
except StickError as err:
    print(err.code)
"""


def test_stick_full_mid_export_leaves_no_partial_export(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 30)
    repo = Path(__file__).resolve().parents[2]
    data = {
        "device": {"id": cfg.device.id},
        "paths": {"data_dir": str(cfg.paths.data_dir)},
        "uplink": {"enabled": False, "portal_public_key": str(portal.public_key)},
        "usb": {"mount_point": str(cfg.usb.mount_point), "require_mount": False},
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(repo=str(repo), cfg=data)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=repo,
    )
    assert out.stdout.strip() == "full", out.stderr
    assert export_dirs(cfg.usb.mount_point) == []
    assert list((cfg.usb.mount_point / ROOT / cfg.device.id).iterdir()) == []  # temp removed
    assert OutboxRepository(open_db(cfg)).counts().pending == 30
    assert portal.import_stick(cfg.usb.mount_point) == []


def test_an_export_cut_short_is_cleared_by_the_next(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 2)
    stale = cfg.usb.mount_point / ROOT / cfg.device.id / ".tmp-01930000-0000-7000-8000-0000000000aa"
    (stale / "records").mkdir(parents=True)
    (stale / "records" / "x.sealed").write_bytes(b"half")
    assert portal.import_stick(cfg.usb.mount_point) == []  # never read by the portal
    done = export(cfg)
    assert not stale.exists() and export_dirs(cfg.usb.mount_point) == [done.path]
