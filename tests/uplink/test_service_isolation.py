"""The uplink thread survives whatever a handler does: the error is counted, delivery goes on."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.config import KioskConfig, UplinkConfig, parse_config
from kiosk.core.clock import SystemClock
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.client import Event, Inbound
from kiosk.uplink.inbound import StatusUpdate
from kiosk.uplink.replies import sign_reply
from kiosk.uplink.service import Uplink
from tests.fixtures.links import ConnectedLink

KEY = Ed25519PrivateKey.generate()
RID = "01930000-0000-7000-8000-0000000000{:02d}"


FakeLink = ConnectedLink


def _wait(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def _cfg(tmp_path: Path) -> KioskConfig:
    return parse_config({"device": {"id": "kiosk-iso-01"}, "paths": {"data_dir": str(tmp_path)}})


def test_a_failing_status_handler_is_counted_and_the_relay_goes_on(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    db = tmp_path / "k.sqlite3"
    repo = OutboxRepository(connect(db))
    for i in range(2):
        repo.enqueue(RID.format(i), "registration", b"env", time.time())
    links: list[FakeLink] = []

    def factory(c: UplinkConfig, d: str, on: Callable[[Event], None]) -> FakeLink:
        links.append(FakeLink(c, d, on))
        return links[0]

    up = Uplink(
        cfg,
        lambda: connect(db),
        SystemClock(),
        link_factory=factory,
        trusted=lambda: [KEY.public_key()],
    )

    def broken(_msg: StatusUpdate) -> None:
        raise RuntimeError("handler bug")

    up.on_status(broken)
    up.start()
    try:
        _wait(lambda: len(links[0].published) == 2)
        topic = "perlinsos/v1/kiosk/kiosk-iso-01/{}"
        status = {"v": 1, "record_id": RID.format(0), "status": "eligible", "at": 1.0}
        links[0].on_event(
            Inbound(topic.format("status"), sign_reply("status", cfg.device.id, status, KEY), None)
        )
        for i in range(2):
            ack = {"v": 1, "at": 1.0, "acks": [{"record_id": RID.format(i), "result": "stored"}]}
            links[0].on_event(
                Inbound(topic.format("ack"), sign_reply("ack", cfg.device.id, ack, KEY), None)
            )
        up.notify()
        _wait(lambda: repo.counts().acked == 2)
        assert up.inbound_report() == {"handler_error": 1}
    finally:
        up.stop()
