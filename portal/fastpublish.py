"""A lean decoder for inbound MQTT 5 PUBLISH packets, for the portal's busy client.

paho decodes every inbound MQTT 5 PUBLISH into its ``Properties`` class, which rebuilds its
name tables and compares property names by string replacement on every packet: with the kiosks'
Response Topic and Correlation Data that was the largest single share of the portal's CPU per
record (bench/bench_ingest.py --profile). :class:`FastPublishClient` decodes QoS 0/1 PUBLISH
packets here, with the same checks (allowed properties, lengths, no repeats), and hands paho's
``on_message`` an :class:`mqtt.MQTTMessage` whose ``properties`` carry the values; QoS 2 and
MQTT 3.1.1 go through paho unchanged. It overrides paho's ``_handle_publish`` (paho 2.x,
pinned <3); tests/portal/test_fastpublish.py compares it with paho's own decoder.
"""

from __future__ import annotations

import struct
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket

_BYTE, _FOUR, _UTF8, _BINARY, _VARINT, _TWO, _PAIR = range(7)
_PUBLISH_PROPS: dict[int, tuple[str, int]] = {
    1: ("PayloadFormatIndicator", _BYTE),
    2: ("MessageExpiryInterval", _FOUR),
    3: ("ContentType", _UTF8),
    8: ("ResponseTopic", _UTF8),
    9: ("CorrelationData", _BINARY),
    11: ("SubscriptionIdentifier", _VARINT),
    35: ("TopicAlias", _TWO),
    38: ("UserProperty", _PAIR),
}
"""The properties MQTT 5 allows on PUBLISH: identifier -> (paho's attribute name, type)."""
_MULTIPLE = frozenset({11, 38})  # may repeat; paho gathers them in a list


class PublishProperties:
    """The properties of one inbound PUBLISH, as attributes named as paho names them."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"PublishProperties({self.__dict__!r})"


def _varint(buf: bytes | bytearray, pos: int) -> tuple[int, int]:
    """A variable byte integer at ``pos``: (value, position after it)."""
    value, mult = 0, 1
    for i in range(4):
        if pos + i >= len(buf):
            raise MalformedPacket("truncated variable byte integer")
        b = buf[pos + i]
        value += (b & 0x7F) * mult
        if not b & 0x80:
            return value, pos + i + 1
        mult *= 128
    raise MalformedPacket("variable byte integer longer than 4 bytes")


def _field(buf: bytes | bytearray, pos: int, end: int) -> tuple[bytes, int]:
    """A two-byte-length-prefixed field."""
    if pos + 2 > end:
        raise MalformedPacket("truncated property")
    n = (buf[pos] << 8) | buf[pos + 1]
    if pos + 2 + n > end:
        raise MalformedPacket("truncated property")
    return bytes(buf[pos + 2 : pos + 2 + n]), pos + 2 + n


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise MalformedPacket("property string is not UTF-8") from err


def decode_properties(buf: bytes | bytearray, pos: int) -> tuple[PublishProperties, int]:
    """The PUBLISH properties section at ``pos``: (properties, position after it)."""
    length, pos = _varint(buf, pos)
    end = pos + length
    if end > len(buf):
        raise MalformedPacket("properties longer than the packet")
    values: dict[str, Any] = {}
    while pos < end:
        ident, pos = _varint(buf, pos)
        known = _PUBLISH_PROPS.get(ident)
        if known is None:
            raise MalformedPacket(f"property {ident} is not allowed on PUBLISH")
        name, kind = known
        value: Any
        if kind == _BYTE:
            if pos + 1 > end:
                raise MalformedPacket("truncated property")
            value, pos = buf[pos], pos + 1
        elif kind == _TWO:
            if pos + 2 > end:
                raise MalformedPacket("truncated property")
            value, pos = (buf[pos] << 8) | buf[pos + 1], pos + 2
        elif kind == _FOUR:
            if pos + 4 > end:
                raise MalformedPacket("truncated property")
            value, pos = struct.unpack_from("!L", buf, pos)[0], pos + 4
        elif kind == _VARINT:
            value, pos = _varint(buf, pos)
        elif kind == _BINARY:
            value, pos = _field(buf, pos, end)
        elif kind == _UTF8:
            raw, pos = _field(buf, pos, end)
            value = _text(raw)
        else:  # string pair
            key, pos = _field(buf, pos, end)
            val, pos = _field(buf, pos, end)
            value = (_text(key), _text(val))
        if pos > end:
            raise MalformedPacket("property runs past the properties section")
        if ident in _MULTIPLE:
            values.setdefault(name, []).append(value)
        elif name in values:
            raise MalformedPacket(f"property {name} must not exist more than once")
        else:
            values[name] = value
    return PublishProperties(values), end


def decode_publish(header: int, packet: bytes | bytearray) -> mqtt.MQTTMessage:
    """An MQTT 5 PUBLISH packet (after its fixed header) as paho's message object."""
    if len(packet) < 2:
        raise MalformedPacket("truncated PUBLISH")
    qos = (header & 0x06) >> 1
    tlen = (packet[0] << 8) | packet[1]
    pos = 2 + tlen
    topic = bytes(packet[2:pos])
    mid = 0
    if qos > 0:
        if pos + 2 > len(packet):
            raise MalformedPacket("truncated PUBLISH")
        mid = (packet[pos] << 8) | packet[pos + 1]
        pos += 2
    if pos > len(packet):
        raise MalformedPacket("truncated PUBLISH")
    props, pos = decode_properties(packet, pos)
    message = mqtt.MQTTMessage(mid=mid, topic=topic)
    message.dup = bool(header & 0x08)
    message.qos = qos
    message.retain = bool(header & 0x01)
    message.properties = props  # type: ignore[assignment]  # the attributes paho's carry
    message.payload = bytes(packet[pos:])
    return message


_PUBACK = struct.Struct("!BBH")  # PUBACK, remaining length 2, packet id (MQTT 3.1.1 and 5)


class FastPublishClient(mqtt.Client):
    """paho's client; inbound MQTT 5 QoS 0/1 PUBLISH packets decoded by :func:`decode_publish`,
    and a batch's PUBACKs written at once (:meth:`ack_many`)."""

    def ack_many(self, mids: list[int]) -> None:
        """PUBACK these QoS 1 messages in one socket write (paho writes one TLS record and
        wakes its network thread once per PUBACK)."""
        if mids:
            blob = b"".join([_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids])
            self._packet_queue(mqtt.PUBACK, blob, 0, 0)

    def _handle_publish(self) -> MQTTErrorCode:
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        if self._protocol != MQTTProtocolVersion.MQTTv5 or qos == 2:
            return super()._handle_publish()
        message = decode_publish(header, self._in_packet["packet"])
        message.timestamp = mqtt.time_func()
        self._handle_on_message(message)
        if qos == 1 and not self._manual_ack:
            return self._send_puback(message.mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS
