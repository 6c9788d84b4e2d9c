"""The USB path end to end with real SQLite on both sides and a folder as the stick: kiosk
offline, export, portal import, ack file back, kiosk purge; and every way a stick goes wrong."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import KioskConfig
from kiosk.store.outbox import OutboxRepository
from kiosk.usb.layout import ACK_FILE, MANIFEST, device_dir, export_dirs, record_path
from tests.fixtures.records import commit_registrations, open_db
from tests.fixtures.usb import PortalSide, bring_acks_home, export, make_portal, offline_kiosk


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[PortalSide]:
    side = make_portal(tmp_path / "portal")
    yield side
    side.store.close()


def _templates_left(cfg: KioskConfig) -> int:
    return (
        open_db(cfg)
        .execute("SELECT COUNT(*) FROM registration WHERE template_sealed IS NOT NULL")
        .fetchone()[0]
    )


def test_usb_round_trip_purges_only_on_the_portals_signed_acks(
    tmp_path: Path, portal: PortalSide
) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    ids = commit_registrations(cfg, 12)
    repo = OutboxRepository(open_db(cfg))

    done = export(cfg)
    assert done.count == 12
    # exporting changes nothing on the kiosk: still 12 waiting, templates kept
    assert repo.counts().waiting == 12 and _templates_left(cfg) == 12

    reports = portal.import_stick(cfg.usb.mount_point)
    assert [(r.stored, r.duplicate, r.rejected, r.refused) for r in reports] == [(12, 0, 0, None)]
    assert sorted(portal.store.record_ids(cfg.device.id)) == sorted(ids)
    # the portal really opened the sealed records
    assert portal.store.get(cfg.device.id, ids[0])["record_id"] == ids[0]  # type: ignore[index]

    kept = (done.path / ACK_FILE).read_bytes()
    back = bring_acks_home(cfg)
    assert (back.acked, back.unknown, back.refused) == (12, 0, [])
    # the portal holds them: the sealed copies leave the stick
    assert back.cleaned == 1 and export_dirs(cfg.usb.mount_point) == []
    counts = repo.counts()
    assert counts.acked == 12 and counts.waiting == 0
    assert _templates_left(cfg) == 0
    statuses = {r[0] for r in open_db(cfg).execute("SELECT status FROM registration")}
    assert statuses == {"received"}

    # the same ack file brought back again (a replay) changes nothing more
    done.path.mkdir(parents=True)
    (done.path / ACK_FILE).write_bytes(kept)
    again = bring_acks_home(cfg)
    assert (again.acked, again.unchanged, again.dead) == (0, 12, 0)


def test_stick_is_unreadable_without_the_portal_key(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 3)
    export(cfg)
    everything = b""
    for path in sorted(cfg.usb.mount_point.rglob("*")):
        everything += str(path.relative_to(cfg.usb.mount_point)).encode()
        if path.is_file():
            everything += path.read_bytes()
    # the test NIKs start with 3510010101 and the records carry "answers": neither in clear
    assert b"3510010101" not in everything
    assert b"answers" not in everything and b"household_size" not in everything
    names = sorted(p.name for p in cfg.usb.mount_point.rglob("*") if p.is_file())
    assert MANIFEST in names and len(names) == 4


def test_replayed_import_adds_nothing(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 5)
    export(cfg)
    portal.import_stick(cfg.usb.mount_point)
    again = portal.import_stick(cfg.usb.mount_point)
    assert [(r.stored, r.duplicate) for r in again] == [(0, 5)]
    assert len(portal.store.record_ids()) == 5
    # a second export of the same backlog (kiosk not yet told) is also only duplicates
    export(cfg)
    third = portal.import_stick(cfg.usb.mount_point)
    assert sum(r.stored for r in third) == 0 and len(portal.store.record_ids()) == 5
    assert bring_acks_home(cfg).acked == 5


def test_truncated_record_is_left_unacknowledged(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    ids = commit_registrations(cfg, 4)
    done = export(cfg)
    cut = record_path(done.path, ids[1])
    cut.write_bytes(cut.read_bytes()[:100])  # the stick was pulled mid-copy

    [report] = portal.import_stick(cfg.usb.mount_point)
    assert (report.stored, len(report.damaged)) == (3, 1)
    assert report.damaged[0][0] == ids[1]
    assert ids[1] not in portal.store.record_ids()
    acked = json.loads((done.path / ACK_FILE).read_bytes())["acks"]
    assert ids[1] not in {a["record_id"] for a in acked}

    bring_acks_home(cfg)
    repo = OutboxRepository(open_db(cfg))
    assert repo.state_of(ids[1])[0] == "pending"  # type: ignore[index]  # kept, sent again later
    assert repo.counts().acked == 3


def test_truncated_manifest_refuses_the_export(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 3)
    done = export(cfg)
    manifest = done.path / MANIFEST
    manifest.write_bytes(manifest.read_bytes()[:-40])

    [report] = portal.import_stick(cfg.usb.mount_point)
    assert report.refused == "truncated"
    assert portal.store.record_ids() == [] and not (done.path / ACK_FILE).exists()


def test_tampered_record_is_not_stored(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    ids = commit_registrations(cfg, 2)
    done = export(cfg)
    path = record_path(done.path, ids[0])
    env = json.loads(path.read_bytes())
    env["ct"] = env["ct"][:-8] + ("A" * 8 if env["ct"][-8:] != "A" * 8 else "B" * 8)
    path.write_bytes(json.dumps(env).encode())

    [report] = portal.import_stick(cfg.usb.mount_point)
    assert report.stored == 1 and [d[0] for d in report.damaged] == [ids[0]]
    assert portal.store.record_ids() == [ids[1]]


def test_tampered_manifest_signature_refuses_the_export(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    commit_registrations(cfg, 2)
    done = export(cfg)
    body = json.loads((done.path / MANIFEST).read_bytes())
    body["created_at"] += 1
    (done.path / MANIFEST).write_bytes(json.dumps(body).encode())
    [report] = portal.import_stick(cfg.usb.mount_point)
    assert report.refused == "bad_manifest_signature" and portal.store.record_ids() == []


def test_stick_from_another_kiosk(tmp_path: Path, portal: PortalSide) -> None:
    a = offline_kiosk(tmp_path, portal, "kiosk-usb-01")
    b = offline_kiosk(tmp_path, portal, "kiosk-usb-02")
    commit_registrations(a, 3)
    ids_b = commit_registrations(b, 2)
    export(a)
    export(b)  # one stick carried round two kiosks
    reports = portal.import_stick(a.usb.mount_point)
    assert sorted((r.device_id, r.stored) for r in reports) == [
        ("kiosk-usb-01", 3),
        ("kiosk-usb-02", 2),
    ]
    # kiosk A applies only its own ack file; B's records stay B's business
    assert bring_acks_home(a).acked == 3
    assert OutboxRepository(open_db(b)).counts().waiting == 2
    assert bring_acks_home(b).acked == 2
    assert sorted(portal.store.record_ids("kiosk-usb-02")) == sorted(ids_b)


def test_export_signed_by_another_kiosks_key_is_refused(tmp_path: Path, portal: PortalSide) -> None:
    a = offline_kiosk(tmp_path, portal, "kiosk-usb-01")
    b = offline_kiosk(tmp_path, portal, "kiosk-usb-02")
    commit_registrations(b, 2)
    done = export(b)
    # kiosk B's export dressed up as kiosk A's: folder and manifest renamed, B's signature
    body = json.loads((done.path / MANIFEST).read_bytes())
    body["device_id"] = a.device.id
    target = device_dir(a.usb.mount_point, a.device.id) / done.export_id
    target.parent.mkdir(parents=True)
    os.rename(done.path, target)
    (target / MANIFEST).write_bytes(json.dumps(body).encode())
    [report] = portal.import_stick(a.usb.mount_point)
    assert report.refused == "bad_manifest_signature" and portal.store.record_ids() == []


def test_ack_file_for_another_device_is_refused(tmp_path: Path, portal: PortalSide) -> None:
    a = offline_kiosk(tmp_path, portal, "kiosk-usb-01")
    b = offline_kiosk(tmp_path, portal, "kiosk-usb-02")
    commit_registrations(a, 2)
    commit_registrations(b, 2)
    done_a = export(a)
    done_b = export(b)
    portal.import_stick(a.usb.mount_point)
    # B's (genuine, portal-signed) ack file copied into A's export folder
    (done_a.path / ACK_FILE).write_bytes((done_b.path / ACK_FILE).read_bytes())
    result = bring_acks_home(a)
    assert [f.refused for f in result.files] == ["other_device"]
    assert OutboxRepository(open_db(a)).counts().acked == 0


def test_forged_truncated_and_unknown_acks_are_refused(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    ids = commit_registrations(cfg, 3)
    done = export(cfg)
    portal.import_stick(cfg.usb.mount_point)
    ack_path = done.path / ACK_FILE
    genuine = ack_path.read_bytes()

    forged = json.loads(genuine)
    forged["acks"].append({"record_id": ids[0], "result": "rejected", "reason": "x"})
    ack_path.write_bytes(json.dumps(forged).encode())
    assert [f.refused for f in bring_acks_home(cfg).files] == ["bad_signature"]

    ack_path.write_bytes(genuine[: len(genuine) // 2])
    assert [f.refused for f in bring_acks_home(cfg).files] == ["truncated"]

    from kiosk.usb.layout import sign_ack_file

    body = {k: v for k, v in json.loads(genuine).items() if k not in ("kid", "sig", "v", "kind")}
    body["acks"] = [*body["acks"], {"record_id": ids[0][:-4] + "ffff", "result": "stored"}]
    ack_path.write_bytes(sign_ack_file(body, portal.signing_key))
    result = bring_acks_home(cfg)
    assert result.refused == [] and result.acked == 3 and result.unknown == 1
    assert OutboxRepository(open_db(cfg)).counts().acked == 3

    assert all(p.name != ".tmp" for p in export_dirs(cfg.usb.mount_point))


def test_links_on_a_hostile_stick_are_never_followed(tmp_path: Path, portal: PortalSide) -> None:
    cfg = offline_kiosk(tmp_path, portal)
    ids = commit_registrations(cfg, 2)
    done = export(cfg)
    secret = tmp_path / "host-secret"
    secret.write_bytes(record_path(done.path, ids[0]).read_bytes())  # even a perfect copy
    record_path(done.path, ids[0]).unlink()
    record_path(done.path, ids[0]).symlink_to(secret)
    [report] = portal.import_stick(cfg.usb.mount_point)
    assert report.stored == 1 and [d[0] for d in report.damaged] == [ids[0]]
    assert "link" in report.damaged[0][1]

    (done.path / ACK_FILE).rename(tmp_path / "elsewhere.json")
    (done.path / ACK_FILE).symlink_to(tmp_path / "elsewhere.json")
    assert [f.refused for f in bring_acks_home(cfg).files] == ["not_a_file"]
    assert OutboxRepository(open_db(cfg)).counts().acked == 0


def test_unknown_record_kind_is_rejected_as_on_mqtt(tmp_path: Path, portal: PortalSide) -> None:
    from kiosk.crypto.envelope import sealer_from_config

    cfg = offline_kiosk(tmp_path, portal)
    rid = "01930000-0000-7000-8000-000000000001"
    env = sealer_from_config(cfg).seal("selfie", rid, {"x": 1})
    OutboxRepository(open_db(cfg)).enqueue(rid, "selfie", env, 1.0)
    [report] = (export(cfg), portal.import_stick(cfg.usb.mount_point))[1]
    assert (report.stored, report.rejected) == (0, 1)
    back = bring_acks_home(cfg)
    assert back.dead == 1
    assert OutboxRepository(open_db(cfg)).state_of(rid)[0] == "dead"  # type: ignore[index]
