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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def waits(clock: FakeClock) -> Waits:
    return Waits(clock)


@pytest.fixture
def link() -> Link:
    return Link()


@pytest.fixture
def sealer() -> JsonSealer:
    return JsonSealer()


@pytest.fixture
def pending(link: Link, sealer: JsonSealer, clock: FakeClock, waits: Waits) -> PendingRequests[str]:
    return PendingRequests(KIND, link, sealer, clock=clock, timeout_s=2.0, wait=waits)


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


def test_the_record_is_sealed_and_published_under_its_request_id(
    pending: PendingRequests[str], link: Link, sealer: JsonSealer
) -> None:
    record = query(pending)
    link.on_publish = lambda rid: pending.deliver(rid, "answer")
    assert pending.ask(record) == "answer"
    ((kind, request_id, _payload),) = link.published
    assert kind == KIND and request_id == record["request_id"]
    assert sealer.sealed == [record]


def test_a_reply_racing_the_publish_finds_its_slot(
    pending: PendingRequests[str], link: Link, waits: Waits
) -> None:
    def answer(rid: str) -> None:
        assert len(pending) == 1  # the slot exists before the request leaves
        assert pending.deliver(rid, "fast")

    link.on_publish = answer
    assert pending.ask(query(pending)) == "fast"
    assert waits.asked == []  # answered before any wait
    assert len(pending) == 0


def test_a_reply_during_the_wait_ends_it(
    pending: PendingRequests[str], waits: Waits, clock: FakeClock
) -> None:
    record = query(pending)
    start = clock.monotonic()
    waits.actions = [None, lambda: pending.deliver(record["request_id"], "in time")]
    assert pending.ask(record) == "in time"
    assert waits.asked == [2.0, 1.5]  # each wait is bounded by what is left of the deadline
    assert clock.monotonic() - start == 1.0
    assert len(pending) == 0


def test_no_reply_times_out_on_the_deadline_and_a_late_reply_is_dropped(
    pending: PendingRequests[str], waits: Waits, clock: FakeClock
) -> None:
    record = query(pending)
    start = clock.monotonic()
    assert pending.ask(record) is None
    assert clock.monotonic() - start == 2.0
    assert waits.asked == [2.0, 1.5, 1.0, 0.5]
    assert len(pending) == 0
    assert pending.deliver(record["request_id"], "too late") is False


def test_the_timeout_can_be_changed_and_must_be_positive(
    pending: PendingRequests[str], waits: Waits, link: Link, sealer: JsonSealer, clock: FakeClock
) -> None:
    pending.timeout_s = 0.5
    assert pending.ask(query(pending)) is None
    assert waits.asked == [0.5]
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="timeout_s"):
            PendingRequests(KIND, link, sealer, clock=clock, timeout_s=bad)


def test_a_wall_clock_jump_does_not_move_the_deadline(
    pending: PendingRequests[str], waits: Waits, clock: FakeClock
) -> None:
    waits.actions = [lambda: clock.set_wall(clock.now() + 3600)]
    pending.timeout_s = 1.0
    assert pending.ask(query(pending)) is None
    assert waits.asked == [1.0, 0.5]


def test_a_request_not_sent_does_not_wait(
    pending: PendingRequests[str], link: Link, waits: Waits
) -> None:
    link.sent = False
    assert pending.ask(query(pending)) is None
    assert waits.asked == [] and len(pending) == 0


def test_a_publish_failing_with_a_kiosk_error_is_no_answer(
    pending: PendingRequests[str], link: Link, waits: Waits
) -> None:
    def fail(_rid: str) -> None:
        raise UplinkError("broker gone")

    link.on_publish = fail
    assert pending.ask(query(pending)) is None
    assert waits.asked == [] and len(pending) == 0


def test_other_errors_propagate_and_still_free_the_slot(
    pending: PendingRequests[str], link: Link
) -> None:
    def bug(_rid: str) -> None:
        raise RuntimeError("a bug, not a link failure")

    link.on_publish = bug
    with pytest.raises(RuntimeError):
        pending.ask(query(pending))
    assert len(pending) == 0


def test_a_record_off_its_schema_is_never_sealed_or_sent(
    pending: PendingRequests[str], link: Link, sealer: JsonSealer
) -> None:
    with pytest.raises(ProtocolError):
        pending.ask(query(pending, nik_digest="3510011203850001"))  # a bare NIK, never sent
    assert sealer.sealed == [] and link.published == [] and len(pending) == 0


def test_a_delivered_none_is_no_answer_without_waiting_out_the_deadline(
    pending: PendingRequests[str], link: Link, waits: Waits
) -> None:
    link.on_publish = lambda rid: pending.deliver(rid, None)
    assert pending.ask(query(pending)) is None
    assert waits.asked == []


def test_unknown_and_second_replies_are_refused(pending: PendingRequests[str], link: Link) -> None:
    assert pending.deliver("nobody", "x") is False

    def answers(rid: str) -> None:
        assert pending.deliver(rid, "first")
        assert pending.deliver(rid, "second") is False
        assert pending.deliver("someone-else", "theirs") is False

    link.on_publish = answers
    assert pending.ask(query(pending)) == "first"


def test_each_reply_goes_to_its_own_request(pending: PendingRequests[str], link: Link) -> None:
    inner: list[str | None] = []
    outer, nested = query(pending), query(pending)

    def answer(rid: str) -> None:
        if rid == outer["request_id"]:
            # a second request waits while the first is outstanding; each gets its own reply
            inner.append(pending.ask(nested))
            pending.deliver(rid, "one")
        else:
            pending.deliver(rid, "two")

    link.on_publish = answer
    assert pending.ask(outer) == "one"
    assert inner == ["two"]


def test_available_follows_the_link(pending: PendingRequests[str], link: Link) -> None:
    assert pending.available
    link.online = False
    assert not pending.available


def test_a_reply_from_another_thread_wakes_the_real_waiter(link: Link, sealer: JsonSealer) -> None:
    pending: PendingRequests[int] = PendingRequests(
        KIND, link, sealer, clock=SystemClock(), timeout_s=30.0, wait=event_wait
    )
    delivered: list[bool] = []
    threads: list[threading.Thread] = []

    def answer_from_the_uplink_thread(rid: str) -> None:
        # no sleep: the event wakes the wait as soon as the other thread delivers
        threads.append(threading.Thread(target=lambda: delivered.append(pending.deliver(rid, 7))))
        threads[0].start()

    link.on_publish = answer_from_the_uplink_thread
    assert pending.ask(query(pending)) == 7
    threads[0].join(30)
    assert delivered == [True]
