"""PendingRequests: one slot per request id, a bounded wait on the injected clock, delivery."""

from __future__ import annotations

import threading

import pytest

from kiosk.core.clock import FakeClock, SystemClock
from kiosk.errors import UplinkError
from kiosk.uplink.pending import PendingRequests, event_wait


class Waits:
    """A waiter that moves the fake clock instead of sleeping, and can deliver mid-wait."""

    def __init__(self, clock: FakeClock, step: float = 0.5) -> None:
        self.clock = clock
        self.step = step
        self.asked: list[float] = []
        self.on_wait: list[object] = []

    def __call__(self, event: threading.Event, seconds: float) -> bool:
        self.asked.append(seconds)
        if self.on_wait:
            action = self.on_wait.pop(0)
            if callable(action):
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
def pending(clock: FakeClock, waits: Waits) -> PendingRequests[str]:
    return PendingRequests("test", clock=clock, wait=waits)


def test_a_reply_delivered_while_publishing_is_the_answer(
    pending: PendingRequests[str], waits: Waits
) -> None:
    def send() -> bool:
        assert len(pending) == 1  # the slot exists before the request leaves
        return pending.deliver("r1", "answer")

    assert pending.ask("r1", send, 4.0) == "answer"
    assert waits.asked == []  # answered before any wait
    assert len(pending) == 0


def test_a_reply_delivered_during_the_wait_ends_it(
    pending: PendingRequests[str], waits: Waits, clock: FakeClock
) -> None:
    start = clock.monotonic()
    waits.on_wait = [None, lambda: pending.deliver("r1", "late but in time")]
    assert pending.ask("r1", lambda: True, 4.0) == "late but in time"
    assert waits.asked == [4.0, 3.5]  # each wait is bounded by what is left of the deadline
    assert clock.monotonic() - start == 1.0
    assert len(pending) == 0


def test_no_reply_times_out_on_the_monotonic_deadline_and_frees_the_slot(
    pending: PendingRequests[str], waits: Waits, clock: FakeClock
) -> None:
    start = clock.monotonic()
    assert pending.ask("r1", lambda: True, 2.0) is None
    assert clock.monotonic() - start == 2.0
    assert waits.asked == [2.0, 1.5, 1.0, 0.5]
    assert len(pending) == 0
    assert pending.deliver("r1", "too late") is False  # a late reply finds nothing


def test_a_wall_clock_jump_does_not_move_the_deadline(
    pending: PendingRequests[str], waits: Waits, clock: FakeClock
) -> None:
    waits.on_wait = [lambda: clock.set_wall(clock.now() + 3600)]
    assert pending.ask("r1", lambda: True, 1.0) is None
    assert waits.asked == [1.0, 0.5]


def test_a_request_not_sent_does_not_wait(pending: PendingRequests[str], waits: Waits) -> None:
    assert pending.ask("r1", lambda: False, 4.0) is None
    assert waits.asked == [] and len(pending) == 0


def test_a_send_failing_with_a_kiosk_error_is_no_answer(
    pending: PendingRequests[str], waits: Waits
) -> None:
    def send() -> bool:
        raise UplinkError("broker gone")

    assert pending.ask("r1", send, 4.0) is None
    assert waits.asked == [] and len(pending) == 0


def test_other_errors_propagate_and_still_free_the_slot(pending: PendingRequests[str]) -> None:
    def send() -> bool:
        raise RuntimeError("a bug, not a link failure")

    with pytest.raises(RuntimeError):
        pending.ask("r1", send, 4.0)
    assert len(pending) == 0


def test_a_delivered_none_is_no_answer_without_waiting_out_the_deadline(
    pending: PendingRequests[str], waits: Waits
) -> None:
    assert pending.ask("r1", lambda: pending.deliver("r1", None), 4.0) is None
    assert waits.asked == []


def test_unknown_and_second_replies_are_refused(pending: PendingRequests[str]) -> None:
    assert pending.deliver("nobody", "x") is False

    def send() -> bool:
        assert pending.deliver("r1", "first")
        assert pending.deliver("r1", "second") is False
        assert pending.deliver("r2", "someone else's") is False
        return True

    assert pending.ask("r1", send, 4.0) == "first"


def test_replies_go_to_their_own_request(pending: PendingRequests[str], waits: Waits) -> None:
    inner: list[str | None] = []

    def outer_send() -> bool:
        # a second request waits while the first is outstanding; each gets its own reply
        inner.append(pending.ask("r2", lambda: pending.deliver("r2", "two"), 4.0))
        return pending.deliver("r1", "one")

    assert pending.ask("r1", outer_send, 4.0) == "one"
    assert inner == ["two"]


def test_a_reply_from_another_thread_wakes_the_real_waiter() -> None:
    pending: PendingRequests[int] = PendingRequests("test", clock=SystemClock(), wait=event_wait)
    delivered: list[bool] = []
    uplink = threading.Thread(target=lambda: delivered.append(pending.deliver("r1", 7)))

    def send() -> bool:
        # the uplink thread answers once the request is out; no sleep, the event wakes the wait
        uplink.start()
        return True

    assert pending.ask("r1", send, 30.0) == 7
    uplink.join(30)
    assert delivered == [True]
