"""``kiosk outbox ...`` commands, driven through their argparse registration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from kiosk.store.db import DB_NAME, connect
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink import commands


def _run(argv: list[str], config: Path) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path)
    commands.register(parser.add_subparsers())
    args = parser.parse_args(["--config", str(config), *argv])
    return int(args.handler(args))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    f = tmp_path / "kiosk.toml"
    f.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n')
    return f


def test_status_and_retry_dead(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = OutboxRepository(connect(config.parent / "data" / DB_NAME))
    repo.enqueue("r1", "registration", b"x", 1.0)
    repo.enqueue("r2", "registration", b"x", 2.0)
    repo.mark_dead("r2", "broker refused the record: Not authorized (0x87)")
    assert _run(["outbox", "status"], config) == 1  # a dead record needs attention
    out = capsys.readouterr().out
    assert "2 waiting to send" not in out and "1 waiting to send" in out
    assert "dead r2: broker refused" in out
    assert _run(["outbox", "status", "--json"], config) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["dead"] == 1 and report["pending"] == 1
    assert _run(["outbox", "retry-dead"], config) == 0
    assert repo.counts().pending == 2
    assert _run(["outbox", "status"], config) == 0


def test_device_key_prints_public_key_only(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["outbox", "device-key"], config) == 0
    out = capsys.readouterr().out
    assert "BEGIN PUBLIC KEY" in out and "PRIVATE" not in out.split("\n", 2)[2]


def test_acl_prints_the_broker_acl_for_the_configured_prefix(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["outbox", "acl"], config) == 0
    out = capsys.readouterr().out
    assert "pattern write perlinsos/v1/kiosk/%u/registration\n" in out
    assert "pattern read perlinsos/v1/kiosk/%u/ack\n" in out
    assert _run(["outbox", "acl", "--prefix", "x/v2"], config) == 0
    assert "pattern read x/v2/kiosk/%u/roster" in capsys.readouterr().out
