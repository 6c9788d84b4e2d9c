"""``python -m portal.usb_import``: exit codes and the operator's report, replay included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiosk.usb.layout import MANIFEST, export_dirs
from portal.store import PortalStore
from tests.fixtures.records import commit_registrations
from tests.fixtures.usb import bring_acks_home, export, make_portal, offline_kiosk

REPO = Path(__file__).resolve().parents[2]


def _run(stick: Path, portal_dir: Path) -> subprocess.CompletedProcess[str]:
    keys = portal_dir / "keys"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "portal.usb_import",
            str(stick),
            "--db",
            str(portal_dir / "cli.sqlite3"),
            "--private-key",
            str(keys / "portal_x25519.pem"),
            "--device-keys",
            str(portal_dir / "device-keys"),
            "--signing-key",
            str(keys / "portal_ed25519.pem"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_command_imports_replays_and_reports(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "portal")
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 6)
    export(cfg)
    first = _run(cfg.usb.mount_point, portal.dir)
    assert first.returncode == 0, first.stderr
    assert "6 stored, 0 duplicate, 0 rejected" in first.stdout
    replay = _run(cfg.usb.mount_point, portal.dir)
    assert replay.returncode == 0 and "0 stored, 6 duplicate" in replay.stdout
    store = PortalStore(portal.dir / "cli.sqlite3")
    assert len(store.record_ids(cfg.device.id)) == 6
    store.close()
    assert bring_acks_home(cfg).acked == 6


def test_command_refuses_an_unenrolled_kiosk_and_says_so(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "portal")
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 2)
    export(cfg)
    (portal.keys_dir / f"{cfg.device.id}.pem").unlink()
    out = _run(cfg.usb.mount_point, portal.dir)
    assert out.returncode == 1 and "REFUSED (unknown_device)" in out.stdout
    [folder] = export_dirs(cfg.usb.mount_point)
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, "records"]  # no ack file


def test_command_without_a_stick(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "portal")
    out = _run(tmp_path / "no-stick", portal.dir)
    assert out.returncode == 2 and "no USB stick" in out.stderr


def test_a_family_card_that_came_by_stick_is_known_to_queries(tmp_path: Path) -> None:
    from kiosk.core.family_card import kk_digest
    from portal.family_cards import SqliteFamilyIndex, pick

    portal = make_portal(tmp_path / "portal")
    cfg = offline_kiosk(tmp_path, portal)
    [rid] = commit_registrations(cfg, 1, answers={"kk_number": "3510011501200003"})
    export(cfg)
    assert _run(cfg.usb.mount_point, portal.dir).returncode == 0
    index = SqliteFamilyIndex(portal.dir / "cli.sqlite3")
    found = pick(index.rows(kk_digest("3510011501200003")))
    assert found is not None and found.registration_id == rid
    index.close()
