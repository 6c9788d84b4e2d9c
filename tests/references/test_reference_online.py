"""Online verification: sealed request, signed reply matched by correlation, bounded wait."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ref_helpers import VILLAGE, template

from kiosk.core.clock import FakeClock
from kiosk.crypto.fake import JsonSealer
from kiosk.crypto.signed import sign_message
from kiosk.references.online import OnlineAnswer, OnlineVerifier
from kiosk.uplink import messages

DEVICE = "kiosk-demo-01"
NIK = "3510011203850001"


class FakeTransport:
    """Publishes into a list; optionally answers at once through ``respond``."""

    def __init__(self, online: bool = True, sent: bool = True) -> None:
        self.online = online
        self.sent = sent
        self.published: list[tuple[str, str, bytes]] = []
        self.respond: Any = None

    def publish_request(self, kind: str, request_id: str, payload: bytes) -> bool:
        """Record the publish and run the responder."""
        self.published.append((kind, request_id, payload))
        if self.respond is not None:
            self.respond(request_id)
        return self.sent


def reply(key: Ed25519PrivateKey, request_id: str, **over: Any) -> bytes:
    body = {
        "v": 1,
        "kind": "verify_reply",
        "request_id": request_id,
        "device_id": DEVICE,
        "result": "matched",
        "match": "HIGH",
        "issued_at": 1_780_000_000,
    }
    body.update(over)
    return sign_message(body, key)


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def sealer() -> JsonSealer:
    return JsonSealer()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def online(
    transport: FakeTransport,
    sealer: JsonSealer,
    portal_key: Ed25519PrivateKey,
    clock: FakeClock,
    waits: list[float],
) -> OnlineVerifier:
    def wait(event: threading.Event, seconds: float) -> bool:
        waits.append(seconds)
        clock.advance(min(seconds, 0.5))
        return event.is_set()

    return OnlineVerifier(
        transport,
        sealer,
        trusted=[portal_key.public_key()],
        device_id=DEVICE,
        village_code=VILLAGE,
        clock=clock,
        timeout_s=4.0,
        wait=wait,
    )


def test_answered_request(
    online: OnlineVerifier,
    transport: FakeTransport,
    sealer: JsonSealer,
    portal_key: Ed25519PrivateKey,
) -> None:
    transport.respond = lambda rid: online.deliver(reply(portal_key, rid), rid.encode())
    answer = online.verify(NIK, template(1), "live", "passive")
    assert answer is not None and answer.match == "HIGH"
    (kind, request_id, _payload) = transport.published[0]
    assert kind == "verify_request" and answer.request_id == request_id
    (record,) = sealer.sealed
    messages.check("verify_request", record)  # the sealed record follows its schema
    assert record["nik"] == NIK and record["request_id"] == request_id
    assert record["liveness"] == {"band": "live", "method": "passive"}
    assert record["village_code"] == VILLAGE and record["device_id"] == DEVICE


def test_no_reference_at_the_portal(
    online: OnlineVerifier, transport: FakeTransport, portal_key: Ed25519PrivateKey
) -> None:
    transport.respond = lambda rid: online.deliver(
        reply(portal_key, rid, result="no_reference", match=None)
    )
    assert online.verify(NIK, template(1), "live", "passive") == OnlineAnswer(
        None, transport.published[0][1]
    )


def test_refused_request_is_no_answer(
    online: OnlineVerifier, transport: FakeTransport, portal_key: Ed25519PrivateKey
) -> None:
    transport.respond = lambda rid: online.deliver(
        reply(portal_key, rid, result="refused", match=None)
    )
    assert online.verify(NIK, template(1), "live", "passive") is None


def test_offline_sends_nothing(online: OnlineVerifier, transport: FakeTransport) -> None:
    transport.online = False
    assert online.available is False
    assert online.verify(NIK, template(1), "live", "passive") is None
    assert transport.published == []


def test_publish_failure_is_no_answer(online: OnlineVerifier, transport: FakeTransport) -> None:
    transport.sent = False
    assert online.verify(NIK, template(1), "live", "passive") is None


def test_silence_times_out_on_the_injected_clock(
    online: OnlineVerifier, clock: FakeClock, waits: list[float]
) -> None:
    start = clock.monotonic()
    assert online.verify(NIK, template(1), "live", "passive+challenge") is None
    assert 4.0 <= clock.monotonic() - start <= 4.5
    assert waits[0] == pytest.approx(4.0)


def test_replies_that_do_not_fit_are_ignored(
    online: OnlineVerifier, transport: FakeTransport, portal_key: Ed25519PrivateKey
) -> None:
    rogue = Ed25519PrivateKey.generate()
    results: list[bool] = []

    def respond(rid: str) -> None:
        results.append(online.deliver(reply(portal_key, rid), b"another-request"))
        results.append(online.deliver(reply(rogue, rid)))
        results.append(online.deliver(reply(portal_key, rid, device_id="kiosk-other-9")))
        results.append(online.deliver(b"not json"))

    transport.respond = respond
    assert online.verify(NIK, template(1), "live", "passive") is None  # timed out
    assert results == [False, False, False, False]
    assert online.rejected == 4


def test_late_reply_is_ignored(online: OnlineVerifier, portal_key: Ed25519PrivateKey) -> None:
    assert online.verify(NIK, template(1), "live", "passive") is None
    assert online.deliver(reply(portal_key, "0190f5c2-0000-7000-8000-000000000001")) is False


def test_bad_template_and_timeout_are_refused(
    online: OnlineVerifier, transport: FakeTransport, sealer: JsonSealer, clock: FakeClock
) -> None:
    with pytest.raises(ValueError):
        online.verify(NIK, b"short", "live", "passive")
    with pytest.raises(ValueError, match="timeout_s"):
        OnlineVerifier(
            transport,
            sealer,
            trusted=[],
            device_id=DEVICE,
            village_code=VILLAGE,
            clock=clock,
            timeout_s=0,
        )
