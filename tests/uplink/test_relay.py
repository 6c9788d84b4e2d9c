"""The relay with a fake link and a fake clock: window, order, acks, refusals, timeouts."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.clock import FakeClock
from kiosk.core.outbox import Backoff
from kiosk.crypto.frame import TARGET_BYTES, FrameSigner, open_frame
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.client import Connected, Disconnected, Inbound, PubAck
from kiosk.uplink.inbound import decode
from kiosk.uplink.relay import Relay
from kiosk.uplink.replies import sign_reply

DEV = "kiosk-test-01"
P = "perlinsos/v1"


def rid(i: int) -> str:
    return f"01930000-0000-7000-8000-{i:012d}"


class FakeLink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.frames: list[tuple[str, bytes]] = []
        self.up = True
        self._mid = 0

    def publish_records(self, kind: str, record_ids: list[str], payload: bytes) -> int | None:
        if not self.up:
            return None
        self._mid += 1
        self.sent.extend((kind, r) for r in record_ids)
        self.frames.append((kind, payload))
        return self._mid


KEY = Ed25519PrivateKey.generate()
DEVICE_KEY = Ed25519PrivateKey.generate()


def ack(i: int, result: str = "stored", reason: str | None = None) -> Inbound:
    entry: dict[str, object] = {"record_id": rid(i), "result": result}
    if reason:
        entry["reason"] = reason
    body = {"v": 1, "at": 1, "acks": [entry]}
    return Inbound(f"{P}/kiosk/{DEV}/ack", sign_reply("ack", DEV, body, KEY), rid(i).encode())


class Harness:
    def __init__(self, tmp: Path, window: int = 3, frame_records: int = 1) -> None:
        self.clock = FakeClock()
        self.repo = OutboxRepository(connect(tmp / "k.sqlite3"))
        self.link = FakeLink()
        self.alerts: list[tuple[str, str]] = []
        self.acked: list[str] = []
        self.relay = Relay(
            repo=self.repo,
            link=self.link,
            clock=self.clock,
            rng=random.Random(0),
            backoff=Backoff(1.0, 8.0),
            window=window,
            ack_timeout_s=60.0,
            retention_s=3600.0,
            decode=lambda m: decode(P, DEV, m, lambda: [KEY.public_key()]),
            frame=FrameSigner(device_id=DEV, key=DEVICE_KEY),
            frame_records=frame_records,
            on_acked=self.acked.extend,
            on_alert=lambda r, w: self.alerts.append((r, w)),
        )

    def fill(self, n: int) -> None:
        for i in range(n):
            self.repo.enqueue(rid(i), "registration", b"env", self.clock.now())


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_nothing_sent_while_offline(h: Harness) -> None:
    h.fill(2)
    assert h.relay.pump() == 0 and h.link.sent == []


def test_window_and_oldest_first(h: Harness) -> None:
    h.fill(5)
    h.relay.handle([Connected()])
    assert h.relay.pump() == 3
    assert [r for _, r in h.link.sent] == [rid(0), rid(1), rid(2)]
    assert h.relay.pump() == 0  # window full until acks arrive
    h.relay.handle([PubAck(1, 0, "Success"), ack(0), ack(1)])
    assert h.acked == [rid(0), rid(1)]
    assert h.relay.pump() == 2 and h.link.sent[-1][1] == rid(4)


def test_duplicate_ack_is_success_once(h: Harness) -> None:
    h.fill(1)
    h.relay.handle([Connected()])
    h.relay.pump()
    h.relay.handle([ack(0, "duplicate"), ack(0, "stored")])
    assert h.acked == [rid(0)]
    assert h.repo.counts().acked == 1


def test_broker_refusal_is_dead_with_alert_not_a_loop(h: Harness) -> None:
    h.fill(2)
    h.relay.handle([Connected()])
    h.relay.pump()
    h.relay.handle([PubAck(1, 0x87, "Not authorized"), PubAck(2, 0x10, "No matching subscribers")])
    assert h.repo.state_of(rid(0))[0] == "dead"  # type: ignore[index]
    assert h.repo.state_of(rid(1))[0] == "pending"  # type: ignore[index]
    assert len(h.alerts) == 1 and "0x87" in h.alerts[0][1]
    h.clock.advance(3600)
    h.relay.pump()
    assert [r for _, r in h.link.sent].count(rid(0)) == 1  # never retried


def test_no_portal_subscriber_is_retried_after_a_short_backoff_not_the_ack_timeout(
    h: Harness,
) -> None:
    """After a broker restart the kiosks come back before the portal resubscribes: a record the
    broker had nobody to give to goes again within seconds, not after the 60 s ack timeout."""
    h.fill(1)
    h.relay.handle([Connected()])
    h.relay.pump()
    h.relay.handle([PubAck(1, 0x10, "No matching subscribers")])
    state = h.repo.state_of(rid(0))
    assert state is not None and state[0] == "pending" and "0x10" in str(state[2])
    assert h.alerts == []
    h.clock.advance(1.0)  # Backoff(1.0, 8.0): the first retry waits at most 1 s
    assert h.relay.pump() == 1
    assert [r for _, r in h.link.sent] == [rid(0), rid(0)]


def test_portal_rejection_is_dead(h: Harness) -> None:
    h.fill(1)
    h.relay.handle([Connected()])
    h.relay.pump()
    h.relay.handle([ack(0, "rejected", "device not enrolled")])
    assert h.repo.dead() == [(rid(0), "portal rejected the record: device not enrolled")]


def test_unacked_record_is_resent_after_timeout_with_backoff(h: Harness) -> None:
    h.fill(1)
    h.relay.handle([Connected()])
    h.relay.pump()
    h.clock.advance(30)
    assert h.relay.pump() == 0
    h.clock.advance(31)
    h.relay.pump()  # timeout noticed: back to pending with a delay of 0.5..1 s
    h.clock.advance(1.0)
    assert h.relay.pump() == 1
    assert h.repo.state_of(rid(0))[:2] == ("sent", 2)  # type: ignore[index]


def test_reconnect_resends_in_flight_records(h: Harness) -> None:
    h.fill(2)
    h.relay.handle([Connected()])
    h.relay.pump()
    h.relay.handle([Disconnected("lost"), Connected()])
    assert h.relay.pump() == 2
    assert [r for _, r in h.link.sent] == [rid(0), rid(1), rid(0), rid(1)]


def test_publish_failing_midway_leaves_rest_pending(h: Harness) -> None:
    h.fill(3)
    h.relay.handle([Connected()])
    h.link.up = False
    assert h.relay.pump() == 0
    assert h.repo.counts().pending == 3


def test_restart_requeues_sent(h: Harness) -> None:
    h.fill(1)
    h.repo.mark_sent([rid(0)], h.clock.now())
    assert h.relay.start() == 1 and h.repo.counts().pending == 1


def test_unknown_kind_goes_dead(h: Harness) -> None:
    h.repo.enqueue(rid(9), "mystery", b"x", 0)
    h.relay.handle([Connected()])
    h.relay.pump()
    assert h.repo.state_of(rid(9))[0] == "dead" and h.link.sent == []  # type: ignore[index]


@pytest.mark.parametrize(
    "msg",
    [
        Inbound(f"{P}/kiosk/{DEV}/ack", b"\xff\xfe", None),
        Inbound(f"{P}/kiosk/{DEV}/ack", b'{"v":2}', None),
        Inbound(f"{P}/kiosk/{DEV}/ack", b'{"v":1,"record_id":"x","result":"stored","at":1}', None),
        Inbound(f"{P}/kiosk/other/ack", b"{}", None),
        Inbound(f"{P}/kiosk/{DEV}/registration", b"{}", None),
        Inbound(
            f"{P}/kiosk/{DEV}/status",
            b'{"v":1,"record_id":"' + rid(0).encode() + b'","status":"not_eligible","at":1}',
            None,
        ),
        Inbound(f"{P}/kiosk/{DEV}/ack", ack(0).payload, rid(1).encode()),  # correlation mismatch
        Inbound(f"{P}/kiosk/{DEV}/roster", b"x" * 300_000, None),
    ],
)
def test_bad_inbound_is_counted_and_ignored(h: Harness, msg: Inbound) -> None:
    h.fill(1)
    h.relay.handle([Connected()])
    h.relay.pump()
    h.relay.handle([msg])
    assert h.relay.rejected_inbound == 1
    assert h.repo.state_of(rid(0))[0] == "sent"  # type: ignore[index]


def test_acked_rows_purged_after_retention(h: Harness) -> None:
    h.fill(1)
    h.relay.handle([Connected()])
    h.relay.pump()
    h.relay.handle([ack(0)])
    h.clock.advance(3601 + 3600)
    h.relay.pump()
    assert h.repo.counts().acked == 0


def test_due_records_travel_in_signed_frames_of_one_kind(tmp_path: Path) -> None:
    """Records sealed at commit are packed at publish time: one frame per run of one kind,
    at most ``frame_records`` each, signed by the device key over the stored envelopes."""
    h = Harness(tmp_path, window=10, frame_records=3)
    kinds = ["registration"] * 4 + ["audit"] + ["registration"]
    for i, kind in enumerate(kinds):
        h.repo.enqueue(rid(i), kind, f"env-{i}".encode(), h.clock.now())
    h.relay.handle([Connected()])
    assert h.relay.pump() == 6
    frames = [(k, open_frame(p, lambda _d: DEVICE_KEY.public_key())) for k, p in h.link.frames]
    assert [(k, f.kind, len(f.envelopes)) for k, f in frames] == [
        ("registration", "registration", 3),
        ("registration", "registration", 1),
        ("audit", "audit", 1),
        ("registration", "registration", 1),
    ]
    assert frames[0][1].envelopes == (b"env-0", b"env-1", b"env-2")  # byte for byte as stored
    assert all(f.device_id == DEV for _k, f in frames)
    h.relay.handle([PubAck(1, 0x87, "Not authorized")])  # one PUBACK answers its whole frame
    assert [h.repo.state_of(rid(i))[0] for i in range(4)] == ["dead", "dead", "dead", "sent"]  # type: ignore[index]


def test_a_frame_stays_within_its_byte_bound(tmp_path: Path) -> None:
    """Large envelopes (evidence photos) fill frames by size: each here travels alone."""
    h = Harness(tmp_path, window=10, frame_records=64)
    big = b"e" * (TARGET_BYTES // 2 + 1)
    for i in range(3):
        h.repo.enqueue(rid(i), "registration", big, h.clock.now())
    h.relay.handle([Connected()])
    assert h.relay.pump() == 3
    assert [len(open_frame(p, lambda _d: DEVICE_KEY.public_key()).envelopes)
            for _k, p in h.link.frames] == [1, 1, 1]  # fmt: skip
