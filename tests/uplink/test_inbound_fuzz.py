"""Property-based fuzz of every portal->kiosk topic against the real decoders: whatever arrives,
the relay refuses it with a reason or accepts it, and the next genuine ack is still applied."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.agents.downlink import parse_update
from kiosk.core.clock import FakeClock
from kiosk.core.outbox import Backoff
from kiosk.errors import ProtocolError
from kiosk.references.message import parse_reference_set, parse_revocation, parse_verify_reply
from kiosk.reports.recipients import parse_list
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink import messages
from kiosk.uplink.client import Inbound
from kiosk.uplink.inbound import decode
from kiosk.uplink.relay import Relay
from kiosk.uplink.replies import sign_reply
from kiosk.uplink.topics import TOPICS, Direction

P, DEV = "perlinsos/v1", "kiosk-fuzz-01"
KEY = Ed25519PrivateKey.generate()
TRUSTED = [KEY.public_key()]
DOWN = sorted(t.name for t in TOPICS.values() if t.direction is Direction.DOWN)
RID = "01930000-0000-7000-8000-000000000001"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=30,
)


def _genuine(name: str) -> bytes:
    bodies: dict[str, dict[str, Any]] = {
        "ack": {"v": 1, "at": 1.0, "acks": [{"record_id": RID, "result": "stored"}]},
        "status": {"v": 1, "record_id": RID, "status": "eligible", "at": 1.0},
        "config": {"v": 1, "config_version": 2, "settings": {"heartbeat_s": 30}},
        "roster": {"v": 1, "roster_version": 2, "agents": []},
        "status_reply": {
            "v": 1,
            "request_id": RID,
            "result": "found",
            "at": 1.0,
            "registrations": [
                {
                    "registration_id": RID,
                    "record_id": RID,
                    "version": 1,
                    "receipt_no": "1234-5678-9012",
                    "status": "not_eligible",
                    "reason": "x",
                    "received_at": 1.0,
                    "decided_at": 1.0,
                }
            ],
            "objections": [],
        },
    }
    body = bodies.get(name, {"v": 1, "kind": name})
    return sign_reply(name, DEV, body, KEY) if name in bodies else json.dumps(body).encode()


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    """Raw bytes, arbitrary JSON, deep nesting of every shape, and mutated genuine replies."""
    kind = draw(st.sampled_from(["bytes", "json", "deep", "mutated", "huge_string"]))
    if kind == "bytes":
        return draw(st.binary(max_size=500))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "deep":
        depth = draw(st.integers(1, 120_000))
        opener = draw(st.sampled_from([b"[", b'{"a":', b'[{"k":[', b"[1,"]))
        closer = {b"[": b"]", b'{"a":': b"}", b'[{"k":[': b"]}]", b"[1,": b"]"}[opener]
        tail = closer * depth if draw(st.booleans()) else b""
        return opener * depth + b"0" + tail
    if kind == "huge_string":
        return b'{"v":1,"x":"' + b"[" * draw(st.integers(0, 300_000)) + b'"}'
    payload = bytearray(_genuine(draw(st.sampled_from(DOWN))))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(payload) - 1))
        payload[i] = draw(st.integers(0, 255))
    return bytes(payload)


class FakeLink:
    def __init__(self) -> None:
        self._mid = 0

    def publish_records(self, kind: str, record_ids: list[str], payload: bytes) -> int | None:
        self._mid += 1
        return self._mid


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> tuple[Relay, OutboxRepository]:
    repo = OutboxRepository(connect(tmp_path_factory.mktemp("fuzz") / "k.sqlite3"))
    clock = FakeClock()
    r = Relay(
        repo=repo,
        link=FakeLink(),
        clock=clock,
        rng=random.Random(0),
        backoff=Backoff(1.0, 8.0),
        window=8,
        ack_timeout_s=60.0,
        retention_s=3600.0,
        decode=lambda m: decode(P, DEV, m, lambda: TRUSTED),
        frame=lambda kind, envelopes: b"".join(envelopes),
        on_message=lambda msg: None,
    )
    return r, repo


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(DOWN), payload=hostile(), corr=st.none() | st.binary(max_size=40))
def test_no_inbound_message_can_raise_out_of_the_relay(
    relay: tuple[Relay, OutboxRepository], name: str, payload: bytes, corr: bytes | None
) -> None:
    r, _repo = relay
    before = r.rejected_inbound
    r.handle([Inbound(f"{P}/kiosk/{DEV}/{name}", payload, corr)])  # must not raise
    assert r.rejected_inbound >= before


def test_a_genuine_ack_still_lands_after_the_poison(
    relay: tuple[Relay, OutboxRepository],
) -> None:
    r, repo = relay
    poison = b"[" * 100_000 + b"]" * 100_000
    for name in DOWN:
        r.handle([Inbound(f"{P}/kiosk/{DEV}/{name}", poison, None)])
    assert r.refused["too_deep"] >= len(DOWN)
    repo.enqueue(RID, "registration", b"env", 0.0)
    r.handle([Inbound(f"{P}/kiosk/{DEV}/ack", _genuine("ack"), RID.encode())])
    assert repo.counts().acked == 1


SIGNED_DECODERS: dict[str, Callable[[bytes], object]] = {
    "references": lambda b: parse_reference_set(
        b, trusted=TRUSTED, village_code="3510012001", now=1.0
    ),
    "references_revoke": lambda b: parse_revocation(b, trusted=TRUSTED, village_code="3510012001"),
    "verify_reply": lambda b: parse_verify_reply(b, trusted=TRUSTED, device_id=DEV),
    "household_update": lambda b: parse_update(b, TRUSTED),
    "recipients": lambda b: parse_list(b, trusted=TRUSTED, village_code="3510012001"),
}


def test_every_signed_topic_has_a_fuzzed_decoder() -> None:
    from kiosk.uplink.inbound import SIGNED_TOPICS

    assert set(SIGNED_DECODERS) == set(SIGNED_TOPICS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SIGNED_DECODERS)), payload=hostile())
def test_the_signed_topic_decoders_refuse_with_a_reason(name: str, payload: bytes) -> None:
    with contextlib.suppress(ProtocolError):  # refused with a reason: the only allowed failure
        SIGNED_DECODERS[name](payload)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(json_values)
def test_the_nesting_scanner_agrees_with_the_real_depth(value: Any) -> None:
    text = json.dumps(value).encode()
    assert (messages.nesting(text) == "ok") == (_depth(value) <= messages.MAX_DEPTH)


@pytest.mark.parametrize("depth", [messages.MAX_DEPTH, messages.MAX_DEPTH + 1, 10_000])
def test_the_nesting_scanner_at_the_limit(depth: int) -> None:
    nested = b'{"a":' * depth + b'"[[[{{{"' + b"}" * depth
    assert (messages.nesting(nested) == "ok") == (depth <= messages.MAX_DEPTH)


def test_scanner_ignores_brackets_inside_strings(tmp_path: Path) -> None:
    assert messages.nesting(json.dumps({"s": "[" * 1000, "t": '\\"]]'}).encode()) == "ok"
