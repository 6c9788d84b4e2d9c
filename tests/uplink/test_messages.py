"""Message schemas, the fast ack check, topics, inbound decoding and the heartbeat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.clock import FakeClock
from kiosk.errors import ProtocolError
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink import heartbeat, messages
from kiosk.uplink.client import Inbound
from kiosk.uplink.inbound import ConfigUpdate, RosterUpdate, StatusUpdate, VersionGate, decode
from kiosk.uplink.replies import sign_reply
from kiosk.uplink.topics import device_topic, downlink_filters, parse_topic

RID = "01930000-0000-7000-8000-000000000001"
P, DEV = "perlinsos/v1", "kiosk-a1"
KEY = Ed25519PrivateKey.generate()
TRUSTED = [KEY.public_key()]
SIGNED_FIELDS = {"kind": "ack", "device_id": DEV, "kid": "k", "sig": "s"}

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.sampled_from([RID, RID.upper(), RID[:-1], "stored", "duplicate", "rejected", "x" * 501]),
)
entry_like = st.dictionaries(st.sampled_from(["record_id", "result", "reason", "extra"]), values)
ack_like = st.dictionaries(
    st.sampled_from(["v", "kind", "device_id", "kid", "sig", "at", "acks", "extra"]),
    st.one_of(
        values,
        st.sampled_from(["ack", "status", DEV, "k" * 65, "AAAA"]),
        st.lists(entry_like, max_size=3),
    ),
)


@given(ack_like)
def test_fast_ack_check_never_accepts_what_the_schema_refuses(d: dict[str, object]) -> None:
    if messages.FAST_CHECKS["ack"](d):
        assert messages.validator("ack").is_valid(d)


def test_fast_ack_check_accepts_the_normal_ack() -> None:
    signed = {"kind": "ack", "device_id": DEV, "kid": "k", "sig": "s"}
    entries = [{"record_id": RID, "result": "stored"}, {"record_id": RID, "result": "rejected"}]
    assert messages.FAST_CHECKS["ack"]({"v": 1, "at": 1.5, "acks": entries, **signed})


HEARTBEAT = {
    "v": 1,
    "device_id": DEV,
    "clock": {"wall": 1.5, "monotonic": 2.0, "boot_id": "b", "synced": False},
    "queue_depth": 3,
    "oldest_pending_age_s": None,
    "dead": 0,
    "disk_free_bytes": 10**10,
    "cpu_temp_c": 51.5,
    "camera": "ok",
    "models": {"detector": "1"},
    "software_version": "0.1.0",
}
heartbeat_field = st.sampled_from([*HEARTBEAT, "inbound_refused", "extra"])
heartbeat_value = st.one_of(
    values,
    st.sampled_from([HEARTBEAT["clock"], {**HEARTBEAT["clock"], "synced": 1}, "c" * 41]),
    st.dictionaries(st.sampled_from(["a", "b" * 41]), st.one_of(values, st.just("s")), max_size=3),
)


@given(st.dictionaries(heartbeat_field, heartbeat_value), st.booleans())
def test_fast_heartbeat_check_never_accepts_what_the_schema_refuses(
    changes: dict[str, object], drop: bool
) -> None:
    d = {**HEARTBEAT, **changes}
    if drop and changes:
        d.pop(next(iter(changes)))
    if messages.FAST_CHECKS["heartbeat"](d):
        assert messages.validator("heartbeat").is_valid(d)


def test_fast_heartbeat_check_accepts_the_normal_heartbeat() -> None:
    assert messages.FAST_CHECKS["heartbeat"](HEARTBEAT)
    assert messages.FAST_CHECKS["heartbeat"]({**HEARTBEAT, "inbound_refused": {"ack": 2}})
    assert messages.validator("heartbeat").is_valid(HEARTBEAT)


@pytest.mark.parametrize(
    ("name", "payload", "match"),
    [
        ("ack", b"\xff", "not UTF-8 JSON"),
        ("ack", b"[" * 40 + b"]" * 40, "nests deeper"),
        ("ack", b'{"v":2,"record_id":"x"}', "unsupported version 2"),
        (
            "ack",
            json.dumps(
                {"v": 1, "record_id": RID, "result": "meh", "at": 1, **SIGNED_FIELDS}
            ).encode(),
            "result",
        ),
        (
            "config",
            json.dumps(
                {
                    "v": 1,
                    "config_version": 1,
                    "settings": {"x": 1},
                    **SIGNED_FIELDS,
                    "kind": "config",
                }
            ).encode(),
            "settings",
        ),
        ("roster", b"x" * (messages.MAX_MESSAGE_BYTES + 1), "too large"),
    ],
)
def test_bad_messages_say_why(name: str, payload: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        messages.parse(name, payload)


def test_topics_round_trip() -> None:
    t = device_topic(P, DEV, "registration")
    assert t == "perlinsos/v1/kiosk/kiosk-a1/registration"
    assert parse_topic(P, t) == (DEV, "registration")
    assert parse_topic(P, "perlinsos/v1/kiosk/kiosk-a1/nope") is None
    assert parse_topic(P, "other/kiosk/a/ack") is None
    assert f"{P}/kiosk/{DEV}/ack" in downlink_filters(P, DEV)
    with pytest.raises(KeyError):
        device_topic(P, DEV, "nope")


def _in(name: str, body: dict[str, object]) -> Inbound:
    return Inbound(f"{P}/kiosk/{DEV}/{name}", sign_reply(name, DEV, body, KEY), None)


def test_decode_each_downlink_message() -> None:
    st_ = decode(
        P,
        DEV,
        _in("status", {"v": 1, "record_id": RID, "status": "eligible", "at": 5}),
        lambda: TRUSTED,
    )
    assert st_ == StatusUpdate(RID, "eligible", None, 5.0)
    cfg = decode(
        P,
        DEV,
        _in("config", {"v": 1, "config_version": 3, "settings": {"heartbeat_s": 30}}),
        lambda: TRUSTED,
    )
    assert cfg == ConfigUpdate(3, {"heartbeat_s": 30})
    agent = {"agent_id": "a-1", "pin_hash": "x" * 32, "valid_until": 9}
    ros = decode(
        P, DEV, _in("roster", {"v": 1, "roster_version": 1, "agents": [agent]}), lambda: TRUSTED
    )
    assert isinstance(ros, RosterUpdate) and ros.agents == [agent]


def test_not_eligible_needs_a_reason() -> None:
    with pytest.raises(ProtocolError, match="reason"):
        sign_reply(
            "status", DEV, {"v": 1, "record_id": RID, "status": "not_eligible", "at": 1}, KEY
        )


def test_version_gate_refuses_replays() -> None:
    gate = VersionGate()
    assert gate.admit(ConfigUpdate(2, {}))
    assert not gate.admit(ConfigUpdate(2, {}))
    assert not gate.admit(ConfigUpdate(1, {}))
    assert gate.admit(RosterUpdate(1, []))  # separate counter per message type


def test_heartbeat_content(tmp_path: Path) -> None:
    repo = OutboxRepository(connect(tmp_path / "k.sqlite3"))
    clock = FakeClock()
    repo.enqueue(RID, "registration", b"x", clock.now() - 120)
    probes = heartbeat.Probes(
        data_dir=tmp_path,
        camera_state=lambda: "ok",
        model_versions=lambda: {"face": "1.2"},
        clock_synced=lambda: False,
        cpu_temp=lambda: 51.5,
        boot=lambda: "boot-1",
    )
    beat = heartbeat.build(DEV, clock, repo, probes)
    assert beat["queue_depth"] == 1 and beat["oldest_pending_age_s"] == 120
    assert beat["clock"] == {
        "wall": clock.now(),
        "monotonic": clock.monotonic(),
        "boot_id": "boot-1",
        "synced": False,
    }
    assert beat["cpu_temp_c"] == 51.5 and beat["camera"] == "ok" and beat["disk_free_bytes"] > 0
    assert beat["models"] == {"face": "1.2"}


def test_probe_helpers_tolerate_missing_files(tmp_path: Path) -> None:
    assert heartbeat.cpu_temperature_c(tmp_path / "none") is None
    (tmp_path / "t").write_text("48123\n")
    assert heartbeat.cpu_temperature_c(tmp_path / "t") == pytest.approx(48.123)
    assert heartbeat.clock_synchronised(tmp_path / "none") is False
    assert heartbeat.boot_id(tmp_path / "none") == ""
    assert heartbeat.disk_free_bytes(tmp_path / "none" / "deeper") == 0


def test_protocol_doc_is_in_step_with_the_code() -> None:
    from kiosk.uplink import protocol_doc

    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    assert protocol_doc.render(doc) == doc, (
        "run: python -m kiosk.uplink.protocol_doc docs/protocol.md"
    )


def test_protocol_doc_needs_markers() -> None:
    from kiosk.uplink import protocol_doc

    with pytest.raises(ValueError, match="markers"):
        protocol_doc.render("# no markers")
