"""The relay wakes on commit; its slow poll and its timers only cover what nothing announces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.config import UplinkConfig, parse_config
from kiosk.core.clock import FakeClock
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.client import Connected, Event
from kiosk.uplink.relay import TIMER_FLOOR_S
from kiosk.uplink.service import FALLBACK_POLL_S, Uplink
from tests.fixtures.links import ConnectedLink
from tests.uplink.test_relay import Harness, rid


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path, window=2)


def test_with_nothing_to_time_the_relay_waits_for_an_event(h: Harness) -> None:
    assert h.relay.idle_s(3600.0) == 3600.0  # offline: the Connected event wakes it
    h.relay.handle([Connected()])
    assert h.relay.idle_s(3600.0) == 3600.0  # empty outbox: a commit wakes it
    assert FALLBACK_POLL_S >= 2.0, "polling is the slow fallback, not the delivery path"


def test_the_relay_wakes_for_its_own_retry_and_ack_timeout_timers(h: Harness) -> None:
    h.relay.handle([Connected()])
    h.fill(1)
    assert h.relay.pump() == 1
    assert h.relay.idle_s(3600.0) == 60.0  # the ack time-out of the record in flight
    assert h.relay.idle_s(5.0) == 5.0
    h.clock.advance(59.9)
    assert h.relay.idle_s(3600.0) == TIMER_FLOOR_S  # due: never a busy loop
    h.repo.retry_later(rid(0), h.clock.now() + 2.0, "no ack")
    assert h.relay.idle_s(3600.0) == pytest.approx(2.0)  # the back-off, to the second


def test_a_full_window_waits_for_acks_not_for_due_rows(h: Harness) -> None:
    h.relay.handle([Connected()])
    h.fill(3)
    assert h.relay.pump() == 2  # window of 2: the third stays pending, due now
    assert h.relay.idle_s(3600.0) == 60.0


SignalLink = ConnectedLink


def test_a_commit_wakes_the_idle_relay_without_waiting_for_the_poll(tmp_path: Path) -> None:
    cfg = parse_config({"device": {"id": "kiosk-wake-01"}, "paths": {"data_dir": str(tmp_path)}})
    db = tmp_path / "k.sqlite3"
    links: list[SignalLink] = []

    def factory(c: UplinkConfig, d: str, on: Callable[[Event], None]) -> SignalLink:
        links.append(SignalLink(c, d, on))
        return links[0]

    # A fake clock that never moves and an hour-long poll: only the wake-up can deliver.
    up = Uplink(cfg, lambda: connect(db), FakeClock(), link_factory=factory, poll_s=3600.0)
    outbox = OutboxRepository(connect(db), on_commit=up.notify)  # as kiosk.app wires it
    up.start()
    try:
        assert links[0].beat.wait(10), "the relay never came up"
        assert not links[0].record.is_set()  # idle now, waiting on its queue
        outbox.enqueue(rid(1), "registration", b"sealed", 1.0)
        assert links[0].record.wait(10), "the commit did not wake the relay"
        assert links[0].published == [rid(1)]
    finally:
        up.stop()


def test_commits_while_the_relay_is_busy_queue_one_wake_up(tmp_path: Path) -> None:
    cfg = parse_config({"device": {"id": "kiosk-wake-02"}, "paths": {"data_dir": str(tmp_path)}})
    db = tmp_path / "k.sqlite3"
    up = Uplink(cfg, lambda: connect(db), FakeClock(), link_factory=SignalLink)
    outbox = OutboxRepository(connect(db), on_commit=up.notify)
    for i in range(50):  # the relay is not running (uplink disabled, or busy publishing)
        outbox.enqueue(rid(i), "registration", b"sealed", 1.0)
    assert len(up._drain(0.0)) == 1  # one wake-up, not fifty: the queue stays bounded
    outbox.enqueue(rid(99), "registration", b"sealed", 1.0)
    assert len(up._drain(0.0)) == 1  # taken: the next commit queues a new one
