"""``kiosk usb export`` and ``kiosk usb acks`` over a real config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.store.outbox import OutboxRepository
from tests.fixtures.records import commit_registrations, open_db
from tests.fixtures.usb import make_portal, offline_kiosk


def test_export_then_acks_from_the_console(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    portal = make_portal(tmp_path / "portal")
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 3)
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        f'[device]\nid = "{cfg.device.id}"\n[paths]\ndata_dir = "{cfg.paths.data_dir}"\n'
        f'[uplink]\nenabled = false\nportal_public_key = "{portal.public_key}"\n'
        f'[usb]\nmount_point = "{cfg.usb.mount_point}"\nrequire_mount = false\n'
    )
    assert main(["--config", str(toml), "usb", "export"]) == 0
    assert "3 record(s)" in capsys.readouterr().out
    portal.import_stick(cfg.usb.mount_point)
    assert main(["--config", str(toml), "usb", "acks"]) == 0
    assert "3 record(s) acknowledged" in capsys.readouterr().out
    assert OutboxRepository(open_db(cfg)).counts().acked == 3
    assert main(["--config", str(toml), "usb", "export", "--stick", str(tmp_path / "gone")]) == 1
    assert "the stick is missing" in capsys.readouterr().out
    portal.store.close()
