"""The ingest worker's small parts: pre-packed ack properties and the ack window."""

from __future__ import annotations

import threading

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from portal.link import AckWindow, CorrelationOnly


@pytest.mark.parametrize("data", [b"x", b"0193a5c0-0000-7000-8000-000000000001", b"y" * 200])
def test_pre_packed_correlation_matches_paho(data: bytes) -> None:
    props = Properties(PacketTypes.PUBLISH)
    props.CorrelationData = data
    assert CorrelationOnly(data).pack() == props.pack()


def test_ack_window_waits_for_pubacks_and_gives_up_when_stopping() -> None:
    window, stopping = AckWindow(2), threading.Event()
    assert window.acquire(stopping) and window.acquire(stopping)
    stopping.set()
    assert not window.acquire(stopping, wait_s=0.01)  # full and stopping: no publish
    stopping.clear()
    window.release()
    assert window.acquire(stopping)
    window.reset(5)  # a new connection: nothing in flight
    assert all(window.acquire(stopping) for _ in range(5))
    for _ in range(9):
        window.release()  # late PUBACKs after a reset never widen the window
    assert all(window.acquire(stopping) for _ in range(5))
    stopping.set()
    assert not window.acquire(stopping, wait_s=0.01)


def test_a_small_batch_lingers_for_company_and_a_full_one_goes_at_once() -> None:
    from portal.link import Msg, PortalLink

    link = PortalLink(host="127.0.0.1", port=1, client_id="t", filters=[], batch=3, linger_s=30)
    batches: list[list[int]] = []
    done = threading.Event()

    def handler(msgs: list[Msg]) -> None:
        batches.append([m.mid for m in msgs])
        done.set()

    worker = threading.Thread(target=link._work)
    link._handler = handler
    worker.start()
    link._queue.put(Msg("t", b"", None, 1, 1))
    assert not done.wait(0.3)  # one heartbeat alone waits (up to linger_s) for more
    link._queue.put(Msg("t", b"", None, 2, 1))
    link._queue.put(Msg("t", b"", None, 3, 1))
    assert done.wait(10)  # full: handled at once, long before linger_s
    link._queue.put(None)
    worker.join(10)
    assert batches == [[1, 2, 3]]


def test_a_batch_closes_at_its_byte_bound() -> None:
    """Frames carry up to 64 records each: a batch is bounded by payload bytes too."""
    from portal.link import Msg, PortalLink

    link = PortalLink(
        host="127.0.0.1", port=1, client_id="t", filters=[], batch=100, batch_bytes=250,
        linger_s=30,
    )  # fmt: skip
    batches: list[list[int]] = []
    done = threading.Event()

    def handler(msgs: list[Msg]) -> None:
        batches.append([m.mid for m in msgs])
        done.set()

    for mid in (1, 2, 3):
        link._queue.put(Msg("t", b"x" * 100, None, mid, 1))
    link._handler = handler
    worker = threading.Thread(target=link._work)
    worker.start()
    assert done.wait(10)  # 300 bytes >= 250: handled at once, long before linger_s
    link._queue.put(None)
    worker.join(10)
    assert batches == [[1, 2, 3]]
