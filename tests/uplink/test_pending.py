"""PendingRequests: schema-checked sealed publish, one slot per request id, a bounded wait on
the injected monotonic clock, delivery from the uplink thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from kiosk.core.clock import FakeClock, SystemClock
from kiosk.core.names import Name
from kiosk.crypto.fake import JsonSealer
from kiosk.errors import ProtocolError, UplinkError
from kiosk.uplink.pending import PendingRequests, event_wait

KIND = Name.STATUS_REQUEST


class Link:
    """A transport that records publishes and may answer (or fail) while publishing."""

    def __init__(self) -> None:
        self.online = True
        self.sent = True
        self.published: list[tuple[str, str, bytes]] = []
        self.on_publish: Callable[[str], object] | None = None

    def publish_request(self, kind: str, request_id: str, payload: bytes) -> bool:
        """Record the publish and run the hook (a reply racing the publish, or a failure)."""
        self.published.append((kind, request_id, payload))
        if self.on_publish is not None:
            self.on_publish(request_id)
        return self.sent


class Waits:
    """A waiter that moves the fake clock instead of sleeping, and can act mid-wait."""

    def __init__(self, clock: FakeClock, step: float = 0.5) -> None:
        self.clock = clock
        self.step = step
        self.asked: list[float] = []
        self.actions: list[Callable[[], object] | None] = []

    def __call__(self, event: threading.Event, seconds: float) -> bool:
        self.asked.append(seconds)
        if self.actions and (action := self.actions.pop(0)) is not None:
            action()
        self.clock.advance(min(seconds, self.step))
        return event.is_set()


class Rig:
    """One request kind over a fake link, a fake clock and a waiter that never sleeps."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.waits = Waits(self.clock)
        self.link = Link()
        self.sealer = JsonSealer()
        self.pending: PendingRequests[str] = PendingRequests(
            KIND, self.link, self.sealer, clock=self.clock, timeout_s=2.0, wait=self.waits
        )


@pytest.fixture
def rig() -> Rig:
    return Rig()


def query(pending: PendingRequests[Any], **over: Any) -> dict[str, Any]:
    record = {
        "v": 1,
        "request_id": pending.new_id(),
        "device_id": "kiosk-demo-01",
        "nik_digest": "ab" * 32,
        "receipt_no": "1234-5678-9012",
        "requested_at": 1_780_000_000.0,
    }
    record.update(over)
    return record


def test_the_record_is_sealed_and_published_under_its_request_id(rig: Rig) -> None:
    record = query(rig.pending)
    rig.link.on_publish = lambda rid: rig.pending.deliver(rid, "answer")
    assert rig.pending.ask(record) == "answer"
    ((kind, request_id, _payload),) = rig.link.published
    assert kind == KIND and request_id == record["request_id"]
    assert rig.sealer.sealed == [record]


def test_a_reply_racing_the_publish_finds_its_slot(rig: Rig) -> None:
    def answer(rid: str) -> None:
        assert len(rig.pending) == 1  # the slot exists before the request leaves
        assert rig.pending.deliver(rid, "fast")

    rig.link.on_publish = answer
    assert rig.pending.ask(query(rig.pending)) == "fast"
    assert rig.waits.asked == []  # answered before any wait
    assert len(rig.pending) == 0


def test_a_reply_during_the_wait_ends_it(rig: Rig) -> None:
    record = query(rig.pending)
    start = rig.clock.monotonic()
    rig.waits.actions = [None, lambda: rig.pending.deliver(record["request_id"], "in time")]
    assert rig.pending.ask(record) == "in time"
    assert rig.waits.asked == [2.0, 1.5]  # each wait is bounded by what is left of the deadline
    assert rig.clock.monotonic() - start == 1.0
    assert len(rig.pending) == 0


def test_no_reply_times_out_on_the_deadline_and_a_late_reply_is_dropped(rig: Rig) -> None:
    record = query(rig.pending)
    start = rig.clock.monotonic()
    assert rig.pending.ask(record) is None
    assert rig.clock.monotonic() - start == 2.0
    assert rig.waits.asked == [2.0, 1.5, 1.0, 0.5]
    assert len(rig.pending) == 0
    assert rig.pending.deliver(record["request_id"], "too late") is False


