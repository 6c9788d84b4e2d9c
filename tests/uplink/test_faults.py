"""Fault tests against a real mosquitto: in every case the portal ends with each committed
record exactly once (none lost, none duplicated)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.config import KioskConfig, parse_config
from kiosk.core.clock import SystemClock
from kiosk.errors import StorageFullError
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.service import Uplink, build_uplink
from portal.devkeys import DevCA
from tests.fixtures.mqtt import (
    Broker,
    KioskFactory,
    Pki,
    Portal,
    install_portal_signing_key,
    wait_for,
)
from tests.fixtures.proxy import BlackholeProxy
from tests.fixtures.records import bulk_registrations, commit_registrations, open_db

pytestmark = pytest.mark.broker
REPO = Path(__file__).resolve().parents[2]


def outbox(cfg: KioskConfig) -> OutboxRepository:
    return OutboxRepository(open_db(cfg))


def all_ids(cfg: KioskConfig) -> list[str]:
    return [r[0] for r in open_db(cfg).execute("SELECT record_id FROM registration")]


def assert_exactly_once(portal: Portal, cfg: KioskConfig, expected: list[str]) -> None:
    """Every expected record at the portal, each once, nothing else."""
    got = portal.record_ids(cfg.device.id)
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(expected)


def drained(cfg: KioskConfig, n: int) -> bool:
    return outbox(cfg).counts().acked == n


def test_broker_sigkill_and_restart_mid_stream(
    broker: Broker, portal: Portal, kiosk_config
) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    ids = commit_registrations(cfg, 150)
    up = build_uplink(cfg, SystemClock())
    up.start()
    try:
        wait_for(lambda: outbox(cfg).counts().acked >= 40, 20, "first records acked")
        broker.kill()  # mid-stream, without a persistence snapshot
        ids += commit_registrations(cfg, 50)  # the kiosk keeps taking registrations
        assert portal.rx is not None
        portal.rx.store.availability(cfg.device.id, "unknown", 0.0)
        broker.start()
        # availability is republished (retained) on every connect
        wait_for(lambda: portal.rx.store.availability_of(cfg.device.id) == "online", 60)  # type: ignore[union-attr]
        wait_for(lambda: drained(cfg, 200), 120, "backlog drained after broker restart")
        assert_exactly_once(portal, cfg, ids)
        broker.kill()
        broker.start()
        ids += commit_registrations(cfg, 20)
        up.notify()
        wait_for(lambda: drained(cfg, 220), 120, "drained after a second crash")
        assert_exactly_once(portal, cfg, ids)
    finally:
        up.stop()


@pytest.mark.slow
def test_kiosk_sigkilled_50_times(portal: Portal, kiosk_config, tmp_path: Path) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    cfg_file = tmp_path / "kiosk.json"
    cfg_file.write_text(json.dumps(cfg.model_dump(mode="json")))
    confirmed_file = tmp_path / "confirmed.txt"
    rng = random.Random(4)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    zygote = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.kiosk_proc", str(cfg_file)],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert zygote.stdin is not None and zygote.stdout is not None

    def ask(command: str) -> str:
        assert zygote.stdin is not None and zygote.stdout is not None
        zygote.stdin.write(command + "\n")
        zygote.stdin.flush()
        return zygote.stdout.readline().strip()

    def confirmed_count() -> int:
        try:
            return confirmed_file.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    try:
        assert zygote.stdout.readline().strip() == "ready"
        for i in range(50):
            before, acked = confirmed_count(), outbox(cfg).counts().acked
            pid = int(ask(f"fork {confirmed_file}"))
            try:
                # each child runs until it has confirmed a few records (every tenth until one
                # more is acked too), however long a loaded machine takes, then dies at a
                # random point of its stream: mid-commit, mid-publish, mid-ack
                wait_for(lambda b=before: confirmed_count() >= b + 3, 60, f"child {i} commits")
                if i % 10 == 0:
                    wait_for(lambda a=acked: outbox(cfg).counts().acked > a, 60, f"child {i} acks")
                time.sleep(rng.uniform(0.0, 0.5))  # kill at a random point
            finally:
                os.kill(pid, signal.SIGKILL)
                assert ask(f"reap {pid}") == "ok"
    finally:
        zygote.kill()
        zygote.wait(10)
    confirmed = confirmed_file.read_text().split()
    assert len(confirmed) > 100
    committed = all_ids(cfg)
    assert set(confirmed) <= set(committed)  # a confirmed record is never lost locally
    assert outbox(cfg).counts().acked > 0  # the killed kiosks were publishing, too
    up = build_uplink(cfg, SystemClock())  # a final, undisturbed run drains the rest
    up.start()
    try:
        wait_for(lambda: drained(cfg, len(committed)), 300, "drain after 50 kills")
    finally:
        up.stop()
    assert_exactly_once(portal, cfg, committed)


@pytest.mark.slow
def test_network_blackhole_and_restore(
    broker: Broker, portal: Portal, kiosk_config: KioskFactory
) -> None:
    proxy = BlackholeProxy(broker.port)
    cfg = kiosk_config(port=proxy.port)
    portal.enroll(cfg)
    ids = commit_registrations(cfg, 100)
    up = build_uplink(cfg, SystemClock())
    up.start()
    try:
        wait_for(lambda: outbox(cfg).counts().acked >= 20, 20, "some acked")
        proxy.blackhole()
        ids += commit_registrations(cfg, 30)
        wait_for(lambda: not up.online, 30, "kiosk to notice the dead link")
        proxy.restore()
        wait_for(lambda: drained(cfg, 130), 120, "drain after restore")
        assert_exactly_once(portal, cfg, ids)
    finally:
        up.stop()
        proxy.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_disk_full_refuses_new_and_keeps_committed(
    portal: Portal, kiosk_config, pki: Pki, tmp_path: Path
) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], check=True)
    try:
        base = kiosk_config()
        cfg = parse_config(
            {**base.model_dump(mode="json"), "paths": {"data_dir": str(mnt / "data")}}
        )
        install_portal_signing_key(cfg, pki)
        portal.enroll(cfg)
        ballast = mnt / "ballast"
        ballast.write_bytes(b"\0" * 200_000)
        conn = open_db(cfg)
        committed: list[str] = []
        with pytest.raises(StorageFullError, match="full; nothing was saved"):
            for _ in range(5000):
                committed += commit_registrations(cfg, 1, conn)
        assert len(committed) > 10
        assert sorted(all_ids(cfg)) == sorted(committed)  # the refused one left no trace
        ballast.unlink()  # an operator frees space; the relay drains what was committed
        up = build_uplink(cfg, SystemClock())
        up.start()
        try:
            wait_for(lambda: drained(cfg, len(committed)), 120, "drain after disk full")
        finally:
            up.stop()
        assert_exactly_once(portal, cfg, committed)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_wrong_client_certificate_sends_nothing_loses_nothing(
    portal: Portal, kiosk_config, pki: Pki, tmp_path: Path
) -> None:
    good = kiosk_config()
    portal.enroll(good)
    ids = commit_registrations(good, 10)
    rogue = DevCA(tmp_path / "rogue-ca").issue(good.device.id)
    tls = {
        **good.uplink.tls.model_dump(mode="json"),
        "cert_file": str(rogue.cert),
        "key_file": str(rogue.key),
    }
    data = good.model_dump(mode="json")
    data["uplink"]["tls"] = tls
    bad = parse_config(data)
    up = build_uplink(bad, SystemClock())
    up.start()
    try:
        wait_for(lambda: up.last_error is not None, 20, "a connection error")
        assert not up.online
        assert outbox(good).counts().pending == 10 and outbox(good).counts().dead == 0
    finally:
        up.stop()
    assert portal.record_ids() == []
    fixed = build_uplink(good, SystemClock())
    fixed.start()
    try:
        wait_for(lambda: drained(good, 10), 20, "drain with the right certificate")
    finally:
        fixed.stop()
    assert_exactly_once(portal, good, ids)


def test_acl_denial_marks_dead_and_alerts_no_loop(
    portal: Portal, kiosk_config: KioskFactory
) -> None:
    # the certificate says kiosk-other, the config claims kiosk-test-01's topics
    cfg = kiosk_config("kiosk-test-01", cert_cn="kiosk-other")
    portal.enroll(cfg)
    ids = commit_registrations(cfg, 5)
    up = build_uplink(cfg, SystemClock())
    alerts: list[tuple[str, str]] = []
    up.on_alert(lambda r, w: alerts.append((r, w)))
    up.start()
    try:
        wait_for(lambda: outbox(cfg).counts().dead == 5, 20, "refused records dead")
        time.sleep(1.0)  # give a hypothetical retry loop the chance to show itself
        repo = outbox(cfg)
        assert all(repo.state_of(r)[:2] == ("dead", 1) for r in ids)  # type: ignore[index]
    finally:
        up.stop()
    assert sorted(r for r, _ in alerts) == sorted(ids)
    assert all("Not authorized" in why and "0x87" in why for _, why in alerts)
    assert portal.record_ids() == []


def _fuzz(rng: random.Random, rid: str) -> bytes:
    """Bytes that must not pass as a valid ack/status/config/roster."""
    choices = [
        lambda: rng.randbytes(rng.randint(0, 64)),
        lambda: b"{" * rng.randint(1, 50),
        lambda: json.dumps({"v": rng.choice([0, 2, "1", None]), "record_id": rid}).encode(),
        lambda: json.dumps({"v": 1, "record_id": rid, "result": "maybe", "at": 1}).encode(),
        lambda: json.dumps({"v": 1, "record_id": rid[:-1], "status": "received", "at": 1}).encode(),
        lambda: json.dumps({"v": 1, "config_version": -rng.randint(0, 9), "settings": {}}).encode(),
        lambda: json.dumps({"v": 1, "roster_version": 1, "agents": [{"agent_id": "x y"}]}).encode(),
        lambda: json.dumps([1, 2, 3]).encode(),
        lambda: "ünïcödé".encode("utf-16"),
        lambda: json.dumps({"v": 1, "config_version": 1, "settings": {"rm": "-rf"}}).encode(),
    ]
    return rng.choice(choices)()


def test_1000_malformed_inbound_messages(portal: Portal, kiosk_config: KioskFactory) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    ids = commit_registrations(cfg, 50)
    up = build_uplink(cfg, SystemClock())
    up.start()
    rng = random.Random(7)
    try:
        wait_for(lambda: up.online, 10)
        assert portal.rx is not None
        names = ["ack", "status", "config", "roster"]
        for _ in range(1000):
            topic = f"perlinsos/v1/kiosk/{cfg.device.id}/{rng.choice(names)}"
            portal.rx.publish_raw(topic, _fuzz(rng, rng.choice(ids)))
        wait_for(lambda: up.rejected_inbound == 1000, 30, "all fuzzed messages rejected")
        wait_for(lambda: drained(cfg, 50), 30, "records still drained")
        assert up.online
    finally:
        up.stop()
    assert_exactly_once(portal, cfg, ids)


@pytest.mark.slow
def test_10000_record_backlog_drained(portal: Portal, kiosk_config: KioskFactory) -> None:
    cfg = kiosk_config(ack_timeout_s=30.0)
    portal.enroll(cfg)
    ids = bulk_registrations(cfg, 10_000)
    up: Uplink = build_uplink(cfg, SystemClock())
    up.start()
    try:
        wait_for(lambda: drained(cfg, 10_000), 900, "10k backlog drained")
    finally:
        up.stop()
    assert_exactly_once(portal, cfg, ids)
