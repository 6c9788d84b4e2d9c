"""The portal's lean MQTT 5 PUBLISH decoder agrees with paho's own, and refuses what paho does."""

from __future__ import annotations

import struct

import pytest
from paho.mqtt import _packet
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from portal.fastpublish import FastPublishClient, decode_publish

NAMES = (
    "PayloadFormatIndicator", "MessageExpiryInterval", "ContentType", "ResponseTopic",
    "CorrelationData", "SubscriptionIdentifier", "TopicAlias", "UserProperty",
)  # fmt: skip


def publish(topic: bytes, mid: int | None, props: bytes, payload: bytes) -> bytes:
    """The PUBLISH packet after its fixed header."""
    head = struct.pack("!H", len(topic)) + topic
    if mid is not None:
        head += struct.pack("!H", mid)
    return head + props + payload


def props(**values: object) -> bytes:
    p = Properties(PacketTypes.PUBLISH)
    for k, v in values.items():
        setattr(p, k, v)
    return p.pack()


CASES = [
    {},
    {"CorrelationData": b"0193a5c0-0000-7000-8000-000000000001"},
    {"CorrelationData": b"x" * 300, "ResponseTopic": "perlinsos/v1/kiosk/k-1/ack"},
    {"PayloadFormatIndicator": 1, "MessageExpiryInterval": 3600, "ContentType": "application/json"},
    {"UserProperty": [("a", "1"), ("b", "dua")], "SubscriptionIdentifier": 300000},
    {"TopicAlias": 7, "ResponseTopic": "é/ü"},
]


@pytest.mark.parametrize("values", CASES)
@pytest.mark.parametrize("qos", [0, 1])
def test_decodes_as_paho_does(values: dict[str, object], qos: int) -> None:
    packet = publish(b"perlinsos/v1/kiosk/k-1/registration", 513 if qos else None,
                     props(**values), b'{"v":1}' * 50)  # fmt: skip
    header = 0x30 | (qos << 1) | 0x01
    ours = decode_publish(header, packet)
    paho = _packet.decode_publish(header, packet, MQTTProtocolVersion.MQTTv5)
    assert (ours.topic, ours.mid, ours.qos, ours.retain, ours.payload) == (
        paho.topic.decode(), paho.mid, paho.qos, paho.retain, paho.payload,
    )  # fmt: skip
    for name in NAMES:
        assert getattr(ours.properties, name, None) == getattr(paho.properties, name, None), name


BAD = [
    b"\x00",  # truncated topic length
    publish(b"t", 1, b"", b""),  # no properties length at all
    publish(b"t", 1, b"\x05\x09\x00\x09ab", b""),  # correlation data longer than the section
    publish(b"t", 1, b"\x02\x11\x00", b""),  # Session Expiry: not a PUBLISH property
    publish(b"t", 1, b"\x08\x09\x00\x01a\x09\x00\x01b", b""),  # correlation data twice
    publish(b"t", 1, b"\x05\x0b\xff\xff\xff\xff", b""),  # variable byte integer of 5 bytes
    publish(b"t", 1, b"\x04\x08\x00\x02\xff\xfe", b""),  # response topic not UTF-8
]


@pytest.mark.parametrize("packet", BAD)
def test_refuses_malformed_packets_as_paho_does(packet: bytes) -> None:
    with pytest.raises(MalformedPacket):
        decode_publish(0x32, packet)
    with pytest.raises(MalformedPacket):
        _packet.decode_publish(0x32, packet, MQTTProtocolVersion.MQTTv5)


@pytest.mark.parametrize("protocol", [MQTTProtocolVersion.MQTTv5, MQTTProtocolVersion.MQTTv311])
def test_the_client_hands_on_message_what_paho_would(protocol: MQTTProtocolVersion) -> None:
    c = FastPublishClient(CallbackAPIVersion.VERSION2, client_id="t", protocol=protocol)
    got: list[tuple[str, bytes, object]] = []
    c.on_message = lambda _c, _u, m: got.append(
        (m.topic, m.payload, getattr(m.properties, "CorrelationData", None))
    )
    c.manual_ack_set(True)
    v5 = protocol == MQTTProtocolVersion.MQTTv5
    c._in_packet["command"] = 0x32
    c._in_packet["packet"] = publish(b"a/b", 9, props(CorrelationData=b"r") if v5 else b"", b"hi")
    c._handle_publish()
    assert got == [("a/b", b"hi", b"r" if v5 else None)]


def test_a_batch_of_pubacks_is_the_bytes_paho_sends_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = FastPublishClient(
        CallbackAPIVersion.VERSION2, client_id="t", protocol=MQTTProtocolVersion.MQTTv5
    )
    queued: list[bytes] = []
    monkeypatch.setattr(c, "_packet_queue", lambda _cmd, packet, *_a, **_k: queued.append(packet))
    mids = [1, 300, 65535]
    for mid in mids:
        c._send_puback(mid)
    one_by_one = b"".join(queued)
    queued.clear()
    c.ack_many(mids)
    assert queued == [one_by_one]
    c.ack_many([])
    assert len(queued) == 1  # nothing written for an empty batch
