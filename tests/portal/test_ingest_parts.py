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