def test_the_timeout_can_be_changed_and_must_be_positive(rig: Rig) -> None:
    rig.pending.timeout_s = 0.5
    assert rig.pending.ask(query(rig.pending)) is None
    assert rig.waits.asked == [0.5]
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="timeout_s"):
            PendingRequests(KIND, rig.link, rig.sealer, clock=rig.clock, timeout_s=bad)


def test_a_wall_clock_jump_does_not_move_the_deadline(rig: Rig) -> None:
    rig.waits.actions = [lambda: rig.clock.set_wall(rig.clock.now() + 3600)]
    rig.pending.timeout_s = 1.0
    assert rig.pending.ask(query(rig.pending)) is None
    assert rig.waits.asked == [1.0, 0.5]


def test_a_request_not_sent_does_not_wait(rig: Rig) -> None:
    rig.link.sent = False
    assert rig.pending.ask(query(rig.pending)) is None
    assert rig.waits.asked == [] and len(rig.pending) == 0


def raising(err: Exception) -> Callable[[str], None]:
    """A publish hook that fails with ``err``."""

    def hook(_rid: str) -> None:
        raise err

    return hook


def test_a_publish_failing_with_a_kiosk_error_is_no_answer(rig: Rig) -> None:
    rig.link.on_publish = raising(UplinkError("broker gone"))
    assert rig.pending.ask(query(rig.pending)) is None
    assert rig.waits.asked == [] and len(rig.pending) == 0


def test_other_errors_propagate_and_still_free_the_slot(rig: Rig) -> None:
    rig.link.on_publish = raising(RuntimeError("a bug, not a link failure"))
    with pytest.raises(RuntimeError):
        rig.pending.ask(query(rig.pending))
    assert len(rig.pending) == 0


def test_a_record_off_its_schema_is_never_sealed_or_sent(rig: Rig) -> None:
    with pytest.raises(ProtocolError):
        # a bare NIK in place of its digest: refused before it is sealed or sent
        rig.pending.ask(query(rig.pending, nik_digest="3510011203850001"))
    assert rig.sealer.sealed == [] and rig.link.published == [] and len(rig.pending) == 0


def test_a_delivered_none_is_no_answer_without_waiting_out_the_deadline(rig: Rig) -> None:
    rig.link.on_publish = lambda rid: rig.pending.deliver(rid, None)
    assert rig.pending.ask(query(rig.pending)) is None
    assert rig.waits.asked == []


def test_unknown_and_second_replies_are_refused(rig: Rig) -> None:
    assert rig.pending.deliver("nobody", "x") is False

    def answers(rid: str) -> None:
        assert rig.pending.deliver(rid, "first")
        assert rig.pending.deliver(rid, "second") is False
        assert rig.pending.deliver("someone-else", "theirs") is False

    rig.link.on_publish = answers
    assert rig.pending.ask(query(rig.pending)) == "first"


def test_each_reply_goes_to_its_own_request(rig: Rig) -> None:
    inner: list[str | None] = []
    outer, nested = query(rig.pending), query(rig.pending)

    def answer(rid: str) -> None:
        if rid == outer["request_id"]:
            # a second request waits while the first is outstanding; each gets its own reply
            inner.append(rig.pending.ask(nested))
            rig.pending.deliver(rid, "one")
        else:
            rig.pending.deliver(rid, "two")

    rig.link.on_publish = answer
    assert rig.pending.ask(outer) == "one"
    assert inner == ["two"]


def test_available_follows_the_link(rig: Rig) -> None:
    assert rig.pending.available
    rig.link.online = False
    assert not rig.pending.available


def test_a_reply_from_another_thread_wakes_the_real_waiter(rig: Rig) -> None:
    pending: PendingRequests[int] = PendingRequests(
        KIND, rig.link, rig.sealer, clock=SystemClock(), timeout_s=30.0, wait=event_wait
    )
    delivered: list[bool] = []
    threads: list[threading.Thread] = []

    def answer_from_the_uplink_thread(rid: str) -> None:
        # no sleep: the event wakes the wait as soon as the other thread delivers
        threads.append(threading.Thread(target=lambda: delivered.append(pending.deliver(rid, 7))))
        threads[0].start()

    rig.link.on_publish = answer_from_the_uplink_thread
    assert pending.ask(query(pending)) == 7
    threads[0].join(30)
    assert delivered == [True]
